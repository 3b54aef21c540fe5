#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::config {

// The install script URL used when the inventory names none.
inline constexpr std::string_view kDefaultInstallUrl = "https://get.k3s.io";
inline constexpr int kDefaultSshPort = 22;

// One host of the inventory after defaults are applied.
struct HostSpec {
  std::string name;                     // Kubernetes node name (RFC 1123 subdomain)
  std::string address;                  // SSH address: IPv4, IPv6 or DNS name
  std::optional<std::string> node_ip;   // --node-ip; defaults to `address` if that is an IP
  std::string user;                     // SSH login user; "root" needs no sudo
  int port = kDefaultSshPort;           // SSH port
  std::optional<std::string> identity;  // private key path, "~/" expanded; absent: agent/defaults
  std::vector<std::string> extra_args;  // extra `k3s agent` arguments (agents only)
  std::string pointer;                  // JSON pointer of the host object, e.g. "/agents/1"
  // Whether the inventory (the host or "defaults") set user and port. Only values it left
  // unset may come from the SSH client configuration.
  bool user_set = false;
  bool port_set = false;
  std::optional<std::string> host_key;  // pinned "SHA256:..." fingerprint of the SSH host key
  // Environment variable that holds the sudo password for `user`; absent: sudo without one.
  std::optional<std::string> become_password_env;
};

// The parsed and validated inventory (format v1, see docs/inventory.md).
struct Inventory {
  std::string path;                     // file the inventory was read from
  HostSpec server;
  std::vector<HostSpec> agents;
  std::optional<std::string> k3s_version;  // absent: install the server's running version
  std::string install_url{kDefaultInstallUrl};
};

// Reads and validates an inventory file. Errors have kind `config`, name the file, the JSON
// pointer (or line and column for a syntax error), the offending value and the fix.
Result<Inventory> load_inventory(const std::string& path);

// Validates inventory text; `origin` names the source in messages (usually the path).
Result<Inventory> parse_inventory(std::string_view text, const std::string& origin);

// True when `name` is a valid Kubernetes node name: a lower-case RFC 1123 subdomain of at
// most 253 characters, made of labels of 1 to 63 characters [a-z0-9-] that start and end
// with an alphanumeric character.
bool is_valid_node_name(std::string_view name);

// Finds an agent by node name; nullptr when the inventory has no such agent.
const HostSpec* find_agent(const Inventory& inventory, std::string_view name);

}  // namespace k3sjoin::config
