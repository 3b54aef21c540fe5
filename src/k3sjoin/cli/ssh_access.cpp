// SSH access for the commands: the SSH client configuration, the inventory and the command
// line combined into ssh::ConnectOptions, and the become password. docs/ssh.md describes
// the precedence implemented here.

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

#include "k3sjoin/cli/common.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/become.h"
#include "k3sjoin/ssh/ssh_config.h"
#include "k3sjoin/util/terminal.h"

namespace k3sjoin::cli {
namespace {

constexpr const char* kSystemConfig = "/etc/ssh/ssh_config";

// ProxyJump hosts may name further jump hosts in their own configuration; a longer chain
// than this is taken for a loop.
constexpr int kMaxJumpDepth = 8;

Result<ssh::SshConfig> load_ssh_config(const GlobalOptions& options) {
  const std::string ssh_dir = ssh::user_home_directory() + "/.ssh";
  if (options.ssh_config == "none") {
    return ssh::SshConfig{};
  }
  // As with `ssh -F`, an explicit file replaces both the user's and the system's file.
  if (!options.ssh_config.empty()) {
    return ssh::SshConfig::load(options.ssh_config, true, ssh_dir);
  }
  Result<ssh::SshConfig> user = ssh::SshConfig::load(ssh_dir + "/config", false, ssh_dir);
  if (!user) {
    return user;
  }
  Result<ssh::SshConfig> system = ssh::SshConfig::load(kSystemConfig, false, "/etc/ssh");
  if (!system) {
    return system;
  }
  user->append(*system);
  return user;
}

// The host key policy: --host-key-policy when given, else StrictHostKeyChecking, else strict.
ssh::HostKeyPolicy host_key_policy(const GlobalOptions& options, const ssh::HostConfig& host) {
  if (options.host_key_policy_set || !host.strict_host_key_checking) {
    return options.host_key_policy == "accept-new" ? ssh::HostKeyPolicy::accept_new
                                                   : ssh::HostKeyPolicy::strict;
  }
  const std::string& value = *host.strict_host_key_checking;
  if (value == "accept-new") {
    return ssh::HostKeyPolicy::accept_new;
  }
  if (value == "no" || value == "off" || value == "false") {
    // OpenSSH then connects even to a host whose key changed; k3sjoin runs commands as root,
    // so it records unknown keys but still rejects changed ones.
    static std::once_flag warned;
    std::call_once(warned, [] {
      spdlog::warn(
          "StrictHostKeyChecking no is treated as accept-new: changed host keys "
          "still fail");
    });
    return ssh::HostKeyPolicy::accept_new;
  }
  return ssh::HostKeyPolicy::strict;
}

// Fills the options that hosts and jump hosts resolve the same way.
Status apply_common(const GlobalOptions& options, const ssh::HostConfig& host,
                    const ssh::TokenValues& tokens, ssh::ConnectOptions& connect) {
  for (const std::string& file : host.identity_files) {
    Result<std::string> path = ssh::expand_tokens(file, tokens);
    if (!path) {
      return path.error();
    }
    connect.identity_files.push_back(*path);
  }
  connect.identities_only = host.identities_only.value_or(false);
  if (!options.known_hosts.empty()) {
    connect.known_hosts = options.known_hosts;
  } else if (host.user_known_hosts_files) {
    for (const std::string& file : *host.user_known_hosts_files) {
      Result<std::string> path = ssh::expand_tokens(file == "none" ? "/dev/null" : file, tokens);
      if (!path) {
        return path.error();
      }
      (connect.known_hosts.empty() ? connect.known_hosts
                                   : connect.other_known_hosts.emplace_back()) = *path;
    }
  }
  connect.host_key_policy = host_key_policy(options, host);
  connect.connect_timeout = options.connect_timeout;
  if (!options.connect_timeout_set && host.connect_timeout && host.connect_timeout->count() > 0) {
    connect.connect_timeout = *host.connect_timeout;
  }
  return ok_status();
}

Status add_jumps(const GlobalOptions& options, const ssh::SshConfig& config,
                 const ssh::HostConfig& host, const std::string& name,
                 std::vector<ssh::ConnectOptions>& jumps, int depth);

// Resolves one ProxyJump hop through its own configuration, as OpenSSH does by running a
// second ssh for it. Its own jump hosts come first in `jumps`.
Status add_hop(const GlobalOptions& options, const ssh::SshConfig& config, const ssh::JumpSpec& hop,
               std::vector<ssh::ConnectOptions>& jumps, int depth) {
  const ssh::HostConfig host = config.lookup(hop.host);
  if (Status status = add_jumps(options, config, host, hop.host, jumps, depth + 1); !status) {
    return status;
  }
  ssh::ConnectOptions connect;
  connect.address = host.hostname.value_or(hop.host);
  connect.port = hop.port.value_or(host.port.value_or(22));
  // A jump host is not in the inventory, so its user defaults to the local user as in ssh.
  connect.user = !hop.user.empty() ? hop.user : host.user.value_or(ssh::local_user_name());
  const ssh::TokenValues tokens{connect.address,        hop.host,
                                connect.port,           connect.user,
                                ssh::local_user_name(), ssh::user_home_directory()};
  if (Status status = apply_common(options, host, tokens, connect); !status) {
    return status;
  }
  jumps.push_back(std::move(connect));
  return ok_status();
}

Status add_jumps(const GlobalOptions& options, const ssh::SshConfig& config,
                 const ssh::HostConfig& host, const std::string& name,
                 std::vector<ssh::ConnectOptions>& jumps, int depth) {
  if (host.proxy_command && *host.proxy_command != "none") {
    return Error{ErrorKind::config,
                 host.proxy_jump_origin + ": ProxyCommand for " + name + " is not supported",
                 "use ProxyJump for jump hosts, or a Host block without ProxyCommand"};
  }
  if (!host.proxy_jump || host.proxy_jump->empty()) {
    return ok_status();
  }
  if (depth >= kMaxJumpDepth) {
    return Error{ErrorKind::config,
                 host.proxy_jump_origin + ": ProxyJump chain for " + name + " is longer than " +
                     std::to_string(kMaxJumpDepth) + " hops",
                 "check the jump hosts' own ProxyJump lines for a loop"};
  }
  for (const ssh::JumpSpec& hop : *host.proxy_jump) {
    if (Status status = add_hop(options, config, hop, jumps, depth); !status) {
      return status;
    }
  }
  return ok_status();
}

std::string describe_route(const ssh::ConnectOptions& connect) {
  std::string route;
  for (const ssh::ConnectOptions& hop : connect.jumps) {
    route += hop.user + "@" + ssh::format_endpoint(hop.address, hop.port) + " -> ";
  }
  return route + connect.user + "@" + ssh::format_endpoint(connect.address, connect.port);
}

// The become password of each host, by node name, and where it came from.
struct BecomePassword {
  std::shared_ptr<const Secret> password;
  std::string source;
};

Result<std::map<std::string, BecomePassword>> read_become_passwords(
    const GlobalOptions& options, const config::Inventory& inventory) {
  std::vector<const config::HostSpec*> hosts{&inventory.server};
  for (const config::HostSpec& agent : inventory.agents) {
    hosts.push_back(&agent);
  }
  std::map<std::string, BecomePassword> passwords;
  std::map<std::string, std::shared_ptr<const Secret>> by_variable;
  std::shared_ptr<const Secret> prompted;
  for (const config::HostSpec* host : hosts) {
    if (host->user == "root") {
      continue;
    }
    if (host->become_password_env) {
      const std::string& variable = *host->become_password_env;
      const char* value = std::getenv(variable.c_str());
      if (value != nullptr && *value != '\0') {
        auto& shared = by_variable[variable];
        if (!shared) {
          shared = std::make_shared<const Secret>(value);
        }
        passwords[host->name] = {shared, "the environment variable " + variable};
        continue;
      }
      if (!options.ask_become_pass) {
        return Error{ErrorKind::config,
                     inventory.path + ": " + host->pointer +
                         "/become/passwordEnv: the "
                         "environment variable " +
                         variable + " is not set or empty",
                     "export " + variable + " with the sudo password of " + host->user +
                         ", or pass --ask-become-pass"};
      }
    }
    if (!options.ask_become_pass) {
      continue;
    }
    if (!prompted) {
      std::optional<Secret> secret = read_secret_from_terminal("BECOME password (sudo): ");
      if (!secret) {
        return Error{ErrorKind::usage,
                     "--ask-become-pass needs a terminal on stdin to read the password",
                     "run k3sjoin from a terminal, or name an environment variable with "
                     "\"become\": {\"passwordEnv\": \"VARIABLE\"} in the inventory"};
      }
      prompted = std::make_shared<const Secret>(std::move(*secret));
    }
    passwords[host->name] = {prompted, "the password entered for --ask-become-pass"};
  }
  return passwords;
}

}  // namespace

void add_ssh_access_options(CLI::App& app, GlobalOptions& options) {
  app.add_option("--ssh-config", options.ssh_config,
                 "SSH client configuration file; 'none' reads none (default: ~/.ssh/config "
                 "and /etc/ssh/ssh_config)");
  app.add_flag("--ask-become-pass", options.ask_become_pass,
               "Ask once on the terminal for the sudo password of non-root users");
}

void record_explicit_options(const CLI::App& app, GlobalOptions& options) {
  options.host_key_policy_set = app.get_option("--host-key-policy")->count() > 0;
  options.connect_timeout_set = app.get_option("--connect-timeout")->count() > 0;
}

Result<ssh::ConnectOptions> resolve_connect_options(const GlobalOptions& options,
                                                    const ssh::SshConfig& config,
                                                    const config::HostSpec& spec) {
  const ssh::HostConfig host = config.lookup(spec.address);
  ssh::ConnectOptions connect;
  connect.address = host.hostname.value_or(spec.address);
  connect.port = spec.port_set ? spec.port : host.port.value_or(spec.port);
  connect.user = spec.user_set ? spec.user : host.user.value_or(spec.user);
  connect.identity = spec.identity;
  connect.pinned_fingerprint = spec.host_key;
  const ssh::TokenValues tokens{connect.address,        spec.address,
                                connect.port,           connect.user,
                                ssh::local_user_name(), ssh::user_home_directory()};
  Status status = apply_common(options, host, tokens, connect);
  if (status) {
    status = add_jumps(options, config, host, spec.address, connect.jumps, 0);
  }
  if (!status) {
    Error error = status.error();
    error.message = spec.name + ": " + error.message;
    return error;
  }
  return connect;
}

std::optional<phase::Connector> make_ssh_connector(const GlobalOptions& options,
                                                   config::Inventory& inventory) {
  auto report = [](const Error& error) {
    std::cerr << "error: " << error.message << '\n';
    if (!error.hint.empty()) {
      std::cerr << "fix: " << error.hint << '\n';
    }
    return std::nullopt;
  };
  Result<ssh::SshConfig> loaded = load_ssh_config(options);
  if (!loaded) {
    return report(loaded.error());
  }
  auto config = std::make_shared<const ssh::SshConfig>(std::move(loaded).value());

  // Each host's user and port must be final before any phase decides whether to use sudo.
  std::vector<config::HostSpec*> hosts{&inventory.server};
  for (config::HostSpec& agent : inventory.agents) {
    hosts.push_back(&agent);
  }
  for (config::HostSpec* host : hosts) {
    Result<ssh::ConnectOptions> connect = resolve_connect_options(options, *config, *host);
    if (!connect) {
      return report(connect.error());
    }
    host->user = connect->user;
    host->port = connect->port;
    spdlog::debug("{}: SSH route {}", host->name, describe_route(*connect));
  }
  const ssh::HostConfig server = config->lookup(inventory.server.address);
  if (server.hostname && *server.hostname != inventory.server.address) {
    // NOTE: K3S_URL is built from the inventory address, which the agents must resolve.
    spdlog::warn(
        "the server's address {} is an SSH alias for {}; agents get K3S_URL with {}, "
        "so they must resolve that name (or write {} as the server's address)",
        inventory.server.address, *server.hostname, inventory.server.address, *server.hostname);
  }

  auto passwords = read_become_passwords(options, inventory);
  if (!passwords) {
    return report(passwords.error());
  }
  auto become =
      std::make_shared<const std::map<std::string, BecomePassword>>(std::move(passwords).value());
  return phase::Connector(
      [options, config,
       become](const config::HostSpec& host) -> Result<std::unique_ptr<ssh::RemoteSession>> {
        Result<ssh::ConnectOptions> connect = resolve_connect_options(options, *config, host);
        if (!connect) {
          return connect.error();
        }
        Result<std::unique_ptr<ssh::RemoteSession>> session = ssh::connect(*connect);
        const auto password = become->find(host.name);
        if (!session || password == become->end() || host.user == "root") {
          return session;
        }
        return phase::with_become_password(std::move(session).value(), password->second.password,
                                           host.user, password->second.source);
      });
}

}  // namespace k3sjoin::cli
