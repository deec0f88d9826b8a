// A reference model of what the XDP fast path must do with one frame,
// written from DESIGN.md's rules (not from bpf/parse.h), byte offset by byte
// offset: which frames are fast-path candidates, the key they look up, why the
// others go to the kernel, and the checksum rules a forwarded frame obeys.
// The packet fuzzer runs every input through both and compares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "xdpflow/flow.h"

namespace xdpflow::fuzz {

using Bytes = std::vector<std::uint8_t>;

struct ModelFrame {
  int reason = XF_SLOW_UNPARSED; // XF_SLOW_MAX: a candidate for the fast path
  xf_flow_key key{};             // valid for candidates
  std::size_t l2_len = 0;        // offset of the IP header
  std::size_t ip_hdr_len = 0;    // 20 (IPv4) or 40 (IPv6)
  std::size_t ip_len = 0;        // from the IP header: total (v4) / 40 + payload (v6)
  std::uint8_t ttl = 0;          // TTL or hop limit
  bool tcp_fin_rst = false;
};

// Parses a frame as the fast path must (DESIGN.md "Data path").
ModelFrame model_parse(std::span<const std::uint8_t> frame, std::uint32_t ifindex);

// Checksums of a parsed candidate, recomputed in full (tests/common/inet_csum.h).
bool ipv4_header_checksum_ok(std::span<const std::uint8_t> frame, const ModelFrame &m);
// TCP/UDP over the IP payload with the pseudo-header. A UDP checksum of zero
// ("none") counts as ok.
bool l4_checksum_ok(std::span<const std::uint8_t> frame, const ModelFrame &m);
// Rewrites both checksums so that the two functions above hold.
void fix_checksums(std::span<std::uint8_t> frame, const ModelFrame &m);

// Addresses the kernel never forwards from or to (martians: ip_route_input,
// ipv6_rcv, ip6_forward).
bool martian(const ModelFrame &m);

// Offsets inside the IP packet of the L4 checksum field.
std::size_t l4_checksum_offset(const ModelFrame &m);

// Big-endian field access.
inline std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t off) {
  return static_cast<std::uint16_t>(b[off] << 8 | b[off + 1]);
}
inline void put_be16(std::span<std::uint8_t> b, std::size_t off, std::uint16_t v) {
  b[off] = static_cast<std::uint8_t>(v >> 8);
  b[off + 1] = static_cast<std::uint8_t>(v);
}

} // namespace xdpflow::fuzz
