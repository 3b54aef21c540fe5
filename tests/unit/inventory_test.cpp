#include "k3sjoin/config/inventory.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace k3sjoin::config {
namespace {

using Json = nlohmann::ordered_json;

// Sets HOME for one test and restores the previous value afterwards.
class ScopedHome {
 public:
  explicit ScopedHome(const char* value) {
    if (const char* old = std::getenv("HOME")) {
      old_ = old;
    }
    if (value == nullptr) {
      unsetenv("HOME");
    } else {
      setenv("HOME", value, 1);
    }
  }
  ScopedHome(const ScopedHome&) = delete;
  ScopedHome& operator=(const ScopedHome&) = delete;
  ~ScopedHome() {
    if (old_) {
      setenv("HOME", old_->c_str(), 1);
    } else {
      unsetenv("HOME");
    }
  }

 private:
  std::optional<std::string> old_;
};

// The reference cluster: one server and two agents.
Json base_document() {
  return Json::parse(R"({
    "apiVersion": "k3sjoin/v1",
    "server": {"name": "k3s-server-01", "address": "10.246.10.50"},
    "agents": [
      {"name": "agent-01", "address": "10.246.10.51"},
      {"name": "agent-02", "address": "10.246.10.52"}
    ]
  })");
}

Result<Inventory> parse(const Json& document) {
  return parse_inventory(document.dump(2), "inventory.json");
}

// Returns the error message of a document that must be rejected.
std::string error_of(const Json& document) {
  Result<Inventory> inventory = parse(document);
  if (inventory.ok()) {
    ADD_FAILURE() << "inventory was accepted: " << document.dump();
    return {};
  }
  EXPECT_EQ(inventory.error().kind, ErrorKind::config);
  return inventory.error().message;
}

std::string error_of_text(const std::string& text) {
  Result<Inventory> inventory = parse_inventory(text, "inventory.json");
  if (inventory.ok()) {
    ADD_FAILURE() << "inventory was accepted: " << text;
    return {};
  }
  EXPECT_EQ(inventory.error().kind, ErrorKind::config);
  return inventory.error().message;
}

std::filesystem::path source_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

TEST(Inventory, DnsAddressLeavesNodeIpUnset) {
  const ScopedHome home("/home/tester");
  Json document = base_document();
  document["agents"][0]["address"] = "agent-01.lab.example";
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->agents[0].node_ip, std::nullopt);
}

TEST(Inventory, MinimalDocumentLoads) {
  const ScopedHome home("/home/tester");
  Result<Inventory> inventory = parse(base_document());
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->path, "inventory.json");
  EXPECT_EQ(inventory->server.name, "k3s-server-01");
  EXPECT_EQ(inventory->server.address, "10.246.10.50");
  EXPECT_EQ(inventory->server.user, "root");
  EXPECT_EQ(inventory->server.port, 22);
  EXPECT_EQ(inventory->server.identity, std::nullopt);
  // An IP address doubles as the node IP when nodeIP is absent.
  EXPECT_EQ(inventory->server.node_ip, "10.246.10.50");
  EXPECT_EQ(inventory->server.pointer, "/server");
  ASSERT_EQ(inventory->agents.size(), 2U);
  EXPECT_EQ(inventory->agents[1].name, "agent-02");
  EXPECT_EQ(inventory->agents[1].pointer, "/agents/1");
  EXPECT_TRUE(inventory->agents[1].extra_args.empty());
  EXPECT_EQ(inventory->k3s_version, std::nullopt);
  EXPECT_EQ(inventory->install_url, "https://get.k3s.io");
}

TEST(Inventory, LabInventoryLoads) {
  const ScopedHome home("/home/tester");
  const std::string text = R"({"apiVersion": "k3sjoin/v1",
    "server": {"name": "k3s-server-01", "address": "10.246.10.50", "user": "ops"},
    "agents": [{"name": "agent-01", "address": "10.246.10.51"},
               {"name": "agent-02", "address": "10.246.10.52"}],
    "defaults": {"user": "ops", "port": 22, "identity": "~/.ssh/id_ed25519"}})";
  Result<Inventory> inventory = parse_inventory(text, "tests/lab/inventory.json");
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->server.user, "ops");
  EXPECT_EQ(inventory->server.identity, "/home/tester/.ssh/id_ed25519");
  ASSERT_EQ(inventory->agents.size(), 2U);
  EXPECT_EQ(inventory->agents[0].user, "ops");
  EXPECT_EQ(inventory->agents[0].port, 22);
  EXPECT_EQ(inventory->agents[0].identity, "/home/tester/.ssh/id_ed25519");
}

