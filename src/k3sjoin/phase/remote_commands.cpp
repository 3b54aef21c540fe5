#include "k3sjoin/phase/remote_commands.h"

#include <cstdlib>
#include <regex>

#include "k3sjoin/util/shell.h"

namespace k3sjoin::phase {
namespace {

// sudo's secure_path and a login shell may both miss /usr/local/bin, where install.sh
// puts k3s, so scripts set PATH themselves.
constexpr std::string_view kPathPrefix =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH\n";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
                           text.front() == '\n')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string as_root(std::string_view login_user, std::string_view script) {
  std::string full_script{kPathPrefix};
  full_script += script;
  if (login_user == "root") {
    return "sh -c " + shell_quote(full_script);
  }
  return "sudo -n -- sh -c " + shell_quote(full_script);
}

std::string k3s_version_script() { return "k3s --version"; }

std::string read_token_script() {
  std::string script = "if [ -s ";
  script += shell_quote(kAgentTokenPath);
  script += " ]; then cat ";
  script += shell_quote(kAgentTokenPath);
  script += "; else cat ";
  script += shell_quote(kServerTokenPath);
  script += "; fi";
  return script;
}

std::string get_nodes_script() { return "k3s kubectl get nodes -o json"; }

std::string inspect_agent_script() {
  // Only the K3S_URL line is read from the env file, which also contains K3S_TOKEN.
  std::string env_file = shell_quote(kAgentEnvFile);
  return "if systemctl is-active --quiet k3s-agent 2>/dev/null; then echo active=yes; "
         "else echo active=no; fi\n"
         "url=$(sed -n 's/^K3S_URL=//p' " +
         env_file +
         " 2>/dev/null | tail -n 1 | tr -d \"\\\\\\\"'\")\n"
         "echo \"url=$url\"\n"
         "if command -v k3s >/dev/null 2>&1; then echo \"version=$(k3s --version 2>/dev/null "
         "| head -n 1)\"; else echo version=; fi\n"
         "if [ -d /var/lib/rancher/k3s/server ]; then echo server=yes; else echo server=no; fi\n"
         "if [ -e /etc/rancher/node/password ]; then echo password=yes; else echo password=no; "
         "fi\n"
         "echo \"clock=$(date +%s)\"\n";
}

AgentState parse_agent_state(std::string_view output) {
  AgentState state;
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
    if (key == "active") {
      state.service_active = value == "yes";
    } else if (key == "url") {
      state.server_url = std::string(value);
    } else if (key == "version") {
      state.version = parse_k3s_version(value).value_or("");
    } else if (key == "server") {
      state.is_server = value == "yes";
    } else if (key == "password") {
      state.has_node_password = value == "yes";
    } else if (key == "clock") {
      state.host_clock = std::strtoll(std::string(value).c_str(), nullptr, 10);
    }
  }
  return state;
}

std::optional<std::string> parse_k3s_version(std::string_view output) {
  static const std::regex pattern(R"(k3s version (v[0-9]+\.[0-9]+\.[0-9]+(\+k3s[0-9]+)?))");
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_search(output.begin(), output.end(), match, pattern)) {
    return std::nullopt;
  }
  return match[1].str();
}

std::string server_url(std::string_view address) {
  std::string host{address};
  if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  return "https://" + host + ":6443";
}

std::string install_agent_script(const InstallRequest& request) {
  std::vector<std::string> agent_args = {"agent", "--node-name", request.node_name};
  if (request.node_ip) {
    agent_args.insert(agent_args.end(), {"--node-ip", *request.node_ip});
  }
  agent_args.insert(agent_args.end(), request.extra_args.begin(), request.extra_args.end());

  // Each step sets $step and prints it. The signal trap prints it again, because the shell
  // reports a killed child ("Terminated") after the first line and the step must come last.
  const std::string announce = "echo \"" + std::string(kInstallStepPrefix) + "$step\" >&2\n";
  auto step = [&](std::string_view name) {
    return "step='" + std::string(name) + "'\n" + announce;
  };
  std::string script = "set -eu\numask 077\n";
  // The directory and the process group id in it come first, so stop_install_script()
  // finds this install however early it is stopped. coreutils timeout runs the script in
  // its own process group, and field 5 of /proc/PID/stat is the group id.
  script += "work=$(mktemp -d /tmp/k3sjoin-" + request.run_id + ".XXXXXXXX)\n";
  script += "trap 'rm -rf \"$work\"' EXIT\n";
  script += "step=starting\n";
  script += "trap '" + announce.substr(0, announce.size() - 1) + "; exit 130' INT TERM HUP\n";
  script += "read -r _ _ _ _ group _ < /proc/$$/stat\necho \"$group\" > \"$work/pgid\"\n";
  // The token is the first line of stdin; `read` is a shell builtin, so the token never
  // becomes part of any process's argv.
  script += "IFS= read -r K3S_TOKEN\nexport K3S_TOKEN\n";
  // No line of the script may start with K3S_: sudo passes the whole command line to
  // install.sh in SUDO_COMMAND, and install.sh copies every environment line that starts
  // with K3S_ into the agent's env file.
  script += "export K3S_URL=" + shell_quote(request.server_url) + "\n";
  script += "export INSTALL_K3S_VERSION=" + shell_quote(request.version) + "\n";
  script += "export INSTALL_K3S_SKIP_START=true\n";
  std::string url = shell_quote(request.install_url);
  script += step("downloading the installer");
  script += "if command -v curl >/dev/null 2>&1; then\n";
  script += "  curl -sfL --connect-timeout 10 --max-time 120 -o \"$work/install.sh\" " + url + "\n";
  script += "elif command -v wget >/dev/null 2>&1; then\n";
  script += "  wget -q -T 60 -O \"$work/install.sh\" " + url + "\n";
  script += "else\n";
  script += "  echo 'neither curl nor wget is installed' >&2\n  exit 127\nfi\n";
  script += step("running the installer");
  script += "sh \"$work/install.sh\" " + shell_join(agent_args) + "\n";
  script += step("starting k3s-agent");
  script += "systemctl restart --no-block k3s-agent\n";

  std::string timed = "timeout -k 10 " + std::to_string(request.timeout.count()) + " sh -c " +
                      shell_quote(script);
  return timed;
}

}  // namespace k3sjoin::phase
