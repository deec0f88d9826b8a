// A small fluent builder of test frames, outermost layer first:
//
//   Bytes f = Packet().eth(kMacA, kMacB).vlan(10).ipv4("198.18.0.2", "198.19.0.2")
//                 .udp(40000, 53).payload(18).build();
//
// Lengths, ethertypes, PPP protocols, next-header fields and every checksum
// are computed from scratch when build() serializes the layers, with the
// plain RFC 1071 sum (tests/common/inet_csum.h), never with the incremental
// arithmetic under test. Options let a fixture break exactly one thing
// (options, fragments, extension headers, a bogus length, a zero UDP sum).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace xdpflow::testing {

using Bytes = std::vector<std::uint8_t>;
using Mac = std::array<std::uint8_t, 6>;

inline constexpr std::uint16_t kTpid8021Q = 0x8100;
inline constexpr std::uint16_t kTpid8021AD = 0x88a8;

enum TcpFlags : std::uint8_t {
  kFin = 0x01,
  kSyn = 0x02,
  kRst = 0x04,
  kPsh = 0x08,
  kAck = 0x10,
};

struct Ipv4Opts {
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;
  std::uint16_t id = 0x1234;
  std::uint16_t frag = 0x4000;            // flags + offset, host order (DF by default)
  Bytes options{};                        // padded to 4 bytes by the caller
  std::optional<std::uint16_t> tot_len{}; // override the computed total length
};

struct Ipv6Ext {
  std::uint8_t type; // the next-header value that announces this header
  Bytes body{};      // after the next-header and length bytes; total a multiple of 8
};

struct Ipv6Opts {
  std::uint8_t hop_limit = 64;
  std::uint32_t flow_label = 0x12345;
  std::vector<Ipv6Ext> ext{}; // extension headers between IPv6 and L4
};

struct TcpOpts {
  std::uint8_t flags = kAck;
  std::uint32_t seq = 0x01020304;
  std::uint32_t ack = 0x0a0b0c0d;
  std::uint16_t window = 64240;
  Bytes options{}; // padded to 4 bytes by the caller
};

struct UdpOpts {
  bool no_checksum = false; // send 0: "no checksum" (IPv4; IPv6 tunnels, RFC 6935)
};

class Packet {
public:
  Packet &eth(const Mac &dst, const Mac &src);
  // An 802.1Q tag (or 802.1ad with tpid = kTpid8021AD); the TPID is written
  // by the layer before it, as on the wire.
  Packet &vlan(std::uint16_t vid, std::uint16_t tpid = kTpid8021Q, std::uint8_t pcp = 0);
  // PPPoE session header + PPP protocol; length = PPP payload + 2 unless overridden.
  Packet &pppoe(std::uint16_t session_id, std::optional<std::uint16_t> length = {});
  Packet &ipv4(const std::string &src, const std::string &dst, const Ipv4Opts &o = {});
  Packet &ipv6(const std::string &src, const std::string &dst, const Ipv6Opts &o = {});
  Packet &tcp(std::uint16_t sport, std::uint16_t dport, const TcpOpts &o = {});
  Packet &udp(std::uint16_t sport, std::uint16_t dport, const UdpOpts &o = {});
  Packet &icmp(std::uint8_t type, std::uint8_t code); // ICMPv4 or ICMPv6 by the IP layer
  // Ends the layer-2 chain with an arbitrary ethertype (e.g. ARP, LLDP).
  Packet &ethertype(std::uint16_t type);
  // Ends the PPP chain with an arbitrary PPP protocol (e.g. LCP 0xc021).
  Packet &ppp_proto(std::uint16_t proto);
  Packet &payload(const Bytes &bytes);
  Packet &payload(std::size_t size); // deterministic pattern
  // Ethernet padding after the L3 packet up to a frame size (not covered by
  // any length field or checksum, as a NIC pads short frames).
  Packet &pad_to(std::size_t frame_size);

  Bytes build() const;

private:
  struct Eth {
    Mac dst, src;
  };
  struct Vlan {
    std::uint16_t tpid, tci;
  };
  struct Pppoe {
    std::uint16_t sid;
    std::optional<std::uint16_t> length;
  };
  struct Ipv4 {
    std::array<std::uint8_t, 4> src, dst;
    Ipv4Opts o;
  };
  struct Ipv6 {
    std::array<std::uint8_t, 16> src, dst;
    Ipv6Opts o;
  };
  struct Tcp {
    std::uint16_t sport, dport;
    TcpOpts o;
  };
  struct Udp {
    std::uint16_t sport, dport;
    UdpOpts o;
  };
  struct Icmp {
    std::uint8_t type, code;
  };
  struct EtherType {
    std::uint16_t type;
  };
  struct PppProto {
    std::uint16_t proto;
  };
  using Layer = std::variant<Eth, Vlan, Pppoe, Ipv4, Ipv6, Tcp, Udp, Icmp, EtherType, PppProto>;

  Bytes serialize_from(std::size_t index) const;
  std::uint16_t ethertype_of(std::size_t index) const;
  std::uint8_t ipproto_of(std::size_t index) const;
  const Layer *ip_before(std::size_t index) const;
  Bytes l4_checksummed(std::size_t index, Bytes segment, std::size_t check_offset,
                       std::uint8_t proto) const;

  std::vector<Layer> layers_;
  Bytes payload_;
  std::size_t pad_to_ = 0;
};

// The first n bytes of a frame (for truncation fixtures).
Bytes truncated(const Bytes &frame, std::size_t n);

// Human-readable hex dump for assertion messages, 16 bytes a line.
std::string hex_dump(const Bytes &frame);

} // namespace xdpflow::testing
