#include "core/map_key.h"

#include <cstdint>
#include <cstring>

namespace xdpflow {
namespace {

xf_key_head head_of(const xf_flow_key &k) {
  xf_key_head h{};
  h.ifindex = k.ifindex;
  h.vlan_id[0] = k.encap.vlan_count >= 1 ? k.encap.vlan_id[0] : 0;
  h.vlan_id[1] = k.encap.vlan_count >= 2 ? k.encap.vlan_id[1] : 0;
  h.pppoe_sid = (k.encap.flags & XF_ENCAP_PPPOE) ? k.encap.pppoe_sid : 0;
  h.proto = k.proto;
  h.encap = XF_KEY_ENCAP(k.encap.vlan_count, k.encap.flags);
  return h;
}

xf_flow_key key_of(const xf_key_head &h, std::uint8_t family) {
  xf_flow_key k{};
  k.ifindex = h.ifindex;
  k.encap.vlan_count = XF_KEY_VLAN_COUNT(h.encap);
  k.encap.flags = XF_KEY_ENCAP_FLAGS(h.encap);
  k.encap.vlan_id[0] = h.vlan_id[0];
  k.encap.vlan_id[1] = h.vlan_id[1];
  k.encap.pppoe_sid = h.pppoe_sid;
  k.family = family;
  k.proto = h.proto;
  return k;
}

} // namespace

xf_flow_key4 to_map_key4(const xf_flow_key &key) {
  xf_flow_key4 k{};
  k.head = head_of(key);
  k.src = key.src[0];
  k.dst = key.dst[0];
  k.sport = key.sport;
  k.dport = key.dport;
  return k;
}

xf_flow_key6 to_map_key6(const xf_flow_key &key) {
  xf_flow_key6 k{};
  k.head = head_of(key);
  std::memcpy(k.src, key.src, sizeof(k.src));
  std::memcpy(k.dst, key.dst, sizeof(k.dst));
  k.sport = key.sport;
  k.dport = key.dport;
  return k;
}

xf_flow_key from_map_key(const xf_flow_key4 &m) {
  xf_flow_key k = key_of(m.head, XF_FAMILY_IPV4);
  k.src[0] = m.src;
  k.dst[0] = m.dst;
  k.sport = m.sport;
  k.dport = m.dport;
  return k;
}

xf_flow_key from_map_key(const xf_flow_key6 &m) {
  xf_flow_key k = key_of(m.head, XF_FAMILY_IPV6);
  std::memcpy(k.src, m.src, sizeof(k.src));
  std::memcpy(k.dst, m.dst, sizeof(k.dst));
  k.sport = m.sport;
  k.dport = m.dport;
  return k;
}

} // namespace xdpflow
