#pragma once

#include <cstddef>

namespace k3sjoin::bench {

// Bytes and calls of operator new in this process since start. The benchmark binary
// replaces the global operator new, so these cover every allocation it makes.
std::size_t allocated_bytes();
std::size_t allocation_count();

}  // namespace k3sjoin::bench
