#include "kernel/sd_notify.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>

#include "kernel/unique_fd.h"

namespace xdpflow {

bool sd_notify_state(const std::string &state) {
  const char *path = std::getenv("NOTIFY_SOCKET");
  if (!path || (path[0] != '/' && path[0] != '@'))
    return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::size_t n = std::strlen(path);
  if (n >= sizeof addr.sun_path)
    return false;
  std::memcpy(addr.sun_path, path, n);
  if (path[0] == '@')
    addr.sun_path[0] = '\0'; // abstract namespace
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd)
    return false;
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n);
  return sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                reinterpret_cast<sockaddr *>(&addr), len) == static_cast<ssize_t>(state.size());
}

} // namespace xdpflow
