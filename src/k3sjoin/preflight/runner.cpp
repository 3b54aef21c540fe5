#include "k3sjoin/preflight/runner.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <random>
#include <thread>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/preflight/checks.h"
#include "k3sjoin/preflight/network.h"
#include "k3sjoin/util/interrupt.h"
#include "k3sjoin/util/secret.h"
#include "k3sjoin/util/shell.h"
#include "k3sjoin/util/worker_pool.h"

namespace k3sjoin::preflight {
namespace {

using phase::HostRun;
using phase::RunContext;

constexpr std::chrono::seconds kShortCommandTimeout{10};

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  auto start = text.rfind('\n');
  return std::string(start == std::string_view::npos ? text : text.substr(start + 1));
}

std::string random_nonce() {
  std::random_device device;
  std::string nonce = "k3sjoin-";
  constexpr const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    nonce += kHex[device() % 16];
  }
  return nonce;
}

// Reads sudo, the facts and the clock of one host. Each command only reads.
void probe_host(RunContext& context, HostRun& host, HostProbe& probe) {
  if (!host.session) {
    probe.connect_error =
        host.report.error.value_or(Error{ErrorKind::connect, "no SSH session", ""});
    return;
  }
  const std::string& user = host.spec->user;
  if (user != "root") {
    auto sudo = host.session->run(context.command(sudo_check_command(), kShortCommandTimeout));
    probe.sudo_ok = sudo && sudo->exit_status == 0;
    if (!sudo) {
      probe.sudo_detail = sudo.error().message;
    } else if (!*probe.sudo_ok) {
      probe.sudo_detail = last_line(sudo->err);
    }
  }
  bool as_root = user == "root" || probe.sudo_ok.value_or(false);
  // Without sudo the facts are read as the login user: everything but process names and
  // the agent's env file is readable that way.
  std::string line = as_root ? phase::as_root(user, facts_script(true))
                             : "sh -c " + shell_quote(facts_script(false));
  auto facts = host.session->run(context.command(line, context.options().command_timeout));
  if (!facts) {
    probe.facts_error = facts.error().message;
  } else if (facts->out.find("arch=") == std::string::npos) {
    probe.facts_error =
        "exit status " + std::to_string(facts->exit_status) + ": " + last_line(facts->err);
  } else {
    probe.facts = parse_facts(facts->out, as_root);
  }

  auto sent = std::chrono::system_clock::now();
  auto clock = host.session->run(context.command(clock_command(), kShortCommandTimeout));
  auto received = std::chrono::system_clock::now();
  std::int64_t seconds = 0;
  std::string text = clock ? last_line(clock->out) : std::string();
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (clock && clock->exit_status == 0 && error == std::errc() && !text.empty() &&
      end == text.data() + text.size()) {
    probe.clock_offset = clock_offset(seconds, sent, received);
  } else {
    probe.clock_error = clock ? "date +%s printed \"" + text + "\"" : clock.error().message;
  }
}

// The address other nodes use to reach `probe`'s host: its node IP when configured, else
// its SSH address when the host has it, else its first global IPv4 address.
std::string node_address(const HostProbe& probe) {
  if (probe.spec->node_ip) {
    return *probe.spec->node_ip;
  }
  if (probe.facts) {
    const auto& addresses = probe.facts->addresses;
    if (std::find(addresses.begin(), addresses.end(), probe.spec->address) != addresses.end()) {
      return probe.spec->address;
    }
    for (const auto& address : addresses) {
      if (address.find(':') == std::string::npos && address.rfind("127.", 0) != 0) {
        return address;
      }
    }
  }
  return probe.spec->address;
}

// Runs the network round: every host listens and probes its peers at the same time, so
// each host's command runs on its own thread for the round's duration.
std::vector<Finding> network_round(RunContext& context, const std::vector<HostProbe>& probes) {
  const std::size_t count = probes.size();
  std::vector<NetworkHost> hosts(count);
  std::vector<NetworkPlan> plans(count);
  const std::string nonce = random_nonce();
  const std::chrono::seconds window = network_window(count - 1);
  for (std::size_t i = 0; i < count; ++i) {
    const HostProbe& probe = probes[i];
    NetworkHost& host = hosts[i];
    host.name = probe.spec->name;
    host.is_server = probe.is_server;
    host.address = node_address(probe);
    host.facts = probe.facts ? &*probe.facts : nullptr;
    if (!probe.connected()) {
      host.skip_reason = probe.spec->name + " has no SSH session";
    } else if (!probe.facts) {
      host.skip_reason = "the facts of " + probe.spec->name + " could not be read";
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    NetworkPlan& plan = plans[i];
    plan.index = i;
    plan.nonce = nonce;
    plan.window = window;
    const HostFacts* facts = hosts[i].facts;
    plan.listen_udp = facts != nullptr && facts->socket_on("udp", kVxlanPort) == nullptr;
    plan.listen_tcp =
        !hosts[i].is_server && facts != nullptr && facts->socket_on("tcp", kKubeletPort) == nullptr;
    if (!hosts[i].is_server) {
      plan.api_address = probes.front().spec->address;
    }
    for (std::size_t j = 0; j < count; ++j) {
      if (j != i && hosts[j].skip_reason.empty()) {
        plan.targets.push_back({j, hosts[j].address, true, !hosts[j].is_server});
      }
    }
    hosts[i].plan = &plan;
  }

  std::vector<HostRun>& runs = context.hosts();
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < count; ++i) {
      if (!hosts[i].skip_reason.empty()) {
        continue;
      }
      threads.emplace_back([&, i] {
        HostRun& run = runs[i];
        ssh::Command command =
            context.command(network_script(plans[i]), window + std::chrono::seconds(10));
        auto result = run.session->run(command);
        if (!result) {
          hosts[i].error = result.error().message;
          return;
        }
        spdlog::debug("{}network round output:\n{}", log::host_prefix(run.label), result->out);
        if (result->out.find("done") == std::string::npos) {
          hosts[i].error = "the round ended early, exit status " +
                           std::to_string(result->exit_status) + ": " + last_line(result->err);
          return;
        }
        hosts[i].result = parse_network_output(result->out, nonce);
      });
    }
  }
  return evaluate_network(hosts, context.token.ca_hash());
}

