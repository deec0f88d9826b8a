#include "packet_builder.h"

#include <arpa/inet.h>
#include <cstdio>
#include <stdexcept>

#include "common/inet_csum.h"

namespace xdpflow::testing {
namespace {

void put8(Bytes &b, std::uint8_t v) {
  b.push_back(v);
}
void put16(Bytes &b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes &b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
void put(Bytes &b, std::span<const std::uint8_t> bytes) {
  b.insert(b.end(), bytes.begin(), bytes.end());
}
void set16(Bytes &b, std::size_t at, std::uint16_t v) {
  b.at(at) = static_cast<std::uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<std::uint8_t>(v);
}

template <std::size_t N> std::array<std::uint8_t, N> parse_addr(int af, const std::string &text) {
  std::array<std::uint8_t, N> a{};
  if (inet_pton(af, text.c_str(), a.data()) != 1)
    throw std::invalid_argument("packet builder: bad address " + text);
  return a;
}

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };

constexpr std::uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58;

} // namespace

Packet &Packet::eth(const Mac &dst, const Mac &src) {
  layers_.push_back(Eth{dst, src});
  return *this;
}
Packet &Packet::vlan(std::uint16_t vid, std::uint16_t tpid, std::uint8_t pcp) {
  layers_.push_back(Vlan{tpid, static_cast<std::uint16_t>((pcp << 13) | (vid & 0x0fff))});
  return *this;
}
Packet &Packet::pppoe(std::uint16_t session_id, std::optional<std::uint16_t> length) {
  layers_.push_back(Pppoe{session_id, length});
  return *this;
}
Packet &Packet::ipv4(const std::string &src, const std::string &dst, const Ipv4Opts &o) {
  layers_.push_back(Ipv4{parse_addr<4>(AF_INET, src), parse_addr<4>(AF_INET, dst), o});
  return *this;
}
Packet &Packet::ipv6(const std::string &src, const std::string &dst, const Ipv6Opts &o) {
  layers_.push_back(Ipv6{parse_addr<16>(AF_INET6, src), parse_addr<16>(AF_INET6, dst), o});
  return *this;
}
Packet &Packet::tcp(std::uint16_t sport, std::uint16_t dport, const TcpOpts &o) {
  layers_.push_back(Tcp{sport, dport, o});
  return *this;
}
Packet &Packet::udp(std::uint16_t sport, std::uint16_t dport, const UdpOpts &o) {
  layers_.push_back(Udp{sport, dport, o});
  return *this;
}
Packet &Packet::icmp(std::uint8_t type, std::uint8_t code) {
  layers_.push_back(Icmp{type, code});
  return *this;
}
Packet &Packet::ethertype(std::uint16_t type) {
  layers_.push_back(EtherType{type});
  return *this;
}
Packet &Packet::ppp_proto(std::uint16_t proto) {
  layers_.push_back(PppProto{proto});
  return *this;
}
Packet &Packet::payload(const Bytes &bytes) {
  payload_ = bytes;
  return *this;
}
Packet &Packet::payload(std::size_t size) {
  payload_.resize(size);
  for (std::size_t i = 0; i < size; i++)
    payload_[i] = static_cast<std::uint8_t>(0x41 + i * 7);
  return *this;
}
Packet &Packet::pad_to(std::size_t frame_size) {
  pad_to_ = frame_size;
  return *this;
}

Bytes Packet::build() const {
  Bytes frame = serialize_from(0);
  if (frame.size() < pad_to_)
    frame.resize(pad_to_, 0);
  return frame;
}

// The value the layer before `index` writes to announce it: an ethertype
// (or TPID) after Ethernet and VLAN tags, a PPP protocol after PPPoE.
std::uint16_t Packet::ethertype_of(std::size_t index) const {
  if (index >= layers_.size())
    throw std::logic_error("packet builder: layer-2 header without a payload layer");
  return std::visit(Overloaded{
                        [](const Vlan &v) -> std::uint16_t { return v.tpid; },
                        [](const Pppoe &) -> std::uint16_t { return 0x8864; },
                        [](const Ipv4 &) -> std::uint16_t { return 0x0800; },
                        [](const Ipv6 &) -> std::uint16_t { return 0x86dd; },
                        [](const EtherType &e) -> std::uint16_t { return e.type; },
                        [](const PppProto &p) -> std::uint16_t { return p.proto; },
                        [](const auto &) -> std::uint16_t {
                          throw std::logic_error("packet builder: no ethertype for this layer");
                        },
                    },
                    layers_[index]);
}

std::uint8_t Packet::ipproto_of(std::size_t index) const {
  if (index >= layers_.size())
    return 59; // IPv6 "no next header"; IPv4 tests always name an L4 layer
  return std::visit(Overloaded{
                        [](const Tcp &) { return kProtoTcp; },
                        [](const Udp &) { return kProtoUdp; },
                        [this, index](const Icmp &) {
                          const Layer *ip = ip_before(index);
                          return std::holds_alternative<Ipv6>(*ip) ? kProtoIcmp6 : kProtoIcmp;
                        },
                        [](const auto &) -> std::uint8_t {
                          throw std::logic_error("packet builder: not an L4 layer after IP");
                        },
                    },
                    layers_[index]);
}

const Packet::Layer *Packet::ip_before(std::size_t index) const {
  for (std::size_t i = index; i-- > 0;)
    if (std::holds_alternative<Ipv4>(layers_[i]) || std::holds_alternative<Ipv6>(layers_[i]))
      return &layers_[i];
  throw std::logic_error("packet builder: L4 layer without an IP layer before it");
}

// Fills the checksum of an L4 segment: pseudo-header of the enclosing IP
// layer (RFC 793 / RFC 768 / RFC 8200 8.1) plus the whole segment.
Bytes Packet::l4_checksummed(std::size_t index, Bytes segment, std::size_t check_offset,
                             std::uint8_t proto) const {
  InetSum sum;
  const Layer *ip = ip_before(index);
  if (const auto *v4 = std::get_if<Ipv4>(ip)) {
    if (proto != kProtoIcmp) { // ICMPv4 has no pseudo-header
      sum.add(v4->src).add(v4->dst).add16(proto);
      sum.add16(static_cast<std::uint16_t>(segment.size()));
    }
  } else {
    const auto &v6 = std::get<Ipv6>(*ip);
    sum.add(v6.src).add(v6.dst).add32(static_cast<std::uint32_t>(segment.size())).add16(proto);
  }
  set16(segment, check_offset, 0);
  std::uint16_t check = sum.add(segment).checksum();
  if (proto == kProtoUdp && check == 0)
    check = 0xffff; // RFC 768: a computed 0 is sent as all ones
  set16(segment, check_offset, check);
  return segment;
}

Bytes Packet::serialize_from(std::size_t index) const {
  if (index >= layers_.size())
    return payload_;
  Bytes rest = serialize_from(index + 1);
  Bytes out;
  std::visit(
      Overloaded{
          [&](const Eth &e) {
            put(out, e.dst);
            put(out, e.src);
            put16(out, ethertype_of(index + 1));
          },
          [&](const Vlan &v) {
            put16(out, v.tci);
            put16(out, ethertype_of(index + 1));
          },
          [&](const Pppoe &p) {
            put8(out, 0x11); // version 1, type 1
            put8(out, 0x00); // code: session data
            put16(out, p.sid);
            put16(out, p.length.value_or(static_cast<std::uint16_t>(rest.size() + 2)));
            std::uint16_t ethertype = ethertype_of(index + 1);
            put16(out, ethertype == 0x0800 ? 0x0021 : ethertype == 0x86dd ? 0x0057 : ethertype);
          },
          [&](const Ipv4 &ip) {
            std::size_t hlen = 20 + ip.o.options.size();
            put8(out, static_cast<std::uint8_t>(0x40 | (hlen / 4)));
            put8(out, ip.o.tos);
            put16(out, ip.o.tot_len.value_or(static_cast<std::uint16_t>(hlen + rest.size())));
            put16(out, ip.o.id);
            put16(out, ip.o.frag);
            put8(out, ip.o.ttl);
            put8(out, ipproto_of(index + 1));
            put16(out, 0);
            put(out, ip.src);
            put(out, ip.dst);
            put(out, ip.o.options);
            set16(out, 10, inet_checksum(out));
          },
          [&](const Ipv6 &ip) {
            std::uint8_t upper = ipproto_of(index + 1);
            Bytes ext;
            for (std::size_t k = 0; k < ip.o.ext.size(); k++) {
              const Ipv6Ext &h = ip.o.ext[k];
              put8(ext, k + 1 < ip.o.ext.size() ? ip.o.ext[k + 1].type : upper);
              put8(ext, static_cast<std::uint8_t>((2 + h.body.size()) / 8 - 1));
              put(ext, h.body);
            }
            put32(out, (6u << 28) | (ip.o.flow_label & 0xfffff));
            put16(out, static_cast<std::uint16_t>(ext.size() + rest.size()));
            put8(out, ip.o.ext.empty() ? upper : ip.o.ext[0].type);
            put8(out, ip.o.hop_limit);
            put(out, ip.src);
            put(out, ip.dst);
            put(out, ext);
          },
          [&](const Tcp &t) {
            Bytes seg;
            std::size_t hlen = 20 + t.o.options.size();
            put16(seg, t.sport);
            put16(seg, t.dport);
            put32(seg, t.o.seq);
            put32(seg, t.o.ack);
            put8(seg, static_cast<std::uint8_t>((hlen / 4) << 4));
            put8(seg, t.o.flags);
            put16(seg, t.o.window);
            put16(seg, 0); // checksum
            put16(seg, 0); // urgent pointer
            put(seg, t.o.options);
            put(seg, rest);
            out = l4_checksummed(index, std::move(seg), 16, kProtoTcp);
            rest.clear();
          },
          [&](const Udp &u) {
            Bytes seg;
            put16(seg, u.sport);
            put16(seg, u.dport);
            put16(seg, static_cast<std::uint16_t>(8 + rest.size()));
            put16(seg, 0);
            put(seg, rest);
            out = u.o.no_checksum ? std::move(seg)
                                  : l4_checksummed(index, std::move(seg), 6, kProtoUdp);
            rest.clear();
          },
          [&](const Icmp &c) {
            Bytes msg;
            put8(msg, c.type);
            put8(msg, c.code);
            put16(msg, 0);
            put32(msg, 0x00010001); // identifier 1, sequence 1
            put(msg, rest);
            out = l4_checksummed(index, std::move(msg), 2, ipproto_of(index));
            rest.clear();
          },
          [&](const EtherType &) {},
          [&](const PppProto &) {},
      },
      layers_[index]);
  put(out, rest);
  return out;
}

Bytes truncated(const Bytes &frame, std::size_t n) {
  return Bytes(frame.begin(),
               frame.begin() + static_cast<std::ptrdiff_t>(std::min(n, frame.size())));
}

std::string hex_dump(const Bytes &frame) {
  std::string s;
  char buf[32];
  for (std::size_t i = 0; i < frame.size(); i++) {
    if (i % 16 == 0) {
      std::snprintf(buf, sizeof(buf), "%s%04zx:", i ? "\n" : "", i);
      s += buf;
    }
    std::snprintf(buf, sizeof(buf), " %02x", frame[i]);
    s += buf;
  }
  return s;
}

} // namespace xdpflow::testing
