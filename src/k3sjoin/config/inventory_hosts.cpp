#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "inventory_validator.h"

namespace k3sjoin::config::detail {
namespace {

bool is_port_in_range(const Json& value) {
  if (value.is_number_unsigned()) {
    const auto port = value.get<std::uint64_t>();
    return port >= 1 && port <= 65535;
  }
  const auto port = value.get<std::int64_t>();
  return port >= 1 && port <= 65535;
}

}  // namespace

std::optional<std::string> Validator::read_string(const Json& value, const std::string& pointer) {
  if (!value.is_string()) {
    fail_type(pointer, value, "a string");
    return std::nullopt;
  }
  return value.get<std::string>();
}

RawHost Validator::read_host(const Json& value, const std::string& pointer, HostKind kind) {
  RawHost host;
  host.pointer = pointer;
  if (!value.is_object()) {
    fail_type(pointer, value,
              kind == HostKind::defaults ? "an object" : "an object with \"name\" and \"address\"");
    return host;
  }
  std::span<const std::string_view> known = kAgentKeys;
  if (kind == HostKind::defaults) {
    known = kDefaultsKeys;
  } else if (kind == HostKind::server) {
    known = kServerKeys;
  }
  for (const auto& [key, field] : value.items()) {
    const std::string field_pointer = child(pointer, key);
    const bool is_known = std::find(known.begin(), known.end(), key) != known.end();
    if (!is_known) {
      if (key == "extraArgs") {
        fail(pointer,
             "unknown key \"extraArgs\"; extraArgs applies to agents only, because "
             "k3sjoin does not reconfigure the server");
      } else if (key == "hostKey") {
        fail(pointer,
             "unknown key \"hostKey\"; a host key fingerprint belongs to one host, so set "
             "hostKey on each host instead of in defaults");
      } else {
        unknown_key(pointer, key, known);
      }
      continue;
    }
    if (key == "port") {
      if (!field.is_number()) {
        fail_type(field_pointer, field, "an integer from 1 to 65535");
      } else if (!field.is_number_integer()) {
        fail(field_pointer, describe(field) + " is not an integer; use a port from 1 to 65535");
      } else if (!is_port_in_range(field)) {
        fail(field_pointer, describe(field) + " is out of range; use a port from 1 to 65535");
      } else {
        host.port = field.get<int>();
      }
      continue;
    }
    if (key == "extraArgs") {
      read_extra_args(field, field_pointer, host);
      continue;
    }
    if (key == "become") {
      read_become(field, field_pointer, host);
      continue;
    }
    std::optional<std::string> text = read_string(field, field_pointer);
    if (!text) {
      continue;
    }
    std::string problem;
    if (key == "name") {
      problem = node_name_problem(*text);
      if (problem.empty()) {
        check_unique(names_, *text, *text, field_pointer, "node name");
        host.name = text;
      }
    } else if (key == "address") {
      problem = address_problem(*text);
      if (problem.empty()) {
        check_unique(addresses_, canonical_address(*text), *text, field_pointer, "address");
        host.address = text;
      }
    } else if (key == "nodeIP") {
      if (!is_ip_literal(*text)) {
        problem =
            "is not an IP address; set nodeIP to the IPv4 or IPv6 address the node "
            "should advertise, such as \"10.246.10.51\"";
      } else {
        check_unique(node_ips_, canonical_address(*text), *text, field_pointer, "node IP");
        host.node_ip = text;
      }
    } else if (key == "user") {
      problem = login_name_problem(*text);
      if (problem.empty()) {
        host.user = text;
      }
    } else if (key == "identity") {
      host.identity = expand_identity(*text, field_pointer);
    } else if (key == "hostKey") {
      problem = host_key_problem(*text);
      if (problem.empty()) {
        host.host_key = text;
      }
    }
    if (!problem.empty()) {
      fail(field_pointer, quote(*text) + " " + problem);
    }
  }
  if (kind != HostKind::defaults) {
    if (!value.contains("name")) {
      fail(pointer,
           "missing required key \"name\"; set the Kubernetes node name, such as "
           "\"agent-01\"");
    }
    if (!value.contains("address")) {
      fail(pointer,
           "missing required key \"address\"; set the SSH address: an IPv4 address, "
           "an IPv6 address or a DNS name");
    }
  }
  return host;
}

void Validator::read_extra_args(const Json& value, const std::string& pointer, RawHost& host) {
  if (!value.is_array()) {
    fail_type(pointer, value, "an array of strings");
    return;
  }
  std::vector<std::string> arguments;
  bool after_owned_flag = false;
  bool valid = true;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string element_pointer = child(pointer, i);
    if (!value[i].is_string()) {
      fail_type(element_pointer, value[i], "a string");
      valid = false;
      after_owned_flag = false;
      continue;
    }
    const std::string& argument = value[i].get_ref<const std::string&>();
    const std::string problem = extra_arg_problem(argument, after_owned_flag);
    if (!problem.empty()) {
      fail(element_pointer, problem);
      valid = false;
    }
    after_owned_flag = is_owned_flag(argument) && argument.find('=') == std::string::npos;
    arguments.push_back(argument);
  }
  if (valid) {
    host.extra_args = std::move(arguments);
  }
}

