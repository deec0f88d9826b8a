// Which hook forwards what, pure: per interface (XDP or TC, chosen once at
// attach from what the kernel says about the driver) and per direction of a
// connection (from the tc configuration of its ingress and egress, which may
// change while xdpflow runs). The kernel facts are read by
// kernel/tc_facts.h; FlowSync asks a DirectionPolicy per direction.
//
// Why two hooks: XDP sees raw frames. A veth or tap whose sender uses
// checksum offload hands over CHECKSUM_PARTIAL frames whose TCP/UDP checksum
// is only the pseudo-header sum; XDP cannot tell and would forward them
// corrupt. XDP_REDIRECT also bypasses the egress qdisc (shaping). The TC hook
// works on the skb: kernel checksum helpers, and bpf_redirect to the egress
// goes through its qdisc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xdpflow {

// --hook / config key "hook".
enum class HookPreference { Auto, Xdp, Tc };
std::optional<HookPreference> parse_hook_preference(std::string_view text);
std::string_view to_string(HookPreference pref);

enum class Hook { Xdp, Tc };
std::string_view to_string(Hook hook);

// What the kernel says about an interface's driver.
struct DriverFacts {
  std::string driver;                        // as ethtool -i names it; empty when unknown
  std::optional<std::uint64_t> xdp_features; // NETDEV_XDP_ACT_* bits, nullopt when unknown
};

struct InterfaceHook {
  Hook hook = Hook::Xdp;
  std::string reason; // one line, e.g. "veth (sender checksum offload ...)"
};

// auto: XDP only where the driver runs native XDP, can receive redirected
// frames and hands over complete checksums (physical NICs); TC on veth,
// tap/tun and drivers without native XDP or ndo-xmit.
InterfaceHook choose_interface_hook(HookPreference pref, const DriverFacts &facts);

// The tc configuration of one interface that matters to forwarding.
struct TcFacts {
  // Kinds of every egress qdisc (root and children; not ingress/clsact).
  std::vector<std::string> egress_qdiscs;
  // The ifb an ingress filter redirects to (mirred), empty when none.
  std::string ingress_ifb;
  bool operator==(const TcFacts &) const = default;
};

// A qdisc that only queues, never shapes or reorders by policy: forwarding
// around it (XDP_REDIRECT bypasses it) changes nothing users asked for.
bool is_neutral_qdisc(std::string_view kind, const std::vector<std::string> &user_neutral);
// The first shaping qdisc kind among facts.egress_qdiscs, or empty.
std::string shaping_qdisc(const TcFacts &facts, const std::vector<std::string> &user_neutral);

// Where one direction's packets are forwarded.
enum class DirectionHook {
  Xdp,    // the XDP program of its ingress
  Tc,     // the TC program of its ingress (the ingress runs TC)
  TcOnly, // ingress runs XDP, which passes it (XF_FLOW_TC_ONLY) to the TC program beside it
  Kernel, // not offloaded: the kernel path forwards it
};
std::string_view to_string(DirectionHook hook);

struct DirectionDecision {
  DirectionHook hook = DirectionHook::Xdp;
  std::string reason; // empty for the interface's own hook
  bool operator==(const DirectionDecision &) const = default;
};

// One attached interface as the direction decision sees it.
struct HookedInterface {
  std::string name;
  Hook hook = Hook::Xdp;
  bool tc_beside_xdp = false;        // the TC program is also on its ingress
  bool receives_xdp_redirect = true; // XDP may redirect frames to it (ndo-xmit)
  TcFacts tc;
};

// A direction arriving on `in` and leaving through `out`:
// - ingress redirected to an ifb: Kernel (the ifb's shaper must see it);
// - egress shaped, or not an XDP redirect target, while the ingress runs
//   XDP: TcOnly when the TC program is beside XDP there, else Kernel;
// - otherwise the ingress interface's hook.
DirectionDecision choose_direction(const HookedInterface &in, const HookedInterface &out,
                                   const std::vector<std::string> &user_neutral);

// FlowSync's view: asked once per direction when it writes a connection's
// entries. Implementations: TcDirectionPolicy (kernel/tc_watch.h) and fakes.
class DirectionPolicy {
public:
  virtual ~DirectionPolicy() = default;
  virtual DirectionDecision decide(std::uint32_t in_ifindex, std::uint32_t out_ifindex) = 0;
};

} // namespace xdpflow
