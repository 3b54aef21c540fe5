#include "k3sjoin/kube/nodes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace k3sjoin::kube {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kRolePrefix = "node-role.kubernetes.io/";

// Thrown inside the parser only and turned into an Error at the API boundary, so each field
// access stays one line.
struct ShapeError {
  std::string message;
};

std::string type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    default:
      return "a number";
  }
}

const Json& require(const Json& parent, const char* key, const std::string& pointer) {
  const auto it = parent.find(key);
  if (it == parent.end()) {
    throw ShapeError{pointer + "/" + key + " is missing"};
  }
  return *it;
}

// Returns the member, or nullptr when it is absent or null. The API server omits empty
// optional fields, and some clients write them as null.
const Json* optional_member(const Json& parent, const char* key) {
  const auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

void expect(const Json& value, Json::value_t type, const std::string& pointer,
            const char* expected) {
  const bool matches = value.type() == type;
  if (!matches) {
    throw ShapeError{pointer + " is " + type_name(value) + ", expected " + expected};
  }
}

std::string string_at(const Json& value, const std::string& pointer) {
  expect(value, Json::value_t::string, pointer, "a string");
  return value.get<std::string>();
}

std::string required_string(const Json& parent, const char* key, const std::string& pointer) {
  return string_at(require(parent, key, pointer), pointer + "/" + key);
}

std::string optional_string(const Json& parent, const char* key, const std::string& pointer) {
  const Json* member = optional_member(parent, key);
  return member == nullptr ? std::string() : string_at(*member, pointer + "/" + key);
}

const Json* optional_object(const Json& parent, const char* key, const std::string& pointer) {
  const Json* member = optional_member(parent, key);
  if (member != nullptr) {
    expect(*member, Json::value_t::object, pointer + "/" + key, "an object");
  }
  return member;
}

const Json* optional_array(const Json& parent, const char* key, const std::string& pointer) {
  const Json* member = optional_member(parent, key);
  if (member != nullptr) {
    expect(*member, Json::value_t::array, pointer + "/" + key, "an array");
  }
  return member;
}

// JSON pointer tokens escape "~" and "/", which label and annotation keys often contain.
std::string pointer_token(const std::string& key) {
  std::string token;
  for (char c : key) {
    if (c == '~') {
      token += "~0";
    } else if (c == '/') {
      token += "~1";
    } else {
      token.push_back(c);
    }
  }
  return token;
}

void read_metadata(const Json& item, const std::string& pointer, Node& node) {
  const std::string metadata_pointer = pointer + "/metadata";
  const Json& metadata = require(item, "metadata", pointer);
  expect(metadata, Json::value_t::object, metadata_pointer, "an object");
  node.name = required_string(metadata, "name", metadata_pointer);
  if (node.name.empty()) {
    throw ShapeError{metadata_pointer + "/name is empty"};
  }
  node.creation_timestamp = optional_string(metadata, "creationTimestamp", metadata_pointer);

  if (const Json* labels = optional_object(metadata, "labels", metadata_pointer)) {
    for (const auto& [key, value] : labels->items()) {
      (void)value;  // The role label's value is "true" or "" depending on who set it.
      if (key.starts_with(kRolePrefix) && key.size() > kRolePrefix.size()) {
        node.roles.push_back(key.substr(kRolePrefix.size()));
      }
    }
    std::sort(node.roles.begin(), node.roles.end());
    node.roles.erase(std::unique(node.roles.begin(), node.roles.end()), node.roles.end());
  }
  if (const Json* annotations = optional_object(metadata, "annotations", metadata_pointer)) {
    for (const auto& [key, value] : annotations->items()) {
      node.annotations[key] =
          string_at(value, metadata_pointer + "/annotations/" + pointer_token(key));
    }
  }
}

void read_status(const Json& item, const std::string& pointer, Node& node) {
  const std::string status_pointer = pointer + "/status";
  const Json* status = optional_object(item, "status", pointer);
  if (status == nullptr) {
    return;
  }
  if (const Json* info = optional_object(*status, "nodeInfo", status_pointer)) {
    node.kubelet_version = optional_string(*info, "kubeletVersion", status_pointer + "/nodeInfo");
  }
  if (const Json* addresses = optional_array(*status, "addresses", status_pointer)) {
    for (std::size_t i = 0; i < addresses->size(); ++i) {
      const std::string address_pointer = status_pointer + "/addresses/" + std::to_string(i);
      const Json& address = (*addresses)[i];
      expect(address, Json::value_t::object, address_pointer, "an object");
      if (optional_string(address, "type", address_pointer) == "InternalIP") {
        node.internal_ip = required_string(address, "address", address_pointer);
        break;
      }
    }
  }
  if (const Json* conditions = optional_array(*status, "conditions", status_pointer)) {
    for (std::size_t i = 0; i < conditions->size(); ++i) {
      const std::string condition_pointer = status_pointer + "/conditions/" + std::to_string(i);
      const Json& entry = (*conditions)[i];
      expect(entry, Json::value_t::object, condition_pointer, "an object");
      NodeCondition condition;
      condition.type = required_string(entry, "type", condition_pointer);
      condition.status = required_string(entry, "status", condition_pointer);
      condition.reason = optional_string(entry, "reason", condition_pointer);
      condition.message = optional_string(entry, "message", condition_pointer);
      node.conditions.push_back(std::move(condition));
    }
  }
}

Node read_node(const Json& item, const std::string& pointer) {
  expect(item, Json::value_t::object, pointer, "an object");
  Node node;
  read_metadata(item, pointer, node);
  read_status(item, pointer, node);
  return node;
}

Error shape_error(const std::string& detail) {
  return Error{ErrorKind::remote_command, "kubectl get nodes returned unexpected JSON: " + detail,
               "check that kubectl on the server talks to the k3s API server"};
}

}  // namespace

