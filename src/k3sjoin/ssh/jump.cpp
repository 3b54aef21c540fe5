#include "jump.h"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <utility>

#include "k3sjoin/log/log.h"
#include "k3sjoin/ssh/remote.h"

namespace k3sjoin::ssh {
namespace {

// Maximum wait of the pump in poll(). It bounds how late the pump sees the stop flag and
// data that libssh decoded early into its own buffers.
constexpr int kPollMilliseconds = 50;

constexpr std::size_t kPumpBuffer = 32 * 1024;

// Writes all of `data` to the non-blocking socket, waiting for room while `stop` is unset.
bool write_socket(int fd, const char* data, std::size_t size, const std::atomic<bool>& stop) {
  while (size > 0) {
    const ssize_t done = send(fd, data, size, MSG_NOSIGNAL);
    if (done > 0) {
      data += done;
      size -= static_cast<std::size_t>(done);
      continue;
    }
    if (done < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (stop.load()) {
        return false;
      }
      pollfd waiting{fd, POLLOUT, 0};
      poll(&waiting, 1, kPollMilliseconds);
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

JumpChain::~JumpChain() {
  // The session behind link i is freed by then: the final session before this destructor
  // runs, hop session i + 1 in the previous iteration.
  for (auto it = links_.rbegin(); it != links_.rend(); ++it) {
    Link& link = **it;
    close_handed(link);
    link.stop.store(true);
    if (link.pump.joinable()) {
      link.pump.join();
    }
    link.channel.reset();
    link.session.reset();
  }
}

Result<int> JumpChain::forward(SessionHandle hop, const std::string& hop_label,
                               const std::string& host, int port) {
  const std::string target = format_endpoint(host, port);
  auto link = std::make_unique<Link>();
  link->session = std::move(hop);
  ssh_session session = link->session.get();
  link->channel.reset(ssh_channel_new(session));
  // The originator address is informational for the jump host's sshd; OpenSSH sends
  // 127.0.0.1 and port 0 as well.
  if (!link->channel ||
      ssh_channel_open_forward(link->channel.get(), host.c_str(), port, "127.0.0.1", 0) != SSH_OK) {
    return Error{ErrorKind::connect,
                 "jump host " + hop_label + " cannot open a connection to " + target + ": " +
                     ssh_get_error(session),
                 "check that " + target +
                     " is reachable from the jump host, that the name "
                     "resolves there, and that the jump host's sshd allows TCP forwarding "
                     "(AllowTcpForwarding)"};
  }

  std::array<int, 2> sockets{-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets.data()) != 0) {
    return Error{ErrorKind::internal, "cannot create a socket pair for the jump to " + target, ""};
  }
  // Only the pump's end is non-blocking; libssh polls its own end itself.
  fcntl(sockets[1], F_SETFL, fcntl(sockets[1], F_GETFL) | O_NONBLOCK);
  link->fd = sockets[1];
  link->handed = sockets[0];
  link->keeper = fcntl(sockets[0], F_DUPFD_CLOEXEC, 0);
  Link& started = *link;
  links_.push_back(std::move(link));
  started.pump = std::thread(&JumpChain::pump, std::ref(started), hop_label + " -> " + target);
  spdlog::debug("{}forwarding to {}", log::host_prefix(hop_label), target);
  return sockets[0];
}

void JumpChain::close_handed(Link& link) {
  struct stat handed {};
  struct stat kept {};
  if (link.handed >= 0 && link.keeper >= 0 && fstat(link.handed, &handed) == 0 &&
      fstat(link.keeper, &kept) == 0 && handed.st_dev == kept.st_dev &&
      handed.st_ino == kept.st_ino) {
    close(link.handed);
  }
  if (link.keeper >= 0) {
    close(link.keeper);
  }
  link.handed = -1;
  link.keeper = -1;
}

void JumpChain::pump(Link& link, std::string label) {
  ssh_session session = link.session.get();
  ssh_channel channel = link.channel.get();
  const int fd = link.fd;
  std::array<char, kPumpBuffer> buffer{};
  bool socket_open = true;   // the next session still sends
  bool channel_open = true;  // the far host still sends
  std::string reason = "stopped";

  while (!link.stop.load()) {
    std::array<pollfd, 2> waiting{
        {{fd, static_cast<short>(socket_open ? POLLIN : 0), 0}, {ssh_get_fd(session), POLLIN, 0}}};
    poll(waiting.data(), waiting.size(), kPollMilliseconds);

    if (socket_open && (waiting[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t count = recv(fd, buffer.data(), buffer.size(), 0);
      if (count > 0) {
        if (ssh_channel_write(channel, buffer.data(), static_cast<std::uint32_t>(count)) ==
            SSH_ERROR) {
          reason = std::string("channel write failed: ") + ssh_get_error(session);
          break;
        }
      } else if (count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        // The next session closed its end: pass the end of stream on.
        ssh_channel_send_eof(channel);
        socket_open = false;
      }
    }

    // Drains what libssh has, including data it decoded while writing.
    int count = 0;
    while ((count = ssh_channel_read_nonblocking(
                channel, buffer.data(), static_cast<std::uint32_t>(buffer.size()), 0)) > 0) {
      if (!write_socket(fd, buffer.data(), static_cast<std::size_t>(count), link.stop)) {
        count = SSH_ERROR;
        break;
      }
    }
    if (count == SSH_ERROR) {
      reason = std::string("channel read failed: ") + ssh_get_error(session);
      break;
    }
    if (channel_open && ssh_channel_is_eof(channel) != 0) {
      shutdown(fd, SHUT_WR);
      channel_open = false;
    }
    if ((!socket_open && !channel_open) || ssh_channel_is_closed(channel) != 0) {
      reason = "closed";
      break;
    }
  }
  // Closing the socket signals the end of the transport to the next session, so it fails
  // at once instead of waiting for its timeout.
  close(fd);
  spdlog::trace("forwarding {} ended: {}", label, reason);
}

}  // namespace k3sjoin::ssh
