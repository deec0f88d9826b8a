// Layout of a packet-fuzzer input: a 10-byte control prefix that says which
// flow entry to install for the frame (none, matching, or a near miss) and
// what its action is, then the frame itself. Shared by the fuzzer and the seed
// generator so seeds exercise every branch from the first run.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xdpflow::fuzz {

inline constexpr std::size_t kControlLen = 10;

enum class FlowMode : std::uint8_t { None = 0, Match = 1, MatchToo = 2, NearMiss = 3 };
enum class Egress : std::uint8_t { IngressPort = 0, Peer = 1, PeerToo = 2, NotInDevmap = 3 };

struct Control {
  FlowMode flow = FlowMode::None;
  bool fix_checksums = false; // make the input's checksums valid first
  Egress egress = Egress::IngressPort;
  std::uint8_t mtu_choice = 0; // index into a table of MTUs and boundaries
  std::uint8_t nat = 0;        // enum xf_nat_flags
  std::uint8_t out_vlans = 0;  // 0..2
  bool out_outer_8021ad = false;
  bool out_pppoe = false;
  std::uint8_t near_miss_field = 0;
  std::uint16_t out_tag = 0;     // VLAN ids / PPPoE session derive from it
  std::uint8_t nat_seed[5] = {}; // new ports and addresses derive from it

  static Control decode(const std::uint8_t *p) {
    Control c;
    c.flow = static_cast<FlowMode>(p[0] & 3);
    c.fix_checksums = p[0] & 4;
    c.egress = static_cast<Egress>((p[0] >> 3) & 3);
    c.mtu_choice = p[0] >> 5;
    c.nat = p[1] & 0x0f;
    c.out_vlans = (p[1] >> 4) & 3;
    if (c.out_vlans == 3)
      c.out_vlans = 2;
    c.out_outer_8021ad = p[1] & 0x40;
    c.out_pppoe = p[1] & 0x80;
    c.near_miss_field = p[2];
    c.out_tag = static_cast<std::uint16_t>(p[3] << 8 | p[4]);
    for (int i = 0; i < 5; i++)
      c.nat_seed[i] = p[5 + i];
    return c;
  }

  void encode(std::uint8_t *p) const {
    p[0] = static_cast<std::uint8_t>(static_cast<unsigned>(flow) | (fix_checksums ? 4 : 0) |
                                     static_cast<unsigned>(egress) << 3 | mtu_choice << 5);
    p[1] = static_cast<std::uint8_t>(nat | out_vlans << 4 | (out_outer_8021ad ? 0x40 : 0) |
                                     (out_pppoe ? 0x80 : 0));
    p[2] = near_miss_field;
    p[3] = static_cast<std::uint8_t>(out_tag >> 8);
    p[4] = static_cast<std::uint8_t>(out_tag);
    for (int i = 0; i < 5; i++)
      p[5 + i] = nat_seed[i];
  }
};

} // namespace xdpflow::fuzz
