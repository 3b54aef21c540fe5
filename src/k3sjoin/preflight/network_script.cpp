// Builds and parses the network round's shell script (see network.h).
#include <charconv>
#include <cmath>

#include "k3sjoin/preflight/network.h"
#include "k3sjoin/util/shell.h"

namespace k3sjoin::preflight {
namespace {

// The listener binds the VXLAN port (UDP) and the kubelet port (TCP) on all addresses,
// dual-stack where the host has IPv6, and prints one line per datagram that carries the
// nonce and per accepted connection. It ends on its own before `timeout` would kill it.
constexpr std::string_view kListenerPython = R"PY(
import select, socket, sys, time
udp_port, tcp_port, nonce = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
end = time.time() + float(sys.argv[4])
def bind(kind, port, name):
    problem = "unknown"
    for family, address in ((socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")):
        try:
            s = socket.socket(family, kind)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port))
            if kind == socket.SOCK_STREAM:
                s.listen(128)
            print("listening", name, flush=True)
            return s
        except OSError as error:
            problem = error.strerror or str(error)
    print("bind_error", name, problem, flush=True)
    return None
socks = []
if udp_port:
    socks.append(bind(socket.SOCK_DGRAM, udp_port, "udp"))
if tcp_port:
    socks.append(bind(socket.SOCK_STREAM, tcp_port, "tcp"))
socks = [s for s in socks if s]
while socks and time.time() < end:
    ready = select.select(socks, [], [], max(0.0, end - time.time()))[0]
    for s in ready:
        if s.type == socket.SOCK_DGRAM:
            data, peer = s.recvfrom(512)
            words = data.decode("ascii", "replace").split()
            if len(words) == 2 and words[0] == nonce:
                print("udp_from", words[1], peer[0], flush=True)
        else:
            connection, peer = s.accept()
            connection.close()
            print("tcp_from", peer[0], flush=True)
)PY";

// Shell functions of the round. Each probe has a hard `timeout`; tools are tried in the
// order bash (/dev/tcp, /dev/udp), python3, nc, and the one used is printed.
constexpr std::string_view kFunctions = R"SH(
have() { command -v "$1" >/dev/null 2>&1; }
tcp_probe() {
  if have bash; then
    timeout "$probe" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" </dev/null >/dev/null 2>&1
    echo "bash $?"
  elif have python3; then
    timeout "$probe" python3 -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3]) - 0.5).close()
except socket.timeout:
    sys.exit(124)
except OSError:
    sys.exit(1)' "$1" "$2" "$probe" </dev/null >/dev/null 2>&1
    echo "python3 $?"
  elif have nc; then
    timeout "$probe" nc -z -w "$probe" "$1" "$2" </dev/null >/dev/null 2>&1
    echo "nc $?"
  else
    echo "none 127"
  fi
}
udp_send() {
  for attempt in 1 2 3; do
    if have bash; then
      tool=bash
      bash -c 'printf "%s" "$3" >"/dev/udp/$1/$2"' _ "$1" "$2" "$3" 2>/dev/null
    elif have python3; then
      tool=python3
      python3 -c 'import socket, sys
info = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), type=socket.SOCK_DGRAM)[0]
socket.socket(info[0], socket.SOCK_DGRAM).sendto(sys.argv[3].encode(), info[4])' "$1" "$2" "$3" 2>/dev/null
    elif have nc; then
      tool=nc
      printf '%s' "$3" | timeout 1 nc -u -w 1 "$1" "$2" 2>/dev/null
    else
      echo "udp_tool none"
      return
    fi
    sleep 0.3
  done
  echo "udp_tool $tool"
}
probe_peer() {
  if [ "$3" = 1 ]; then udp_send "$2" "$vxlan_port" "$nonce $me" & fi
  if [ "$4" = 1 ]; then echo "tcp $1 $(tcp_probe "$2" "$kubelet_port")"; fi
  wait
}
fetch_cacerts() {
  host=$1
  case "$host" in *:*) host="[$host]" ;; esac
  url="https://$host:$api_port/cacerts"
  if have curl; then
    tool=curl
    timeout "$probe" curl -fsk --max-time "$probe" -o "$work/cacerts" "$url"
  elif have wget; then
    tool=wget
    timeout "$probe" wget -q --no-check-certificate -T "$probe" -O "$work/cacerts" "$url"
  elif have python3; then
    tool=python3
    timeout "$probe" python3 -c 'import ssl, sys, urllib.request
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], context=context, timeout=float(sys.argv[2])).read())' "$url" "$probe" >"$work/cacerts"
  elif have openssl; then
    tool=openssl
    printf 'GET /cacerts HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" |
      timeout "$probe" openssl s_client -quiet -connect "$host:$api_port" 2>/dev/null >"$work/raw"
    sed '1,/^\r$/d' "$work/raw" >"$work/cacerts"
  else
    echo "cacerts none 127"
    return
  fi
  status=$?
  if [ "$status" = 0 ]; then
    echo "cacerts $tool 0 $(sha256sum <"$work/cacerts" | cut -d' ' -f1) $(wc -c <"$work/cacerts")"
  else
    echo "cacerts $tool $status"
  fi
}
probe_api() {
  echo "api_tcp $(tcp_probe "$1" "$api_port")"
}
)SH";

