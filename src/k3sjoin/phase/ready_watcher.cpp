#include "k3sjoin/phase/ready_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/agent_diagnosis.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/interrupt.h"
#include "k3sjoin/util/worker_pool.h"

namespace k3sjoin::phase {
namespace {

// k3s retries the token check every 2 s and the agent configuration every 5 to 10 s, so
// a failure is in the journal a few seconds after the agent starts.
constexpr std::chrono::seconds kFirstJournalCheck{6};
constexpr std::chrono::seconds kJournalCheckInterval{5};
// Time for the last look at the node list after Ctrl-C.
constexpr std::chrono::seconds kFinalPollTimeout{10};

// Sleeps up to `duration` in short steps so an interrupt is noticed within 100 ms.
void sleep_interruptibly(std::chrono::milliseconds duration) {
  auto until = Clock::now() + duration;
  while (Clock::now() < until && !interrupted()) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100),
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now())));
  }
}

std::string describe_node(const kube::Node& node) {
  const kube::NodeCondition* ready = node.ready_condition();
  if (ready == nullptr) {
    return "registered, no Ready condition yet";
  }
  std::string state = ready->status == "True" ? "Ready" : "NotReady";
  if (ready->status == "Unknown") {
    state = "Unknown";
  }
  std::string text = state + " at " + node.kubelet_version;
  if (!ready->reason.empty() && ready->status != "True") {
    text += " (" + ready->reason;
    if (!ready->message.empty()) {
      text += ": " + ready->message;
    }
    text += ")";
  }
  return text;
}

}  // namespace

void ReadyWatcher::add(HostRun& host) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(&host);
    next_journal_check_[&host] = Clock::now() + kFirstJournalCheck;
  }
  changed_.notify_all();
}

void ReadyWatcher::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

void ReadyWatcher::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // Idle until an agent is added or the adding is over; wake regularly to notice an
      // interrupt or the deadline.
      while (pending_.empty() && !closed_ && !interrupted() && !context_.past_deadline()) {
        changed_.wait_for(lock, std::chrono::milliseconds(200));
      }
      if (pending_.empty() && closed_) {
        return;
      }
      if (interrupted() || context_.past_deadline()) {
        break;
      }
    }
    poll_once();
    check_journals();
    bool done = false;
    {
      std::lock_guard lock(mutex_);
      done = pending_.empty() && closed_;
    }
    if (done) {
      return;
    }
    sleep_interruptibly(std::min<std::chrono::milliseconds>(context_.options().poll_interval,
                                                            context_.remaining()));
  }
  resolve_leftovers();
}

void ReadyWatcher::poll_once() {
  HostRun& server = context_.server();
  auto command = context_.command(as_root(server.spec->user, get_nodes_script()),
                                  context_.options().command_timeout);
  auto result = run_checked(server, "list the cluster nodes", command);
  if (!result) {
    if (result.error().kind == ErrorKind::interrupted) {
      return;
    }
    last_poll_ok_ = false;
    spdlog::warn("{}{}", log::host_prefix(server.label), result.error().message);
    if (result.error().kind == ErrorKind::connect || result.error().kind == ErrorKind::timeout) {
      reconnect_server();
    }
    return;
  }
  auto nodes = kube::parse_node_list(result->out);
  if (!nodes) {
    last_poll_ok_ = false;
    spdlog::warn("{}{}", log::host_prefix(server.label), nodes.error().message);
    return;
  }

  std::lock_guard lock(mutex_);
  server_read_once_ = true;
  last_poll_ok_ = true;
  last_nodes_ = *nodes;
  std::erase_if(pending_, [&](HostRun* host) {
    const kube::Node* node = kube::find_node(*nodes, host->spec->name);
    if (node == nullptr) {
      last_seen_[host->spec->name] = "not registered with the server";
      return false;
    }
    std::string state = describe_node(*node);
    if (last_seen_[host->spec->name] != state) {
      spdlog::info("{}node {} is {}", log::host_prefix(host->label), node->name, state);
      last_seen_[host->spec->name] = state;
    }
    if (!node->is_ready() || node->kubelet_version != context_.target_version) {
      return false;
    }
    host->report.node_version = node->kubelet_version;
    host->report.changed = true;
    context_.finish(*host, report::Outcome::joined,
                    "joined; node Ready at " + node->kubelet_version);
    return true;
  });
}