TEST(Inventory, ExampleFileLoads) {
  const ScopedHome home("/home/tester");
  Result<Inventory> inventory = load_inventory(source_root() / "examples" / "inventory.json");
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->server.name, "k3s-server-01");
  EXPECT_EQ(inventory->server.user, "ubuntu");
  EXPECT_EQ(inventory->server.identity, "/home/tester/.ssh/id_ed25519");
  ASSERT_EQ(inventory->agents.size(), 2U);
  EXPECT_EQ(inventory->agents[0].address, "10.246.10.51");
  EXPECT_EQ(inventory->agents[1].address, "10.246.10.52");
  EXPECT_EQ(inventory->agents[1].user, "ubuntu");
}

TEST(Inventory, FullDocumentLoads) {
  const ScopedHome home("/home/tester");
  Json document = base_document();
  document["k3s"] = {{"version", "v1.31.4+k3s1"}, {"installScriptURL", "https://mirror/k3s.sh"}};
  document["server"]["nodeIP"] = "10.246.10.50";
  document["agents"][0]["nodeIP"] = "fd00::51";
  document["agents"][0]["extraArgs"] = {"--node-label=zone=a", "--node-taint=x=y:NoSchedule"};
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->k3s_version, "v1.31.4+k3s1");
  EXPECT_EQ(inventory->install_url, "https://mirror/k3s.sh");
  EXPECT_EQ(inventory->server.node_ip, "10.246.10.50");
  EXPECT_EQ(inventory->agents[0].node_ip, "fd00::51");
  EXPECT_EQ(inventory->agents[0].extra_args,
            (std::vector<std::string>{"--node-label=zone=a", "--node-taint=x=y:NoSchedule"}));
}

TEST(Inventory, DefaultsApplyWhereHostIsSilent) {
  const ScopedHome home("/home/tester");
  Json document = base_document();
  document["defaults"] = {{"user", "ops"},
                          {"port", 2222},
                          {"identity", "/keys/id"},
                          {"extraArgs", {"--node-label=zone=a"}}};
  document["agents"][1]["user"] = "admin";
  document["agents"][1]["port"] = 22;
  document["agents"][1]["identity"] = "~/.ssh/other";
  document["agents"][1]["extraArgs"] = {"--node-label=zone=b"};
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->server.user, "ops");
  EXPECT_EQ(inventory->server.port, 2222);
  EXPECT_EQ(inventory->server.identity, "/keys/id");
  EXPECT_TRUE(inventory->server.extra_args.empty() == false);
  const HostSpec& plain = inventory->agents[0];
  EXPECT_EQ(plain.user, "ops");
  EXPECT_EQ(plain.port, 2222);
  EXPECT_EQ(plain.identity, "/keys/id");
  EXPECT_EQ(plain.extra_args, std::vector<std::string>{"--node-label=zone=a"});
  const HostSpec& own = inventory->agents[1];
  EXPECT_EQ(own.user, "admin");
  EXPECT_EQ(own.port, 22);
  EXPECT_EQ(own.identity, "/home/tester/.ssh/other");
  EXPECT_EQ(own.extra_args, std::vector<std::string>{"--node-label=zone=b"});
}

TEST(Inventory, UserDefaultsToRoot) {
  Result<Inventory> inventory = parse(base_document());
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->agents[0].user, "root");
}

TEST(Inventory, TildeExpandsWithHome) {
  const ScopedHome home("/home/tester");
  Json document = base_document();
  document["server"]["identity"] = "~";
  document["agents"][0]["identity"] = "~/.ssh/id_ed25519";
  document["agents"][1]["identity"] = "keys/~/id";
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->server.identity, "/home/tester");
  EXPECT_EQ(inventory->agents[0].identity, "/home/tester/.ssh/id_ed25519");
  EXPECT_EQ(inventory->agents[1].identity, "keys/~/id");
}

