// Parser cost per item, and what the typed layer adds on top of nlohmann's own parse. The
// ratios matter, not the absolute times: both sides run in the same process and the same run.

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "allocation_counter.h"
#include "k3sjoin/config/inventory.h"
#include "k3sjoin/kube/nodes.h"

namespace {

// A `kubectl get nodes -o json` document shaped like k3s's, with `count` nodes.
std::string node_list(int count) {
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < count; ++i) {
    std::string name = "agent-" + std::to_string(i);
    items.push_back(
        {{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata",
          {{"name", name},
           {"creationTimestamp", "2026-12-04T10:00:00Z"},
           {"labels", {{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}}},
           {"annotations",
            {{"k3s.io/hostname", name},
             {"k3s.io/internal-ip", "10.246.10." + std::to_string(i % 250)},
             {"k3s.io/node-args", "[\"agent\"]"}}}}},
         {"status",
          {{"nodeInfo", {{"kubeletVersion", "v1.31.4+k3s1"}}},
           {"addresses",
            {{{"type", "InternalIP"}, {"address", "10.246.10." + std::to_string(i % 250)}},
             {{"type", "Hostname"}, {"address", name}}}},
           {"conditions",
            {{{"type", "MemoryPressure"},
              {"status", "False"},
              {"reason", "KubeletHasSufficientMemory"}},
             {{"type", "DiskPressure"},
              {"status", "False"},
              {"reason", "KubeletHasNoDiskPressure"}},
             {{"type", "PIDPressure"}, {"status", "False"}, {"reason", "KubeletHasSufficientPID"}},
             {{"type", "Ready"},
              {"status", "True"},
              {"reason", "KubeletReady"},
              {"message", "kubelet is posting ready status"}}}}}}});
  }
  return nlohmann::json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}}.dump();
}

std::string inventory(int agents) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < agents; ++i) {
    list.push_back({{"name", "agent-" + std::to_string(i)},
                    {"address", "10.246." + std::to_string(11 + i / 250) + "." +
                                    std::to_string(1 + i % 250)}});
  }
  return nlohmann::json{{"apiVersion", "k3sjoin/v1"},
                        {"defaults", {{"user", "ops"}, {"identity", "/root/.ssh/id_ed25519"}}},
                        {"server", {{"name", "k3s-server-01"}, {"address", "10.246.10.50"}}},
                        {"agents", list}}
      .dump();
}

void report_allocations(benchmark::State& state, std::size_t bytes_before, std::size_t count_before,
                        int items) {
  auto iterations = static_cast<double>(state.iterations());
  double bytes = static_cast<double>(k3sjoin::bench::allocated_bytes() - bytes_before);
  double count = static_cast<double>(k3sjoin::bench::allocation_count() - count_before);
  state.counters["alloc_bytes_per_item"] = bytes / iterations / items;
  state.counters["allocs_per_item"] = count / iterations / items;
  state.SetItemsProcessed(state.iterations() * items);
}

void BM_NodeListTyped(benchmark::State& state) {
  int count = static_cast<int>(state.range(0));
  std::string text = node_list(count);
  std::size_t bytes = k3sjoin::bench::allocated_bytes();
  std::size_t allocations = k3sjoin::bench::allocation_count();
  for (auto _ : state) {
    auto nodes = k3sjoin::kube::parse_node_list(text);
    benchmark::DoNotOptimize(nodes);
  }
  report_allocations(state, bytes, allocations, count);
}

void BM_NodeListJsonOnly(benchmark::State& state) {
  int count = static_cast<int>(state.range(0));
  std::string text = node_list(count);
  std::size_t bytes = k3sjoin::bench::allocated_bytes();
  std::size_t allocations = k3sjoin::bench::allocation_count();
  for (auto _ : state) {
    auto document = nlohmann::json::parse(text);
    benchmark::DoNotOptimize(document);
  }
  report_allocations(state, bytes, allocations, count);
}

void BM_InventoryTyped(benchmark::State& state) {
  int agents = static_cast<int>(state.range(0));
  std::string text = inventory(agents);
  std::size_t bytes = k3sjoin::bench::allocated_bytes();
  std::size_t allocations = k3sjoin::bench::allocation_count();
  for (auto _ : state) {
    auto parsed = k3sjoin::config::parse_inventory(text, "inventory.json");
    if (!parsed) {
      state.SkipWithError(parsed.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
  report_allocations(state, bytes, allocations, agents);
}

void BM_InventoryJsonOnly(benchmark::State& state) {
  int agents = static_cast<int>(state.range(0));
  std::string text = inventory(agents);
  std::size_t bytes = k3sjoin::bench::allocated_bytes();
  std::size_t allocations = k3sjoin::bench::allocation_count();
  for (auto _ : state) {
    auto document = nlohmann::ordered_json::parse(text);
    benchmark::DoNotOptimize(document);
  }
  report_allocations(state, bytes, allocations, agents);
}

}  // namespace

BENCHMARK(BM_NodeListTyped)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_NodeListJsonOnly)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_InventoryTyped)->Arg(2)->Arg(50)->Arg(500);
BENCHMARK(BM_InventoryJsonOnly)->Arg(2)->Arg(50)->Arg(500);
