#pragma once

// The inventory validator, split over inventory.cpp (document and k3s block) and
// inventory_hosts.cpp (host objects and defaults).

#include <array>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inventory_rules.h"
#include "k3sjoin/config/inventory.h"

namespace k3sjoin::config::detail {

inline constexpr std::string_view kApiVersion = "k3sjoin/v1";

inline constexpr std::array<std::string_view, 5> kTopKeys = {"apiVersion", "k3s", "defaults",
                                                             "server", "agents"};
inline constexpr std::array<std::string_view, 2> kK3sKeys = {"version", "installScriptURL"};
inline constexpr std::array<std::string_view, 5> kDefaultsKeys = {"user", "port", "identity",
                                                                  "extraArgs", "become"};
inline constexpr std::array<std::string_view, 8> kServerKeys = {
    "name", "address", "nodeIP", "user", "port", "identity", "hostKey", "become"};
inline constexpr std::array<std::string_view, 9> kAgentKeys = {
    "name", "address", "nodeIP", "user", "port", "identity", "extraArgs", "hostKey", "become"};
inline constexpr std::array<std::string_view, 1> kBecomeKeys = {"passwordEnv"};

enum class HostKind { defaults, server, agent };

// Host fields as written, before defaults are applied.
struct RawHost {
  std::string pointer;
  std::optional<std::string> name;
  std::optional<std::string> address;
  std::optional<std::string> node_ip;
  std::optional<std::string> user;
  std::optional<int> port;
  std::optional<std::string> identity;
  std::optional<std::vector<std::string>> extra_args;
  std::optional<std::string> host_key;
  std::optional<std::string> become_password_env;
};

// Walks the document in file order and collects every violation, so the operator can fix
// all of them in one pass.
class Validator {
 public:
  explicit Validator(std::string origin) : origin_(std::move(origin)) {}

  // Records one error line: "<origin>: <pointer>: <text>", without the pointer when empty.
  void fail(const std::string& pointer, const std::string& text);
  void fail_type(const std::string& pointer, const Json& value, std::string_view expected);
  void unknown_key(const std::string& pointer, const std::string& key,
                   std::span<const std::string_view> known);

  // Checks the whole document and fills `inventory`, which is complete only while errors()
  // is empty.
  void validate(const Json& document, Inventory& inventory);

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  void read_k3s(const Json& value, const std::string& pointer, Inventory& inventory);
  void read_agents(const Json& value, const std::string& pointer);
  RawHost read_host(const Json& value, const std::string& pointer, HostKind kind);
  std::optional<std::string> read_string(const Json& value, const std::string& pointer);
  void read_extra_args(const Json& value, const std::string& pointer, RawHost& host);
  void read_become(const Json& value, const std::string& pointer, RawHost& host);
  std::optional<std::string> expand_identity(const std::string& identity,
                                             const std::string& pointer);
  // Records `key` as used by the host of `pointer`, or reports the host that used it first.
  void check_unique(std::map<std::string, std::string>& seen, const std::string& key,
                    const std::string& value, const std::string& pointer, std::string_view what);
  HostSpec resolve(const RawHost& host) const;

  std::string origin_;
  std::vector<std::string> errors_;
  RawHost defaults_;
  std::vector<RawHost> agents_;
  std::map<std::string, std::string> names_;      // node name -> host pointer
  std::map<std::string, std::string> addresses_;  // canonical address -> host pointer
  std::map<std::string, std::string> node_ips_;   // canonical node IP -> host pointer
};

}  // namespace k3sjoin::config::detail
