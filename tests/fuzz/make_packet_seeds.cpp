// Writes the packet fuzzer's seed corpus into DIR: valid frames of every
// encapsulation the fast path handles (plain, VLAN, QinQ, PPPoE and their
// combinations; IPv4/IPv6; TCP/UDP; several payload sizes) and the classic
// kernel-path cases (FIN/RST, TTL, options, fragments, extension headers,
// ICMP, ARP, LCP), each under several control prefixes (fuzz_input.h) so that
// no flow, a matching flow with various rewrites, and a near miss all occur.
// Frames are built here byte by byte (the data-path packet builder does not
// compile with clang 14, which lacks aggregate CTAD), checksums by the model.
#include <cstdio>
#include <fstream>
#include <string>

#include "frame_model.h"
#include "fuzz_input.h"

using namespace xdpflow::fuzz;

namespace {

enum class Encap { Plain, Vlan, QinQ, Pppoe, VlanPppoe, QinQPppoe };

struct Spec {
  Encap encap = Encap::Plain;
  bool v6 = false;
  std::uint8_t proto = 6; // 6 TCP, 17 UDP, 1/58 ICMP
  std::uint8_t tcp_flags = 0x10;
  std::uint8_t ttl = 64;
  std::size_t payload = 0;
  bool ip_options = false, fragment = false, v6_hop_by_hop = false;
  std::size_t pad_to = 0;
};

void put16(Bytes &b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

Bytes build(const Spec &s) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
  bool pppoe =
      s.encap == Encap::Pppoe || s.encap == Encap::VlanPppoe || s.encap == Encap::QinQPppoe;
  std::uint16_t ip_type = s.v6 ? 0x86dd : 0x0800;
  if (s.encap == Encap::Vlan || s.encap == Encap::VlanPppoe) {
    put16(f, 0x8100);
    put16(f, 100);
  }
  if (s.encap == Encap::QinQ || s.encap == Encap::QinQPppoe) {
    put16(f, 0x88a8);
    put16(f, 200);
    put16(f, 0x8100);
    put16(f, 300);
  }
  Bytes l4;
  if (s.proto == 6) {
    l4 = {0x9c, 0x40, 0x01, 0xbb,        1,    2,    3, 4, 5, 6,
          7,    8,    0x50, s.tcp_flags, 0xfa, 0xf0, 0, 0, 0, 0};
  } else if (s.proto == 17) {
    l4 = {0x9c, 0x41, 0x00, 0x35, 0, 0, 0, 0};
  } else {
    l4 = {8, 0, 0, 0, 0, 1, 0, 1};
  }
  for (std::size_t i = 0; i < s.payload; i++)
    l4.push_back(static_cast<std::uint8_t>(i * 7 + 1));
  if (s.proto == 17) {
    l4[4] = static_cast<std::uint8_t>(l4.size() >> 8);
    l4[5] = static_cast<std::uint8_t>(l4.size());
  }
  Bytes ip;
  if (s.v6) {
    std::size_t ext = s.v6_hop_by_hop ? 8 : 0;
    ip = {0x60, 0x01, 0x23, 0x45};
    put16(ip, static_cast<std::uint16_t>(l4.size() + ext));
    ip.push_back(s.v6_hop_by_hop ? 0 : s.proto);
    ip.push_back(s.ttl);
    const std::uint8_t src[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    const std::uint8_t dst[16] = {0x20, 0x01, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    ip.insert(ip.end(), src, src + 16);
    ip.insert(ip.end(), dst, dst + 16);
    if (ext)
      ip.insert(ip.end(), {s.proto, 0, 1, 4, 0, 0, 0, 0});
  } else {
    std::size_t opt = s.ip_options ? 4 : 0;
    ip = {static_cast<std::uint8_t>(0x45 + opt / 4), 0};
    put16(ip, static_cast<std::uint16_t>(20 + opt + l4.size()));
    put16(ip, 0x1234);
    put16(ip, s.fragment ? 0x2000 : 0x4000);
    ip.insert(ip.end(), {s.ttl, s.proto, 0, 0, 198, 18, 0, 2, 198, 19, 0, 2});
    if (opt)
      ip.insert(ip.end(), {1, 1, 1, 0});
  }
  if (pppoe) {
    put16(f, 0x8864);
    f.insert(f.end(), {0x11, 0x00});
    put16(f, 0x1234);
    put16(f, static_cast<std::uint16_t>(ip.size() + l4.size() + 2));
    put16(f, s.v6 ? 0x0057 : 0x0021);
  } else {
    put16(f, ip_type);
  }
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), l4.begin(), l4.end());
  ModelFrame m = model_parse(f, 1);
  if (m.reason == XF_SLOW_MAX)
    fix_checksums(f, m);
  if (f.size() < s.pad_to)
    f.resize(s.pad_to, 0);
  return f;
}

std::vector<Control> controls() {
  std::vector<Control> out;
  Control none;
  out.push_back(none);
  Control plain;
  plain.flow = FlowMode::Match;
  plain.fix_checksums = true;
  plain.egress = Egress::Peer;
  out.push_back(plain);
  Control nat = plain;
  nat.nat = 0x0f;
  nat.out_vlans = 2;
  nat.out_outer_8021ad = true;
  nat.out_tag = 0x1234;
  nat.nat_seed[0] = 7;
  nat.nat_seed[4] = 9;
  out.push_back(nat);
  Control pppoe = plain;
  pppoe.nat = 0x05;
  pppoe.out_pppoe = true;
  pppoe.out_vlans = 1;
  pppoe.mtu_choice = 2; // exactly the IP length
  out.push_back(pppoe);
  Control miss = plain;
  miss.flow = FlowMode::NearMiss;
  miss.near_miss_field = 10;
  out.push_back(miss);
  Control no_egress = plain;
  no_egress.egress = Egress::NotInDevmap;
  out.push_back(no_egress);
  return out;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::vector<Bytes> frames;
  for (Encap e :
       {Encap::Plain, Encap::Vlan, Encap::QinQ, Encap::Pppoe, Encap::VlanPppoe, Encap::QinQPppoe})
    for (bool v6 : {false, true})
      for (std::uint8_t proto : {6, 17})
        for (std::size_t payload : {0, 5, 64})
          frames.push_back(build({.encap = e, .v6 = v6, .proto = proto, .payload = payload}));
  for (bool v6 : {false, true}) {
    frames.push_back(build({.v6 = v6, .tcp_flags = 0x11})); // FIN ACK
    frames.push_back(build({.encap = Encap::Vlan, .v6 = v6, .tcp_flags = 0x04}));
    frames.push_back(build({.v6 = v6, .proto = 17, .ttl = 1, .payload = 8}));
    frames.push_back(build({.encap = Encap::Pppoe, .v6 = v6, .proto = 17, .ttl = 2}));
    frames.push_back(build({.v6 = v6, .proto = std::uint8_t(v6 ? 58 : 1), .payload = 16}));
    frames.push_back(build({.v6 = v6, .proto = 17, .pad_to = 60}));
  }
  frames.push_back(build({.proto = 17, .ip_options = true}));
  frames.push_back(build({.proto = 17, .payload = 8, .fragment = true}));
  frames.push_back(build({.v6 = true, .v6_hop_by_hop = true}));
  Bytes arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x06};
  arp.resize(42, 1);
  frames.push_back(arp);
  Bytes lcp = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0x64, 0x11, 0, 0, 7, 0, 6, 0xc0, 0x21};
  lcp.resize(40, 1);
  frames.push_back(lcp);

  std::size_t n = 0;
  for (const Bytes &f : frames) {
    if (f.empty())
      continue;
    for (const Control &c : controls()) {
      Bytes input(xdpflow::fuzz::kControlLen);
      c.encode(input.data());
      input.insert(input.end(), f.begin(), f.end());
      std::ofstream(std::string(argv[1]) + "/seed-" + std::to_string(n++), std::ios::binary)
          .write(reinterpret_cast<const char *>(input.data()),
                 static_cast<std::streamsize>(input.size()));
    }
  }
  std::printf("%zu seeds in %s\n", n, argv[1]);
  return 0;
}
