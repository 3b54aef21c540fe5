#include <array>
#include <cstdio>

#include "k3sjoin/preflight/checks.h"
#include "k3sjoin/preflight/network.h"

namespace k3sjoin::preflight {
namespace {

Finding make(std::string_view id, const HostProbe& host, Status status, std::string message,
             std::string evidence = {}, std::string fix = {}) {
  return Finding{std::string(id),    host.spec->name,     status,
                 std::move(message), std::move(evidence), std::move(fix)};
}

std::string mib_text(std::uint64_t kib) {
  return std::to_string(kib / 1024) + " MiB";
}

// install.sh maps amd64/x86_64, arm64/aarch64, s390x and arm* (armhf) to its release
// files; k3s publishes nothing else.
Finding arch_finding(const HostProbe& host) {
  const std::string& arch = host.facts->arch;
  static constexpr std::array<std::string_view, 5> kSupported = {"x86_64", "amd64", "aarch64",
                                                                 "arm64", "s390x"};
  bool supported = arch.rfind("arm", 0) == 0;
  for (auto name : kSupported) {
    supported = supported || arch == name;
  }
  if (supported) {
    return make(check::kArch, host, Status::pass, "architecture " + arch + " is supported by k3s",
                "uname -m printed " + arch);
  }
  return make(check::kArch, host, Status::fail, "architecture \"" + arch + "\" is not supported",
              "uname -m printed " + arch,
              "use a host with x86_64, arm64, armhf or s390x; k3s publishes no other builds");
}

Finding cpu_finding(const HostProbe& host) {
  if (!host.facts->cpus) {
    return make(check::kCpu, host, Status::skipped, "nproc printed no number");
  }
  int cpus = *host.facts->cpus;
  std::string evidence = "nproc printed " + std::to_string(cpus);
  if (cpus < kMinCpus) {
    return make(check::kCpu, host, Status::fail, "no CPU available", evidence,
                "give the host at least 1 CPU");
  }
  if (cpus < kRecommendedCpus) {
    return make(check::kCpu, host, Status::warn,
                std::to_string(cpus) + " CPU, below the 2 recommended for an agent", evidence,
                "give the host 2 or more CPUs for workloads beyond the k3s agent itself");
  }
  return make(check::kCpu, host, Status::pass, std::to_string(cpus) + " CPUs", evidence);
}

Finding memory_finding(const HostProbe& host) {
  if (!host.facts->mem_total_kb) {
    return make(check::kMemory, host, Status::skipped, "MemTotal missing from /proc/meminfo");
  }
  std::uint64_t total_kb = *host.facts->mem_total_kb;
  auto limit_kb = [](std::uint64_t mib) {
    return mib * 1024 * (100 - kMemoryAllowancePercent) / 100;
  };
  std::string evidence = "MemTotal " + std::to_string(total_kb) + " kB in /proc/meminfo";
  if (total_kb < limit_kb(kMinMemoryMiB)) {
    return make(check::kMemory, host, Status::fail,
                mib_text(total_kb) + " of memory, below the 512 MiB agent minimum", evidence,
                "give " + host.spec->name + " at least 512 MiB of memory (2 GiB recommended)");
  }
  if (total_kb < limit_kb(kRecommendedMemoryMiB)) {
    return make(check::kMemory, host, Status::warn,
                mib_text(total_kb) + " of memory, below the 2 GiB recommended", evidence,
                "give " + host.spec->name + " 2 GiB of memory or more for workloads");
  }
  return make(check::kMemory, host, Status::pass, mib_text(total_kb) + " of memory", evidence);
}

Finding disk_finding(const HostProbe& host) {
  if (!host.facts->disk) {
    return make(check::kDisk, host, Status::skipped,
                "df printed nothing for /var/lib/rancher or a parent directory");
  }
  const DiskFacts& disk = *host.facts->disk;
  std::uint64_t available = disk.available_kb * 1024;
  std::string where = disk.path == "/var/lib/rancher"
                          ? std::string("/var/lib/rancher")
                          : "/var/lib/rancher (not yet created; " + disk.path + ")";
  std::string evidence = "df -Pk " + disk.path + ": " + disk.filesystem + " on " + disk.mount +
                         ", " + format_bytes(disk.size_kb * 1024) + " size, " +
                         format_bytes(available) + " available";
  std::string fix_target = "the file system of /var/lib/rancher on " + host.spec->name +
                           " (mounted on " + disk.mount + ")";
  if (available < kMinDiskBytes) {
    return make(check::kDisk, host, Status::fail,
                format_bytes(available) + " free for " + where + ", below the 20 GB minimum",
                evidence, "free or add space on " + fix_target + " until 20 GB are available");
  }
  if (available < kRecommendedDiskBytes) {
    return make(check::kDisk, host, Status::warn,
                format_bytes(available) + " free for " + where + ", below the 40 GB recommended",
                evidence, "free or add space on " + fix_target + "; images fill it over time");
  }
  return make(check::kDisk, host, Status::pass, format_bytes(available) + " free for " + where,
              evidence);
}

Finding clock_finding(const HostProbe& host,
                      std::optional<std::chrono::milliseconds> server_offset) {
  if (!host.clock_offset) {
    return make(check::kClock, host, Status::skipped,
                "the host's clock could not be read: " + host.clock_error);
  }
  if (!server_offset) {
    return make(check::kClock, host, Status::skipped,
                "the server's clock could not be read, so there is nothing to compare with");
  }
  auto offset = *host.clock_offset - *server_offset;
  auto magnitude = offset < offset.zero() ? -offset : offset;
  char seconds[32];
  // Round to tenths first, so a small negative offset prints as 0.0 and not -0.0.
  long long tenths = (offset.count() + (offset.count() < 0 ? -50 : 50)) / 100;
  std::snprintf(seconds, sizeof seconds, "%s%lld.%lld s",
                tenths < 0 ? "-" : (tenths > 0 ? "+" : ""), (tenths < 0 ? -tenths : tenths) / 10,
                (tenths < 0 ? -tenths : tenths) % 10);
  std::string evidence = "date +%s on both hosts, corrected for the SSH round trip; " +
                         std::string(seconds) + " against the server, within about 1 s";
  std::string message = std::string("clock is ") + seconds + " from the server's";
  std::string fix = "synchronise the clocks of " + host.spec->name +
                    " and the server with NTP (timedatectl set-ntp true, or chrony)";
  if (magnitude > kClockFailOffset) {
    return make(check::kClock, host, Status::fail, message + ", more than 30 s", evidence, fix);
  }
  if (magnitude > kClockWarnOffset) {
    return make(check::kClock, host, Status::warn, message + ", more than 5 s", evidence, fix);
  }
  return make(check::kClock, host, Status::pass, message, evidence);
}

// install.sh downloads itself, the binary and its checksum with curl or wget.
Finding downloader_finding(const HostProbe& host) {
  for (const char* tool : {"curl", "wget"}) {
    if (auto found = host.facts->tools.find(tool); found != host.facts->tools.end()) {
      return make(check::kDownloader, host, Status::pass,
                  std::string(tool) + " is available for the install",
                  "command -v " + std::string(tool) + " printed " + found->second);
    }
  }
  return make(check::kDownloader, host, Status::fail, "neither curl nor wget is on the PATH",
              "command -v curl and command -v wget found nothing",
              "install curl on " + host.spec->name +
                  " (apt-get install curl); the k3s install "
                  "script downloads with curl or wget");
}

Finding ports_finding(const HostProbe& host, InstallKind install) {
  if (!host.facts->sockets_known) {
    return make(check::kPorts, host, Status::skipped,
                "ss is not installed, so ports were not read");
  }
  std::vector<std::string> busy;
  for (int port : {kKubeletPort, kAgentLbPort}) {
    if (const Socket* socket = host.facts->socket_on("tcp", port)) {
      std::string owner = socket->process.empty() ? "" : " by " + socket->process;
      busy.push_back(std::to_string(port) + "/tcp (" + socket->address + ":" +
                     std::to_string(port) + owner + ")");
    }
  }
  std::string evidence = "ss -Hlntu";
  if (busy.empty()) {
    return make(check::kPorts, host, Status::pass, "ports 10250/tcp and 6444/tcp are free",
                evidence);
  }
  std::string list;
  for (const auto& item : busy) {
    list += (list.empty() ? "" : ", ") + item;
  }
  if (install == InstallKind::agent_of_this_server && host.facts->k3s.service_active) {
    return make(check::kPorts, host, Status::pass,
                "in use by the running k3s agent of this server: " + list, evidence);
  }
  return make(check::kPorts, host, Status::fail, "in use: " + list, evidence,
              "stop the process that listens there (ss -ltnp 'sport = :10250' names it); the "
              "k3s agent needs 10250/tcp for the kubelet and 6444/tcp for its load balancer");
}

Finding install_finding(const HostProbe& host, InstallKind kind, std::string_view server_url) {
  const phase::AgentState& state = host.facts->k3s;
  std::string evidence = "k3s-agent " + std::string(state.service_active ? "active" : "inactive") +
                         ", K3S_URL " + (state.server_url.empty() ? "unset" : state.server_url) +
                         ", k3s " + (state.version.empty() ? "absent" : state.version);
  switch (kind) {
    case InstallKind::none:
      return make(check::kK3sInstall, host, Status::pass, "no k3s installed", evidence);
    case InstallKind::agent_of_this_server:
      return make(check::kK3sInstall, host, Status::pass,
                  "k3s agent " + state.version + " of this server is installed", evidence);
    case InstallKind::binary_only:
      return make(check::kK3sInstall, host, Status::warn,
                  "k3s " + state.version + " is installed but not configured as an agent", evidence,
                  "check that nothing else uses the k3s binary on " + host.spec->name +
                      "; the install replaces it");
    case InstallKind::agent_of_other_server:
      return make(check::kK3sInstall, host, Status::fail,
                  "k3s agent of another server (" + state.server_url + ", not " +
                      std::string(server_url) + ")",
                  evidence,
                  "to move it, run /usr/local/bin/k3s-agent-uninstall.sh on " + host.spec->name +
                      " first; k3sjoin does not move agents between clusters");
    case InstallKind::server:
      return make(check::kK3sInstall, host, Status::fail,
                  "a k3s server is installed (/var/lib/rancher/k3s/server exists)", evidence,
                  "list only agent hosts under \"agents\"; uninstall the server first if it is "
                  "no longer needed");
  }
  return make(check::kK3sInstall, host, Status::skipped, "unknown install kind", evidence);
}

}  // namespace

InstallKind classify_install(const phase::AgentState& state, std::string_view server_url) {
  if (state.is_server) {
    return InstallKind::server;
  }
  if (!state.server_url.empty()) {
    return state.server_url == server_url ? InstallKind::agent_of_this_server
                                          : InstallKind::agent_of_other_server;
  }
  return state.version.empty() ? InstallKind::none : InstallKind::binary_only;
}

std::string format_bytes(std::uint64_t bytes) {
  char text[32];
  if (bytes >= 1'000'000'000) {
    std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / 1e9);
  } else {
    std::snprintf(text, sizeof text, "%.0f MB", static_cast<double>(bytes) / 1e6);
  }
  return text;
}

