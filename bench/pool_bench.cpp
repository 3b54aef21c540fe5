// Wall time of k3sjoin's sliding worker pool against fixed batches of the same width, on
// hosts of uneven speed: one slow host per batch stalls a whole batch, but only one worker
// of the sliding pool. Tasks sleep, so the ratio is independent of CPU speed.

#include <benchmark/benchmark.h>

#include <chrono>
#include <thread>
#include <vector>

#include "k3sjoin/util/worker_pool.h"

namespace {

constexpr std::size_t kHosts = 40;
constexpr std::size_t kParallel = 8;

// Every eighth host takes 40 ms, the others 5 ms: roughly an install over a slow link
// among quick ones, scaled down.
std::chrono::milliseconds host_latency(std::size_t index) {
  return index % 8 == 3 ? std::chrono::milliseconds(40) : std::chrono::milliseconds(5);
}

void BM_SlidingPool(benchmark::State& state) {
  for (auto _ : state) {
    k3sjoin::run_parallel(kHosts, kParallel, [](std::size_t index) {
      std::this_thread::sleep_for(host_latency(index));
    });
  }
}

void BM_FixedBatches(benchmark::State& state) {
  for (auto _ : state) {
    for (std::size_t start = 0; start < kHosts; start += kParallel) {
      std::vector<std::jthread> batch;
      for (std::size_t index = start; index < std::min(start + kParallel, kHosts); ++index) {
        batch.emplace_back([index] { std::this_thread::sleep_for(host_latency(index)); });
      }
    }
  }
}

}  // namespace

BENCHMARK(BM_SlidingPool)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FixedBatches)->UseRealTime()->Unit(benchmark::kMillisecond);
