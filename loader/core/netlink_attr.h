// Netlink messages and attributes in memory: the few operations the pure
// conntrack message code needs, so the core (and its unit tests on every
// target, including big-endian mips where Debian has no libmnl) does not
// depend on libmnl. The kernel-facing code keeps using libmnl for sockets.
//
// Layout as in <linux/netlink.h>: a header, then attributes of
// {nla_len, nla_type} and a payload, each padded to 4 bytes (NLA_ALIGN);
// nla_len counts the header and payload, not the padding. Values are in the
// host's byte order unless the protocol says otherwise (conntrack: network
// order, converted by the caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <linux/netlink.h>
#include <string_view>

namespace xdpflow::nl {

constexpr std::size_t align(std::size_t len) {
  return (len + NLA_ALIGNTO - 1) & ~static_cast<std::size_t>(NLA_ALIGNTO - 1);
}

// Reading an attribute already checked to lie inside its message.
inline std::uint16_t attr_type(const nlattr *a) {
  return a->nla_type & NLA_TYPE_MASK;
}
inline const void *attr_payload(const nlattr *a) {
  return reinterpret_cast<const std::uint8_t *>(a) + NLA_HDRLEN;
}
inline std::size_t attr_payload_len(const nlattr *a) {
  return a->nla_len - NLA_HDRLEN;
}
std::uint8_t attr_u8(const nlattr *a);
std::uint16_t attr_u16(const nlattr *a);
std::uint32_t attr_u32(const nlattr *a);
// Whether the payload is a string ending with the attribute (last byte NUL).
bool attr_is_strz(const nlattr *a);

// The payload of a message after its header and a fixed extra header.
inline const void *payload(const nlmsghdr *nlh, std::size_t extra = 0) {
  return reinterpret_cast<const std::uint8_t *>(nlh) + NLMSG_HDRLEN + align(extra);
}
inline std::size_t payload_len(const nlmsghdr *nlh) {
  return nlh->nlmsg_len - NLMSG_HDRLEN;
}

// Building a message in a caller's buffer, which must be large enough (the
// messages built here are a few hundred bytes; callers use a socket-sized
// buffer). nlmsg_len always covers what was written.
nlmsghdr *put_header(void *buf);
void *put_extra_header(nlmsghdr *nlh, std::size_t len); // zeroed
void put_attr(nlmsghdr *nlh, std::uint16_t type, std::size_t len, const void *data);
void put_u8(nlmsghdr *nlh, std::uint16_t type, std::uint8_t v);
void put_u16(nlmsghdr *nlh, std::uint16_t type, std::uint16_t v);
void put_u32(nlmsghdr *nlh, std::uint16_t type, std::uint32_t v);
void put_strz(nlmsghdr *nlh, std::uint16_t type, std::string_view s);
// A nested attribute: its length is set by nest_end once its members are in.
nlattr *nest_start(nlmsghdr *nlh, std::uint16_t type);
void nest_end(nlmsghdr *nlh, nlattr *nest);

} // namespace xdpflow::nl
