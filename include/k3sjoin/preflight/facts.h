#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/phase/remote_commands.h"

namespace k3sjoin::preflight {

// The file system that holds /var/lib/rancher, or its nearest existing parent before k3s
// is installed.
struct DiskFacts {
  std::string path;        // the directory that df was run on
  std::string filesystem;  // df's first column, e.g. /dev/vda1 or tmpfs
  std::string mount;       // mount point
  std::uint64_t size_kb = 0;
  std::uint64_t available_kb = 0;
};

// One listening TCP socket or bound UDP socket, from `ss -Hlntu`.
struct Socket {
  std::string protocol;  // "tcp" or "udp"
  std::string address;   // local address as ss prints it, e.g. 0.0.0.0 or [::]
  int port = 0;
  std::string process;  // owning command name; empty unless the facts ran as root
};

// What the facts script found on one host. Optional fields are absent when the host
// could not report them.
struct HostFacts {
  bool as_root = false;  // the script ran as root, so env files and process names were readable
  std::string arch;      // uname -m
  std::string hostname;  // uname -n
  std::optional<int> cpus;
  std::optional<std::uint64_t> mem_total_kb;  // MemTotal from /proc/meminfo
  std::optional<DiskFacts> disk;
  std::vector<std::string> addresses;  // every address of `ip -o addr`, no prefix length
  bool sockets_known = false;          // ss ran
  std::vector<Socket> sockets;
  std::map<std::string, std::string> tools;  // command name -> path, for the tools probed
  phase::AgentState k3s;                     // existing k3s install (see inspect_agent_script)

  bool has_tool(std::string_view name) const { return tools.count(std::string(name)) > 0; }
  // The socket bound to `port` for `protocol`; nullptr when none.
  const Socket* socket_on(std::string_view protocol, int port) const;
};

// The script that prints the facts as key=value lines. It reads files and runs read-only
// commands only: uname, nproc, df, ss, ip, command -v and the k3s inspection.
std::string facts_script(bool as_root);

HostFacts parse_facts(std::string_view output, bool as_root);

// Checks that sudo runs without a password: `sudo -n true`.
std::string sudo_check_command();

// Prints the host's clock as seconds since the epoch. It is `date +%s` and not a shell
// builtin, so a host whose `date` is replaced (the lab's clock-offset fault) is measured.
std::string clock_command();

// The clock offset of a host from the operator: the host's reading minus the midpoint of
// the operator's send and receive times. Its error is at most half the round trip plus the
// one-second resolution of `date +%s`.
std::chrono::milliseconds clock_offset(std::int64_t host_seconds,
                                       std::chrono::system_clock::time_point sent,
                                       std::chrono::system_clock::time_point received);

}  // namespace k3sjoin::preflight
