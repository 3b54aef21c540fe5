#pragma once

#include <libssh/libssh.h>

#include <memory>

namespace k3sjoin::ssh {

// Owning wrappers for libssh handles, so every early return frees them.

struct SessionDeleter {
  void operator()(ssh_session session) const {
    // ssh_disconnect is safe on a session that never connected.
    ssh_disconnect(session);
    ssh_free(session);
  }
};
using SessionHandle = std::unique_ptr<ssh_session_struct, SessionDeleter>;

struct ChannelDeleter {
  void operator()(ssh_channel channel) const {
    // ssh_channel_free sends CLOSE when the channel is still open.
    ssh_channel_free(channel);
  }
};
using ChannelHandle = std::unique_ptr<ssh_channel_struct, ChannelDeleter>;

struct KeyDeleter {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
using KeyHandle = std::unique_ptr<ssh_key_struct, KeyDeleter>;

// A string that libssh allocated and the caller must release with ssh_string_free_char.
struct CharDeleter {
  void operator()(char* text) const { ssh_string_free_char(text); }
};
using CharHandle = std::unique_ptr<char, CharDeleter>;

// A hash buffer from ssh_get_publickey_hash, released with ssh_clean_pubkey_hash.
struct HashDeleter {
  void operator()(unsigned char* hash) const {
    unsigned char* owned = hash;
    ssh_clean_pubkey_hash(&owned);
  }
};
using HashHandle = std::unique_ptr<unsigned char, HashDeleter>;

}  // namespace k3sjoin::ssh
