#include "k3sjoin/util/duration.h"

#include <cstdint>

namespace k3sjoin {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::int64_t number = 0;
  bool have_digits = false;
  bool any_unit = false;
  constexpr std::int64_t kMaxSeconds = std::int64_t{10} * 365 * 24 * 3600;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      number = number * 10 + (c - '0');
      if (number > kMaxSeconds) {
        return std::nullopt;
      }
      have_digits = true;
      continue;
    }
    if (!have_digits) {
      return std::nullopt;
    }
    std::int64_t factor = 0;
    switch (c) {
      case 's':
        factor = 1;
        break;
      case 'm':
        factor = 60;
        break;
      case 'h':
        factor = 3600;
        break;
      default:
        return std::nullopt;
    }
    total += number * factor;
    number = 0;
    have_digits = false;
    any_unit = true;
  }
  if (have_digits) {
    if (any_unit) {
      return std::nullopt;  // "1m30" is ambiguous
    }
    total = number;
  }
  if (total <= 0 || total > kMaxSeconds) {
    return std::nullopt;
  }
  return std::chrono::seconds(total);
}

}  // namespace k3sjoin
