#include "k3sjoin/kube/nodes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace k3sjoin::kube {
namespace {

// Reads tests/unit/data/nodes.json, located from this source file's path, which CMake passes
// to the compiler as an absolute path.
std::string read_nodes_json() {
  const std::filesystem::path path =
      std::filesystem::path(__FILE__).parent_path() / "data" / "nodes.json";
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string error_of(std::string_view json) {
  Result<std::vector<Node>> nodes = parse_node_list(json);
  if (nodes.ok()) {
    ADD_FAILURE() << "node list was accepted: " << json;
    return {};
  }
  EXPECT_EQ(nodes.error().kind, ErrorKind::remote_command);
  return nodes.error().message;
}

class NodeListFile : public testing::Test {
 protected:
  void SetUp() override {
    Result<std::vector<Node>> parsed = parse_node_list(read_nodes_json());
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    nodes_ = std::move(parsed).value();
    ASSERT_EQ(nodes_.size(), 3U);
  }

  std::vector<Node> nodes_;
};

TEST_F(NodeListFile, ServerIsReadyControlPlane) {
  const Node* server = find_node(nodes_, "k3s-server-01");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->kubelet_version, "v1.31.4+k3s1");
  EXPECT_EQ(server->internal_ip, "10.246.10.50");
  EXPECT_EQ(server->roles, (std::vector<std::string>{"control-plane", "master"}));
  EXPECT_EQ(server->creation_timestamp, "2025-01-14T09:57:40Z");
  EXPECT_EQ(server->annotations.at("k3s.io/internal-ip"), "10.246.10.50");
  EXPECT_EQ(server->conditions.size(), 4U);
  ASSERT_NE(server->ready_condition(), nullptr);
  EXPECT_EQ(server->ready_condition()->reason, "KubeletReady");
  EXPECT_TRUE(server->is_ready());
}

TEST_F(NodeListFile, AgentNotReady) {
  const Node* agent = find_node(nodes_, "agent-01");
  ASSERT_NE(agent, nullptr);
  EXPECT_TRUE(agent->roles.empty());
  EXPECT_EQ(agent->internal_ip, "10.246.10.51");
  EXPECT_FALSE(agent->is_ready());
  const NodeCondition* ready = agent->ready_condition();
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "KubeletNotReady");
  EXPECT_NE(ready->message.find("cni plugin not initialized"), std::string::npos);
}

TEST_F(NodeListFile, AgentUnknown) {
  const Node* agent = find_node(nodes_, "agent-02");
  ASSERT_NE(agent, nullptr);
  EXPECT_FALSE(agent->is_ready());
  const NodeCondition* ready = agent->ready_condition();
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, "Unknown");
  EXPECT_EQ(ready->reason, "NodeStatusUnknown");
  EXPECT_EQ(ready->message, "Kubelet stopped posting node status.");
}

TEST_F(NodeListFile, FindNodeMissing) {
  EXPECT_EQ(find_node(nodes_, "agent-03"), nullptr);
}

TEST(ParseNodeList, EmptyList) {
  Result<std::vector<Node>> nodes =
      parse_node_list(R"({"apiVersion": "v1", "kind": "List", "items": []})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  EXPECT_TRUE(nodes->empty());
}

TEST(ParseNodeList, NodeListKindWithoutItems) {
  Result<std::vector<Node>> nodes = parse_node_list(R"({"kind": "NodeList"})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  EXPECT_TRUE(nodes->empty());
}

TEST(ParseNodeList, SingleNode) {
  Result<std::vector<Node>> nodes =
      parse_node_list(R"({"kind": "Node", "metadata": {"name": "agent-01"}})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 1U);
  EXPECT_EQ((*nodes)[0].name, "agent-01");
}

TEST(ParseNodeList, MinimalNodeToleratesMissingFields) {
  Result<std::vector<Node>> nodes = parse_node_list(
      R"({"kind": "List", "items": [{"metadata": {"name": "n1", "labels": null}, "status": {}}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  const Node& node = (*nodes)[0];
  EXPECT_EQ(node.name, "n1");
  EXPECT_EQ(node.kubelet_version, "");
  EXPECT_EQ(node.internal_ip, "");
  EXPECT_TRUE(node.roles.empty());
  EXPECT_TRUE(node.annotations.empty());
  EXPECT_EQ(node.ready_condition(), nullptr);
  EXPECT_FALSE(node.is_ready());
}

TEST(ParseNodeList, RoleLabelValueIgnored) {
  Result<std::vector<Node>> nodes = parse_node_list(R"({"kind": "List", "items": [{"metadata": {
      "name": "n1", "labels": {"node-role.kubernetes.io/worker": "",
      "node-role.kubernetes.io/etcd": "true", "node-role.kubernetes.io/": "true"}}}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  EXPECT_EQ((*nodes)[0].roles, (std::vector<std::string>{"etcd", "worker"}));
}

TEST(ParseNodeList, FirstInternalIpWins) {
  Result<std::vector<Node>> nodes = parse_node_list(R"({"kind": "List", "items": [{
      "metadata": {"name": "n1"}, "status": {"addresses": [
      {"type": "Hostname", "address": "n1"}, {"type": "InternalIP", "address": "10.0.0.1"},
      {"type": "InternalIP", "address": "fd00::1"}]}}]})");
  ASSERT_TRUE(nodes.ok()) << nodes.error().message;
  EXPECT_EQ((*nodes)[0].internal_ip, "10.0.0.1");
}

