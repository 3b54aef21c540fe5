// libFuzzer target for the `kubectl get nodes -o json` parser, which reads output from the
// server. Any crash, sanitizer report or broken invariant is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k3sjoin/kube/nodes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto nodes = k3sjoin::kube::parse_node_list(json);
  if (!nodes) {
    return 0;
  }
  for (const auto& node : *nodes) {
    const auto* ready = node.ready_condition();
    if (node.is_ready() && (ready == nullptr || ready->status != "True")) {
      std::abort();
    }
    if (k3sjoin::kube::find_node(*nodes, node.name) == nullptr) {
      std::abort();
    }
  }
  return 0;
}
