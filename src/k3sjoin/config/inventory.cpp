#include "k3sjoin/config/inventory.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "inventory_validator.h"

namespace k3sjoin::config {
namespace detail {

void Validator::fail(const std::string& pointer, const std::string& text) {
  errors_.push_back(origin_ + ": " + (pointer.empty() ? "" : pointer + ": ") + text);
}

void Validator::fail_type(const std::string& pointer, const Json& value,
                          std::string_view expected) {
  fail(pointer,
       describe(value) + " is " + type_phrase(value) + ", expected " + std::string(expected));
}

void Validator::unknown_key(const std::string& pointer, const std::string& key,
                            std::span<const std::string_view> known) {
  std::string text = "unknown key " + quote(key);
  const std::string_view suggestion = closest_key(key, known);
  if (!suggestion.empty()) {
    text += "; did you mean " + quote(suggestion) + "?";
  } else {
    text += "; the keys here are ";
    for (std::size_t i = 0; i < known.size(); ++i) {
      text += (i == 0 ? "" : ", ") + quote(known[i]);
    }
  }
  fail(pointer, text);
}

void Validator::validate(const Json& document, Inventory& inventory) {
  if (!document.is_object()) {
    fail_type("", document, "an object with \"apiVersion\", \"server\" and \"agents\"");
    return;
  }
  if (const auto it = document.find("apiVersion");
      it != document.end() && it->is_string() && it->get_ref<const std::string&>() != kApiVersion) {
    // Another format version means other keys and rules, so checking further would only
    // produce noise.
    fail("/apiVersion", describe(*it) + " is not a supported version; use \"k3sjoin/v1\"");
    return;
  }
  std::optional<RawHost> server;
  bool has_agents = false;
  for (const auto& [key, value] : document.items()) {
    const std::string pointer = child("", key);
    if (key == "apiVersion") {
      if (!value.is_string()) {
        fail_type(pointer, value, "the string \"k3sjoin/v1\"");
      }
    } else if (key == "k3s") {
      read_k3s(value, pointer, inventory);
    } else if (key == "defaults") {
      defaults_ = read_host(value, pointer, HostKind::defaults);
    } else if (key == "server") {
      server = read_host(value, pointer, HostKind::server);
    } else if (key == "agents") {
      has_agents = true;
      read_agents(value, pointer);
    } else {
      unknown_key("", key, kTopKeys);
    }
  }
  if (!document.contains("apiVersion")) {
    fail("", "missing required key \"apiVersion\"; add \"apiVersion\": \"k3sjoin/v1\"");
  }
  if (!document.contains("server")) {
    fail("",
         "missing required key \"server\"; add the k3s server as an object with "
         "\"name\" and \"address\"");
  }
  if (!has_agents) {
    fail("",
         "missing required key \"agents\"; add a list of agents, each an object with "
         "\"name\" and \"address\"");
  }
  if (server) {
    inventory.server = resolve(*server);
  }
  for (const RawHost& agent : agents_) {
    inventory.agents.push_back(resolve(agent));
  }
}

void Validator::read_k3s(const Json& value, const std::string& pointer, Inventory& inventory) {
  if (!value.is_object()) {
    fail_type(pointer, value, "an object with \"version\" or \"installScriptURL\"");
    return;
  }
  for (const auto& [key, field] : value.items()) {
    const std::string field_pointer = child(pointer, key);
    if (key == "version" || key == "installScriptURL") {
      if (!field.is_string()) {
        fail_type(field_pointer, field, "a string");
        continue;
      }
      const std::string& text = field.get_ref<const std::string&>();
      const std::string problem =
          key == "version" ? version_problem(text) : install_url_problem(text);
      if (!problem.empty()) {
        fail(field_pointer, quote(text) + " " + problem);
      } else if (key == "version") {
        inventory.k3s_version = text;
      } else {
        inventory.install_url = text;
      }
    } else {
      unknown_key(pointer, key, kK3sKeys);
    }
  }
}

void Validator::read_agents(const Json& value, const std::string& pointer) {
  if (!value.is_array()) {
    fail_type(pointer, value, "an array of agents");
    return;
  }
  if (value.empty()) {
    fail(pointer, "the list is empty; add at least one agent with \"name\" and \"address\"");
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    RawHost agent = read_host(value[i], child(pointer, i), HostKind::agent);
    agents_.push_back(std::move(agent));
  }
}

}  // namespace detail

namespace {

using detail::Json;
using detail::quote;
using detail::Validator;

constexpr long kMaxInventoryBytes = 1L << 20;

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    if (!text.empty()) {
      text.push_back('\n');
    }
    text += line;
  }
  return text;
}

}  // namespace

Result<Inventory> parse_inventory(std::string_view text, const std::string& origin) {
  Result<detail::ParsedJson> parsed = detail::parse_json(text, origin);
  if (!parsed) {
    return parsed.error();
  }
  Validator validator(origin);
  for (const auto& [pointer, key] : parsed->duplicates) {
    validator.fail(pointer, "duplicate key " + quote(key) + "; remove all but one");
  }
  Inventory inventory;
  inventory.path = origin;
  validator.validate(parsed->document, inventory);
  if (!validator.errors().empty()) {
    return Error{ErrorKind::config, join_lines(validator.errors()), ""};
  }
  return inventory;
}

Result<Inventory> load_inventory(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    return Error{ErrorKind::config,
                 "cannot open inventory " + quote(path) + ": " + std::strerror(errno), ""};
  }
  std::string text;
  std::array<char, 8192> buffer{};
  while (true) {
    const std::size_t count = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), count);
    if (text.size() > static_cast<std::size_t>(kMaxInventoryBytes)) {
      return Error{ErrorKind::config,
                   "cannot read inventory " + quote(path) + ": it is larger than 1 MiB", ""};
    }
    if (count < buffer.size()) {
      break;
    }
  }
  if (std::ferror(file.get()) != 0) {
    return Error{ErrorKind::config,
                 "cannot read inventory " + quote(path) + ": " + std::strerror(errno), ""};
  }
  return parse_inventory(text, path);
}

const HostSpec* find_agent(const Inventory& inventory, std::string_view name) {
  for (const HostSpec& agent : inventory.agents) {
    if (agent.name == name) {
      return &agent;
    }
  }
  return nullptr;
}

}  // namespace k3sjoin::config
