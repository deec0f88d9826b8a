// Creates and deletes conntrack entries over netlink in bulk (what
// `conntrack -I/-D` does, without a process per entry), for the control-plane
// tests, the offload-rate tool and the benchmark. Entries look like a
// masqueraded TCP connection or UDP stream: client:port -> server:dport,
// reply server:dport -> wan:port. The source NAT is real (CTA_NAT_SRC, as
// `conntrack -I --src-nat` sends it): the kernel rewrites the connection's
// later packets by the entry, so packets sent for it (ct_traffic.h) cross the
// gateway exactly as a masqueraded connection's do, and the egress observer
// learns them.
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <vector>

#include "core/ct_message.h"
#include "core/error.h"
#include "kernel/netlink_socket.h"

namespace xdpflow::testing {

struct InjectedFlow {
  FlowTuple orig, reply;
  // true: an established connection (ASSURED, replies seen). false: one
  // that saw no reply yet (neither flag): conntrack does not assure it while
  // only its original direction sends, so it stays off the fast path.
  bool assured = true;
};

class CtInjector {
public:
  CtInjector() : sock_(NETLINK_NETFILTER, "conntrack injection"), buf_(1 << 16), in_(1 << 16) {
    sock_.set_rcvbuf(8 << 20);
    sock_.set_nonblocking();
  }

  // Queues a create (IPCTNL_MSG_CT_NEW, NLM_F_CREATE|NLM_F_EXCL).
  void create(const InjectedFlow &f, std::uint32_t timeout_sec = 600) {
    nlmsghdr *nlh = begin(IPCTNL_MSG_CT_NEW, NLM_F_CREATE | NLM_F_EXCL, f.orig);
    put_ct_tuple(nlh, CTA_TUPLE_ORIG, f.orig);
    // The reply tuple as if nothing were translated, and the translation
    // as a NAT binding: the kernel derives the translated reply tuple from
    // it and marks the entry SRC_NAT, so it rewrites the packets. (Given the
    // translated reply tuple instead, the kernel keeps it but translates
    // nothing: the packets would leave with the LAN address.)
    put_ct_tuple(nlh, CTA_TUPLE_REPLY, reversed(f.orig));
    if (f.reply.dst != f.orig.src || f.reply.dport != f.orig.sport)
      put_src_nat(nlh, f.reply.dst, f.reply.dport);
    // CONFIRMED as `conntrack -I` sends it: the kernel refuses (EBUSY) a
    // status that would clear it.
    std::uint32_t status = IPS_CONFIRMED | (f.assured ? IPS_SEEN_REPLY | IPS_ASSURED : 0);
    mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
    mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(timeout_sec));
    if (f.orig.proto == IPPROTO_TCP) {
      nlattr *p = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
      nlattr *t = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
      mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
      mnl_attr_nest_end(nlh, t);
      mnl_attr_nest_end(nlh, p);
    }
    end(nlh);
  }

  void remove(const InjectedFlow &f) {
    nlmsghdr *nlh = begin(IPCTNL_MSG_CT_DELETE, 0, f.orig);
    put_ct_tuple(nlh, CTA_TUPLE_ORIG, f.orig);
    end(nlh);
  }

  // Sends what is queued; returns how many requests the kernel refused.
  std::size_t flush() {
    send();
    return errors_;
  }

private:
  // CTA_NAT_SRC: source address and port translated to exactly addr:port.
  static void put_src_nat(nlmsghdr *nlh, const IpAddr &addr, std::uint16_t port) {
    nlattr *nat = mnl_attr_nest_start(nlh, CTA_NAT_SRC);
    if (addr.family == XF_FAMILY_IPV4) {
      mnl_attr_put(nlh, CTA_NAT_V4_MINIP, 4, addr.bytes.data());
      mnl_attr_put(nlh, CTA_NAT_V4_MAXIP, 4, addr.bytes.data());
    } else {
      mnl_attr_put(nlh, CTA_NAT_V6_MINIP, 16, addr.bytes.data());
      mnl_attr_put(nlh, CTA_NAT_V6_MAXIP, 16, addr.bytes.data());
    }
    nlattr *proto = mnl_attr_nest_start(nlh, CTA_NAT_PROTO);
    mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MIN, htons(port));
    mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MAX, htons(port));
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, nat);
  }

  nlmsghdr *begin(std::uint16_t msg, std::uint16_t flags, const FlowTuple &t) {
    if (buf_.size() - used_ < 512)
      send();
    nlmsghdr *nlh = mnl_nlmsg_put_header(buf_.data() + used_);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = sock_.next_seq();
    auto *nfg = static_cast<nfgenmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = t.src.family == XF_FAMILY_IPV6 ? AF_INET6 : AF_INET;
    nfg->version = NFNETLINK_V0;
    return nlh;
  }
  void end(nlmsghdr *nlh) { used_ += MNL_ALIGN(nlh->nlmsg_len); }
  void send() {
    if (!used_)
      return;
    sock_.send(buf_.data(), used_);
    used_ = 0;
    for (;;) {
      long n = sock_.recv(in_.data(), in_.size());
      if (n <= 0)
        break;
      int left = static_cast<int>(n);
      for (auto *nlh = reinterpret_cast<const nlmsghdr *>(in_.data()); mnl_nlmsg_ok(nlh, left);
           nlh = mnl_nlmsg_next(nlh, &left))
        if (nlh->nlmsg_type == NLMSG_ERROR &&
            static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh))->error != 0) {
          if (!errors_++)
            first_error_ = -static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh))->error;
        }
    }
  }

  NetlinkSocket sock_;
  std::vector<std::uint8_t> buf_, in_;
  std::size_t used_ = 0;
  std::size_t errors_ = 0;
  int first_error_ = 0;

public:
  // errno of the first refused request (0: none).
  int first_error() const { return first_error_; }
};

// The i-th synthetic masqueraded flow between client and server.
inline InjectedFlow synthetic_flow(const IpAddr &client, const IpAddr &server, const IpAddr &wan,
                                   std::uint32_t i, std::uint8_t proto = IPPROTO_TCP,
                                   bool assured = true) {
  InjectedFlow f;
  std::uint16_t cport = static_cast<std::uint16_t>(1024 + i % 64000);
  std::uint16_t sport = static_cast<std::uint16_t>(10000 + i / 64000);
  f.orig = {client, server, cport, sport, proto};
  f.reply = {server, wan, sport, cport, proto};
  f.assured = assured;
  return f;
}

} // namespace xdpflow::testing
