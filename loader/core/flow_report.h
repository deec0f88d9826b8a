// `xdpflow flows`: the flow table's entries paired back into connections
// (original + reply direction, matched through the NAT rewrite, as
// `conntrack -L` shows them), sorted, and formatted as a table or JSON. Pure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/flow_key.h"
#include "xdpflow/flow.h"

namespace xdpflow {

struct FlowEntry {
  xf_flow_key key;
  xf_flow_value value;
};

struct FlowDirection {
  FlowTuple tuple; // as it arrives on `in_ifindex`
  std::uint32_t in_ifindex = 0, out_ifindex = 0;
  std::uint8_t nat = 0; // enum xf_nat_flags
  IpAddr new_src, new_dst;
  std::uint16_t new_sport = 0, new_dport = 0; // host order
  std::uint64_t packets = 0, bytes = 0, last_seen_ns = 0;
  std::uint32_t flags = 0; // xf_flow_value.flags
  // What forwards it: "xdp", "tc" or "kernel" (set by the caller, who knows
  // the interfaces' hooks: direction_hook_name); empty: not shown.
  std::string hook;
};

// The hook that forwards a direction: its entry's flags and what runs on
// its ingress (the interface's XDP program, the TC program on its ingress).
std::string direction_hook_name(std::uint32_t flags, bool ingress_xdp, bool ingress_tc);

struct Connection {
  // The original direction, or the only direction present (an entry whose
  // partner is missing, e.g. being inserted or removed right now).
  FlowDirection original;
  std::optional<FlowDirection> reply;
  bool original_is_reply_entry = false; // only a reply-direction entry was found

  std::uint64_t packets() const;
  std::uint64_t bytes() const;
  std::uint64_t last_seen_ns() const; // latest of both directions; 0: never hit
};

// The tuple a direction leaves with after its NAT rewrite.
FlowTuple rewritten(const FlowDirection &d);

// Pairs entries: the reply entry of a connection is keyed on the egress
// interface of the original with the reversed, rewritten tuple.
std::vector<Connection> pair_connections(const std::vector<FlowEntry> &entries);

enum class FlowSort { Packets, Bytes, Idle };
// Busiest first (packets, bytes) or most recently active first (idle);
// keeps the first `top` (0: all).
void sort_connections(std::vector<Connection> &conns, FlowSort by, std::size_t top);

using IfName = std::function<std::string(std::uint32_t ifindex)>;

// now_ns: CLOCK_MONOTONIC, the clock of last_seen_ns.
std::string flows_table(const std::vector<Connection> &conns, const IfName &ifname,
                        std::uint64_t now_ns);
std::string flows_json(const std::vector<Connection> &conns, const IfName &ifname,
                       std::uint64_t now_ns);

// Fills every direction's hook through direction_hook_name.
using IngressHooks = std::function<std::pair<bool, bool>(std::uint32_t ifindex)>; // xdp, tc
void annotate_hooks(std::vector<Connection> &conns, const IngressHooks &hooks);

// "tcp", "udp" or the protocol number.
std::string proto_name(std::uint8_t proto);
// Idle seconds, or nullopt when the entry was never hit.
std::optional<std::uint64_t> idle_seconds(std::uint64_t last_seen_ns, std::uint64_t now_ns);

} // namespace xdpflow
