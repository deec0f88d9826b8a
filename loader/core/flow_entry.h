// A connection's two flow-table entries, built from conntrack's tuples and
// read back: everything the control plane knows about an offloaded
// connection is derivable from either of its entries (the table is the
// state, as in nf_flow_table), so it keeps nothing per offloaded connection.
//
// Symmetric routing, as nf_flow_table assumes: a packet of the original
// direction arrives on the interface the reply leaves through, and vice
// versa. So an entry's action (egress interface and encapsulation, NAT)
// names its partner's key.
#pragma once

#include <array>
#include <cstdint>

#include "core/flow_key.h"

namespace xdpflow {

// How packets leave towards one destination: the route's output interface,
// the MACs to write and the L3 MTU.
struct Egress {
  std::uint32_t ifindex = 0;
  std::array<std::uint8_t, 6> src_mac{}; // the output interface's MAC
  std::array<std::uint8_t, 6> dst_mac{}; // the next hop's MAC
  std::uint16_t mtu = 1500;
  xf_encap encap{};
  bool operator==(const Egress &) const = default;
};

// Both entries of a connection, indexed by enum xf_direction.
struct FlowEntries {
  xf_flow_key keys[2];
  xf_flow_action actions[2];
};

// orig/reply: conntrack's tuples (the reply tuple is the reply as it
// arrives, so the original direction leaves as reversed(reply));
// eg_orig/eg_reply: where each direction leaves.
FlowEntries make_flow_entries(const FlowTuple &orig, const FlowTuple &reply, const Egress &eg_orig,
                              const Egress &eg_reply);

// The key's tuple after the action's NAT: the packet as it leaves.
FlowTuple translated_tuple(const xf_flow_key &key, const xf_flow_action &action);
// The other direction's key: it arrives where this one leaves, with the
// encapsulation this one leaves with, as the reversed translated tuple.
xf_flow_key partner_key(const xf_flow_key &key, const xf_flow_action &action);
// Conntrack's original and reply tuples of the entry's connection.
FlowTuple original_tuple(const xf_flow_key &key, const xf_flow_action &action);
FlowTuple reply_tuple(const xf_flow_key &key, const xf_flow_action &action);

// A well-mixed 64-bit hash of a tuple, never 0: compact per-connection
// records (idle connections, resync confirmations) and the keepalive's
// spreading of refreshes over passes use it instead of the tuple.
std::uint64_t tuple_hash(const FlowTuple &t);

// Conntrack ids tell entries with the same tuples apart over time; 0 means
// unknown (no CTA_ID) and matches anything.
inline bool same_connection(std::uint32_t ct_id_a, std::uint32_t ct_id_b) {
  return ct_id_a == ct_id_b || ct_id_a == 0 || ct_id_b == 0;
}
// The entry is the given direction of the connection with that id.
inline bool belongs_to(const xf_flow_value &v, std::uint8_t direction, std::uint32_t ct_id) {
  return v.action.direction == direction && same_connection(v.ct_id, ct_id);
}

bool same_key(const xf_flow_key &a, const xf_flow_key &b);
bool same_action(const xf_flow_action &a, const xf_flow_action &b);

} // namespace xdpflow
