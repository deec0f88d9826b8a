// A libmnl netlink socket with the few operations the control plane needs:
// group membership, a forced receive buffer, non-blocking reads, and
// request/dump round trips with the replies handed to a callback.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

struct mnl_socket;
struct nlmsghdr;

namespace xdpflow {

class NetlinkSocket {
public:
  // bus: NETLINK_NETFILTER, NETLINK_ROUTE...; what names it in errors.
  NetlinkSocket(int bus, std::string what);
  ~NetlinkSocket();
  NetlinkSocket(const NetlinkSocket &) = delete;
  NetlinkSocket &operator=(const NetlinkSocket &) = delete;

  int fd() const;
  std::uint32_t portid() const { return portid_; }
  std::uint32_t next_seq() { return ++seq_; }

  void join_group(unsigned group);
  // SO_RCVBUFFORCE (root may exceed rmem_max), SO_RCVBUF as a fallback.
  // Returns the size the kernel reports afterwards.
  int set_rcvbuf(int bytes);
  void set_nonblocking();

  void send(const void *buf, std::size_t len);
  // One recv; returns bytes, 0 when a non-blocking socket has nothing, or
  // -errno for ENOBUFS (the caller decides what an overrun means).
  long recv(void *buf, std::size_t len);

  // Sends a request and feeds every reply message to on_msg until the kernel
  // says done (NLMSG_DONE, or the single reply/ack of a non-dump request).
  // Throws SysError on an error reply, unless it is in ignore_errno.
  using MsgCallback = std::function<void(const nlmsghdr *nlh, std::size_t len)>;
  void request(nlmsghdr *req, const MsgCallback &on_msg, int ignore_errno = 0);

private:
  mnl_socket *nl_ = nullptr;
  std::uint32_t portid_ = 0;
  std::uint32_t seq_;
  std::string what_;
};

} // namespace xdpflow
