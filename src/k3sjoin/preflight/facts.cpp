#include "k3sjoin/preflight/facts.h"

#include <charconv>

namespace k3sjoin::preflight {
namespace {

// Tools whose presence changes what preflight can probe or what the install needs.
constexpr const char* kProbedTools = "curl wget python3 bash timeout ss ip sha256sum openssl";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

template <typename Number>
std::optional<Number> to_number(std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  while (!text.empty()) {
    auto start = text.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
      break;
    }
    text.remove_prefix(start);
    auto end = text.find_first_of(" \t");
    words.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  }
  return words;
}

// Parses "tcp 0.0.0.0:6443 users:(("k3s",pid=1,fd=3))" from the listen= lines.
std::optional<Socket> parse_socket(std::string_view value) {
  auto words = split_words(value);
  if (words.size() < 2) {
    return std::nullopt;
  }
  Socket socket;
  socket.protocol = std::string(words[0]);
  std::string_view local = words[1];
  auto colon = local.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  auto port = to_number<int>(local.substr(colon + 1));
  if (!port) {
    return std::nullopt;
  }
  socket.address = std::string(local.substr(0, colon));
  socket.port = *port;
  if (words.size() >= 3) {
    std::string_view users = words[2];
    auto open = users.find("((\"");
    if (open != std::string_view::npos) {
      users.remove_prefix(open + 3);
      socket.process = std::string(users.substr(0, users.find('"')));
    }
  }
  return socket;
}

std::optional<DiskFacts> parse_disk(std::string_view path, std::string_view value) {
  auto words = split_words(value);
  if (words.size() < 4) {
    return std::nullopt;
  }
  auto size = to_number<std::uint64_t>(words[1]);
  auto available = to_number<std::uint64_t>(words[2]);
  if (!size || !available) {
    return std::nullopt;
  }
  DiskFacts disk;
  disk.path = std::string(path);
  disk.filesystem = std::string(words[0]);
  disk.size_kb = *size;
  disk.available_kb = *available;
  disk.mount = std::string(words[3]);
  return disk;
}

}  // namespace

const Socket* HostFacts::socket_on(std::string_view protocol, int port) const {
  for (const Socket& socket : sockets) {
    if (socket.protocol == protocol && socket.port == port) {
      return &socket;
    }
  }
  return nullptr;
}

std::string facts_script(bool as_root) {
  std::string script =
      "echo \"arch=$(uname -m)\"\n"
      "echo \"hostname=$(uname -n)\"\n"
      "echo \"cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)\"\n"
      "echo \"memtotal_kb=$(sed -n 's/^MemTotal:[[:space:]]*\\([0-9]*\\) kB.*/\\1/p' "
      "/proc/meminfo)\"\n"
      // Before the install /var/lib/rancher does not exist; its nearest existing parent
      // is on the file system that k3s will fill.
      "d=/var/lib/rancher\n"
      "while [ ! -e \"$d\" ] && [ \"$d\" != / ]; do d=$(dirname \"$d\"); done\n"
      "echo \"disk_path=$d\"\n"
      "df -Pk \"$d\" 2>/dev/null | awk 'NR==2 {print \"disk=\" $1 \" \" $2 \" \" $4 \" \" $6}'\n"
      "for t in ";
  script += kProbedTools;
  script +=
      "; do p=$(command -v \"$t\" 2>/dev/null) && echo \"tool=$t $p\"; done\n"
      "if command -v ip >/dev/null 2>&1; then ip -o addr show 2>/dev/null | "
      "awk '{print \"addr=\" $4}'; fi\n"
      "if command -v ss >/dev/null 2>&1; then echo sockets=yes; ";
  // Only root sees which process owns a socket of another user, so -p is root-only.
  script += as_root ? "ss -Hlntup" : "ss -Hlntu";
  script += " 2>/dev/null | awk '{print \"listen=\" $1 \" \" $5 \" \" $7}'; fi\n";
  script += phase::inspect_agent_script();
  return script;
}

HostFacts parse_facts(std::string_view output, bool as_root) {
  HostFacts facts;
  facts.as_root = as_root;
  facts.k3s = phase::parse_agent_state(output);
  std::string disk_path;
  while (!output.empty()) {
    auto end = output.find('\n');
    std::string_view line = output.substr(0, end);
    output = end == std::string_view::npos ? std::string_view{} : output.substr(end + 1);
    auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      continue;
    }
    std::string_view key = line.substr(0, equals);
    std::string_view value = trim(line.substr(equals + 1));
    if (key == "arch") {
      facts.arch = std::string(value);
    } else if (key == "hostname") {
      facts.hostname = std::string(value);
    } else if (key == "cpus") {
      facts.cpus = to_number<int>(value);
    } else if (key == "memtotal_kb") {
      facts.mem_total_kb = to_number<std::uint64_t>(value);
    } else if (key == "disk_path") {
      disk_path = std::string(value);
    } else if (key == "disk") {
      facts.disk = parse_disk(disk_path, value);
    } else if (key == "tool") {
      auto words = split_words(value);
      if (words.size() == 2) {
        facts.tools[std::string(words[0])] = std::string(words[1]);
      }
    } else if (key == "addr") {
      std::string_view address = value.substr(0, value.find('/'));
      if (!address.empty()) {
        facts.addresses.emplace_back(address);
      }
    } else if (key == "sockets") {
      facts.sockets_known = value == "yes";
    } else if (key == "listen") {
      if (auto socket = parse_socket(value)) {
        facts.sockets.push_back(std::move(*socket));
      }
    }
  }
  return facts;
}

std::string sudo_check_command() {
  return "sudo -n true";
}

std::string clock_command() {
  return "date +%s";
}

std::chrono::milliseconds clock_offset(std::int64_t host_seconds,
                                       std::chrono::system_clock::time_point sent,
                                       std::chrono::system_clock::time_point received) {
  auto midpoint = sent + (received - sent) / 2;
  auto operator_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(midpoint.time_since_epoch());
  // `date +%s` truncates, so the host's reading stands for the middle of its second.
  std::chrono::milliseconds host_ms = std::chrono::seconds(host_seconds);
  host_ms += std::chrono::milliseconds(500);
  return host_ms - operator_ms;
}

}  // namespace k3sjoin::preflight
