#include "k3sjoin/util/secret.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <utility>

namespace k3sjoin {
namespace {

std::size_t page_size() {
  const long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<std::size_t>(size) : 4096;
}

}  // namespace

Secret::Secret(std::string_view value) {
  if (value.empty()) {
    return;
  }
  // A private anonymous mapping is page-aligned and owned by this object alone, so mlock and
  // madvise cover exactly the secret's pages and no unrelated heap data.
  const std::size_t page = page_size();
  const std::size_t capacity = (value.size() + page - 1) / page * page;
  void* memory =
      mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    throw std::bad_alloc();
  }
  // Locking fails without CAP_IPC_LOCK once RLIMIT_MEMLOCK is used up. The secret is still
  // wiped on release, so k3sjoin carries on with an unlocked page.
  (void)mlock(memory, capacity);
#ifdef MADV_DONTDUMP
  (void)madvise(memory, capacity, MADV_DONTDUMP);
#endif
  data_ = static_cast<char*>(memory);
  size_ = value.size();
  capacity_ = capacity;
  std::memcpy(data_, value.data(), size_);
}

Secret::Secret(Secret&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    clear();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

Secret::~Secret() {
  clear();
}

void Secret::clear() {
  if (data_ == nullptr) {
    return;
  }
  // OPENSSL_cleanse is a write the optimizer may not remove, unlike memset before munmap.
  OPENSSL_cleanse(data_, capacity_);
  (void)munlock(data_, capacity_);
  (void)munmap(data_, capacity_);
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

void wipe(std::string& text) {
  // Growing to the capacity never reallocates and makes the bytes past size() writable, so
  // leftovers of a longer earlier value are overwritten too.
  text.resize(text.capacity());
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

std::string redact(std::string_view text, std::initializer_list<std::string_view> secrets) {
  std::string result;
  result.reserve(text.size());
  std::size_t position = 0;
  while (position < text.size()) {
    // The longest secret that matches here wins, so a secret that contains another one is
    // replaced whole instead of leaving its tail in the output.
    std::size_t match = 0;
    for (std::string_view secret : secrets) {
      if (!secret.empty() && secret.size() > match &&
          text.substr(position, secret.size()) == secret) {
        match = secret.size();
      }
    }
    if (match > 0) {
      result.append("<redacted>");
      position += match;
    } else {
      result.push_back(text[position]);
      ++position;
    }
  }
  return result;
}

}  // namespace k3sjoin