TEST(Inventory, TildeWithoutHomeFails) {
  const ScopedHome home(nullptr);
  Json document = base_document();
  document["defaults"] = {{"identity", "~/.ssh/id_ed25519"}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /defaults/identity: \"~/.ssh/id_ed25519\" starts with \"~\" but HOME "
            "is not set; write the full path or set HOME");
}

TEST(Inventory, TildeUserFails) {
  Json document = base_document();
  document["agents"][0]["identity"] = "~ops/.ssh/id";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/identity: \"~ops/.ssh/id\" starts with \"~user\"; only "
            "\"~/\" is expanded, so write the full path");
}

TEST(Inventory, EmptyIdentityFails) {
  Json document = base_document();
  document["agents"][0]["identity"] = "";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/identity: \"\" is empty; set the path of an SSH private "
            "key, such as \"~/.ssh/id_ed25519\"");
}

TEST(Inventory, FindAgent) {
  Result<Inventory> inventory = parse(base_document());
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  const HostSpec* agent = find_agent(*inventory, "agent-02");
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(agent->address, "10.246.10.52");
  EXPECT_EQ(find_agent(*inventory, "k3s-server-01"), nullptr);
  EXPECT_EQ(find_agent(*inventory, "agent-03"), nullptr);
}

TEST(InventoryFile, MissingFile) {
  Result<Inventory> inventory = load_inventory("/nonexistent/inventory.json");
  ASSERT_FALSE(inventory.ok());
  EXPECT_EQ(inventory.error().kind, ErrorKind::config);
  EXPECT_EQ(inventory.error().message,
            "cannot open inventory \"/nonexistent/inventory.json\": No such file or directory");
}

TEST(InventoryFile, Directory) {
  Result<Inventory> inventory = load_inventory("/tmp");
  ASSERT_FALSE(inventory.ok());
  EXPECT_EQ(inventory.error().message, "cannot read inventory \"/tmp\": Is a directory");
}

TEST(InventoryFile, SyntaxErrorNamesPath) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "k3sjoin-inventory-test.json";
  {
    std::FILE* file = std::fopen(path.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs("{\n  \"apiVersion\": k3sjoin\n}\n", file);
    std::fclose(file);
  }
  Result<Inventory> inventory = load_inventory(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(inventory.ok());
  EXPECT_EQ(inventory.error().message.rfind(path.string() + ":2:17: invalid JSON: ", 0), 0U)
      << inventory.error().message;
}

TEST(InventorySyntax, LineAndColumn) {
  const std::string text =
      "{\n"
      "  \"apiVersion\": \"k3sjoin/v1\",\n"
      "  \"server\": {\"name\": \"a\",}\n"
      "}\n";
  EXPECT_EQ(error_of_text(text),
            "inventory.json:3:26: invalid JSON: syntax error while parsing object key - "
            "unexpected '}'; expected string literal");
}

TEST(InventorySyntax, MatchesNlohmannPosition) {
  // nlohmann reports the same position in its own what(); the loader's count must agree.
  const std::string text = "{\n\n  \"agents\": [1, 2,, 3]\n}";
  EXPECT_EQ(error_of_text(text).rfind("inventory.json:3:19: invalid JSON: ", 0), 0U);
  try {
    const Json parsed = Json::parse(text);
    FAIL() << "nlohmann accepted the text: " << parsed.dump();
  } catch (const Json::parse_error& error) {
    EXPECT_NE(std::string(error.what()).find("line 3, column 19"), std::string::npos)
        << error.what();
  }
}

TEST(InventorySyntax, NumberTooLargeForDouble) {
  // nlohmann throws out_of_range, not parse_error, for this; it once ended the process.
  EXPECT_EQ(error_of_text("{\"apiVersion\": \"k3sjoin/v1\", \"port\": 1e999}"),
            "inventory.json: invalid JSON: number overflow parsing '1e999'");
}

TEST(InventorySyntax, EmptyInput) {
  EXPECT_EQ(error_of_text(""),
            "inventory.json:1:1: invalid JSON: syntax error while parsing value - unexpected end "
            "of input; expected '[', '{', or a literal");
}

TEST(InventorySyntax, TruncatedDocument) {
  EXPECT_EQ(error_of_text("{\"apiVersion\": \"k3sjoin/v1\"").rfind("inventory.json:1:28: ", 0), 0U);
}

TEST(InventorySyntax, DuplicateKey) {
  const std::string text = R"({"apiVersion": "k3sjoin/v1",
    "server": {"name": "k3s-server-01", "address": "10.246.10.50"},
    "agents": [{"name": "agent-01", "address": "10.246.10.51"},
               {"name": "agent-02", "address": "10.246.10.52", "name": "agent-03"}]})";
  EXPECT_EQ(error_of_text(text),
            "inventory.json: /agents/1: duplicate key \"name\"; remove all but one");
}

