#include "core/link_facts.h"

#include <array>
#include <cstring>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sstream>
#include <sys/socket.h>

#include "core/netlink_attr.h"

namespace xdpflow {

namespace {

// The attributes of [start, start + len) by type (the last of each type
// wins, as the kernel sends each once); false when one overruns the buffer.
template <std::size_t N>
bool index_attrs(const void *start, std::size_t len, std::array<const nlattr *, N> &at) {
  auto *p = static_cast<const std::uint8_t *>(start);
  std::size_t off = 0;
  while (off + NLA_HDRLEN <= len) {
    auto *a = reinterpret_cast<const nlattr *>(p + off);
    if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
      return false;
    if (nl::attr_type(a) < N)
      at[nl::attr_type(a)] = a;
    off += nl::align(a->nla_len);
  }
  return true;
}

template <std::size_t N> bool index_nested(const nlattr *nest, std::array<const nlattr *, N> &at) {
  return index_attrs(nl::attr_payload(nest), nl::attr_payload_len(nest), at);
}

std::optional<std::uint32_t> u32_of(const nlattr *a) {
  if (!a || nl::attr_payload_len(a) < 4)
    return std::nullopt;
  return nl::attr_u32(a);
}

std::string str_of(const nlattr *a) {
  if (!a || !nl::attr_is_strz(a))
    return "";
  return static_cast<const char *>(nl::attr_payload(a));
}

} // namespace

std::optional<LinkFact> parse_link_message(const nlmsghdr *nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
    return std::nullopt;
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
    return std::nullopt;
  ifinfomsg ifm;
  std::memcpy(&ifm, nl::payload(nlh), sizeof ifm);
  if (ifm.ifi_family != AF_UNSPEC || ifm.ifi_index <= 0)
    return std::nullopt;
  std::array<const nlattr *, IFLA_MAX + 1> at{};
  std::size_t head = nl::align(sizeof(ifinfomsg));
  std::size_t len = nl::payload_len(nlh);
  if (len < head || !index_attrs(nl::payload(nlh, sizeof(ifinfomsg)), len - head, at))
    return std::nullopt;
  LinkFact f;
  f.ifindex = static_cast<std::uint32_t>(ifm.ifi_index);
  f.deleted = nlh->nlmsg_type == RTM_DELLINK;
  f.name = str_of(at[IFLA_IFNAME]);
  f.master = u32_of(at[IFLA_MASTER]).value_or(0);
  // The kernel sends IFLA_LINK only when it differs from the device itself.
  if (auto link = u32_of(at[IFLA_LINK]); link && *link != f.ifindex)
    f.lower = *link;
  f.lower_elsewhere = at[IFLA_LINK_NETNSID] != nullptr;
  if (at[IFLA_LINKINFO]) {
    std::array<const nlattr *, IFLA_INFO_MAX + 1> info{};
    if (index_nested(at[IFLA_LINKINFO], info))
      f.kind = str_of(info[IFLA_INFO_KIND]);
  }
  if (at[IFLA_XDP]) {
    std::array<const nlattr *, IFLA_XDP_MAX + 1> xdp{};
    if (index_nested(at[IFLA_XDP], xdp))
      // One program: IFLA_XDP_PROG_ID; several modes at once: one id each.
      for (int id :
           {IFLA_XDP_PROG_ID, IFLA_XDP_DRV_PROG_ID, IFLA_XDP_SKB_PROG_ID, IFLA_XDP_HW_PROG_ID})
        if (!f.xdp_prog_id)
          f.xdp_prog_id = u32_of(xdp[id]).value_or(0);
  }
  return f;
}

std::vector<std::string> parse_pppoe_devices(const std::string &proc_text) {
  std::vector<std::string> out;
  std::istringstream in(proc_text);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) { // "Id       Address              Device"
      header = false;
      continue;
    }
    std::istringstream fields(line);
    std::string id, address, device;
    if (!(fields >> id >> address >> device))
      continue;
    bool seen = false;
    for (const auto &d : out)
      seen |= d == device;
    if (!seen)
      out.push_back(device);
  }
  return out;
}

} // namespace xdpflow
