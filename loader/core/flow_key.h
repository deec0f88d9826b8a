// Building and printing flow keys: the one place that knows how an address
// family, addresses and ports map onto struct xf_flow_key.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "xdpflow/flow.h"

namespace xdpflow {

// An IPv4 or IPv6 address in network byte order (IPv4 in the first 4 bytes).
struct IpAddr {
  std::uint8_t family = 0; // XF_FAMILY_IPV4 or XF_FAMILY_IPV6, 0 = unset
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<IpAddr> parse(std::string_view text);
  static IpAddr from_words(std::uint8_t family, const __u32 words[4]);
  void to_words(__u32 words[4]) const;
  std::string to_string() const;
  bool operator==(const IpAddr &) const = default;
  auto operator<=>(const IpAddr &) const = default;
};

// One direction of a connection as the key of the flow table. Ports in host
// order here; the key stores them in network order.
struct FlowTuple {
  IpAddr src, dst;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t proto = 0; // IPPROTO_TCP or IPPROTO_UDP

  bool operator==(const FlowTuple &) const = default;
  auto operator<=>(const FlowTuple &) const = default;
};

// The same connection seen from the other end: addresses and ports swapped.
FlowTuple reversed(const FlowTuple &t);

xf_flow_key make_flow_key(std::uint32_t ifindex, const xf_encap &encap, const FlowTuple &t);
FlowTuple tuple_of(const xf_flow_key &key);

// The tuple of any shared key struct with the flow key's address, port and
// protocol fields (xf_flow_key, xf_obs_key): ports in network order.
template <class Key> FlowTuple tuple_of_key(const Key &key) {
  FlowTuple t;
  t.src = IpAddr::from_words(key.family, key.src);
  t.dst = IpAddr::from_words(key.family, key.dst);
  t.sport = ntohs(key.sport);
  t.dport = ntohs(key.dport);
  t.proto = key.proto;
  return t;
}

// "tcp 198.18.0.2:40000 -> 198.19.0.2:80" (IPv6 addresses in brackets).
std::string to_string(const FlowTuple &t);

} // namespace xdpflow

namespace xdpflow {

// Hash for unordered containers keyed by tuple (FNV-1a over the fields).
struct FlowTupleHash {
  std::size_t operator()(const FlowTuple &t) const noexcept {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const void *p, std::size_t n) {
      auto *b = static_cast<const std::uint8_t *>(p);
      for (std::size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    };
    mix(&t.src.family, 1);
    mix(t.src.bytes.data(), 16);
    mix(t.dst.bytes.data(), 16);
    mix(&t.sport, 2);
    mix(&t.dport, 2);
    mix(&t.proto, 1);
    return h;
  }
};

} // namespace xdpflow
