#include "allocation_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::size_t> bytes{0};
std::atomic<std::size_t> count{0};

}  // namespace

namespace k3sjoin::bench {

std::size_t allocated_bytes() {
  return bytes.load(std::memory_order_relaxed);
}
std::size_t allocation_count() {
  return count.load(std::memory_order_relaxed);
}

}  // namespace k3sjoin::bench

void* operator new(std::size_t size) {
  bytes.fetch_add(size, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) {
    return pointer;
  }
  throw std::bad_alloc();
}

void operator delete(void* pointer) noexcept {
  std::free(pointer);
}
void operator delete(void* pointer, std::size_t) noexcept {
  std::free(pointer);
}
