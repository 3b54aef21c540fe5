#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace k3sjoin {

// Parses a duration such as "90", "90s", "5m", "1h" or "1m30s" (a bare number is seconds).
// Returns nullopt for anything else, including zero-length or negative input.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace k3sjoin
