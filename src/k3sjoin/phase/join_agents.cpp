#include <spdlog/spdlog.h>

#include <thread>

#include "k3sjoin/diagnose/diagnose.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/agent_diagnosis.h"
#include "k3sjoin/phase/node_identity.h"
#include "k3sjoin/phase/node_scripts.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/ready_watcher.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/interrupt.h"
#include "k3sjoin/util/secret.h"
#include "k3sjoin/util/worker_pool.h"

namespace k3sjoin::phase {
namespace {

// Stopping an install waits up to 5 s for its processes to end, and up to 1 s more to find
// an install that had not made its directory yet. The rest is margin for sudo and SSH.
constexpr std::chrono::seconds kStopInstallTimeout{20};

Result<AgentState> inspect_agent(RunContext& context, HostRun& host) {
  auto command = context.command(as_root(host.spec->user, inspect_agent_script()),
                                 context.options().command_timeout);
  auto result = run_checked(host, "inspect the existing k3s install", command);
  if (!result) {
    return result.error();
  }
  return parse_agent_state(result->out);
}

// Decides from the inspection whether the agent needs no install (returns true after
// recording the outcome), must not be touched (marks it failed) or needs an install.
bool settled_without_install(RunContext& context, HostRun& host, const AgentState& state) {
  const std::string& name = host.spec->name;
  if (state.is_server) {
    context.fail(host, Error{ErrorKind::config,
                             name + " runs a k3s server (/var/lib/rancher/k3s/server exists)",
                             "list only agent hosts under \"agents\" in the inventory"});
    return true;
  }
  if (!state.server_url.empty() && state.server_url != context.server_url) {
    context.fail(host, Error{ErrorKind::config,
                             name + " is an agent of another server, " + state.server_url +
                                 ", not " + context.server_url + "; k3sjoin does not move it",
                             "to move it, run " + std::string(kAgentUninstallPath) + " on " + name +
                                 " first, then run k3sjoin again"});
    return true;
  }
  const kube::Node* node = kube::find_node(context.nodes_at_start, name);
  if (node != nullptr) {
    bool replaced = false;
    if (!settle_existing_node(context, host, state, *node, replaced)) {
      return true;
    }
    if (replaced) {
      return false;
    }
  }
  bool joined_here = state.service_active && state.server_url == context.server_url &&
                     node != nullptr && node->is_ready();
  if (joined_here && state.version != context.target_version) {
    if (context.options().allow_version_change) {
      spdlog::info("{}changing k3s from {} to {} (--allow-version-change)",
                   log::host_prefix(host.label), state.version, context.target_version);
      return false;
    }
    context.fail(host, Error{ErrorKind::config,
                             name + " is joined at k3s " + state.version + ", but the target is " +
                                 context.target_version + "; versions change only on request",
                             "add --allow-version-change to install " + context.target_version +
                                 ", or set \"k3s\": {\"version\": \"" + state.version +
                                 "\"} in the inventory"});
    return true;
  }
  if (joined_here && node->kubelet_version == context.target_version) {
    host.report.node_version = node->kubelet_version;
    context.finish(host, report::Outcome::already_joined,
                   "already joined; node Ready at " + node->kubelet_version + ", no change");
    return true;
  }
  return false;
}

Status install_agent(RunContext& context, HostRun& host) {
  InstallRequest request;
  request.server_url = context.server_url;
  request.version = context.target_version;
  request.install_url = context.inventory().install_url;
  request.node_name = host.spec->name;
  request.node_ip = host.spec->node_ip;
  request.extra_args = host.spec->extra_args;
  request.run_id = context.run_id;
  auto timeout = std::min<std::chrono::seconds>(
      context.options().install_timeout,
      std::chrono::duration_cast<std::chrono::seconds>(context.remaining()));
  request.timeout = std::max(timeout, std::chrono::seconds(1));

  // The token reaches the host only as the first line of the command's stdin.
  // Reserving first means no reallocation leaves an unwiped copy on the heap.
  const std::string_view token = context.token.text().view();
  std::string line;
  line.reserve(token.size() + 1);
  line.append(token);
  line.push_back('\n');
  Secret input(line);
  wipe(line);

  ssh::Command command = context.command(as_root(host.spec->user, install_agent_script(request)),
                                         request.timeout + std::chrono::seconds(15));
  command.input = input.view();
  host.report.changed = true;
  host.report.detail = "install started";
  spdlog::info("{}installing k3s {} agent", log::host_prefix(host.label), request.version);
  auto result = run_checked(host, "install the k3s agent", command);
  if (!result) {
    Error error = result.error();
    if (error.kind == ErrorKind::remote_command &&
        error.message.find("exit status 124") != std::string::npos) {
      error.kind = ErrorKind::timeout;
      // The last step line on stderr names the step that ran out of time.
      auto step = error.message.find(kInstallStepPrefix);
      std::string stage = step == std::string::npos
                              ? ""
                              : " while " + error.message.substr(step + kInstallStepPrefix.size());
      error.message = "install the k3s agent: timed out after " +
                      std::to_string(request.timeout.count()) + "s" + stage;
    }
    if (error.hint.empty()) {
      // The install gets the smaller of --install-timeout and the time left in the run, so
      // the fix names whichever of the two ran out.
      bool run_deadline = request.timeout < context.options().install_timeout;
      error.hint = "check that " + host.spec->name + " can download " + request.install_url +
                   " and github.com, read the installer output in the log (-v), or raise " +
                   (run_deadline ? "--timeout" : "--install-timeout");
    }
    return error;
  }
  spdlog::debug("{}installer output:\n{}", log::host_prefix(host.label), result->out);
  return ok_status();
}

// Stops this run's install on the host and removes its temporary directory. Returns what
// is installed and running afterwards, for the report.
std::string stop_install(RunContext& context, HostRun& host) {
  ssh::Command command;
  command.line = as_root(host.spec->user, stop_install_script(context.run_id));
  command.timeout = kStopInstallTimeout;
  command.interruptible = false;
  auto result = run_checked(host, "stop the install", command);
  if (!result) {
    spdlog::warn("{}{}", log::host_prefix(host.label), result.error().message);
    return "the install could not be stopped: " + result.error().message;
  }
  AgentState state = parse_agent_state(result->out);
  bool installed = result->out.find("k3s=yes") != std::string::npos;
  std::string text = "install stopped and its temporary files removed; ";
  text += installed ? "k3s binary installed" : "k3s not installed";
  text += state.service_active ? ", k3s-agent running" : ", k3s-agent not running";
  spdlog::info("{}{}", log::host_prefix(host.label), text);
  return text;
}

// Records a failed install with its cause: the agent's journal when it shows a known k3s
// failure, else the install step itself. An interrupted install becomes install-started.
void record_install_failure(RunContext& context, HostRun& host, Error error) {
  if (error.kind == ErrorKind::interrupted) {
    std::string state = stop_install(context, host);
    host.report.error = Error{ErrorKind::interrupted, "interrupted during install; " + state,
                              "run k3sjoin again to finish the join"};
    context.finish(host, report::Outcome::install_started, "interrupted during install; " + state);
    return;
  }
  if (error.kind == ErrorKind::timeout) {
    stop_install(context, host);
  }
  diagnose::Subject subject = diagnosis_subject(context, host);
  std::optional<diagnose::Finding> finding;
  if (auto lines = read_agent_journal(context, host, host.install_clock)) {
    finding = diagnose::match_journal(*lines, subject);
  }
  if (finding) {
    host.report.diagnosis = finding->diagnosis;
  } else {
    std::string_view code = error.kind == ErrorKind::timeout ? diagnose::code::kInstallTimeout
                                                             : diagnose::code::kInstallFailed;
    host.report.diagnosis = report::Diagnosis{std::string(code), error.message, error.hint, {}};
  }
  context.fail(host, std::move(error));
}

void join_agent(RunContext& context, HostRun& host, ReadyWatcher& watcher) {
  if (host.failed()) {
    return;
  }
  auto state = inspect_agent(context, host);
  if (!state) {
    if (state.error().kind == ErrorKind::interrupted) {
      host.report.detail = "not started: interrupted";
      return;
    }
    context.fail(host, state.error());
    return;
  }
  if (settled_without_install(context, host, *state)) {
    return;
  }
  if (interrupted()) {
    host.report.detail = "not started: interrupted";
    return;
  }
  host.install_clock = state->host_clock;
  if (auto status = install_agent(context, host); !status) {
    record_install_failure(context, host, status.error());
    return;
  }
  if (interrupted()) {
    // The watcher may have stopped already, so it would never resolve this agent.
    host.report.error =
        Error{ErrorKind::interrupted, "installed; interrupted before the wait for Ready",
              "run k3sjoin again to finish the join"};
    context.finish(host, report::Outcome::install_started,
                   "installed; interrupted before the wait for Ready");
    return;
  }
  host.report.detail = "installed; waiting for Ready";
  watcher.add(host);
}

}  // namespace

void join_agents(RunContext& context) {
  std::vector<HostRun*> agents = context.agents();
  ReadyWatcher watcher(context);
  std::jthread poller([&] { watcher.run(); });
  run_parallel(
      agents.size(), context.options().parallel,
      [&](std::size_t index) { join_agent(context, *agents[index], watcher); },
      [] { return interrupted(); });
  watcher.close();
}

}  // namespace k3sjoin::phase
