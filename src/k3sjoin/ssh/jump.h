#pragma once

// Connections through ProxyJump hosts. libssh 0.10 has no ProxyJump of its own, so each hop
// opens a direct-tcpip channel to the next host, and a pump thread copies bytes between that
// channel and one end of a socket pair. The next libssh session gets the other end through
// SSH_OPTIONS_FD and runs its own handshake, host key check and authentication over it.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "handles.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh {

class JumpChain {
 public:
  JumpChain() = default;
  JumpChain(const JumpChain&) = delete;
  JumpChain& operator=(const JumpChain&) = delete;

  // Stops the pumps and disconnects the hop sessions, last hop first, so each hop's
  // disconnect message still travels through the hops before it.
  ~JumpChain();

  // Takes an authenticated hop session, opens a direct-tcpip channel from it to host:port
  // and starts a pump. Returns the socket for the next session's SSH_OPTIONS_FD. The chain
  // closes that socket after the next session is freed, unless libssh already did. Errors
  // (kind connect) name the hop and the target.
  Result<int> forward(SessionHandle hop, const std::string& hop_label, const std::string& host,
                      int port);

 private:
  struct Link {
    SessionHandle session;
    ChannelHandle channel;
    int fd = -1;      // the pump's end of the socket pair, closed by the pump when it ends
    int handed = -1;  // the end handed to the next session
    // A duplicate of `handed`. libssh 0.10 closes a socket given with SSH_OPTIONS_FD on some
    // error paths but not on a clean disconnect; while the duplicate keeps the socket open,
    // no other socket can share its inode, so comparing inodes shows whether `handed` still
    // needs closing.
    int keeper = -1;
    std::atomic<bool> stop{false};
    std::thread pump;
  };

  // Closes the handed-out end if libssh left it open, then the duplicate.
  static void close_handed(Link& link);

  // Copies bytes both ways until either side closes, the channel fails or `stop` is set.
  static void pump(Link& link, std::string label);

  std::vector<std::unique_ptr<Link>> links_;
};

}  // namespace k3sjoin::ssh
