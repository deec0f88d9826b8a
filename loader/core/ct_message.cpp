#include "core/ct_message.h"

#include <arpa/inet.h>
#include <cstring>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include "core/netlink_attr.h"

namespace xdpflow {
namespace {

// Expected payload length per attribute type at one nesting level; 0 = any
// (nested or string: checked where read).
struct LenRule {
  int type;
  std::size_t len;
};

// The attributes of one nesting level, indexed by type, with wrong lengths
// rejected, so the readers below only see well-formed values. Unknown types
// are skipped (newer kernels add attributes).
template <int Max> struct AttrTable {
  const nlattr *at[Max + 1] = {};
};

struct Collector {
  const nlattr **at;
  int max;
  const LenRule *rules;
  std::size_t nrules;
  bool bad = false;
};

// False when the attribute's length breaks its rule.
bool collect(const nlattr *attr, Collector &c) {
  int type = nl::attr_type(attr);
  if (type > c.max)
    return true;
  for (std::size_t i = 0; i < c.nrules; i++)
    if (c.rules[i].type == type && c.rules[i].len && nl::attr_payload_len(attr) != c.rules[i].len) {
      c.bad = true;
      return false;
    }
  c.at[type] = attr;
  return true;
}

// Walks the attributes in [start, start+len) strictly: an attribute that
// runs past the end, or bytes left over that cannot be one, make the whole
// message malformed (libmnl's walk stops quietly at a short tail).
bool walk(const void *start, std::size_t len, Collector &c) {
  auto *p = static_cast<const std::uint8_t *>(start);
  std::size_t off = 0;
  while (off < len) {
    if (len - off < sizeof(nlattr))
      return false;
    auto *a = reinterpret_cast<const nlattr *>(p + off);
    if (a->nla_len < sizeof(nlattr) || a->nla_len > len - off)
      return false;
    if (!collect(a, c))
      return false;
    off += nl::align(a->nla_len);
  }
  return !c.bad;
}

template <int Max, std::size_t N>
bool parse_nested(const nlattr *nest, AttrTable<Max> &table, const LenRule (&rules)[N]) {
  Collector c{table.at, Max, rules, N};
  return walk(nl::attr_payload(nest), nl::attr_payload_len(nest), c);
}

constexpr LenRule tuple_rules[] = {{CTA_TUPLE_IP, 0}, {CTA_TUPLE_PROTO, 0}, {CTA_TUPLE_ZONE, 2}};
constexpr LenRule ip_rules[] = {
    {CTA_IP_V4_SRC, 4}, {CTA_IP_V4_DST, 4}, {CTA_IP_V6_SRC, 16}, {CTA_IP_V6_DST, 16}};
constexpr LenRule proto_rules[] = {
    {CTA_PROTO_NUM, 1}, {CTA_PROTO_SRC_PORT, 2}, {CTA_PROTO_DST_PORT, 2}};
constexpr LenRule protoinfo_rules[] = {{CTA_PROTOINFO_TCP, 0}};
constexpr LenRule tcp_rules[] = {{CTA_PROTOINFO_TCP_STATE, 1}};
constexpr LenRule help_rules[] = {{CTA_HELP_NAME, 0}};
constexpr LenRule top_rules[] = {
    {CTA_STATUS, 4}, {CTA_ZONE, 2}, {CTA_MARK, 4}, {CTA_ID, 4}, {CTA_TIMEOUT, 4}};

bool parse_tuple(const nlattr *nest, FlowTuple &t, std::uint16_t &zone, std::string &error) {
  AttrTable<CTA_TUPLE_MAX> tuple;
  if (!parse_nested(nest, tuple, tuple_rules)) {
    error = "bad tuple attribute";
    return false;
  }
  if (!tuple.at[CTA_TUPLE_IP] || !tuple.at[CTA_TUPLE_PROTO]) {
    error = "tuple without addresses or protocol";
    return false;
  }
  AttrTable<CTA_IP_MAX> ip;
  AttrTable<CTA_PROTO_MAX> proto;
  if (!parse_nested(tuple.at[CTA_TUPLE_IP], ip, ip_rules) ||
      !parse_nested(tuple.at[CTA_TUPLE_PROTO], proto, proto_rules)) {
    error = "bad tuple address or protocol attribute";
    return false;
  }
  if (ip.at[CTA_IP_V4_SRC] && ip.at[CTA_IP_V4_DST]) {
    t.src.family = t.dst.family = XF_FAMILY_IPV4;
    std::memcpy(t.src.bytes.data(), nl::attr_payload(ip.at[CTA_IP_V4_SRC]), 4);
    std::memcpy(t.dst.bytes.data(), nl::attr_payload(ip.at[CTA_IP_V4_DST]), 4);
  } else if (ip.at[CTA_IP_V6_SRC] && ip.at[CTA_IP_V6_DST]) {
    t.src.family = t.dst.family = XF_FAMILY_IPV6;
    std::memcpy(t.src.bytes.data(), nl::attr_payload(ip.at[CTA_IP_V6_SRC]), 16);
    std::memcpy(t.dst.bytes.data(), nl::attr_payload(ip.at[CTA_IP_V6_DST]), 16);
  } else {
    error = "tuple without a source and destination address";
    return false;
  }
  if (!proto.at[CTA_PROTO_NUM]) {
    error = "tuple without a protocol number";
    return false;
  }
  t.proto = nl::attr_u8(proto.at[CTA_PROTO_NUM]);
  if (proto.at[CTA_PROTO_SRC_PORT])
    t.sport = ntohs(nl::attr_u16(proto.at[CTA_PROTO_SRC_PORT]));
  if (proto.at[CTA_PROTO_DST_PORT])
    t.dport = ntohs(nl::attr_u16(proto.at[CTA_PROTO_DST_PORT]));
  if (tuple.at[CTA_TUPLE_ZONE])
    zone = ntohs(nl::attr_u16(tuple.at[CTA_TUPLE_ZONE]));
  return true;
}

CtParseResult malformed(std::string why) {
  CtParseResult r;
  r.status = CtParseStatus::Malformed;
  r.error = std::move(why);
  return r;
}

} // namespace

CtParseResult parse_ct_message(const nlmsghdr *nlh, std::size_t buf_len) {
  // Checked here, not as libmnl's mnl_nlmsg_ok() does: it compares (int)nlmsg_len, so a length of
  // 2^31 or more passes as negative and the walk below runs off the buffer (found by
  // tests/fuzz/fuzz_netlink.cpp).
  if (!nlh || buf_len < sizeof(nlmsghdr) || nlh->nlmsg_len < sizeof(nlmsghdr) ||
      nlh->nlmsg_len > buf_len)
    return malformed("truncated netlink message");
  if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
    return {CtParseStatus::NotConntrack, {}, {}};
  int msg = NFNL_MSG_TYPE(nlh->nlmsg_type);
  if (msg != IPCTNL_MSG_CT_NEW && msg != IPCTNL_MSG_CT_DELETE)
    return {CtParseStatus::NotConntrack, {}, {}};
  if (nl::payload_len(nlh) < sizeof(nfgenmsg))
    return malformed("conntrack message shorter than its nfgenmsg header");

  CtParseResult r;
  CtEvent &ev = r.event;
  if (msg == IPCTNL_MSG_CT_DELETE)
    ev.type = CtEventType::Destroy;
  else if ((nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) == (NLM_F_CREATE | NLM_F_EXCL))
    ev.type = CtEventType::New;
  else
    ev.type = CtEventType::Update;
  ev.from_dump = nlh->nlmsg_flags & NLM_F_MULTI;

  AttrTable<CTA_MAX> top;
  Collector c{top.at, CTA_MAX, top_rules, std::size(top_rules)};
  if (!walk(nl::payload(nlh, sizeof(nfgenmsg)), nl::payload_len(nlh) - nl::align(sizeof(nfgenmsg)),
            c))
    return malformed("bad conntrack attribute");
  if (!top.at[CTA_TUPLE_ORIG] || !top.at[CTA_TUPLE_REPLY])
    return malformed("conntrack message without both tuples");

  std::uint16_t zone_orig = 0, zone_reply = 0;
  if (!parse_tuple(top.at[CTA_TUPLE_ORIG], ev.orig, zone_orig, r.error) ||
      !parse_tuple(top.at[CTA_TUPLE_REPLY], ev.reply, zone_reply, r.error))
    return malformed("conntrack tuple: " + r.error);
  if (ev.orig.src.family != ev.reply.src.family || ev.orig.proto != ev.reply.proto)
    return malformed("original and reply tuples disagree on family or protocol");
  ev.zone = zone_orig ? zone_orig : zone_reply;
  if (top.at[CTA_ZONE])
    ev.zone = ntohs(nl::attr_u16(top.at[CTA_ZONE]));

  if (top.at[CTA_STATUS]) {
    ev.status = ntohl(nl::attr_u32(top.at[CTA_STATUS]));
    ev.has_status = true;
  }
  if (top.at[CTA_MARK])
    ev.mark = ntohl(nl::attr_u32(top.at[CTA_MARK]));
  if (top.at[CTA_ID])
    ev.id = ntohl(nl::attr_u32(top.at[CTA_ID]));
  if (top.at[CTA_TIMEOUT])
    ev.timeout = ntohl(nl::attr_u32(top.at[CTA_TIMEOUT]));
  ev.has_master = top.at[CTA_TUPLE_MASTER] != nullptr;

  if (top.at[CTA_PROTOINFO]) {
    AttrTable<CTA_PROTOINFO_MAX> pinfo;
    if (!parse_nested(top.at[CTA_PROTOINFO], pinfo, protoinfo_rules))
      return malformed("bad CTA_PROTOINFO");
    if (pinfo.at[CTA_PROTOINFO_TCP]) {
      AttrTable<CTA_PROTOINFO_TCP_MAX> tcp;
      if (!parse_nested(pinfo.at[CTA_PROTOINFO_TCP], tcp, tcp_rules))
        return malformed("bad CTA_PROTOINFO_TCP");
      if (tcp.at[CTA_PROTOINFO_TCP_STATE])
        ev.tcp_state = nl::attr_u8(tcp.at[CTA_PROTOINFO_TCP_STATE]);
    }
  }
  if (top.at[CTA_HELP]) {
    AttrTable<CTA_HELP_MAX> help;
    if (!parse_nested(top.at[CTA_HELP], help, help_rules))
      return malformed("bad CTA_HELP");
    if (help.at[CTA_HELP_NAME]) {
      if (!nl::attr_is_strz(help.at[CTA_HELP_NAME]))
        return malformed("CTA_HELP_NAME is not a string");
      ev.has_helper = true;
      ev.helper = static_cast<const char *>(nl::attr_payload(help.at[CTA_HELP_NAME]));
    }
  }
  r.status = CtParseStatus::Ok;
  return r;
}

void put_ct_tuple(nlmsghdr *nlh, std::uint16_t attr_type, const FlowTuple &t) {
  nlattr *tuple = nl::nest_start(nlh, attr_type);
  nlattr *ip = nl::nest_start(nlh, CTA_TUPLE_IP);
  if (t.src.family == XF_FAMILY_IPV4) {
    nl::put_attr(nlh, CTA_IP_V4_SRC, 4, t.src.bytes.data());
    nl::put_attr(nlh, CTA_IP_V4_DST, 4, t.dst.bytes.data());
  } else {
    nl::put_attr(nlh, CTA_IP_V6_SRC, 16, t.src.bytes.data());
    nl::put_attr(nlh, CTA_IP_V6_DST, 16, t.dst.bytes.data());
  }
  nl::nest_end(nlh, ip);
  nlattr *proto = nl::nest_start(nlh, CTA_TUPLE_PROTO);
  nl::put_u8(nlh, CTA_PROTO_NUM, t.proto);
  if (t.proto == IPPROTO_TCP || t.proto == IPPROTO_UDP) {
    nl::put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t.sport));
    nl::put_u16(nlh, CTA_PROTO_DST_PORT, htons(t.dport));
  }
  nl::nest_end(nlh, proto);
  nl::nest_end(nlh, tuple);
}