TEST(InventorySyntax, DuplicateTopLevelKey) {
  const std::string text = R"({"apiVersion": "k3sjoin/v1", "apiVersion": "k3sjoin/v1",
    "server": {"name": "k3s-server-01", "address": "10.246.10.50"},
    "agents": [{"name": "agent-01", "address": "10.246.10.51"}]})";
  EXPECT_EQ(error_of_text(text),
            "inventory.json: duplicate key \"apiVersion\"; remove all but one");
}

TEST(InventoryRules, RootMustBeObject) {
  EXPECT_EQ(error_of_text("[]"),
            "inventory.json: [] is an array, expected an object with \"apiVersion\", \"server\" "
            "and \"agents\"");
}

TEST(InventoryRules, ApiVersionMissing) {
  Json document = base_document();
  document.erase("apiVersion");
  EXPECT_EQ(error_of(document),
            "inventory.json: missing required key \"apiVersion\"; add \"apiVersion\": "
            "\"k3sjoin/v1\"");
}

TEST(InventoryRules, ApiVersionUnsupportedStopsChecks) {
  Json document = base_document();
  document["apiVersion"] = "k3sjoin/v2";
  document["agents"][0]["name"] = "Bad_Name";
  EXPECT_EQ(error_of(document),
            "inventory.json: /apiVersion: \"k3sjoin/v2\" is not a supported version; use "
            "\"k3sjoin/v1\"");
}

TEST(InventoryRules, ApiVersionWrongType) {
  Json document = base_document();
  document["apiVersion"] = 1;
  EXPECT_EQ(error_of(document),
            "inventory.json: /apiVersion: 1 is a number, expected the string \"k3sjoin/v1\"");
}

TEST(InventoryRules, UnknownTopLevelKeySuggests) {
  Json document = base_document();
  document["agent"] = Json::array();
  EXPECT_EQ(error_of(document), "inventory.json: unknown key \"agent\"; did you mean \"agents\"?");
}

TEST(InventoryRules, UnknownHostKeySuggests) {
  Json document = base_document();
  document["agents"][0]["adress"] = "10.0.0.1";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0: unknown key \"adress\"; did you mean \"address\"?");
}

TEST(InventoryRules, SnakeCaseKeySuggestsCamelCase) {
  Json document = base_document();
  document["agents"][0]["node_ip"] = "10.246.10.51";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0: unknown key \"node_ip\"; did you mean \"nodeIP\"?");
}

TEST(InventoryRules, UnknownKeyWithoutMatchListsKeys) {
  Json document = base_document();
  document["k3s"] = {{"channel", "stable"}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /k3s: unknown key \"channel\"; the keys here are \"version\", "
            "\"installScriptURL\"");
}

TEST(InventoryRules, ExtraArgsOnServerRejected) {
  Json document = base_document();
  document["server"]["extraArgs"] = {"--node-label=a=b"};
  EXPECT_EQ(error_of(document),
            "inventory.json: /server: unknown key \"extraArgs\"; extraArgs applies to agents only, "
            "because k3sjoin does not reconfigure the server");
}

TEST(InventoryRules, NodeNameUpperCaseAndUnderscore) {
  Json document = base_document();
  document["agents"][1]["name"] = "Agent_01";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/1/name: \"Agent_01\" is not a valid Kubernetes node name: it "
            "contains upper-case letters and \"_\"; use lower-case letters, digits, \"-\" and "
            "\".\"");
}

