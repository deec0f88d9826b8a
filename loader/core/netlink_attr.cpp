#include "core/netlink_attr.h"

#include <cstring>

namespace xdpflow::nl {
namespace {

std::uint8_t *tail(nlmsghdr *nlh) {
  return reinterpret_cast<std::uint8_t *>(nlh) + align(nlh->nlmsg_len);
}

} // namespace

// memcpy: an attribute's payload is only 4-byte aligned relative to the
// buffer, which the caller may not have aligned (a byte vector).
std::uint8_t attr_u8(const nlattr *a) {
  return *static_cast<const std::uint8_t *>(attr_payload(a));
}
std::uint16_t attr_u16(const nlattr *a) {
  std::uint16_t v;
  std::memcpy(&v, attr_payload(a), sizeof(v));
  return v;
}
std::uint32_t attr_u32(const nlattr *a) {
  std::uint32_t v;
  std::memcpy(&v, attr_payload(a), sizeof(v));
  return v;
}

bool attr_is_strz(const nlattr *a) {
  std::size_t len = attr_payload_len(a);
  return len > 0 && static_cast<const char *>(attr_payload(a))[len - 1] == '\0';
}

nlmsghdr *put_header(void *buf) {
  auto *nlh = static_cast<nlmsghdr *>(buf);
  std::memset(nlh, 0, NLMSG_HDRLEN);
  nlh->nlmsg_len = NLMSG_HDRLEN;
  return nlh;
}

void *put_extra_header(nlmsghdr *nlh, std::size_t len) {
  std::uint8_t *p = tail(nlh);
  std::memset(p, 0, align(len));
  nlh->nlmsg_len = static_cast<std::uint32_t>(align(nlh->nlmsg_len) + align(len));
  return p;
}

void put_attr(nlmsghdr *nlh, std::uint16_t type, std::size_t len, const void *data) {
  std::uint8_t *p = tail(nlh);
  nlattr hdr{static_cast<std::uint16_t>(NLA_HDRLEN + len), type};
  std::memcpy(p, &hdr, sizeof(hdr));
  if (len && data)
    std::memcpy(p + NLA_HDRLEN, data, len);
  // Padding zeroed: the kernel does not read it, but a message compared or
  // hashed byte for byte must not carry stale buffer contents.
  std::memset(p + NLA_HDRLEN + len, 0, align(len) - len);
  nlh->nlmsg_len = static_cast<std::uint32_t>(align(nlh->nlmsg_len) + NLA_HDRLEN + align(len));
}

void put_u8(nlmsghdr *nlh, std::uint16_t type, std::uint8_t v) {
  put_attr(nlh, type, sizeof(v), &v);
}
void put_u16(nlmsghdr *nlh, std::uint16_t type, std::uint16_t v) {
  put_attr(nlh, type, sizeof(v), &v);
}
void put_u32(nlmsghdr *nlh, std::uint16_t type, std::uint32_t v) {
  put_attr(nlh, type, sizeof(v), &v);
}
void put_strz(nlmsghdr *nlh, std::uint16_t type, std::string_view s) {
  std::uint8_t *p = tail(nlh) + NLA_HDRLEN;
  put_attr(nlh, type, s.size() + 1, nullptr);
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = 0;
}

nlattr *nest_start(nlmsghdr *nlh, std::uint16_t type) {
  auto *nest = reinterpret_cast<nlattr *>(tail(nlh));
  put_attr(nlh, static_cast<std::uint16_t>(type | NLA_F_NESTED), 0, nullptr);
  return nest;
}

void nest_end(nlmsghdr *nlh, nlattr *nest) {
  nest->nla_len = static_cast<std::uint16_t>(tail(nlh) - reinterpret_cast<std::uint8_t *>(nest));
}

} // namespace xdpflow::nl
