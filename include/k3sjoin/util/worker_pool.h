#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace k3sjoin {

// Runs task(i) for i in [0, count) on at most `parallel` threads. A thread takes the next
// index as soon as it finishes one (a sliding window, not fixed batches), so one slow host
// delays no other. Tasks are not started once `stop()` returns true; tasks already running
// finish. Tasks must not throw.
inline void run_parallel(std::size_t count, std::size_t parallel,
                         const std::function<void(std::size_t)>& task,
                         const std::function<bool()>& stop = [] { return false; }) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      if (stop()) {
        return;
      }
      std::size_t index = next.fetch_add(1);
      if (index >= count) {
        return;
      }
      task(index);
    }
  };
  std::size_t threads = std::clamp<std::size_t>(parallel, 1, std::max<std::size_t>(count, 1));
  std::vector<std::jthread> pool;
  pool.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    pool.emplace_back(worker);
  }
}

}  // namespace k3sjoin
