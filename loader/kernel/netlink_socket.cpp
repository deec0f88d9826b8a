#include "kernel/netlink_socket.h"

#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <vector>

#include "core/error.h"

namespace xdpflow {

NetlinkSocket::NetlinkSocket(int bus, std::string what)
    : seq_(static_cast<std::uint32_t>(time(nullptr))), what_(std::move(what)) {
  nl_ = mnl_socket_open(bus);
  if (!nl_)
    throw SysError(errno, "opening the " + what_ + " netlink socket");
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl_);
    throw SysError(err, "binding the " + what_ + " netlink socket");
  }
  portid_ = mnl_socket_get_portid(nl_);
}

NetlinkSocket::~NetlinkSocket() {
  mnl_socket_close(nl_);
}

int NetlinkSocket::fd() const {
  return mnl_socket_get_fd(nl_);
}

void NetlinkSocket::join_group(unsigned group) {
  int g = static_cast<int>(group);
  if (mnl_socket_setsockopt(nl_, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
    throw SysError(errno, "joining netlink group " + std::to_string(group) + " on " + what_);
}

int NetlinkSocket::set_rcvbuf(int bytes) {
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0 &&
      setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
    throw SysError(errno, "setting the receive buffer of " + what_);
  int actual = 0;
  socklen_t len = sizeof(actual);
  getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &actual, &len);
  return actual;
}

void NetlinkSocket::set_nonblocking() {
  int flags = fcntl(fd(), F_GETFL);
  if (flags < 0 || fcntl(fd(), F_SETFL, flags | O_NONBLOCK) < 0)
    throw SysError(errno, "making " + what_ + " non-blocking");
}

void NetlinkSocket::send(const void *buf, std::size_t len) {
  if (mnl_socket_sendto(nl_, buf, len) < 0)
    throw SysError(errno, "sending on " + what_);
}

long NetlinkSocket::recv(void *buf, std::size_t len) {
  for (;;) {
    ssize_t n = ::recv(fd(), buf, len, 0);
    if (n >= 0)
      return n;
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return 0;
    if (errno == ENOBUFS)
      return -ENOBUFS;
    throw SysError(errno, "receiving on " + what_);
  }
}

void NetlinkSocket::request(nlmsghdr *req, const MsgCallback &on_msg, int ignore_errno) {
  req->nlmsg_seq = next_seq();
  req->nlmsg_pid = 0;
  bool dump = req->nlmsg_flags & NLM_F_DUMP;
  req->nlmsg_flags |= NLM_F_ACK;
  send(req, req->nlmsg_len);
  // Big enough for a full dump datagram (the kernel uses up to 32 KiB).
  std::vector<std::uint8_t> buf(1 << 16);
  for (;;) {
    ssize_t n = ::recv(fd(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw SysError(errno, "reading the reply on " + what_);
    }
    int left = static_cast<int>(n);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_seq != req->nlmsg_seq || nlh->nlmsg_pid != portid_)
        continue; // a late reply to an earlier request
      if (nlh->nlmsg_type == NLMSG_DONE)
        return;
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
        if (e->error == 0 || -e->error == ignore_errno) {
          if (!dump)
            return;
          continue;
        }
        throw SysError(-e->error, "netlink request on " + what_);
      }
      if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_OVERRUN)
        continue;
      on_msg(nlh, nlh->nlmsg_len);
    }
  }
}

} // namespace xdpflow