TEST(InventoryRules, NodeNameTooLong) {
  Json document = base_document();
  document["agents"][0]["name"] = std::string(254, 'a');
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/name: \"" + std::string(60, 'a') +
                "...\" is not a valid Kubernetes node name: it has 254 characters; use at most 253 "
                "characters");
}

TEST(InventoryRules, NodeNameLabelTooLong) {
  Json document = base_document();
  document["agents"][0]["name"] = "a." + std::string(64, 'b');
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/name: \"a." + std::string(58, 'b') +
                "...\" is not a valid Kubernetes node name: the label \"" + std::string(60, 'b') +
                "...\" has 64 characters; use at most 63 characters between dots");
}

TEST(InventoryRules, NodeNameLeadingHyphen) {
  Json document = base_document();
  document["agents"][0]["name"] = "-agent";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/name: \"-agent\" is not a valid Kubernetes node name: the "
            "label \"-agent\" starts with \"-\"; start and end each label with a letter or digit");
}

TEST(InventoryRules, NodeNameEmptyLabel) {
  Json document = base_document();
  document["agents"][0]["name"] = "agent..01";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/name: \"agent..01\" is not a valid Kubernetes node name: "
            "it has an empty label between dots or at either end; remove the extra \".\"");
}

TEST(InventoryRules, NodeNameEmpty) {
  Json document = base_document();
  document["agents"][0]["name"] = "";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/name: \"\" is not a valid Kubernetes node name: it is "
            "empty; use lower-case letters, digits, \"-\" and \".\"");
}

TEST(InventoryRules, NodeNameWrongType) {
  Json document = base_document();
  document["agents"][0]["name"] = 7;
  EXPECT_EQ(error_of(document), "inventory.json: /agents/0/name: 7 is a number, expected a string");
}

TEST(InventoryRules, NodeNameDuplicate) {
  Json document = base_document();
  document["agents"][1]["name"] = "k3s-server-01";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/1/name: \"k3s-server-01\" is already used by /server; give "
            "each host its own node name");
}

TEST(InventoryRules, NameMissing) {
  Json document = base_document();
  document["agents"][0].erase("name");
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0: missing required key \"name\"; set the Kubernetes node "
            "name, such as \"agent-01\"");
}

TEST(InventoryRules, AddressMissing) {
  Json document = base_document();
  document["server"].erase("address");
  EXPECT_EQ(error_of(document),
            "inventory.json: /server: missing required key \"address\"; set the SSH address: an "
            "IPv4 address, an IPv6 address or a DNS name");
}

TEST(InventoryRules, AddressDuplicate) {
  Json document = base_document();
  document["agents"][0]["address"] = "fd00::51";
  document["agents"][1]["address"] = "FD00:0:0::51";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/1/address: \"FD00:0:0::51\" is already used by /agents/0; "
            "give each host its own address");
}

TEST(InventoryRules, AddressDuplicateDnsIgnoresCase) {
  Json document = base_document();
  document["agents"][0]["address"] = "node1.example.com";
  document["agents"][1]["address"] = "Node1.Example.com.";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/1/address: \"Node1.Example.com.\" is already used by "
            "/agents/0; give each host its own address");
}

TEST(InventoryRules, AddressAcceptsIpv6AndDnsNames) {
  Json document = base_document();
  document["server"]["address"] = "fd00::50";
  document["agents"][0]["address"] = "Agent-01.example.com";
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->server.address, "fd00::50");
  EXPECT_EQ(inventory->agents[0].address, "Agent-01.example.com");
}

TEST(InventoryRules, AddressWithBrackets) {
  Json document = base_document();
  document["agents"][0]["address"] = "[fd00::51]";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/address: \"[fd00::51]\" is not a valid address: IPv6 "
            "addresses are written without brackets; use \"fd00::51\"");
}

TEST(InventoryRules, AddressWithPort) {
  Json document = base_document();
  document["agents"][0]["address"] = "10.246.10.51:2222";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/address: \"10.246.10.51:2222\" is not a valid address: it "
            "contains a port; set the port with the \"port\" key");
}

