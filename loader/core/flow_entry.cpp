#include "core/flow_entry.h"

#include <arpa/inet.h>
#include <cstring>

namespace xdpflow {
namespace {

// The rewrite that turns `in` (as it arrives) into `out` (as it leaves).
xf_flow_action make_action(const FlowTuple &in, const FlowTuple &out, const Egress &eg,
                           std::uint8_t direction) {
  xf_flow_action a{};
  a.egress_ifindex = eg.ifindex;
  a.mtu = eg.mtu;
  a.direction = direction;
  a.encap = eg.encap;
  std::memcpy(a.src_mac, eg.src_mac.data(), 6);
  std::memcpy(a.dst_mac, eg.dst_mac.data(), 6);
  if (out.src != in.src) {
    a.nat |= XF_NAT_SRC_ADDR;
    out.src.to_words(a.new_src);
  }
  if (out.dst != in.dst) {
    a.nat |= XF_NAT_DST_ADDR;
    out.dst.to_words(a.new_dst);
  }
  if (out.sport != in.sport) {
    a.nat |= XF_NAT_SRC_PORT;
    a.new_sport = htons(out.sport);
  }
  if (out.dport != in.dport) {
    a.nat |= XF_NAT_DST_PORT;
    a.new_dport = htons(out.dport);
  }
  return a;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w * 0x9e3779b97f4a7c15ull;
  h = (h << 27) | (h >> 37);
  return h * 0xbf58476d1ce4e5b9ull + 0x94d049bb133111ebull;
}

} // namespace

FlowEntries make_flow_entries(const FlowTuple &orig, const FlowTuple &reply, const Egress &eg_orig,
                              const Egress &eg_reply) {
  FlowEntries e;
  e.keys[XF_DIR_ORIGINAL] = make_flow_key(eg_reply.ifindex, eg_reply.encap, orig);
  e.keys[XF_DIR_REPLY] = make_flow_key(eg_orig.ifindex, eg_orig.encap, reply);
  e.actions[XF_DIR_ORIGINAL] = make_action(orig, reversed(reply), eg_orig, XF_DIR_ORIGINAL);
  e.actions[XF_DIR_REPLY] = make_action(reply, reversed(orig), eg_reply, XF_DIR_REPLY);
  return e;
}

FlowTuple translated_tuple(const xf_flow_key &key, const xf_flow_action &a) {
  FlowTuple t = tuple_of(key);
  if (a.nat & XF_NAT_SRC_ADDR)
    t.src = IpAddr::from_words(key.family, a.new_src);
  if (a.nat & XF_NAT_DST_ADDR)
    t.dst = IpAddr::from_words(key.family, a.new_dst);
  if (a.nat & XF_NAT_SRC_PORT)
    t.sport = ntohs(a.new_sport);
  if (a.nat & XF_NAT_DST_PORT)
    t.dport = ntohs(a.new_dport);
  return t;
}

xf_flow_key partner_key(const xf_flow_key &key, const xf_flow_action &action) {
  return make_flow_key(action.egress_ifindex, action.encap,
                       reversed(translated_tuple(key, action)));
}

FlowTuple original_tuple(const xf_flow_key &key, const xf_flow_action &action) {
  if (action.direction == XF_DIR_REPLY)
    return reversed(translated_tuple(key, action));
  return tuple_of(key);
}

FlowTuple reply_tuple(const xf_flow_key &key, const xf_flow_action &action) {
  if (action.direction == XF_DIR_REPLY)
    return tuple_of(key);
  return reversed(translated_tuple(key, action));
}

std::uint64_t tuple_hash(const FlowTuple &t) {
  std::uint64_t w[4];
  std::memcpy(&w[0], t.src.bytes.data(), 16);
  std::memcpy(&w[2], t.dst.bytes.data(), 16);
  std::uint64_t h = mix(0x243f6a8885a308d3ull, w[0]);
  h = mix(h, w[1]);
  h = mix(h, w[2]);
  h = mix(h, w[3]);
  h = mix(h, std::uint64_t{t.sport} | std::uint64_t{t.dport} << 16 | std::uint64_t{t.proto} << 32 |
                 std::uint64_t{t.src.family} << 40);
  // splitmix64's finaliser: every input bit reaches every output bit.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h ? h : 1;
}

bool same_key(const xf_flow_key &a, const xf_flow_key &b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

bool same_action(const xf_flow_action &a, const xf_flow_action &b) {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

} // namespace xdpflow
