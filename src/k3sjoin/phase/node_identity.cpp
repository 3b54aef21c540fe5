#include "k3sjoin/phase/node_identity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <mutex>
#include <vector>

#include "k3sjoin/diagnose/diagnose.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/agent_diagnosis.h"
#include "k3sjoin/phase/node_scripts.h"
#include "k3sjoin/util/secret.h"

namespace k3sjoin::phase {
namespace {

std::string_view trim(std::string_view text) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::vector<unsigned char>> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::vector<unsigned char> bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto [end, error] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, bytes[i], 16);
    if (error != std::errc() || end != hex.data() + 2 * i + 2) {
      return std::nullopt;
    }
  }
  return bytes;
}

std::optional<int> to_int(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// Decodes the base64 of a Secret's data field; nullopt when it is not base64.
std::optional<std::string> from_base64(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string decoded(text.size() / 4 * 3, '\0');
  int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                             reinterpret_cast<const unsigned char*>(text.data()),
                             static_cast<int>(text.size()));
  if (size < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the zero bytes that padding stands for.
  std::size_t padding = text.ends_with("==") ? 2 : (text.ends_with("=") ? 1 : 0);
  decoded.resize(static_cast<std::size_t>(size) - padding);
  return decoded;
}

}  // namespace

bool verify_node_password(std::string_view password, std::string_view hash) {
  std::vector<std::string_view> fields;
  while (true) {
    auto colon = hash.find(':');
    fields.push_back(hash.substr(0, colon));
    if (colon == std::string_view::npos) {
      break;
    }
    hash.remove_prefix(colon + 1);
  }
  if (fields.size() != 6 || fields[0] != "$1") {
    return false;
  }
  auto salt = from_hex(fields[1]);
  auto log2_n = to_int(fields[2]);
  auto r = to_int(fields[3]);
  auto p = to_int(fields[4]);
  auto expected = from_hex(trim(fields[5]));
  // k3s uses log2 N = 15; the bounds keep a corrupt secret from asking for gigabytes.
  if (!salt || !log2_n || !r || !p || !expected || expected->empty() || *log2_n < 1 ||
      *log2_n > 20 || *r < 1 || *r > 16 || *p < 1 || *p > 16) {
    return false;
  }
  password = trim(password);
  // One scrypt with k3s's parameters takes 32 MiB, so agents checked in parallel take turns.
  static std::mutex scrypt_mutex;
  std::lock_guard lock(scrypt_mutex);
  std::vector<unsigned char> key(expected->size());
  constexpr std::uint64_t kMaxMemory = 256ULL * 1024 * 1024;
  int ok = EVP_PBE_scrypt(password.data(), password.size(), salt->data(), salt->size(),
                          std::uint64_t{1} << *log2_n, static_cast<std::uint64_t>(*r),
                          static_cast<std::uint64_t>(*p), kMaxMemory, key.data(), key.size());
  bool match = ok == 1 && CRYPTO_memcmp(key.data(), expected->data(), key.size()) == 0;
  OPENSSL_cleanse(key.data(), key.size());
  return match;
}

