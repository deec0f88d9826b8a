#include "core/flow_key.h"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <utility>

namespace xdpflow {

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  std::string s(text);
  IpAddr a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = XF_FAMILY_IPV4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = XF_FAMILY_IPV6;
    return a;
  }
  return std::nullopt;
}

IpAddr IpAddr::from_words(std::uint8_t family, const __u32 words[4]) {
  IpAddr a;
  a.family = family;
  std::memcpy(a.bytes.data(), words, family == XF_FAMILY_IPV4 ? 4 : 16);
  return a;
}

void IpAddr::to_words(__u32 words[4]) const {
  std::memset(words, 0, 16);
  std::memcpy(words, bytes.data(), family == XF_FAMILY_IPV4 ? 4 : 16);
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (family == XF_FAMILY_IPV4)
    inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
  else if (family == XF_FAMILY_IPV6)
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

FlowTuple reversed(const FlowTuple &t) {
  FlowTuple r = t;
  std::swap(r.src, r.dst);
  std::swap(r.sport, r.dport);
  return r;
}

xf_flow_key make_flow_key(std::uint32_t ifindex, const xf_encap &encap, const FlowTuple &t) {
  xf_flow_key k{};
  k.ifindex = ifindex;
  k.encap = encap;
  k.family = t.src.family;
  k.proto = t.proto;
  t.src.to_words(k.src);
  t.dst.to_words(k.dst);
  k.sport = htons(t.sport);
  k.dport = htons(t.dport);
  return k;
}

FlowTuple tuple_of(const xf_flow_key &key) {
  return tuple_of_key(key);
}

static std::string endpoint(const IpAddr &a, std::uint16_t port) {
  if (a.family == XF_FAMILY_IPV6)
    return "[" + a.to_string() + "]:" + std::to_string(port);
  return a.to_string() + ":" + std::to_string(port);
}

std::string to_string(const FlowTuple &t) {
  const char *proto = t.proto == IPPROTO_TCP ? "tcp" : t.proto == IPPROTO_UDP ? "udp" : "ip";
  return std::string(proto) + " " + endpoint(t.src, t.sport) + " -> " + endpoint(t.dst, t.dport);
}

} // namespace xdpflow