std::string flag(bool value) {
  return value ? "1" : "0";
}

std::string seconds_text(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(duration.count()) / 1000.0);
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
    auto start = text.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) {
      break;
    }
    text.remove_prefix(start);
    auto end = text.find_first_of(" \t\r");
    words.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  }
  return words;
}

std::string rest_after(std::string_view line, std::size_t words) {
  for (std::size_t i = 0; i < words; ++i) {
    auto space = line.find(' ');
    if (space == std::string_view::npos) {
      return {};
    }
    line.remove_prefix(space + 1);
  }
  return std::string(line);
}

}  // namespace

std::chrono::seconds network_window(std::size_t targets) {
  // The /cacerts download runs next to the peer probes and takes one slot.
  std::size_t batches = (targets + 1 + kProbeConcurrency - 1) / kProbeConcurrency;
  auto busy = kStartDelay + kProbeTimeout * static_cast<long>(batches) + std::chrono::seconds(1);
  return std::chrono::ceil<std::chrono::seconds>(busy);
}

std::string network_script(const NetworkPlan& plan) {
  std::string script = "set -u\n";
  script += "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH\n";
  script += "nonce=" + shell_quote(plan.nonce) + "\n";
  script += "me=" + std::to_string(plan.index) + "\n";
  script += "probe=" + std::to_string(kProbeTimeout.count()) + "\n";
  script += "api_port=" + std::to_string(kApiPort) + "\n";
  script += "kubelet_port=" + std::to_string(kKubeletPort) + "\n";
  script += "vxlan_port=" + std::to_string(kVxlanPort) + "\n";
  script += "lpid=\n";
  script +=
      "work=$(mktemp -d \"${TMPDIR:-/tmp}/k3sjoin-preflight.XXXXXXXX\") || "
      "{ echo 'error mktemp failed'; exit 1; }\n";
  script +=
      "cleanup() { if [ -n \"$lpid\" ]; then kill \"$lpid\" 2>/dev/null; wait \"$lpid\" "
      "2>/dev/null; fi; rm -rf \"$work\"; }\n";
  script += "trap cleanup EXIT\ntrap 'exit 143' INT TERM HUP\n";
  script += kFunctions;

  if (plan.listen_udp || plan.listen_tcp) {
    // The listener ends half a second before `timeout` would kill it, so its last lines
    // are written.
    auto life = std::chrono::milliseconds(plan.window) - std::chrono::milliseconds(500);
    script += "if have python3; then\n  echo 'listener python3'\n";
    script += "  timeout -k 1 " + std::to_string(plan.window.count()) + " python3 -c " +
              shell_quote(kListenerPython) + " " +
              std::to_string(plan.listen_udp ? kVxlanPort : 0) + " " +
              std::to_string(plan.listen_tcp ? kKubeletPort : 0) + " \"$nonce\" " +
              seconds_text(life) + " >\"$work/listen\" 2>&1 </dev/null &\n";
    script += "  lpid=$!\nelse\n  echo 'listener none'\nfi\n";
  }

  script += "sleep " + seconds_text(kStartDelay) + "\n";
  script += "pids=\n";
  std::size_t running = 0;
  auto start_job = [&](const std::string& command, const std::string& output) {
    script += command + " >\"$work/" + output + "\" 2>/dev/null & pids=\"$pids $!\"\n";
    if (++running == kProbeConcurrency) {
      script += "wait $pids\npids=\n";
      running = 0;
    }
  };
  if (!plan.api_address.empty()) {
    std::string address = shell_quote(plan.api_address);
    start_job("probe_api " + address, "api.tcp");
    start_job("fetch_cacerts " + address, "api.ca");
  }
  for (const NetworkTarget& target : plan.targets) {
    start_job("probe_peer " + std::to_string(target.index) + " " + shell_quote(target.address) +
                  " " + flag(target.udp) + " " + flag(target.tcp),
              "peer." + std::to_string(target.index));
  }

  script += "if [ -n \"$pids\" ]; then wait $pids; fi\n";
  script += "cat \"$work\"/api.* \"$work\"/peer.* 2>/dev/null\n";
  script += "if [ -n \"$lpid\" ]; then wait \"$lpid\"; lpid=; cat \"$work/listen\"; fi\n";
  script += "echo done\n";
  // The outer timeout ends the whole round even if a tool hangs past its own timeout.
  return "timeout -k 2 " + std::to_string(plan.window.count() + 5) + " sh -c " +
         shell_quote(script);
}