TEST(ParseNodeList, MissingNameNamesPath) {
  EXPECT_EQ(error_of(R"({"kind": "List", "items": [{"metadata": {"name": "a"}},
      {"metadata": {"name": "b"}}, {"metadata": {"labels": {}}}]})"),
            "kubectl get nodes returned unexpected JSON: /items/2/metadata/name is missing");
}

TEST(ParseNodeList, MissingMetadata) {
  EXPECT_EQ(error_of(R"({"kind": "List", "items": [{}]})"),
            "kubectl get nodes returned unexpected JSON: /items/0/metadata is missing");
}

TEST(ParseNodeList, WrongNameType) {
  EXPECT_EQ(error_of(R"({"kind": "List", "items": [{"metadata": {"name": 5}}]})"),
            "kubectl get nodes returned unexpected JSON: /items/0/metadata/name is a number, "
            "expected a string");
}

TEST(ParseNodeList, ConditionWithoutStatus) {
  EXPECT_EQ(error_of(R"({"kind": "List", "items": [{"metadata": {"name": "n1"},
      "status": {"conditions": [{"type": "Ready"}]}}]})"),
            "kubectl get nodes returned unexpected JSON: /items/0/status/conditions/0/status is "
            "missing");
}

TEST(ParseNodeList, AnnotationPathIsEscaped) {
  EXPECT_EQ(error_of(R"({"kind": "List", "items": [{"metadata": {"name": "n1",
      "annotations": {"k3s.io/node-args": 1}}}]})"),
            "kubectl get nodes returned unexpected JSON: "
            "/items/0/metadata/annotations/k3s.io~1node-args is a number, expected a string");
}

TEST(ParseNodeList, ItemsNotArray) {
  EXPECT_EQ(error_of(R"({"kind": "List", "items": {}})"),
            "kubectl get nodes returned unexpected JSON: /items is an object, expected an array");
}

TEST(ParseNodeList, WrongKind) {
  EXPECT_EQ(error_of(R"({"kind": "PodList", "items": []})"),
            "kubectl get nodes returned unexpected JSON: /kind is \"PodList\", expected \"List\" "
            "or \"NodeList\"");
}

TEST(ParseNodeList, MissingKind) {
  EXPECT_EQ(error_of(R"({"items": []})"),
            "kubectl get nodes returned unexpected JSON: /kind is missing");
}

TEST(ParseNodeList, NotAnObject) {
  EXPECT_EQ(error_of("[]"),
            "kubectl get nodes returned unexpected JSON: the document is an array, expected an "
            "object");
}

TEST(ParseNodeList, InvalidJson) {
  EXPECT_EQ(
      error_of("The connection to the server 127.0.0.1:6443 was refused")
          .rfind("kubectl get nodes returned unexpected JSON: the output is not valid JSON (", 0),
      0U);
}

TEST(ParseNodeList, NumberTooLargeForDouble) {
  // nlohmann throws out_of_range, not parse_error, for this; it once ended the process.
  EXPECT_EQ(
      error_of(R"({"kind": "List", "items": [], "x": 1e999})")
          .rfind("kubectl get nodes returned unexpected JSON: the output is not valid JSON (", 0),
      0U);
}

}  // namespace
}  // namespace k3sjoin::kube
