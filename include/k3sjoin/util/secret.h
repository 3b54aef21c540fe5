#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace k3sjoin {

// A secret string (join token, sudo password). The buffer is locked in memory where the
// system allows it (mlock), excluded from core dumps (MADV_DONTDUMP), and overwritten on
// destruction and before any reallocation. Copying is disabled; move transfers ownership.
// Formatting a Secret is impossible by design: use view() only where the bytes must leave
// the process, such as an SSH channel's stdin.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view value);
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  std::string_view view() const { return {data_, size_}; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  // Overwrites and frees the buffer.
  void clear();

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Overwrites a std::string that briefly held a secret, then empties it.
void wipe(std::string& text);

// Replaces every occurrence of each non-empty secret in `text` with "<redacted>".
std::string redact(std::string_view text, std::initializer_list<std::string_view> secrets);

}  // namespace k3sjoin
