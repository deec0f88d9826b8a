#include "netns.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"

using xdpflow::SysError;

namespace xfbench {

NetnsScope::NetnsScope(const std::string &name) {
  saved_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_fd_ < 0)
    throw SysError(errno, "opening the current network namespace");
  std::string path = "/run/netns/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    close(saved_fd_);
    throw SysError(err, "opening network namespace " + path);
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc) {
    close(saved_fd_);
    throw SysError(err, "entering network namespace " + name);
  }
}

NetnsScope::~NetnsScope() {
  // Cannot fail for a namespace we were in a moment ago; nothing sensible to
  // do in a destructor if it did.
  (void)setns(saved_fd_, CLONE_NEWNET);
  close(saved_fd_);
}

std::uint32_t ifindex_of(const std::string &ifname) {
  unsigned idx = if_nametoindex(ifname.c_str());
  if (!idx)
    throw SysError(errno, "looking up interface " + ifname);
  return idx;
}

Mac mac_of(const std::string &ifname) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw SysError(errno, "creating a socket to read the MAC of " + ifname);
  ifreq req{};
  std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFHWADDR, &req);
  int err = errno;
  close(fd);
  if (rc)
    throw SysError(err, "reading the MAC of " + ifname);
  Mac mac;
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

} // namespace xfbench