NetworkResult parse_network_output(std::string_view output, std::string_view nonce) {
  NetworkResult result;
  (void)nonce;  // the listener already filters on the nonce
  while (!output.empty()) {
    auto end = output.find('\n');
    std::string_view line = output.substr(0, end);
    output = end == std::string_view::npos ? std::string_view{} : output.substr(end + 1);
    auto words = split_words(line);
    if (words.empty()) {
      continue;
    }
    std::string_view kind = words[0];
    if (kind == "listener" && words.size() >= 2) {
      result.listener_tool = std::string(words[1]);
    } else if (kind == "listening" && words.size() >= 2) {
      (words[1] == "udp" ? result.udp_listening : result.tcp_listening) = true;
    } else if (kind == "bind_error" && words.size() >= 3) {
      (words[1] == "udp" ? result.udp_bind_error : result.tcp_bind_error) = rest_after(line, 2);
    } else if (kind == "udp_from" && words.size() >= 2) {
      if (auto index = to_number<std::size_t>(words[1])) {
        result.udp_from.insert(*index);
      }
    } else if (kind == "udp_tool" && words.size() >= 2) {
      result.udp_sender_tool = std::string(words[1]);
    } else if (kind == "tcp" && words.size() >= 4) {
      auto index = to_number<std::size_t>(words[1]);
      auto status = to_number<int>(words[3]);
      if (index && status) {
        result.tcp_to[*index] = TcpProbe{std::string(words[2]), *status};
      }
    } else if (kind == "api_tcp" && words.size() >= 3) {
      if (!result.api) {
        result.api.emplace();
      }
      result.api->tcp = TcpProbe{std::string(words[1]), to_number<int>(words[2]).value_or(127)};
    } else if (kind == "cacerts" && words.size() >= 3) {
      if (!result.api) {
        result.api.emplace();
      }
      result.api->cacerts_tool = std::string(words[1]);
      result.api->cacerts_status = to_number<int>(words[2]).value_or(127);
      if (words.size() >= 5) {
        result.api->cacerts_sha256 = std::string(words[3]);
        result.api->cacerts_bytes = to_number<std::size_t>(words[4]).value_or(0);
      }
    }
  }
  return result;
}

}  // namespace k3sjoin::preflight