TEST(InventoryRules, AddressBadIpv4) {
  Json document = base_document();
  document["agents"][0]["address"] = "10.246.10.510";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/address: \"10.246.10.510\" is not a valid IPv4 address; "
            "use four numbers from 0 to 255 separated by \".\"");
}

TEST(InventoryRules, AddressBadIpv6) {
  Json document = base_document();
  document["agents"][0]["address"] = "fd00::51::1";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/address: \"fd00::51::1\" is not a valid IPv6 address; "
            "write an IPv6 address without brackets or zone, such as \"fd00::51\"");
}

TEST(InventoryRules, AddressBadDnsName) {
  Json document = base_document();
  document["agents"][0]["address"] = "agent 01";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/address: \"agent 01\" is not a valid DNS name: it contains "
            "\" \"; use letters, digits, \"-\" and \".\"");
}

TEST(InventoryRules, NodeIpMustBeIpLiteral) {
  Json document = base_document();
  document["agents"][0]["nodeIP"] = "agent-01";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/nodeIP: \"agent-01\" is not an IP address; set nodeIP to "
            "the IPv4 or IPv6 address the node should advertise, such as \"10.246.10.51\"");
}

TEST(InventoryRules, NodeIpDuplicate) {
  Json document = base_document();
  document["agents"][0]["nodeIP"] = "10.0.0.5";
  document["agents"][1]["nodeIP"] = "10.0.0.5";
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/1/nodeIP: \"10.0.0.5\" is already used by /agents/0; give "
            "each host its own node IP");
}

TEST(InventoryRules, PortOutOfRange) {
  Json document = base_document();
  document["agents"][0]["port"] = 70000;
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/port: 70000 is out of range; use a port from 1 to 65535");
}

TEST(InventoryRules, PortZeroAndNegative) {
  Json document = base_document();
  document["agents"][0]["port"] = 0;
  document["agents"][1]["port"] = -22;
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/port: 0 is out of range; use a port from 1 to 65535\n"
            "inventory.json: /agents/1/port: -22 is out of range; use a port from 1 to 65535");
}

TEST(InventoryRules, PortAsString) {
  Json document = base_document();
  document["defaults"] = {{"port", "22"}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /defaults/port: \"22\" is a string, expected an integer from 1 to "
            "65535");
}

TEST(InventoryRules, PortNotInteger) {
  Json document = base_document();
  document["server"]["port"] = 22.5;
  EXPECT_EQ(error_of(document),
            "inventory.json: /server/port: 22.5 is not an integer; use a port from 1 to 65535");
}

TEST(InventoryRules, UserInvalid) {
  Json document = base_document();
  document["server"]["user"] = "-oProxyCommand=x";
  EXPECT_EQ(error_of(document),
            "inventory.json: /server/user: \"-oProxyCommand=x\" is not a valid login name: it "
            "contains \"=\"; use letters, digits, \"_\", \"-\" and \".\", starting with a letter "
            "or \"_\"");
}

TEST(InventoryRules, UserStartsWithHyphen) {
  Json document = base_document();
  document["server"]["user"] = "-ops";
  EXPECT_EQ(error_of(document),
            "inventory.json: /server/user: \"-ops\" is not a valid login name: it starts with "
            "\"-\"; use letters, digits, \"_\", \"-\" and \".\", starting with a letter or \"_\"");
}

TEST(InventoryRules, UserTooLong) {
  Json document = base_document();
  document["server"]["user"] = std::string(33, 'u');
  EXPECT_EQ(error_of(document),
            "inventory.json: /server/user: \"" + std::string(33, 'u') +
                "\" is not a valid login name: it has 33 characters; use at most 32 characters");
}

TEST(InventoryRules, VersionInvalid) {
  for (const char* version : {"1.31.4+k3s1", "v1.31", "v1.31.4+rke2r1", "v1.31.4-rc1+k3s1"}) {
    SCOPED_TRACE(version);
    Json document = base_document();
    document["k3s"] = {{"version", version}};
    EXPECT_EQ(error_of(document), "inventory.json: /k3s/version: \"" + std::string(version) +
                                      "\" is not a valid k3s version; use a release tag such as "
                                      "\"v1.31.4+k3s1\"");
  }
}

