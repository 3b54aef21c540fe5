#include "ssh_config_values.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "k3sjoin/ssh/ssh_config.h"

namespace k3sjoin::ssh {
namespace {

Error value_error(const std::string& origin, const std::string& text) {
  return Error{ErrorKind::config, origin + ": " + text,
               "fix the line, or pass another file with --ssh-config (none reads no file)"};
}

std::optional<int> parse_port(std::string_view text) {
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

std::optional<bool> parse_flag(std::string_view text) {
  if (text == "yes" || text == "true") {
    return true;
  }
  if (text == "no" || text == "false") {
    return false;
  }
  return std::nullopt;
}

// Parses an ssh_config(5) TIME FORMAT value: a number of seconds, or numbers with the units
// s, m, h, d and w, as in "90", "1m30s" or "2h".
std::optional<std::chrono::seconds> parse_interval(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  long long total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    long long number = 0;
    const auto [end, error] = std::from_chars(text.data() + i, text.data() + text.size(), number);
    if (error != std::errc() || number < 0) {
      return std::nullopt;
    }
    i = static_cast<std::size_t>(end - text.data());
    long long unit = 1;
    if (i < text.size()) {
      switch (std::tolower(static_cast<unsigned char>(text[i]))) {
        case 's':
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 604800;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    }
    total += number * unit;
  }
  return std::chrono::seconds(total);
}

bool is_single_value(const std::string& keyword) {
  static constexpr std::array<std::string_view, 9> kSingle = {
      "hostname",    "user",           "port",           "identityfile",
      "proxyjump",   "identitiesonly", "connecttimeout", "stricthostkeychecking",
      "proxycommand"};
  return std::find(kSingle.begin(), kSingle.end(), keyword) != kSingle.end();
}

Result<JumpSpec> parse_jump_hop(std::string_view hop) {
  JumpSpec spec;
  std::string_view rest = hop;
  if (rest.starts_with("ssh://")) {
    rest.remove_prefix(6);
    if (rest.ends_with('/')) {
      rest.remove_suffix(1);
    }
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    spec.user = std::string(rest.substr(0, at));
    rest.remove_prefix(at + 1);
    if (spec.user.empty()) {
      return Error{ErrorKind::config, "jump host \"" + std::string(hop) + "\" has an empty user",
                   ""};
    }
  }
  std::string_view port_text;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return Error{ErrorKind::config,
                   "jump host \"" + std::string(hop) + "\" is missing the closing \"]\"", ""};
    }
    spec.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) {
      return Error{ErrorKind::config,
                   "jump host \"" + std::string(hop) + "\" has text after the \"]\"", ""};
    }
    port_text = rest.empty() ? rest : rest.substr(1);
  } else {
    const auto colon = rest.find(':');
    if (colon != std::string_view::npos && rest.find(':', colon + 1) != std::string_view::npos) {
      return Error{ErrorKind::config,
                   "jump host \"" + std::string(hop) +
                       "\" looks like an IPv6 address without brackets; write it as [ADDRESS] "
                       "or [ADDRESS]:PORT",
                   ""};
    }
    spec.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
    }
  }
  if (spec.host.empty()) {
    return Error{ErrorKind::config, "jump host \"" + std::string(hop) + "\" has no host name", ""};
  }
  if (!port_text.empty() || rest.starts_with(':')) {
    spec.port = parse_port(port_text);
    if (!spec.port) {
      return Error{ErrorKind::config,
                   "jump host \"" + std::string(hop) + "\" has an invalid port; use 1 to 65535",
                   ""};
    }
  }
  return spec;
}

}  // namespace

Result<std::vector<JumpSpec>> parse_proxy_jump(std::string_view value) {
  std::vector<JumpSpec> hops;
  if (value == "none") {
    return hops;
  }
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    Result<JumpSpec> hop = parse_jump_hop(value.substr(start, end - start));
    if (!hop) {
      return hop.error();
    }
    hops.push_back(std::move(hop).value());
    start = end + 1;
  }
  return hops;
}

