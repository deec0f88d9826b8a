// Conntrack netlink messages built in memory (core/netlink_attr), as the kernel
// would send them (events and dump replies), for the parser and FlowSync
// tests.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <vector>

#include "core/ct_message.h"
#include "core/netlink_attr.h"

namespace xdpflow::testing {

inline FlowTuple tuple(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport,
                       std::uint8_t proto = IPPROTO_TCP) {
  FlowTuple t;
  t.src = *IpAddr::parse(src);
  t.dst = *IpAddr::parse(dst);
  t.sport = sport;
  t.dport = dport;
  t.proto = proto;
  return t;
}

struct CtMsg {
  enum Kind { New, Update, Destroy, DumpEntry } kind = Update;
  FlowTuple orig, reply;
  std::optional<std::uint32_t> status = IPS_CONFIRMED | IPS_ASSURED | IPS_SEEN_REPLY;
  std::optional<std::uint8_t> tcp_state = TCP_CONNTRACK_ESTABLISHED;
  std::uint16_t zone = 0;
  std::uint32_t mark = 0;
  std::string helper;
  std::optional<FlowTuple> master;
  std::uint32_t id = 0;
  std::optional<std::uint32_t> timeout = 120;

  // A NATed or plain flow: reply defaults to the reversed original.
  static CtMsg flow(const FlowTuple &orig, std::optional<FlowTuple> reply = std::nullopt) {
    CtMsg m;
    m.orig = orig;
    m.reply = reply ? *reply : reversed(orig);
    if (orig.proto != IPPROTO_TCP)
      m.tcp_state.reset();
    return m;
  }

  std::vector<std::uint8_t> bytes() const {
    std::vector<std::uint8_t> buf(8192);
    nlmsghdr *nlh = nl::put_header(buf.data());
    int msg = kind == Destroy ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW;
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
    nlh->nlmsg_flags = kind == New         ? NLM_F_CREATE | NLM_F_EXCL
                       : kind == DumpEntry ? NLM_F_MULTI
                                           : 0;
    auto *nfg = static_cast<nfgenmsg *>(nl::put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = orig.src.family == XF_FAMILY_IPV6 ? AF_INET6 : AF_INET;
    nfg->version = NFNETLINK_V0;
    put_ct_tuple(nlh, CTA_TUPLE_ORIG, orig);
    put_ct_tuple(nlh, CTA_TUPLE_REPLY, reply);
    if (master)
      put_ct_tuple(nlh, CTA_TUPLE_MASTER, *master);
    if (status)
      nl::put_u32(nlh, CTA_STATUS, htonl(*status));
    if (tcp_state) {
      nlattr *p = nl::nest_start(nlh, CTA_PROTOINFO);
      nlattr *t = nl::nest_start(nlh, CTA_PROTOINFO_TCP);
      nl::put_u8(nlh, CTA_PROTOINFO_TCP_STATE, *tcp_state);
      nl::nest_end(nlh, t);
      nl::nest_end(nlh, p);
    }
    if (zone)
      nl::put_u16(nlh, CTA_ZONE, htons(zone));
    if (mark)
      nl::put_u32(nlh, CTA_MARK, htonl(mark));
    if (!helper.empty()) {
      nlattr *h = nl::nest_start(nlh, CTA_HELP);
      nl::put_strz(nlh, CTA_HELP_NAME, helper.c_str());
      nl::nest_end(nlh, h);
    }
    if (id)
      nl::put_u32(nlh, CTA_ID, htonl(id));
    if (timeout && kind != Destroy)
      nl::put_u32(nlh, CTA_TIMEOUT, htonl(*timeout));
    buf.resize(nlh->nlmsg_len);
    return buf;
  }

  CtEvent event() const {
    auto b = bytes();
    auto r = parse_ct_message(reinterpret_cast<const nlmsghdr *>(b.data()), b.size());
    if (r.status != CtParseStatus::Ok)
      throw std::runtime_error("test message does not parse: " + r.error);
    return r.event;
  }
};

} // namespace xdpflow::testing
