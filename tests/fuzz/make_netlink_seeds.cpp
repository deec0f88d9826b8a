// Writes the netlink fuzzer's seed corpus into DIR: streams of conntrack
// messages as the kernel sends them (NEW, UPDATE to ESTABLISHED/ASSURED,
// DESTROY; dump entries; IPv4/IPv6, TCP/UDP, with and without NAT, helpers,
// zones, marks), each after a config byte (fuzz_netlink.cpp).
#include <cstdio>
#include <fstream>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <string>

#include "ct_stream.h"

using namespace xdpflow;

namespace {

FlowTuple tuple(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport,
                std::uint8_t proto) {
  FlowTuple t;
  t.src = *IpAddr::parse(src);
  t.dst = *IpAddr::parse(dst);
  t.sport = sport;
  t.dport = dport;
  t.proto = proto;
  return t;
}

// The life of one connection: NEW, UPDATE (established, assured), DESTROY.
void connection(std::vector<std::uint8_t> &out, const FlowTuple &orig, const FlowTuple &reply,
                bool destroy, const std::string &helper = "", std::uint16_t zone = 0,
                std::uint32_t mark = 0) {
  CtEvent ev;
  ev.orig = orig;
  ev.reply = reply;
  ev.type = CtEventType::New;
  ev.has_status = true;
  ev.status = IPS_CONFIRMED;
  if (orig.proto == IPPROTO_TCP)
    ev.tcp_state = TCP_CONNTRACK_SYN_SENT;
  ev.zone = zone;
  ev.mark = mark;
  ev.id = 0x1234;
  ev.timeout = 120;
  if (!helper.empty()) {
    ev.has_helper = true;
    ev.helper = helper;
  }
  fuzz::append_ct_message(out, ev);
  ev.type = CtEventType::Update;
  ev.status = IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED;
  if (orig.proto == IPPROTO_TCP)
    ev.tcp_state = TCP_CONNTRACK_ESTABLISHED;
  ev.timeout = 432000;
  fuzz::append_ct_message(out, ev);
  if (destroy) {
    ev.type = CtEventType::Destroy;
    ev.timeout.reset();
    fuzz::append_ct_message(out, ev);
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::vector<std::vector<std::uint8_t>> streams;
  for (std::uint8_t proto : {IPPROTO_TCP, IPPROTO_UDP})
    for (bool v6 : {false, true}) {
      const char *lan = v6 ? "2001:2::2" : "198.18.0.2";
      const char *wan = v6 ? "2001:2:1::2" : "198.19.0.2";
      const char *gw = v6 ? "2001:2:1::1" : "198.19.0.1";
      FlowTuple orig = tuple(lan, 40000, wan, 443, proto);
      for (bool destroy : {false, true}) {
        std::vector<std::uint8_t> s;
        connection(s, orig, reversed(orig), destroy); // routed, no NAT
        streams.push_back(s);
        s.clear();
        connection(s, orig, tuple(wan, 443, gw, 61000, proto), destroy); // masquerade
        streams.push_back(s);
      }
      std::vector<std::uint8_t> special;
      FlowTuple zoned = tuple(lan, 40001, wan, 80, proto),
                marked = tuple(lan, 40002, wan, 80, proto);
      connection(special, orig, reversed(orig), false, "ftp");
      connection(special, zoned, reversed(zoned), false, "", 7);
      connection(special, marked, reversed(marked), false, "", 0, 1);
      streams.push_back(special);
    }
  // A dump: several entries with NLM_F_MULTI, then NLMSG_DONE.
  std::vector<std::uint8_t> dump;
  for (int i = 0; i < 6; i++) {
    CtEvent ev;
    ev.from_dump = true;
    ev.orig = tuple("198.18.0.2", static_cast<std::uint16_t>(40000 + i), "198.19.0.2",
                    static_cast<std::uint16_t>(1 + i), i % 2 ? IPPROTO_UDP : IPPROTO_TCP);
    ev.orig.dst.bytes[3] = static_cast<std::uint8_t>(i);
    ev.reply = reversed(ev.orig);
    ev.has_status = true;
    ev.status = IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED;
    if (ev.orig.proto == IPPROTO_TCP)
      ev.tcp_state = TCP_CONNTRACK_ESTABLISHED;
    fuzz::append_ct_message(dump, ev);
  }
  nlmsghdr done{};
  done.nlmsg_len = sizeof(done);
  done.nlmsg_type = NLMSG_DONE;
  done.nlmsg_flags = NLM_F_MULTI;
  auto *d = reinterpret_cast<const std::uint8_t *>(&done);
  dump.insert(dump.end(), d, d + sizeof(done));
  streams.push_back(dump);

  std::size_t n = 0;
  for (const auto &s : streams)
    for (std::uint8_t config : {0x00, 0x0b, 0x1f}) {
      std::ofstream f(std::string(argv[1]) + "/seed-" + std::to_string(n++), std::ios::binary);
      f.put(static_cast<char>(config));
      f.write(reinterpret_cast<const char *>(s.data()), static_cast<std::streamsize>(s.size()));
    }
  std::printf("%zu seeds in %s\n", n, argv[1]);
  return 0;
}