Finding server_finding(RunContext& context, const HostProbe& server) {
  Finding finding{std::string(check::kServerK3s), server.spec->name, Status::pass, "", "", ""};
  if (!server.connected()) {
    finding.status = Status::skipped;
    finding.message = "not checked: no SSH session";
    return finding;
  }
  HostRun& run = context.server();
  if (run.report.outcome == report::Outcome::ready) {
    finding.message = "k3s " + context.server_version + " serves " + context.server_url +
                      "; token and node list read";
    finding.evidence = "k3s --version, the agent token file and kubectl get nodes on the server";
    return finding;
  }
  finding.status = Status::fail;
  finding.message = run.report.error ? run.report.error->message : run.report.detail;
  finding.fix = run.report.error ? run.report.error->hint : "";
  return finding;
}

}  // namespace

std::vector<Finding> run_checks(RunContext& context, const PreflightOptions& options) {
  std::vector<HostRun>& runs = context.hosts();
  std::vector<HostProbe> probes(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    probes[i].spec = runs[i].spec;
    probes[i].is_server = runs[i].is_server;
  }
  if (context.server_url.empty()) {
    context.server_url = phase::server_url(context.server().spec->address);
  }
  spdlog::info("preflight: checking {} hosts", runs.size());
  run_parallel(
      runs.size(), context.options().parallel,
      [&](std::size_t index) { probe_host(context, runs[index], probes[index]); },
      [] { return interrupted(); });

  std::vector<Finding> findings;
  for (const auto& probe : probes) {
    auto access = check_access(probe, options.host_key_policy);
    findings.insert(findings.end(), access.begin(), access.end());
  }
  findings.push_back(server_finding(context, probes.front()));
  bool server_ok = context.server().report.outcome == report::Outcome::ready;
  auto identity = check_identity(probes, server_ok ? &context.nodes_at_start : nullptr);
  findings.insert(findings.end(), identity.begin(), identity.end());
  for (std::size_t i = 1; i < probes.size(); ++i) {
    auto host = check_host(probes[i], probes.front().clock_offset, context.server_url);
    findings.insert(findings.end(), host.begin(), host.end());
    if (server_ok) {
      findings.push_back(
          check_version_skew(probes[i].spec->name, context.target_version, context.server_version));
    } else {
      findings.push_back({std::string(check::kVersionSkew), probes[i].spec->name, Status::skipped,
                          "not checked: the server's version is unknown", "", ""});
    }
  }
  if (!interrupted()) {
    auto network = network_round(context, probes);
    findings.insert(findings.end(), network.begin(), network.end());
  }

  // Messages built from remote output could in principle carry the token.
  const std::string_view token = context.token.text().view();
  for (auto& finding : findings) {
    for (auto* text : {&finding.message, &finding.evidence, &finding.fix}) {
      *text = redact(*text, {token});
    }
    auto level = finding.status == Status::fail   ? spdlog::level::err
                 : finding.status == Status::pass ? spdlog::level::debug
                                                  : spdlog::level::warn;
    spdlog::log(level, "preflight {} {} on {}: {}", to_string(finding.status), finding.check,
                finding.host, finding.message);
  }
  return findings;
}

PreflightReport run_preflight(const config::Inventory& inventory,
                              const phase::RunOptions& run_options,
                              const phase::Connector& connector, const PreflightOptions& options) {
  RunContext context(inventory, run_options, connector);
  phase::connect_hosts(context);
  if (!interrupted()) {
    phase::prepare_server(context);
  }
  PreflightReport report;
  report.inventory = inventory.path;
  report.strict = options.strict;
  for (const auto& host : context.hosts()) {
    report.hosts.push_back({host.spec->name, host.spec->address, host.report.role});
  }
  if (!interrupted()) {
    report.findings = run_checks(context, options);
  }
  sort_findings(report.findings, report.hosts);
  report.server_version = context.server_version;
  report.interrupted = interrupted();
  report.duration = context.elapsed();
  log::forget_secret(context.token.text().view());
  return report;
}

void gate_agents(RunContext& context, const PreflightOptions& options) {
  std::vector<Finding> findings = run_checks(context, options);
  for (HostRun* agent : context.agents()) {
    std::string ids;
    const Finding* first = nullptr;
    for (const auto& finding : findings) {
      if (finding.host != agent->spec->name || !is_blocking(finding, options.strict)) {
        continue;
      }
      ids += (ids.empty() ? "" : ", ") + finding.check;
      first = first == nullptr ? &finding : first;
    }
    if (first == nullptr) {
      continue;
    }
    std::string hint = first->fix;
    hint += (hint.empty() ? "" : "; ") + std::string("run k3sjoin preflight for every finding");
    context.fail(*agent,
                 Error{ErrorKind::config,
                       "not changed: preflight failed (" + ids + "): " + first->message, hint});
  }
}

}  // namespace k3sjoin::preflight