std::vector<Finding> check_host(const HostProbe& agent,
                                std::optional<std::chrono::milliseconds> server_clock_offset,
                                std::string_view server_url) {
  static constexpr std::array<std::string_view, 8> kIds = {
      check::kArch,  check::kCpu,        check::kMemory, check::kDisk,
      check::kClock, check::kDownloader, check::kPorts,  check::kK3sInstall};
  std::vector<Finding> findings;
  if (!agent.facts) {
    std::string reason =
        agent.connected() ? "not checked: the host's facts could not be read: " + agent.facts_error
                          : std::string("not checked: no SSH session");
    for (auto id : kIds) {
      findings.push_back(make(id, agent, Status::skipped, reason));
    }
    return findings;
  }
  InstallKind install = classify_install(agent.facts->k3s, server_url);
  findings.push_back(arch_finding(agent));
  findings.push_back(cpu_finding(agent));
  findings.push_back(memory_finding(agent));
  findings.push_back(disk_finding(agent));
  findings.push_back(clock_finding(agent, server_clock_offset));
  findings.push_back(downloader_finding(agent));
  findings.push_back(ports_finding(agent, install));
  if (agent.facts->as_root) {
    findings.push_back(install_finding(agent, install, server_url));
  } else {
    findings.push_back(make(check::kK3sInstall, agent, Status::skipped,
                            "not checked: reading the agent's env file needs root, and sudo "
                            "failed (see access.sudo)"));
  }
  return findings;
}

}  // namespace k3sjoin::preflight