void Validator::read_become(const Json& value, const std::string& pointer, RawHost& host) {
  if (!value.is_object()) {
    fail_type(pointer, value, "an object with \"passwordEnv\"");
    return;
  }
  for (const auto& [key, field] : value.items()) {
    const std::string field_pointer = child(pointer, key);
    if (key != "passwordEnv") {
      unknown_key(pointer, key, kBecomeKeys);
      continue;
    }
    std::optional<std::string> name = read_string(field, field_pointer);
    if (!name) {
      continue;
    }
    if (const std::string problem = env_name_problem(*name); !problem.empty()) {
      fail(field_pointer, quote(*name) + " " + problem);
    } else {
      host.become_password_env = name;
    }
  }
}

std::optional<std::string> Validator::expand_identity(const std::string& identity,
                                                      const std::string& pointer) {
  if (identity.empty()) {
    fail(pointer,
         "\"\" is empty; set the path of an SSH private key, such as "
         "\"~/.ssh/id_ed25519\"");
    return std::nullopt;
  }
  if (identity != "~" && !identity.starts_with("~/")) {
    if (identity.starts_with("~")) {
      fail(pointer, quote(identity) +
                        " starts with \"~user\"; only \"~/\" is expanded, so "
                        "write the full path");
      return std::nullopt;
    }
    return identity;
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    fail(pointer, quote(identity) +
                      " starts with \"~\" but HOME is not set; write the full "
                      "path or set HOME");
    return std::nullopt;
  }
  return std::string(home) + identity.substr(1);
}

void Validator::check_unique(std::map<std::string, std::string>& seen, const std::string& key,
                             const std::string& value, const std::string& pointer,
                             std::string_view what) {
  // The pointer recorded is the host's, such as "/agents/0", one level above the field.
  const std::string host_pointer = pointer.substr(0, pointer.rfind('/'));
  const auto [it, inserted] = seen.emplace(key, host_pointer);
  if (!inserted) {
    fail(pointer, quote(value) + " is already used by " + it->second + "; give each host its own " +
                      std::string(what));
  }
}

HostSpec Validator::resolve(const RawHost& host) const {
  HostSpec spec;
  spec.pointer = host.pointer;
  spec.name = host.name.value_or("");
  spec.address = host.address.value_or("");
  spec.node_ip = host.node_ip;
  // k3s would otherwise advertise the address of the default-route interface, which on
  // multi-homed hosts is often not the one the inventory names.
  if (!spec.node_ip && is_ip_literal(spec.address)) {
    spec.node_ip = spec.address;
  }
  spec.user = host.user.value_or(defaults_.user.value_or("root"));
  spec.port = host.port.value_or(defaults_.port.value_or(kDefaultSshPort));
  spec.user_set = host.user || defaults_.user;
  spec.port_set = host.port || defaults_.port;
  spec.host_key = host.host_key;
  spec.become_password_env =
      host.become_password_env ? host.become_password_env : defaults_.become_password_env;
  spec.identity = host.identity ? host.identity : defaults_.identity;
  // A host's extraArgs replace the defaults instead of extending them, like every other key.
  spec.extra_args =
      host.extra_args.value_or(defaults_.extra_args.value_or(std::vector<std::string>{}));
  return spec;
}

}  // namespace k3sjoin::config::detail