Result<std::string> expand_tokens(std::string_view text, const TokenValues& values) {
  const std::string original(text);
  std::string result;
  if (text == "~" || text.starts_with("~/")) {
    result = values.home;
    text.remove_prefix(1);
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      result.push_back(text[i]);
      continue;
    }
    if (i + 1 == text.size()) {
      return Error{ErrorKind::config, "\"" + original + "\" ends with a lone \"%\"",
                   "write %% for a literal percent sign"};
    }
    const char token = text[++i];
    switch (token) {
      case '%':
        result.push_back('%');
        break;
      case 'h':
        result += values.host;
        break;
      case 'n':
        result += values.original_host;
        break;
      case 'p':
        result += std::to_string(values.port);
        break;
      case 'r':
        result += values.remote_user;
        break;
      case 'u':
        result += values.local_user;
        break;
      case 'd':
        result += values.home;
        break;
      default:
        return Error{ErrorKind::config,
                     "\"" + original + "\" uses the token %" + std::string(1, token) +
                         ", which k3sjoin does not expand",
                     "use only %h, %n, %p, %r, %u, %d, %% and a leading ~"};
    }
  }
  return result;
}

namespace detail {

Status check_value(const std::string& keyword, const std::vector<std::string>& arguments,
                   const std::string& origin) {
  if (is_single_value(keyword) && arguments.size() != 1) {
    if (keyword == "proxycommand" && !arguments.empty()) {
      return ok_status();  // a command line; its words are not checked
    }
    return value_error(
        origin, keyword + " takes exactly one argument, got " + std::to_string(arguments.size()));
  }
  if (keyword == "port" && !parse_port(arguments[0])) {
    return value_error(origin,
                       "Port \"" + arguments[0] + "\" is not a port number; use 1 to 65535");
  }
  if (keyword == "identitiesonly" && !parse_flag(arguments[0])) {
    return value_error(origin, "IdentitiesOnly \"" + arguments[0] + "\" is not yes or no");
  }
  if (keyword == "connecttimeout" && !parse_interval(arguments[0])) {
    return value_error(origin, "ConnectTimeout \"" + arguments[0] +
                                   "\" is not a time; use seconds, such as 10 or 1m30s");
  }
  if (keyword == "stricthostkeychecking") {
    static constexpr std::array<std::string_view, 7> kValues = {"yes", "no",   "ask",  "accept-new",
                                                                "off", "true", "false"};
    if (std::find(kValues.begin(), kValues.end(), arguments[0]) == kValues.end()) {
      return value_error(origin, "StrictHostKeyChecking \"" + arguments[0] +
                                     "\" is not yes, no, ask, accept-new or off");
    }
  }
  if (keyword == "proxyjump") {
    if (Result<std::vector<JumpSpec>> hops = parse_proxy_jump(arguments[0]); !hops) {
      return value_error(origin, "ProxyJump: " + hops.error().message);
    }
  }
  if (keyword == "userknownhostsfile" && arguments.empty()) {
    return value_error(origin, "UserKnownHostsFile needs at least one file name");
  }
  return ok_status();
}

void apply_value(HostConfig& config, const std::string& keyword,
                 const std::vector<std::string>& arguments, const std::string& origin,
                 std::string_view host) {
  if (keyword == "hostname" && !config.hostname) {
    // HostName expands only %h and %%, as in OpenSSH.
    std::string name;
    const std::string& value = arguments[0];
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '%' && i + 1 < value.size() && (value[i + 1] == 'h' || value[i + 1] == '%')) {
        name += value[i + 1] == 'h' ? std::string(host) : "%";
        ++i;
      } else {
        name.push_back(value[i]);
      }
    }
    config.hostname = name;
  } else if (keyword == "user" && !config.user) {
    config.user = arguments[0];
  } else if (keyword == "port" && !config.port) {
    config.port = parse_port(arguments[0]);
  } else if (keyword == "identityfile") {
    config.identity_files.push_back(arguments[0]);
  } else if (keyword == "identitiesonly" && !config.identities_only) {
    config.identities_only = parse_flag(arguments[0]);
  } else if (keyword == "connecttimeout" && !config.connect_timeout) {
    config.connect_timeout = parse_interval(arguments[0]);
  } else if (keyword == "stricthostkeychecking" && !config.strict_host_key_checking) {
    config.strict_host_key_checking = arguments[0];
  } else if (keyword == "userknownhostsfile" && !config.user_known_hosts_files) {
    config.user_known_hosts_files = arguments;
  } else if ((keyword == "proxyjump" || keyword == "proxycommand") && !config.proxy_jump &&
             !config.proxy_command) {
    // ProxyJump and ProxyCommand exclude each other; whichever comes first wins.
    if (keyword == "proxyjump") {
      config.proxy_jump = parse_proxy_jump(arguments[0]).value();
      config.proxy_jump_origin = origin;
    } else {
      std::string command;
      for (const std::string& word : arguments) {
        command += (command.empty() ? "" : " ") + word;
      }
      config.proxy_command = command;
      config.proxy_jump_origin = origin;
    }
  }
}

}  // namespace detail
}  // namespace k3sjoin::ssh