static nlmsghdr *put_ct_header(void *buf, std::uint16_t msg, std::uint16_t flags, std::uint32_t seq,
                               std::uint8_t family) {
  nlmsghdr *nlh = nl::put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  auto *nfg = static_cast<nfgenmsg *>(nl::put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

nlmsghdr *build_ct_dump_request(void *buf, std::uint32_t seq) {
  return put_ct_header(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq, AF_UNSPEC);
}

std::size_t build_ct_update(void *buf, std::uint32_t seq, const CtUpdate &update) {
  std::uint8_t family = update.orig.src.family == XF_FAMILY_IPV6 ? AF_INET6 : AF_INET;
  // NLM_F_ACK: an error (entry gone) comes back either way; asking for the
  // ack too would double the replies for nothing.
  nlmsghdr *nlh = put_ct_header(buf, IPCTNL_MSG_CT_NEW, 0, seq, family);
  put_ct_tuple(nlh, CTA_TUPLE_ORIG, update.orig);
  if (update.timeout_sec)
    nl::put_u32(nlh, CTA_TIMEOUT, htonl(*update.timeout_sec));
  if (update.be_liberal && update.orig.proto == IPPROTO_TCP) {
    // Also clear MAXACK_SET, as nf_flow_table does when it hands a flow
    // back (flow_offload_fixup_tcp): conntrack's last seen ACK is stale
    // after offloaded segments, and its RST check would otherwise keep the
    // entry ESTABLISHED after a valid RST (seq != stale td_maxack).
    nf_ct_tcp_flags flags{};
    flags.flags = IP_CT_TCP_FLAG_BE_LIBERAL;
    flags.mask = IP_CT_TCP_FLAG_BE_LIBERAL | IP_CT_TCP_FLAG_MAXACK_SET;
    nlattr *pinfo = nl::nest_start(nlh, CTA_PROTOINFO);
    nlattr *tcp = nl::nest_start(nlh, CTA_PROTOINFO_TCP);
    nl::put_attr(nlh, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(flags), &flags);
    nl::put_attr(nlh, CTA_PROTOINFO_TCP_FLAGS_REPLY, sizeof(flags), &flags);
    nl::nest_end(nlh, tcp);
    nl::nest_end(nlh, pinfo);
  }
  return nlh->nlmsg_len;
}

} // namespace xdpflow