TEST(InventoryRules, VersionWithoutSuffixAccepted) {
  Json document = base_document();
  document["k3s"] = {{"version", "v1.30.0"}};
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->k3s_version, "v1.30.0");
}

TEST(InventoryRules, InstallUrlNeedsHttps) {
  Json document = base_document();
  document["k3s"] = {{"installScriptURL", "http://get.k3s.io"}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /k3s/installScriptURL: \"http://get.k3s.io\" is not an https:// URL; "
            "use https so the script is authenticated, such as \"https://get.k3s.io\"");
}

TEST(InventoryRules, InstallUrlNeedsHost) {
  Json document = base_document();
  document["k3s"] = {{"installScriptURL", "https:///install.sh"}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /k3s/installScriptURL: \"https:///install.sh\" has no host name; use "
            "a URL such as \"https://get.k3s.io\"");
}

TEST(InventoryRules, K3sBlockWrongType) {
  Json document = base_document();
  document["k3s"] = "v1.31.4+k3s1";
  EXPECT_EQ(error_of(document),
            "inventory.json: /k3s: \"v1.31.4+k3s1\" is a string, expected an object with "
            "\"version\" or \"installScriptURL\"");
}

TEST(InventoryRules, ExtraArgMustStartWithDash) {
  Json document = base_document();
  document["agents"][0]["extraArgs"] = {"--node-label", "zone=a"};
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/extraArgs/1: \"zone=a\" does not start with \"-\"; write "
            "each flag with its value as one string, such as \"--node-label=zone=a\"");
}

TEST(InventoryRules, ExtraArgOwnedFlags) {
  Json document = base_document();
  document["agents"][0]["extraArgs"] = {"--node-ip=10.0.0.1",     "-t",
                                        "K10abc::server:hunter2", "--server=https://x:6443",
                                        "--node-name=n",          "--token-file=/t"};
  const std::string message = error_of(document);
  EXPECT_EQ(message,
            "inventory.json: /agents/0/extraArgs/0: the flag --node-ip is set by k3sjoin; use the "
            "host's \"nodeIP\" key instead\n"
            "inventory.json: /agents/0/extraArgs/1: the flag --token is set by k3sjoin; remove "
            "it, because k3sjoin reads the token from the server\n"
            "inventory.json: /agents/0/extraArgs/2: the value of the flag before it; remove both\n"
            "inventory.json: /agents/0/extraArgs/3: the flag --server is set by k3sjoin; remove "
            "it, because k3sjoin uses the address of the \"server\" host\n"
            "inventory.json: /agents/0/extraArgs/4: the flag --node-name is set by k3sjoin; use "
            "the host's \"name\" key instead\n"
            "inventory.json: /agents/0/extraArgs/5: the flag --token-file is set by k3sjoin; "
            "remove it, because k3sjoin reads the token from the server");
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
}

TEST(InventoryRules, ExtraArgTokenSpellingsRejected) {
  Json document = base_document();
  document["agents"][0]["extraArgs"] = {"---token=K10S5", "--TOKEN=K10S6", "-tK10S4",
                                        "--kubelet-arg=x=K10abc::node:hunter2",
                                        "K10abc::node:hunter3"};
  const std::string message = error_of(document);
  const std::string token_flag =
      "the flag --token is set by k3sjoin; remove it, because k3sjoin reads the token from the "
      "server";
  const std::string token_shape =
      "the value looks like a join token; remove it, because k3sjoin reads the token from the "
      "server";
  EXPECT_EQ(message, "inventory.json: /agents/0/extraArgs/0: " + token_flag + "\n" +
                         "inventory.json: /agents/0/extraArgs/1: " + token_flag + "\n" +
                         "inventory.json: /agents/0/extraArgs/2: " + token_flag + "\n" +
                         "inventory.json: /agents/0/extraArgs/3: " + token_shape + "\n" +
                         "inventory.json: /agents/0/extraArgs/4: " + token_shape);
  EXPECT_EQ(message.find("hunter"), std::string::npos);
}

