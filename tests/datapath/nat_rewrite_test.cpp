// Random NAT rewrites through the real programs (XDP and tc), each output
// frame compared whole with the frame the packet builder makes from the
// rewritten fields, every checksum summed from scratch (RFC 1071): the
// incremental arithmetic (XDP) and the kernel's checksum helpers (TC) are
// checked against nothing of their own. Replaces the unit test that ran a
// hand copy of rewrite.h. Random TTLs, payloads, NAT flags, identity NAT
// and UDP without checksum; the checksum-computes-to-zero corner cases are
// fixtures (fixtures_hits.cpp), also run through both hooks.
#include <bpf/bpf.h>
#include <cstdio>
#include <random>

#include "core/flow_key.h"
#include "per_hook_test.h"

namespace xdpflow::testing {
namespace {

std::string random_addr(std::mt19937 &rng, bool v6) {
  char text[64];
  if (v6)
    std::snprintf(text, sizeof text, "2001:2:0:%x::%x", static_cast<unsigned>(rng() % 0x10000),
                  static_cast<unsigned>(rng() % 0xfffe + 1));
  else // 198.18.0.0/15
    std::snprintf(text, sizeof text, "198.%u.%u.%u", 18 + static_cast<unsigned>(rng() % 2),
                  static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 254 + 1));
  return text;
}

struct Datagram {
  bool v6 = false;
  std::uint8_t proto = kTcp, ttl = 64;
  bool no_udp_checksum = false;
  std::string src, dst;
  std::uint16_t sport = 0, dport = 0;
  Bytes payload;

  Bytes frame(Packet p) const {
    if (v6)
      p.ipv6(src, dst, {.hop_limit = ttl});
    else
      p.ipv4(src, dst, {.ttl = ttl});
    if (proto == kTcp)
      p.tcp(sport, dport);
    else
      p.udp(sport, dport, {.no_checksum = no_udp_checksum});
    return p.payload(payload).build();
  }
};

using NatRewriteTest = PerHookTest;

TEST_P(NatRewriteTest, RandomRewritesMatchFullRecomputation) {
  std::mt19937 rng(20261207);
  for (int i = 0; i < 400; i++) {
    Datagram in;
    in.v6 = rng() % 2;
    in.proto = rng() % 2 ? kTcp : kUdp;
    in.ttl = static_cast<std::uint8_t>(2 + rng() % 254);
    in.no_udp_checksum = !in.v6 && in.proto == kUdp && rng() % 4 == 0;
    in.src = random_addr(rng, in.v6);
    in.dst = random_addr(rng, in.v6);
    in.sport = static_cast<std::uint16_t>(rng());
    in.dport = static_cast<std::uint16_t>(rng());
    in.payload.resize(rng() % 80);
    for (auto &b : in.payload)
      b = static_cast<std::uint8_t>(rng());

    FlowSpec f = to_wan(flow(Dev::kLan, in.proto, in.src, in.sport, in.dst, in.dport));
    Datagram out = in;
    out.ttl--;
    unsigned nat = rng() % 16;
    // One in eight rewrites to the value the field already has (identity
    // NAT: only the TTL changes).
    const bool identity = rng() % 8 == 0;
    if (nat & XF_NAT_SRC_ADDR)
      f = f.snat(out.src = identity ? in.src : random_addr(rng, in.v6));
    if (nat & XF_NAT_DST_ADDR)
      f = f.dnat(out.dst = identity ? in.dst : random_addr(rng, in.v6));
    if (nat & XF_NAT_SRC_PORT)
      f = f.snat_port(out.sport = identity ? in.sport : static_cast<std::uint16_t>(rng()));
    if (nat & XF_NAT_DST_PORT)
      f = f.dnat_port(out.dport = identity ? in.dport : static_cast<std::uint16_t>(rng()));
    const xf_flow_key key = make_flow_key(dev_->lan, f.encap, f.tuple);
    xf_flow_value value{};
    value.action = f.action;
    value.action.egress_ifindex = dev_->wan;
    put_flow(fp_->flow_maps(), key, value);
    fp_->publish_clock(monotonic_ns());

    const Bytes frame = in.frame(lan_in());
    XdpRun run = this->run(frame, dev_->lan);
    SCOPED_TRACE("case " + std::to_string(i) + ": " + to_string(f.tuple) + " nat " +
                 std::to_string(nat) + (in.no_udp_checksum ? " (no UDP checksum)" : ""));
    ASSERT_EQ(redirect_verdict(), run.verdict);
    const Bytes want = out.frame(wan_out());
    ASSERT_EQ(want, run.out) << "expected:\n" << hex_dump(want) << "\ngot:\n" << hex_dump(run.out);
    ASSERT_EQ(0, fp_->flow_maps().remove(key));
  }
}

INSTANTIATE_TEST_SUITE_P(Hooks, NatRewriteTest, ::testing::Values(XF_HOOK_XDP, XF_HOOK_TC),
                         hook_param_name);

} // namespace
} // namespace xdpflow::testing
