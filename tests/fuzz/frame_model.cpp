#include "frame_model.h"

#include <algorithm>
#include <cstring>

#include "common/inet_csum.h"

namespace xdpflow::fuzz {
namespace {

constexpr std::size_t kEthLen = 14;
constexpr std::uint16_t kTpidQ = 0x8100, kTpidAd = 0x88a8;
constexpr std::uint16_t kEthPppoeSession = 0x8864, kEthIpv4 = 0x0800, kEthIpv6 = 0x86dd;
constexpr std::uint16_t kPppIpv4 = 0x0021, kPppIpv6 = 0x0057;
constexpr std::uint8_t kTcp = 6, kUdp = 17;

// IANA "IPv6 Extension Header Types": a packet carrying one takes the kernel
// path (DESIGN.md: IPv6 without extension headers).
bool is_ipv6_extension_header(std::uint8_t next) {
  switch (next) {
  case 0:   // Hop-by-Hop
  case 43:  // Routing
  case 44:  // Fragment
  case 50:  // ESP
  case 51:  // AH
  case 60:  // Destination Options
  case 135: // Mobility
  case 139: // HIP
  case 140: // Shim6
  case 253: // experimentation and testing (RFC 3692)
  case 254:
    return true;
  default:
    return false;
  }
}

testing::InetSum pseudo_header(std::span<const std::uint8_t> frame, const ModelFrame &m) {
  testing::InetSum sum;
  std::size_t l3 = m.l2_len;
  std::size_t l4_len = m.ip_len - m.ip_hdr_len;
  if (m.key.family == XF_FAMILY_IPV4)
    sum.add(frame.subspan(l3 + 12, 8)); // source and destination
  else
    sum.add(frame.subspan(l3 + 8, 32));
  sum.add32(static_cast<std::uint32_t>(l4_len)).add16(m.key.proto);
  return sum;
}

std::span<const std::uint8_t> l4_bytes(std::span<const std::uint8_t> frame, const ModelFrame &m) {
  return frame.subspan(m.l2_len + m.ip_hdr_len, m.ip_len - m.ip_hdr_len);
}

} // namespace

ModelFrame model_parse(std::span<const std::uint8_t> f, std::uint32_t ifindex) {
  ModelFrame m;
  m.key.ifindex = ifindex;
  if (f.size() < kEthLen)
    return m;
  if (f[0] & 1) { // group-addressed destination MAC
    m.reason = XF_SLOW_NOT_UNICAST;
    return m;
  }
  std::size_t off = 12;
  std::size_t ppp_len = 0; // PPPoE length field: PPP protocol + payload
  std::uint16_t type = be16(f, off);
  off += 2;
  // Up to two tags, 802.1Q or 802.1ad, in any order.
  while (type == kTpidQ || type == kTpidAd) {
    if (m.key.encap.vlan_count == 2)
      return m; // a third tag
    if (off + 4 > f.size())
      return m;
    if (m.key.encap.vlan_count == 0 && type == kTpidAd)
      m.key.encap.flags |= XF_ENCAP_OUTER_8021AD;
    m.key.encap.vlan_id[m.key.encap.vlan_count++] = be16(f, off) & 0x0fff;
    type = be16(f, off + 2);
    off += 4;
  }
  if (type == kEthPppoeSession) {
    if (off + 8 > f.size())
      return m;
    if (f[off] != 0x11 || f[off + 1] != 0)
      return m; // version/type 1/1, code 0 = session data
    m.key.encap.flags |= XF_ENCAP_PPPOE;
    m.key.encap.pppoe_sid = be16(f, off + 2);
    ppp_len = be16(f, off + 4);
    std::uint16_t ppp = be16(f, off + 6);
    off += 8;
    if (ppp == kPppIpv4)
      type = kEthIpv4;
    else if (ppp == kPppIpv6)
      type = kEthIpv6;
    else {
      m.reason = XF_SLOW_NOT_IP;
      return m;
    }
  }
  m.l2_len = off;

  std::uint8_t l4proto;
  if (type == kEthIpv4) {
    if (off + 20 > f.size())
      return m;
    std::size_t ihl = f[off] & 0x0f;
    if ((f[off] >> 4) != 4 || ihl < 5) { // ip_rcv_core: header error
      m.reason = XF_SLOW_IP_HEADER;
      return m;
    }
    if (ihl > 5) {
      m.reason = XF_SLOW_IP_OPTIONS;
      return m;
    }
    m.ip_len = be16(f, off + 2);
    if (m.ip_len < 20 || off + m.ip_len > f.size()) { // ip_rcv_core: length error
      m.reason = XF_SLOW_IP_LENGTH;
      return m;
    }
    if (be16(f, off + 6) & 0x3fff) { // MF or a fragment offset
      m.reason = XF_SLOW_FRAGMENT;
      return m;
    }
    m.ip_hdr_len = 20;
    m.key.family = XF_FAMILY_IPV4;
    std::memcpy(&m.key.src[0], &f[off + 12], 4);
    std::memcpy(&m.key.dst[0], &f[off + 16], 4);
    m.ttl = f[off + 8];
    l4proto = f[off + 9];
  } else if (type == kEthIpv6) {
    if (off + 40 > f.size())
      return m;
    if ((f[off] >> 4) != 6) {
      m.reason = XF_SLOW_IP_HEADER;
      return m;
    }
    m.ip_len = 40 + be16(f, off + 4);
    if (off + m.ip_len > f.size()) { // ipv6_rcv: payload length past the frame
      m.reason = XF_SLOW_IP_LENGTH;
      return m;
    }
    l4proto = f[off + 6];
    if (is_ipv6_extension_header(l4proto)) {
      m.reason = XF_SLOW_IPV6_EXT;
      return m;
    }
    m.ip_hdr_len = 40;
    m.key.family = XF_FAMILY_IPV6;
    std::memcpy(m.key.src, &f[off + 8], 16);
    std::memcpy(m.key.dst, &f[off + 24], 16);
    m.ttl = f[off + 7];
  } else {
    m.reason = XF_SLOW_NOT_IP;
    return m;
  }

  // The kernel trims a PPPoE frame to its length field and drops it when the
  // field points past the frame; IP drops a packet the trim cut short.
  if ((m.key.encap.flags & XF_ENCAP_PPPOE) &&
      (ppp_len < m.ip_len + 2 || m.l2_len - 2 + ppp_len > f.size()))
    return m;

  m.key.proto = l4proto;
  std::size_t l4 = off + m.ip_hdr_len, ip_end = off + m.ip_len;
  if (l4proto == kTcp) {
    m.reason = XF_SLOW_L4_TRUNCATED;
    if (l4 + 20 > ip_end)
      return m;
    std::size_t doff = f[l4 + 12] >> 4;
    if (doff < 5) {
      m.reason = XF_SLOW_TCP_DOFF;
      return m;
    }
    if (l4 + doff * 4 > ip_end)
      return m;
    m.tcp_fin_rst = (f[l4 + 13] & 0x05) != 0; // FIN 0x01, RST 0x04
  } else if (l4proto == kUdp) {
    m.reason = XF_SLOW_L4_TRUNCATED;
    if (l4 + 8 > ip_end)
      return m;
  } else {
    m.reason = XF_SLOW_NOT_TCP_UDP;
    return m;
  }
  std::memcpy(&m.key.sport, &f[l4], 2);
  std::memcpy(&m.key.dport, &f[l4 + 2], 2);
  m.reason = XF_SLOW_MAX;
  return m;
}

bool martian(const ModelFrame &m) {
  auto byte = [](const __u32 *addr, int i) {
    return reinterpret_cast<const std::uint8_t *>(addr)[i];
  };
  if (m.key.family == XF_FAMILY_IPV4) {
    // 0/8, 127/8, multicast 224/4, class E and broadcast 240/4.
    for (const __u32 *a : {m.key.src, m.key.dst}) {
      std::uint8_t first = byte(a, 0);
      if (first == 0 || first == 127 || first >= 224)
        return true;
    }
    return false;
  }
  for (const __u32 *a : {m.key.src, m.key.dst}) {
    std::uint8_t b[16];
    std::memcpy(b, a, 16);
    bool zero10 = std::all_of(b, b + 10, [](std::uint8_t x) { return x == 0; });
    bool zero15 = zero10 && b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0;
    if (b[0] == 0xff) // multicast
      return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) // link-local fe80::/10
      return true;
    if (zero10 && b[10] == 0xff && b[11] == 0xff) // v4-mapped
      return true;
    if (zero15 && (b[15] == 0 || b[15] == 1)) // unspecified, loopback
      return true;
  }
  return false;
}

