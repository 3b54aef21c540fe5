// Inventory keys for SSH access: hostKey and become.passwordEnv.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "k3sjoin/config/inventory.h"

namespace k3sjoin::config {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kFingerprint = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";

Json base_document() {
  return Json::parse(R"({
    "apiVersion": "k3sjoin/v1",
    "server": {"name": "k3s-server-01", "address": "10.246.10.50"},
    "agents": [
      {"name": "agent-01", "address": "10.246.10.51"},
      {"name": "agent-02", "address": "fd00:246:10::52"}
    ]
  })");
}

Result<Inventory> parse(const Json& document) {
  return parse_inventory(document.dump(2), "inventory.json");
}

std::string error_of(const Json& document) {
  Result<Inventory> inventory = parse(document);
  if (inventory.ok()) {
    ADD_FAILURE() << "inventory was accepted: " << document.dump();
    return {};
  }
  return inventory.error().message;
}

TEST(InventoryAccess, HostKeyPinned) {
  Json document = base_document();
  document["agents"][0]["hostKey"] = kFingerprint;
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->agents[0].host_key, kFingerprint);
  EXPECT_EQ(inventory->agents[1].host_key, std::nullopt);
}

TEST(InventoryAccess, HostKeyShapeChecked) {
  Json document = base_document();
  document["agents"][0]["hostKey"] = "SHA256:short";
  document["agents"][1]["hostKey"] = "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48";
  const std::string error = error_of(document);
  EXPECT_NE(error.find("inventory.json: /agents/0/hostKey: \"SHA256:short\" is not a SHA256 "
                       "fingerprint: expected 43 base64 characters after \"SHA256:\""),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("/agents/1/hostKey: \"MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48\" "
                       "is an MD5 fingerprint"),
            std::string::npos)
      << error;
}

TEST(InventoryAccess, HostKeyNotInDefaults) {
  Json document = base_document();
  document["defaults"] = {{"hostKey", kFingerprint}};
  EXPECT_EQ(error_of(document),
            "inventory.json: /defaults: unknown key \"hostKey\"; a host key fingerprint belongs "
            "to one host, so set hostKey on each host instead of in defaults");
}

TEST(InventoryAccess, BecomePasswordEnvFromDefaults) {
  Json document = base_document();
  document["defaults"] = {{"user", "ops"}, {"become", {{"passwordEnv", "K3SJOIN_BECOME"}}}};
  document["agents"][1]["become"] = {{"passwordEnv", "AGENT_02_PASSWORD"}};
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_EQ(inventory->server.become_password_env, "K3SJOIN_BECOME");
  EXPECT_EQ(inventory->agents[0].become_password_env, "K3SJOIN_BECOME");
  EXPECT_EQ(inventory->agents[1].become_password_env, "AGENT_02_PASSWORD");
}

TEST(InventoryAccess, BecomeRules) {
  Json document = base_document();
  document["agents"][0]["become"] = {{"passwordEnv", "1BAD-NAME"}};
  document["agents"][1]["become"] = {{"password", "secret"}};
  document["server"]["become"] = "K3SJOIN_BECOME";
  const std::string error = error_of(document);
  EXPECT_NE(error.find("/server/become: \"K3SJOIN_BECOME\" is a string, expected an object with "
                       "\"passwordEnv\""),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("/agents/0/become/passwordEnv: \"1BAD-NAME\" is not an environment "
                       "variable name"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("/agents/1/become: unknown key \"password\"; the keys here are "
                       "\"passwordEnv\""),
            std::string::npos)
      << error;
  // A password written into the inventory is never echoed back.
  EXPECT_EQ(error.find("secret"), std::string::npos);
}

TEST(InventoryAccess, RecordsWhichValuesAreSet) {
  Json document = base_document();
  document["defaults"] = {{"port", 2222}};
  document["agents"][0]["user"] = "ops";
  Result<Inventory> inventory = parse(document);
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_TRUE(inventory->agents[0].user_set);
  EXPECT_FALSE(inventory->agents[1].user_set);
  EXPECT_EQ(inventory->agents[1].user, "root");
  EXPECT_TRUE(inventory->agents[1].port_set);
  EXPECT_EQ(inventory->agents[1].port, 2222);
}

}  // namespace
}  // namespace k3sjoin::config
