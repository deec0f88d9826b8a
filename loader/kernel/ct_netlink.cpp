#include "kernel/ct_netlink.h"

#include <cerrno>
#include <fstream>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <linux/netlink.h>
#include <sstream>

#include "core/error.h"

namespace xdpflow {
namespace {

constexpr int default_rcvbuf = 16 << 20;
constexpr int max_rcvbuf = 1 << 30;

void for_each_message(const std::uint8_t *buf, long n, const CtListener::OnMessage &on_msg) {
  int left = static_cast<int>(n);
  auto *nlh = reinterpret_cast<const nlmsghdr *>(buf);
  while (left > 0) {
    if (!mnl_nlmsg_ok(nlh, left)) {
      // A datagram whose last header lies about its length: one bad message.
      on_msg(parse_ct_message(nlh, static_cast<std::size_t>(left)));
      return;
    }
    if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
      on_msg(parse_ct_message(nlh, nlh->nlmsg_len));
    nlh = mnl_nlmsg_next(nlh, &left);
  }
}

} // namespace

CtListener::CtListener(int rcvbuf_bytes)
    : events_(NETLINK_NETFILTER, "conntrack events"), buf_(1 << 16) {
  rcvbuf_ = events_.set_rcvbuf(rcvbuf_bytes > 0 ? rcvbuf_bytes : default_rcvbuf);
  events_.join_group(NFNLGRP_CONNTRACK_NEW);
  events_.join_group(NFNLGRP_CONNTRACK_UPDATE);
  events_.join_group(NFNLGRP_CONNTRACK_DESTROY);
  events_.set_nonblocking();
}

CtListener::ReadResult CtListener::read(const OnMessage &on_msg, int max_datagrams) {
  for (int i = 0; i < max_datagrams; i++) {
    long n = events_.recv(buf_.data(), buf_.size());
    if (n == -ENOBUFS)
      return ReadResult::Overrun;
    if (n == 0)
      return ReadResult::Drained;
    for_each_message(buf_.data(), n, on_msg);
  }
  return ReadResult::More;
}

int CtListener::grow_buffer() {
  // In 64 bits: twice the maximum overflows a 32-bit long.
  rcvbuf_ = events_.set_rcvbuf(
      static_cast<int>(std::min<std::int64_t>(std::int64_t{2} * rcvbuf_, max_rcvbuf)));
  return rcvbuf_;
}

void CtListener::discard_queued() {
  for (;;) {
    long n = events_.recv(buf_.data(), buf_.size());
    if (n == 0)
      return;
  }
}

long CtListener::drops() const {
  std::ifstream in("/proc/net/netlink");
  std::string line;
  std::getline(in, line); // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk;
    // Pid is a 32-bit port id printed unsigned (>= 2^31 for kernel-assigned
    // ids), Groups 32 bits in hex: neither fits a 32-bit long.
    int eth;
    std::uint32_t pid;
    std::uint64_t groups;
    long rmem, wmem, dump, locks, drops;
    if (f >> sk >> eth >> pid >> std::hex >> groups >> std::dec >> rmem >> wmem >> dump >> locks >>
        drops) {
      if (eth == NETLINK_NETFILTER && pid == events_.portid())
        return drops;
    }
  }
  return -1;
}

void CtListener::dump(const OnMessage &on_msg) {
  NetlinkSocket sock(NETLINK_NETFILTER, "conntrack dump");
  sock.set_rcvbuf(default_rcvbuf);
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr *nlh = build_ct_dump_request(req.data(), 0);
  sock.request(nlh,
               [&](const nlmsghdr *msg, std::size_t len) { on_msg(parse_ct_message(msg, len)); });
}

NetlinkConntrackWriter::NetlinkConntrackWriter()
    : sock_(NETLINK_NETFILTER, "conntrack updates"), out_(1 << 16), in_(1 << 16) {
  sock_.set_nonblocking();
}

void NetlinkConntrackWriter::update(const CtUpdate &update) {
  queue_.push_back(update);
}

void NetlinkConntrackWriter::flush() {
  std::size_t used = 0;
  auto send_batch = [&] {
    if (used) {
      sock_.send(out_.data(), used);
      used = 0;
      drain_replies();
    }
  };
  for (const auto &u : queue_) {
    if (out_.size() - used < ct_update_max_size())
      send_batch();
    used += MNL_ALIGN(build_ct_update(out_.data() + used, sock_.next_seq(), u));
    sent_++;
  }
  send_batch();
  queue_.clear();
}

void NetlinkConntrackWriter::drain_replies() {
  for (;;) {
    long n = sock_.recv(in_.data(), in_.size());
    if (n <= 0) // nothing more, or replies lost to ENOBUFS (not fatal)
      return;
    int left = static_cast<int>(n);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(in_.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left))
      if (nlh->nlmsg_type == NLMSG_ERROR &&
          static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh))->error != 0)
        failed_++;
  }
}

} // namespace xdpflow
