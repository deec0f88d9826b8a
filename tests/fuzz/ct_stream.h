// Conntrack netlink messages written back from a parsed CtEvent, with the
// loader's own put_ct_tuple: the netlink fuzzer's round trip (parse, write,
// parse again: same event) and its seed generator share it.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <vector>

#include "core/ct_message.h"
#include "core/netlink_attr.h"

namespace xdpflow::fuzz {

// Appends one message describing ev (as the kernel would send it) to out.
inline void append_ct_message(std::vector<std::uint8_t> &out, const CtEvent &ev) {
  std::vector<std::uint8_t> buf(8192 + ev.helper.size());
  nlmsghdr *nlh = nl::put_header(buf.data());
  bool destroy = ev.type == CtEventType::Destroy;
  nlh->nlmsg_type =
      (NFNL_SUBSYS_CTNETLINK << 8) | (destroy ? IPCTNL_MSG_CT_DELETE : IPCTNL_MSG_CT_NEW);
  nlh->nlmsg_flags =
      static_cast<std::uint16_t>((ev.type == CtEventType::New ? NLM_F_CREATE | NLM_F_EXCL : 0) |
                                 (ev.from_dump ? NLM_F_MULTI : 0));
  auto *nfg = static_cast<nfgenmsg *>(nl::put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = ev.orig.src.family == XF_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  nfg->version = NFNETLINK_V0;
  put_ct_tuple(nlh, CTA_TUPLE_ORIG, ev.orig);
  put_ct_tuple(nlh, CTA_TUPLE_REPLY, ev.reply);
  if (ev.has_master)
    put_ct_tuple(nlh, CTA_TUPLE_MASTER, ev.orig);
  if (ev.has_status)
    nl::put_u32(nlh, CTA_STATUS, htonl(ev.status));
  if (ev.tcp_state) {
    nlattr *p = nl::nest_start(nlh, CTA_PROTOINFO);
    nlattr *t = nl::nest_start(nlh, CTA_PROTOINFO_TCP);
    nl::put_u8(nlh, CTA_PROTOINFO_TCP_STATE, *ev.tcp_state);
    nl::nest_end(nlh, t);
    nl::nest_end(nlh, p);
  }
  if (ev.zone)
    nl::put_u16(nlh, CTA_ZONE, htons(ev.zone));
  if (ev.mark)
    nl::put_u32(nlh, CTA_MARK, htonl(ev.mark));
  if (ev.has_helper) {
    nlattr *h = nl::nest_start(nlh, CTA_HELP);
    nl::put_strz(nlh, CTA_HELP_NAME, ev.helper.c_str());
    nl::nest_end(nlh, h);
  }
  if (ev.id)
    nl::put_u32(nlh, CTA_ID, htonl(ev.id));
  if (ev.timeout)
    nl::put_u32(nlh, CTA_TIMEOUT, htonl(*ev.timeout));
  out.insert(out.end(), buf.begin(), buf.begin() + nlh->nlmsg_len);
}

} // namespace xdpflow::fuzz