std::size_t l4_checksum_offset(const ModelFrame &m) {
  return m.ip_hdr_len + (m.key.proto == kTcp ? 16 : 6);
}

bool ipv4_header_checksum_ok(std::span<const std::uint8_t> frame, const ModelFrame &m) {
  return testing::inet_checksum(frame.subspan(m.l2_len, 20)) == 0;
}

bool l4_checksum_ok(std::span<const std::uint8_t> frame, const ModelFrame &m) {
  std::size_t check = m.l2_len + l4_checksum_offset(m);
  if (m.key.proto == kUdp && be16(frame, check) == 0)
    return true; // "no checksum" (legal on IPv4; left alone on IPv6, as nf_nat does)
  return pseudo_header(frame, m).add(l4_bytes(frame, m)).checksum() == 0;
}

void fix_checksums(std::span<std::uint8_t> frame, const ModelFrame &m) {
  if (m.key.family == XF_FAMILY_IPV4) {
    put_be16(frame, m.l2_len + 10, 0);
    put_be16(frame, m.l2_len + 10, testing::inet_checksum(frame.subspan(m.l2_len, 20)));
  }
  std::size_t check = m.l2_len + l4_checksum_offset(m);
  put_be16(frame, check, 0);
  std::uint16_t sum = pseudo_header(frame, m).add(l4_bytes(frame, m)).checksum();
  if (sum == 0 && m.key.proto == kUdp)
    sum = 0xffff; // 0 means "no checksum" for UDP
  put_be16(frame, check, sum);
}

} // namespace xdpflow::fuzz
