#include "core/link_facts.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sstream>

namespace xdpflow {

namespace {

struct Attrs {
  const nlattr *tb[IFLA_MAX + 1] = {};
};

int keep_attr(const nlattr *attr, void *data) {
  auto *tb = static_cast<const nlattr **>(data);
  unsigned type = mnl_attr_get_type(attr);
  if (type <= IFLA_MAX)
    tb[type] = attr;
  return MNL_CB_OK;
}

int keep_info_attr(const nlattr *attr, void *data) {
  auto *tb = static_cast<const nlattr **>(data);
  unsigned type = mnl_attr_get_type(attr);
  if (type <= IFLA_INFO_MAX)
    tb[type] = attr;
  return MNL_CB_OK;
}

int keep_xdp_attr(const nlattr *attr, void *data) {
  auto *tb = static_cast<const nlattr **>(data);
  unsigned type = mnl_attr_get_type(attr);
  if (type <= IFLA_XDP_MAX)
    tb[type] = attr;
  return MNL_CB_OK;
}

std::optional<std::uint32_t> u32_of(const nlattr *a) {
  if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
    return std::nullopt;
  return mnl_attr_get_u32(a);
}

} // namespace

std::optional<LinkFact> parse_link_message(const nlmsghdr *nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
    return std::nullopt;
  if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
    return std::nullopt;
  auto *ifm = static_cast<const ifinfomsg *>(mnl_nlmsg_get_payload(nlh));
  if (ifm->ifi_family != AF_UNSPEC || ifm->ifi_index <= 0)
    return std::nullopt;
  Attrs a;
  if (mnl_attr_parse(nlh, sizeof(ifinfomsg), keep_attr, a.tb) < 0)
    return std::nullopt;
  LinkFact f;
  f.ifindex = static_cast<std::uint32_t>(ifm->ifi_index);
  f.deleted = nlh->nlmsg_type == RTM_DELLINK;
  if (a.tb[IFLA_IFNAME] && mnl_attr_validate(a.tb[IFLA_IFNAME], MNL_TYPE_STRING) >= 0)
    f.name = mnl_attr_get_str(a.tb[IFLA_IFNAME]);
  f.master = u32_of(a.tb[IFLA_MASTER]).value_or(0);
  // The kernel sends IFLA_LINK only when it differs from the device itself.
  if (auto link = u32_of(a.tb[IFLA_LINK]); link && *link != f.ifindex)
    f.lower = *link;
  f.lower_elsewhere = a.tb[IFLA_LINK_NETNSID] != nullptr;
  if (a.tb[IFLA_LINKINFO]) {
    const nlattr *info[IFLA_INFO_MAX + 1] = {};
    if (mnl_attr_parse_nested(a.tb[IFLA_LINKINFO], keep_info_attr, info) >= 0 &&
        info[IFLA_INFO_KIND] && mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_STRING) >= 0)
      f.kind = mnl_attr_get_str(info[IFLA_INFO_KIND]);
  }
  if (a.tb[IFLA_XDP]) {
    const nlattr *xdp[IFLA_XDP_MAX + 1] = {};
    if (mnl_attr_parse_nested(a.tb[IFLA_XDP], keep_xdp_attr, xdp) >= 0)
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
