#include "kernel/netns_lock.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>

#include "core/error.h"

namespace xdpflow {

namespace {

constexpr char kLockName[] = "xdpflow"; // abstract: "@xdpflow" in ss -xl

socklen_t lock_address(sockaddr_un &addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path + 1, kLockName, sizeof kLockName - 1); // sun_path[0] = 0
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + sizeof kLockName - 1);
}

} // namespace

std::optional<pid_t> NetnsLock::holder() {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd)
    throw SysError(errno, "creating a unix socket");
  sockaddr_un addr;
  socklen_t len = lock_address(addr);
  if (connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), len) != 0)
    return std::nullopt; // ECONNREFUSED: nobody listens
  ucred cred{};
  socklen_t clen = sizeof cred;
  if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0)
    return pid_t{0};
  return cred.pid;
}

NetnsLock::NetnsLock() {
  fd_ = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_)
    throw SysError(errno, "creating the per-netns lock socket");
  sockaddr_un addr;
  socklen_t len = lock_address(addr);
  if (bind(fd_.get(), reinterpret_cast<sockaddr *>(&addr), len) != 0) {
    if (errno != EADDRINUSE)
      throw SysError(errno, "binding the per-netns lock socket @xdpflow");
    auto pid = holder();
    throw RuntimeError("xdpflow is already running in this network namespace" +
                       (pid && *pid ? " (pid " + std::to_string(*pid) + ")" : std::string()) +
                       "; stop it first (kill -TERM it or systemctl stop xdpflow), or check "
                       "what it does with: xdpflow status");
  }
  if (listen(fd_.get(), 16) != 0)
    throw SysError(errno, "listening on the per-netns lock socket");
  acceptor_ = std::thread([this] {
    while (!stopping_.load()) {
      int c = accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0)
        close(c);
      else if (errno != EINTR && errno != ECONNABORTED)
        break; // shut down by the destructor
    }
  });
}

NetnsLock::~NetnsLock() {
  stopping_.store(true);
  shutdown(fd_.get(), SHUT_RDWR); // wakes accept() with EINVAL
  if (acceptor_.joinable())
    acceptor_.join();
}

} // namespace xdpflow