TEST(InventoryRules, ExtraArgTokenValueNotEchoed) {
  Json document = base_document();
  document["defaults"] = {{"extraArgs", {"--token=K10abc::server:hunter2"}}};
  const std::string message = error_of(document);
  EXPECT_EQ(message,
            "inventory.json: /defaults/extraArgs/0: the flag --token is set by k3sjoin; remove "
            "it, because k3sjoin reads the token from the server");
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
}

TEST(InventoryRules, ExtraArgsWrongTypes) {
  Json document = base_document();
  document["agents"][0]["extraArgs"] = "--node-label=zone=a";
  document["agents"][1]["extraArgs"] = {1};
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0/extraArgs: \"--node-label=zone=a\" is a string, expected "
            "an array of strings\n"
            "inventory.json: /agents/1/extraArgs/0: 1 is a number, expected a string");
}

TEST(InventoryRules, AgentsEmpty) {
  Json document = base_document();
  document["agents"] = Json::array();
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents: the list is empty; add at least one agent with \"name\" and "
            "\"address\"");
}

TEST(InventoryRules, AgentsMissing) {
  Json document = base_document();
  document.erase("agents");
  EXPECT_EQ(error_of(document),
            "inventory.json: missing required key \"agents\"; add a list of agents, each an "
            "object with \"name\" and \"address\"");
}

TEST(InventoryRules, ServerMissing) {
  Json document = base_document();
  document.erase("server");
  EXPECT_EQ(error_of(document),
            "inventory.json: missing required key \"server\"; add the k3s server as an object "
            "with \"name\" and \"address\"");
}

TEST(InventoryRules, AgentsWrongTypes) {
  Json document = base_document();
  document["agents"] = {"agent-01"};
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents/0: \"agent-01\" is a string, expected an object with "
            "\"name\" and \"address\"");
  document["agents"] = {{"name", "agent-01"}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /agents: {...} is an object, expected an array of agents");
}

TEST(InventoryRules, AllErrorsInFileOrder) {
  const std::string text = R"({
    "apiVersion": "k3sjoin/v1",
    "agents": [
      {"name": "Agent_01", "address": "10.246.10.51", "port": 0},
      {"nmae": "agent-02", "address": "10.246.10.51"}
    ],
    "server": {"name": "k3s-server-01", "address": "10.246.10.50", "user": ""}
  })";
  EXPECT_EQ(error_of_text(text),
            "inventory.json: /agents/0/name: \"Agent_01\" is not a valid Kubernetes node name: it "
            "contains upper-case letters and \"_\"; use lower-case letters, digits, \"-\" and "
            "\".\"\n"
            "inventory.json: /agents/0/port: 0 is out of range; use a port from 1 to 65535\n"
            "inventory.json: /agents/1: unknown key \"nmae\"; did you mean \"name\"?\n"
            "inventory.json: /agents/1/address: \"10.246.10.51\" is already used by /agents/0; "
            "give each host its own address\n"
            "inventory.json: /agents/1: missing required key \"name\"; set the Kubernetes node "
            "name, such as \"agent-01\"\n"
            "inventory.json: /server/user: \"\" is not a valid login name: it is empty; use "
            "letters, digits, \"_\", \"-\" and \".\", starting with a letter or \"_\"");
}

TEST(NodeName, Validity) {
  EXPECT_TRUE(is_valid_node_name("agent-01"));
  EXPECT_TRUE(is_valid_node_name("k3s-server-01.lab.example"));
  EXPECT_TRUE(is_valid_node_name("0"));
  EXPECT_TRUE(is_valid_node_name(std::string(63, 'a') + "." + std::string(63, 'b')));
  EXPECT_FALSE(is_valid_node_name(""));
  EXPECT_FALSE(is_valid_node_name("Agent"));
  EXPECT_FALSE(is_valid_node_name("agent_01"));
  EXPECT_FALSE(is_valid_node_name("agent-"));
  EXPECT_FALSE(is_valid_node_name(".agent"));
  EXPECT_FALSE(is_valid_node_name("agent."));
  EXPECT_FALSE(is_valid_node_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_node_name(std::string(254, 'a')));
}

}  // namespace
}  // namespace k3sjoin::config