Result<NodeOwnership> check_node_owner(RunContext& context, HostRun& host, const AgentState& state,
                                       const kube::Node& node) {
  const std::string& name = host.spec->name;
  if (host.spec->node_ip && !node.internal_ip.empty() && node.internal_ip != *host.spec->node_ip) {
    return NodeOwnership{NodeOwner::other_machine, "the node has internal IP " + node.internal_ip +
                                                       ", but " + name + " has node IP " +
                                                       *host.spec->node_ip};
  }
  if (!state.has_node_password) {
    return NodeOwnership{NodeOwner::other_password, name + " has no " +
                                                        std::string(kNodePasswordPath) +
                                                        " (the host was wiped or never joined)"};
  }

  HostRun& server = context.server();
  auto hash_command = context.command(as_root(server.spec->user, node_password_hash_script(name)),
                                      context.options().command_timeout);
  auto encoded = run_checked(server, "read the node-password secret of " + name, hash_command);
  if (!encoded) {
    return encoded.error();
  }
  if (trim(encoded->out).empty()) {
    return NodeOwnership{NodeOwner::this_host, "the node has no node-password secret"};
  }
  auto hash = from_base64(encoded->out);
  if (!hash) {
    return Error{ErrorKind::remote_command,
                 "secret kube-system/" + name + ".node-password.k3s holds no base64 hash",
                 "delete the node and its secret on the server, or run join --replace"};
  }

  auto password_command = context.command(as_root(host.spec->user, read_node_password_script()),
                                          context.options().command_timeout);
  auto password = run_checked(host, "read " + std::string(kNodePasswordPath), password_command);
  if (!password) {
    return password.error();
  }
  Secret secret(password->out);
  wipe(password->out);
  if (verify_node_password(secret.view(), *hash)) {
    return NodeOwnership{NodeOwner::this_host, "the node password matches"};
  }
  return NodeOwnership{NodeOwner::other_password,
                       name + "'s " + std::string(kNodePasswordPath) +
                           " does not match the server's node-password secret"};
}

Result<std::string> delete_node(RunContext& context, const std::string& node_name) {
  HostRun& server = context.server();
  auto command = context.command(as_root(server.spec->user, delete_node_script(node_name)),
                                 context.options().command_timeout);
  command.interruptible = false;
  auto result = run_checked(server, "delete node " + node_name, command);
  if (!result) {
    return result.error();
  }
  std::string deleted;
  std::string_view out = result->out;
  while (!out.empty()) {
    auto end = out.find('\n');
    std::string_view line = trim(out.substr(0, end));
    out = end == std::string_view::npos ? std::string_view{} : out.substr(end + 1);
    if (!line.empty()) {
      deleted += (deleted.empty() ? "" : "; ") + std::string(line);
    }
  }
  spdlog::info("{}{}", log::host_prefix(server.label),
               deleted.empty() ? "node " + node_name + " was already absent" : deleted);
  return deleted;
}

bool settle_existing_node(RunContext& context, HostRun& host, const AgentState& state,
                          const kube::Node& node, bool& replaced) {
  const std::string& name = host.spec->name;
  auto ownership = check_node_owner(context, host, state, node);
  if (!ownership) {
    context.fail(host, ownership.error());
    return false;
  }
  if (ownership->owner == NodeOwner::this_host) {
    spdlog::debug("{}node {} is this host's: {}", log::host_prefix(host.label), name,
                  ownership->reason);
    return true;
  }
  std::string owner =
      ownership->owner == NodeOwner::other_machine ? "another machine" : "another node password";
  diagnose::Subject subject = diagnosis_subject(context, host);
  std::string message = "node " + name + " already exists in the cluster for " + owner;
  std::string fix = "run " + diagnose::replace_command(subject) +
                    " to delete the old node and its node-password secret first";
  if (ownership->owner == NodeOwner::other_machine) {
    fix += ", or give this host another name in the inventory";
  }
  if (!context.options().replace_node) {
    host.report.diagnosis = report::Diagnosis{
        std::string(diagnose::code::kNodeNameTaken), message + ": " + ownership->reason, fix, {}};
    context.fail(host, Error{ErrorKind::config, message, fix});
    return false;
  }
  std::string question = "Node " + name + " exists in the cluster for " + owner + " (" +
                         ownership->reason + "). Delete node " + name + " and secret " +
                         "kube-system/" + name + ".node-password.k3s?";
  const auto& confirm = context.options().confirm;
  if (!confirm || !confirm(question)) {
    context.fail(host, Error{ErrorKind::config, message + "; replacing it was declined",
                             "run again and answer yes, or add --yes"});
    return false;
  }
  auto deleted = delete_node(context, name);
  if (!deleted) {
    context.fail(host, deleted.error());
    return false;
  }
  replaced = true;
  return true;
}

}  // namespace k3sjoin::phase
