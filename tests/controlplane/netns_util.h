// Helpers for control-plane root tests that run inside the gateway
// namespace (tests/lib/gateway.sh) and reach the client/server namespaces:
// sockets created in another namespace (setns around socket()), MAC
// addresses, shell commands.
#pragma once

#include <arpa/inet.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "core/flow_key.h"

namespace xdpflow::testing {

inline std::string env_or_throw(const char *name) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    throw std::runtime_error(std::string(name) +
                             " is not set: run through tests/controlplane/run.sh");
  return v;
}

// Runs f with the calling thread inside namespace `ns` (by name), then
// returns to where it was. Sockets keep the namespace they were created in.
template <class F> auto in_netns(const std::string &ns, F &&f) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0)
    throw SysError(errno, "opening network namespace " + ns);
  if (setns(target, CLONE_NEWNET))
    throw SysError(errno, "entering network namespace " + ns);
  close(target);
  struct Back {
    int fd;
    ~Back() {
      setns(fd, CLONE_NEWNET);
      close(fd);
    }
  } back{self};
  return f();
}

inline std::array<std::uint8_t, 6> mac_of(const std::string &ifname) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int rc = ioctl(s, SIOCGIFHWADDR, &ifr);
  close(s);
  if (rc)
    throw SysError(errno, "reading the MAC of " + ifname);
  std::array<std::uint8_t, 6> mac;
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  return mac;
}

inline std::string mac_string(const std::uint8_t *m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

// Runs a shell command, returns its stdout; throws when it fails.
inline std::string sh(const std::string &cmd) {
  FILE *p = popen(cmd.c_str(), "r");
  if (!p)
    throw SysError(errno, "running " + cmd);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0)
    throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + cmd + "\n" + out);
  return out;
}

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  static SockAddr of(const IpAddr &ip, std::uint16_t port) {
    SockAddr a;
    if (ip.family == XF_FAMILY_IPV4) {
      auto *in = reinterpret_cast<sockaddr_in *>(&a.ss);
      in->sin_family = AF_INET;
      in->sin_port = htons(port);
      std::memcpy(&in->sin_addr, ip.bytes.data(), 4);
      a.len = sizeof(sockaddr_in);
    } else {
      auto *in6 = reinterpret_cast<sockaddr_in6 *>(&a.ss);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(port);
      std::memcpy(&in6->sin6_addr, ip.bytes.data(), 16);
      a.len = sizeof(sockaddr_in6);
    }
    return a;
  }
  std::uint16_t port() const {
    return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in *>(&ss)->sin_port
                                         : reinterpret_cast<const sockaddr_in6 *>(&ss)->sin6_port);
  }
  const sockaddr *sa() const { return reinterpret_cast<const sockaddr *>(&ss); }
};

inline int socket_in(const std::string &ns, int family, int type) {
  return in_netns(ns, [&] {
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
      throw SysError(errno, "socket in " + ns);
    return fd;
  });
}

inline std::uint16_t local_port(int fd) {
  SockAddr a;
  a.len = sizeof(a.ss);
  getsockname(fd, reinterpret_cast<sockaddr *>(&a.ss), &a.len);
  return a.port();
}

} // namespace xdpflow::testing