bool ReadyWatcher::reconnect_server() {
  HostRun& server = context_.server();
  std::chrono::milliseconds backoff(500);
  while (!context_.past_deadline() && !interrupted()) {
    spdlog::warn("{}reconnecting to the server", log::host_prefix(server.label));
    auto session = context_.connector()(*server.spec);
    if (session) {
      server.session = std::move(session).value();
      spdlog::info("{}reconnected", log::host_prefix(server.label));
      return true;
    }
    spdlog::warn("{}{}", log::host_prefix(server.label), session.error().message);
    sleep_interruptibly(std::min<std::chrono::milliseconds>(backoff, context_.remaining()));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
  }
  return false;
}

std::string ReadyWatcher::describe(const std::string& node_name) const {
  auto found = last_seen_.find(node_name);
  return found == last_seen_.end() ? "no state read" : found->second;
}

void ReadyWatcher::check_journals() {
  std::vector<HostRun*> due;
  {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    for (HostRun* host : pending_) {
      if (now >= next_journal_check_[host]) {
        due.push_back(host);
        next_journal_check_[host] = now + kJournalCheckInterval;
      }
    }
  }
  run_parallel(
      due.size(), context_.options().parallel,
      [&](std::size_t index) {
        HostRun& host = *due[index];
        auto diagnosis = find_permanent_failure(context_, host);
        if (!diagnosis) {
          return;
        }
        std::lock_guard lock(mutex_);
        std::erase(pending_, &host);
        host.report.diagnosis = *diagnosis;
        context_.fail(host, Error{ErrorKind::not_ready,
                                  "node " + host.spec->name + " cannot join: " + diagnosis->cause,
                                  diagnosis->fix});
      },
      [] { return interrupted(); });
}

void ReadyWatcher::resolve_interrupted(const std::vector<HostRun*>& hosts) {
  if (hosts.empty()) {
    return;
  }
  // One last look, immune to the interrupt, so agents that did turn Ready are reported
  // joined rather than in doubt.
  HostRun& server = context_.server();
  ssh::Command command;
  command.line = as_root(server.spec->user, get_nodes_script());
  command.timeout = kFinalPollTimeout;
  command.interruptible = false;
  std::vector<kube::Node> nodes;
  if (auto result = run_checked(server, "list the cluster nodes", command)) {
    if (auto parsed = kube::parse_node_list(result->out)) {
      nodes = std::move(parsed).value();
    }
  }
  for (HostRun* host : hosts) {
    const kube::Node* node = kube::find_node(nodes, host->spec->name);
    if (node != nullptr && node->is_ready() && node->kubelet_version == context_.target_version) {
      host->report.node_version = node->kubelet_version;
      context_.finish(*host, report::Outcome::joined,
                      "joined; node Ready at " + node->kubelet_version);
      continue;
    }
    std::string seen = node != nullptr ? "node " + describe(host->spec->name)
                                       : "node " + host->spec->name + " not seen Ready";
    host->report.error = Error{ErrorKind::interrupted,
                               "interrupted while waiting for Ready; agent installed, " + seen,
                               "run k3sjoin again to finish waiting"};
    context_.finish(*host, report::Outcome::install_started,
                    "interrupted while waiting for Ready; agent installed, " + seen);
  }
}

void ReadyWatcher::resolve_leftovers() {
  std::vector<HostRun*> hosts;
  {
    std::lock_guard lock(mutex_);
    hosts.swap(pending_);
  }
  if (interrupted()) {
    resolve_interrupted(hosts);
    return;
  }
  run_parallel(hosts.size(), context_.options().parallel, [&](std::size_t index) {
    HostRun& host = *hosts[index];
    std::string seen = describe(host.spec->name);
    if (!server_read_once_ || !last_poll_ok_) {
      // The server was lost: the node may well be Ready, so this is not a failure.
      host.report.error = Error{ErrorKind::timeout,
                                "agent installed, but the server's node list could not be "
                                "read before the deadline (last seen: " +
                                    seen + ")",
                                "check the server, then run k3sjoin again"};
      context_.finish(host, report::Outcome::unknown, host.report.error->message);
      return;
    }
    report::Diagnosis diagnosis =
        diagnose_agent(context_, host, kube::find_node(last_nodes_, host.spec->name));
    host.report.diagnosis = diagnosis;
    context_.fail(host, Error{ErrorKind::not_ready,
                              "node " + host.spec->name + " not Ready before the deadline: " + seen,
                              diagnosis.fix});
  });
}

}  // namespace k3sjoin::phase
