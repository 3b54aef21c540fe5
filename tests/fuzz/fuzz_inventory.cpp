// libFuzzer target for the inventory parser, which reads a file the operator may have
// copied from elsewhere. Any crash, sanitizer report or broken invariant is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k3sjoin/config/inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto inventory = k3sjoin::config::parse_inventory(text, "fuzz.json");
  if (!inventory) {
    return 0;
  }
  // A parsed inventory satisfies the rules its readers rely on.
  if (!k3sjoin::config::is_valid_node_name(inventory->server.name) || inventory->agents.empty()) {
    std::abort();
  }
  for (const auto& agent : inventory->agents) {
    if (!k3sjoin::config::is_valid_node_name(agent.name) || agent.port < 1 || agent.port > 65535 ||
        k3sjoin::config::find_agent(*inventory, agent.name) == nullptr) {
      std::abort();
    }
  }
  return 0;
}
