#include "core/flow_report.h"

#include <algorithm>
#include <map>
#include <netinet/in.h>
#include <tuple>

#include "core/json.h"
#include "core/table.h"

namespace xdpflow {

namespace {

FlowDirection direction_of(const FlowEntry &e) {
  FlowDirection d;
  d.tuple = tuple_of(e.key);
  d.in_ifindex = e.key.ifindex;
  const auto &a = e.value.action;
  d.out_ifindex = a.egress_ifindex;
  d.nat = a.nat;
  d.new_src = IpAddr::from_words(e.key.family, a.new_src);
  d.new_dst = IpAddr::from_words(e.key.family, a.new_dst);
  d.new_sport = ntohs(a.new_sport);
  d.new_dport = ntohs(a.new_dport);
  d.packets = e.value.packets;
  d.bytes = e.value.bytes;
  d.last_seen_ns = e.value.last_seen_ns;
  d.flags = e.value.flags;
  return d;
}

std::string endpoint(const IpAddr &a, std::uint16_t port) {
  std::string s = a.family == XF_FAMILY_IPV6 ? "[" + a.to_string() + "]" : a.to_string();
  return s + ":" + std::to_string(port);
}

// "src 198.19.0.1:40000" / "dst ..." / both, or "-" without NAT.
std::string nat_text(const FlowDirection &d) {
  const FlowTuple w = rewritten(d);
  std::string out;
  if (d.nat & (XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT))
    out += "snat " + endpoint(w.src, w.sport);
  if (d.nat & (XF_NAT_DST_ADDR | XF_NAT_DST_PORT))
    out += std::string(out.empty() ? "" : " ") + "dnat " + endpoint(w.dst, w.dport);
  return out.empty() ? "-" : out;
}

} // namespace

std::uint64_t Connection::packets() const {
  return original.packets + (reply ? reply->packets : 0);
}
std::uint64_t Connection::bytes() const {
  return original.bytes + (reply ? reply->bytes : 0);
}
std::uint64_t Connection::last_seen_ns() const {
  return std::max(original.last_seen_ns, reply ? reply->last_seen_ns : 0);
}

FlowTuple rewritten(const FlowDirection &d) {
  FlowTuple t = d.tuple;
  if (d.nat & XF_NAT_SRC_ADDR)
    t.src = d.new_src;
  if (d.nat & XF_NAT_DST_ADDR)
    t.dst = d.new_dst;
  if (d.nat & XF_NAT_SRC_PORT)
    t.sport = d.new_sport;
  if (d.nat & XF_NAT_DST_PORT)
    t.dport = d.new_dport;
  return t;
}

std::vector<Connection> pair_connections(const std::vector<FlowEntry> &entries) {
  // Reply entries by (ingress ifindex, tuple), consumed as they pair.
  std::map<std::pair<std::uint32_t, FlowTuple>, std::size_t> replies;
  for (std::size_t i = 0; i < entries.size(); i++)
    if (entries[i].value.action.direction == XF_DIR_REPLY)
      replies.emplace(std::make_pair(entries[i].key.ifindex, tuple_of(entries[i].key)), i);

  std::vector<Connection> conns;
  for (const auto &e : entries) {
    if (e.value.action.direction == XF_DIR_REPLY)
      continue;
    Connection c;
    c.original = direction_of(e);
    auto it = replies.find({c.original.out_ifindex, reversed(rewritten(c.original))});
    if (it != replies.end()) {
      c.reply = direction_of(entries[it->second]);
      replies.erase(it);
    }
    conns.push_back(std::move(c));
  }
  for (const auto &[key, index] : replies) { // replies whose original is missing
    Connection c;
    c.original = direction_of(entries[index]);
    c.original_is_reply_entry = true;
    conns.push_back(std::move(c));
  }
  return conns;
}

void sort_connections(std::vector<Connection> &conns, FlowSort by, std::size_t top) {
  auto tie = [](const Connection &c) { return std::tie(c.original.tuple, c.original.in_ifindex); };
  std::stable_sort(conns.begin(), conns.end(), [&](const Connection &a, const Connection &b) {
    switch (by) {
    case FlowSort::Packets:
      if (a.packets() != b.packets())
        return a.packets() > b.packets();
      break;
    case FlowSort::Bytes:
      if (a.bytes() != b.bytes())
        return a.bytes() > b.bytes();
      break;
    case FlowSort::Idle:
      if (a.last_seen_ns() != b.last_seen_ns())
        return a.last_seen_ns() > b.last_seen_ns();
      break;
    }
    return tie(a) < tie(b);
  });
  if (top && conns.size() > top)
    conns.resize(top);
}

std::string direction_hook_name(std::uint32_t flags, bool ingress_xdp, bool ingress_tc) {
  // XDP runs first and forwards what has no TC_ONLY flag; what it passes
  // (or all, without XDP) meets the TC program if the ingress has one.
  if (ingress_xdp && !(flags & XF_FLOW_TC_ONLY))
    return "xdp";
  return ingress_tc ? "tc" : "kernel";
}

void annotate_hooks(std::vector<Connection> &conns, const IngressHooks &hooks) {
  auto set = [&](FlowDirection &d) {
    auto [xdp, tc] = hooks(d.in_ifindex);
    d.hook = direction_hook_name(d.flags, xdp, tc);
  };
  for (auto &c : conns) {
    set(c.original);
    if (c.reply)
      set(*c.reply);
  }
}

std::string proto_name(std::uint8_t proto) {
  if (proto == IPPROTO_TCP)
    return "tcp";
  if (proto == IPPROTO_UDP)
    return "udp";
  return std::to_string(proto);
}

std::optional<std::uint64_t> idle_seconds(std::uint64_t last_seen_ns, std::uint64_t now_ns) {
  if (last_seen_ns == 0)
    return std::nullopt;
  return now_ns > last_seen_ns ? (now_ns - last_seen_ns) / 1000000000ull : 0;
}

std::string flows_table(const std::vector<Connection> &conns, const IfName &ifname,
                        std::uint64_t now_ns) {
  using A = TextTable::Align;
  TextTable t({{"PROTO"},
               {"ORIGINAL"},
               {"NAT"},
               {"IN"},
               {"OUT"},
               {"HOOK"},
               {"PACKETS", A::Right},
               {"BYTES", A::Right},
               {"IDLE", A::Right}});
  for (const auto &c : conns) {
    const auto &o = c.original;
    auto idle = idle_seconds(c.last_seen_ns(), now_ns);
    std::string orig =
        endpoint(o.tuple.src, o.tuple.sport) + " -> " + endpoint(o.tuple.dst, o.tuple.dport);
    if (c.original_is_reply_entry)
      orig += " (reply only)";
    else if (!c.reply)
      orig += " (original only)";
    std::string hooks = o.hook.empty() ? "-" : o.hook;
    if (c.reply && !c.reply->hook.empty())
      hooks += "/" + c.reply->hook; // original/reply
    t.add_row({proto_name(o.tuple.proto), orig, nat_text(o), ifname(o.in_ifindex),
               ifname(o.out_ifindex), hooks, std::to_string(c.packets()), std::to_string(c.bytes()),
               idle ? human_duration(*idle) : "never"});
  }
  std::string out = conns.empty() ? std::string() : t.render();
  out += std::to_string(conns.size()) + (conns.size() == 1 ? " connection" : " connections") +
         " offloaded\n";
  return out;
}

namespace {
void direction_json(JsonWriter &j, const FlowDirection &d, const IfName &ifname,
                    std::uint64_t now_ns) {
  j.begin_object();
  j.field("src", d.tuple.src.to_string());
  j.field("dst", d.tuple.dst.to_string());
  j.field("sport", unsigned{d.tuple.sport});
  j.field("dport", unsigned{d.tuple.dport});
  j.field("in", ifname(d.in_ifindex));
  j.field("in_ifindex", unsigned{d.in_ifindex});
  j.field("out", ifname(d.out_ifindex));
  j.field("out_ifindex", unsigned{d.out_ifindex});
  j.key("nat").begin_object();
  const FlowTuple w = rewritten(d);
  if (d.nat & XF_NAT_SRC_ADDR)
    j.field("src", w.src.to_string());
  if (d.nat & XF_NAT_SRC_PORT)
    j.field("sport", unsigned{w.sport});
  if (d.nat & XF_NAT_DST_ADDR)
    j.field("dst", w.dst.to_string());
  if (d.nat & XF_NAT_DST_PORT)
    j.field("dport", unsigned{w.dport});
  j.end_object();
  if (!d.hook.empty())
    j.field("hook", d.hook);
  j.field("packets", d.packets);
  j.field("bytes", d.bytes);
  j.key("idle_sec");
  if (auto idle = idle_seconds(d.last_seen_ns, now_ns))
    j.value(*idle);
  else
    j.null();
  j.end_object();
}
} // namespace

std::string flows_json(const std::vector<Connection> &conns, const IfName &ifname,
                       std::uint64_t now_ns) {
  JsonWriter j;
  j.begin_object().key("flows").begin_array();
  for (const auto &c : conns) {
    const auto &o = c.original;
    j.begin_object();
    j.field("proto", proto_name(o.tuple.proto));
    j.field("family", o.tuple.src.family == XF_FAMILY_IPV6 ? "ipv6" : "ipv4");
    j.key(c.original_is_reply_entry ? "reply" : "original");
    direction_json(j, o, ifname, now_ns);
    if (!c.original_is_reply_entry) {
      j.key("reply");
      if (c.reply)
        direction_json(j, *c.reply, ifname, now_ns);
      else
        j.null();
    } else {
      j.key("original").null();
    }
    j.field("packets", c.packets());
    j.field("bytes", c.bytes());
    j.key("idle_sec");
    if (auto idle = idle_seconds(c.last_seen_ns(), now_ns))
      j.value(*idle);
    else
      j.null();
    j.end_object();
  }
  j.end_array();
  j.field("count", std::uint64_t{conns.size()});
  j.end_object();
  return j.str() + "\n";
}

} // namespace xdpflow