const NodeCondition* Node::ready_condition() const {
  for (const NodeCondition& condition : conditions) {
    if (condition.type == "Ready") {
      return &condition;
    }
  }
  return nullptr;
}

bool Node::is_ready() const {
  const NodeCondition* ready = ready_condition();
  return ready != nullptr && ready->status == "True";
}

Result<std::vector<Node>> parse_node_list(std::string_view json) {
  Json document;
  try {
    document = Json::parse(json);
  } catch (const Json::exception& error) {
    // Json::exception, not only parse_error: a number such as 1e999 throws out_of_range.
    return shape_error(std::string("the output is not valid JSON (") + error.what() + ")");
  }
  try {
    expect(document, Json::value_t::object, "the document", "an object");
    const std::string kind = optional_string(document, "kind", "");
    std::vector<Node> nodes;
    // `kubectl get node NAME -o json` prints a single Node instead of a list.
    if (kind == "Node") {
      nodes.push_back(read_node(document, ""));
      return nodes;
    }
    if (kind.empty()) {
      throw ShapeError{"/kind is missing"};
    }
    if (kind != "List" && kind != "NodeList") {
      throw ShapeError{"/kind is " + Json(kind).dump() + ", expected \"List\" or \"NodeList\""};
    }
    const Json* items = optional_array(document, "items", "");
    if (items == nullptr) {
      return nodes;
    }
    for (std::size_t i = 0; i < items->size(); ++i) {
      nodes.push_back(read_node((*items)[i], "/items/" + std::to_string(i)));
    }
    return nodes;
  } catch (const ShapeError& error) {
    return shape_error(error.message);
  } catch (const Json::exception& error) {
    return shape_error(error.what());
  }
}

const Node* find_node(const std::vector<Node>& nodes, std::string_view name) {
  for (const Node& node : nodes) {
    if (node.name == name) {
      return &node;
    }
  }
  return nullptr;
}

}  // namespace k3sjoin::kube
