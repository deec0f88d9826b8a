#include "kernel/egress_resolver.h"

#include <cerrno>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "core/error.h"

namespace xdpflow {
namespace {

// Neighbour states whose link-layer address can be used to send now.
constexpr std::uint16_t usable_nud =
    NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

std::vector<const nlattr *> attrs(const nlmsghdr *nlh, std::size_t hdr_len, int max) {
  std::vector<const nlattr *> tb(max + 1, nullptr);
  int left =
      static_cast<int>(nlh->nlmsg_len) - static_cast<int>(MNL_NLMSG_HDRLEN + MNL_ALIGN(hdr_len));
  auto *a = static_cast<const nlattr *>(mnl_nlmsg_get_payload_offset(nlh, hdr_len));
  while (left > 0 && mnl_attr_ok(a, left)) {
    int type = mnl_attr_get_type(a);
    if (type <= max)
      tb[type] = a;
    left -= MNL_ALIGN(a->nla_len);
    a = reinterpret_cast<const nlattr *>(reinterpret_cast<const char *>(a) + MNL_ALIGN(a->nla_len));
  }
  return tb;
}

std::optional<IpAddr> addr_of(const nlattr *a, int family) {
  if (!a)
    return std::nullopt;
  IpAddr ip;
  std::size_t len = family == AF_INET ? 4 : 16;
  if (mnl_attr_get_payload_len(a) != len)
    return std::nullopt;
  ip.family = family == AF_INET ? XF_FAMILY_IPV4 : XF_FAMILY_IPV6;
  std::memcpy(ip.bytes.data(), mnl_attr_get_payload(a), len);
  return ip;
}

} // namespace

EgressResolver::EgressResolver()
    : query_(NETLINK_ROUTE, "rtnetlink queries"), events_(NETLINK_ROUTE, "rtnetlink events"),
      buf_(1 << 16) {
  // Join before dumping: a change between the dump and the join would be lost.
  events_.set_rcvbuf(4 << 20);
  events_.join_group(RTNLGRP_LINK);
  events_.join_group(RTNLGRP_NEIGH);
  events_.join_group(RTNLGRP_IPV4_ROUTE);
  events_.join_group(RTNLGRP_IPV6_ROUTE);
  events_.set_nonblocking();
  dump_all();
}

void EgressResolver::dump_all() {
  links_.clear();
  neighbours_.clear();
  routes_.clear();
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  auto on_msg = [this](const nlmsghdr *nlh, std::size_t) { apply(nlh); };

  nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto *ifm = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  query_.request(nlh, on_msg);

  nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto *ndm = static_cast<ndmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_UNSPEC;
  query_.request(nlh, on_msg);
}

bool EgressResolver::apply(const nlmsghdr *nlh) {
  switch (nlh->nlmsg_type) {
  case RTM_NEWLINK:
  case RTM_DELLINK:
    return apply_link(nlh);
  case RTM_NEWNEIGH:
  case RTM_DELNEIGH:
    return apply_neigh(nlh);
  case RTM_NEWROUTE:
  case RTM_DELROUTE:
    routes_.clear();
    return true;
  default:
    return false;
  }
}

bool EgressResolver::apply_link(const nlmsghdr *nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg))
    return false;
  auto *ifm = static_cast<const ifinfomsg *>(mnl_nlmsg_get_payload(nlh));
  std::uint32_t ifindex = ifm->ifi_index;
  // Routes through a link that went away or down vanish without route events.
  routes_.clear();
  if (nlh->nlmsg_type == RTM_DELLINK)
    return links_.erase(ifindex) > 0;
  auto tb = attrs(nlh, sizeof(ifinfomsg), IFLA_MAX);
  Link link;
  link.up = (ifm->ifi_flags & IFF_UP) && (ifm->ifi_flags & IFF_RUNNING);
  if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
    std::memcpy(link.mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
  if (tb[IFLA_MTU] && mnl_attr_get_payload_len(tb[IFLA_MTU]) == 4)
    link.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
  auto it = links_.find(ifindex);
  if (it != links_.end() && it->second == link)
    return true; // routes_ was cleared: still worth a re-resolve
  links_[ifindex] = link;
  return true;
}

bool EgressResolver::apply_neigh(const nlmsghdr *nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg))
    return false;
  auto *ndm = static_cast<const ndmsg *>(mnl_nlmsg_get_payload(nlh));
  if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
    return false;
  auto tb = attrs(nlh, sizeof(ndmsg), NDA_MAX);
  auto dst = addr_of(tb[NDA_DST], ndm->ndm_family);
  if (!dst)
    return false;
  NeighKey key{static_cast<std::uint32_t>(ndm->ndm_ifindex), *dst};
  bool usable = nlh->nlmsg_type == RTM_NEWNEIGH && (ndm->ndm_state & usable_nud) &&
                tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6;
  auto it = neighbours_.find(key);
  if (!usable) {
    if (it == neighbours_.end())
      return false;
    neighbours_.erase(it);
    return true;
  }
  std::array<std::uint8_t, 6> mac;
  std::memcpy(mac.data(), mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
  if (it != neighbours_.end() && it->second == mac)
    return false; // REACHABLE <-> STALE churn: nothing we use changed
  neighbours_[key] = mac;
  return true;
}

std::optional<EgressResolver::Route> EgressResolver::query_route(const IpAddr &dst) {
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto *rtm = static_cast<rtmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  bool v4 = dst.family == XF_FAMILY_IPV4;
  rtm->rtm_family = v4 ? AF_INET : AF_INET6;
  rtm->rtm_dst_len = v4 ? 32 : 128;
  mnl_attr_put(nlh, RTA_DST, v4 ? 4 : 16, dst.bytes.data());
  std::optional<Route> route;
  try {
    query_.request(nlh, [&](const nlmsghdr *reply, std::size_t) {
      if (reply->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(reply) < sizeof(rtmsg))
        return;
      auto *r = static_cast<const rtmsg *>(mnl_nlmsg_get_payload(reply));
      if (r->rtm_type != RTN_UNICAST)
        return; // local, blackhole, unreachable...: not forwarded
      auto tb = attrs(reply, sizeof(rtmsg), RTA_MAX);
      if (!tb[RTA_OIF])
        return;
      Route rt;
      rt.oif = mnl_attr_get_u32(tb[RTA_OIF]);
      rt.gateway = addr_of(tb[RTA_GATEWAY], r->rtm_family);
      if (tb[RTA_METRICS]) {
        auto *nest = tb[RTA_METRICS];
        int left = static_cast<int>(mnl_attr_get_payload_len(nest));
        auto *m = static_cast<const nlattr *>(mnl_attr_get_payload(nest));
        while (left > 0 && mnl_attr_ok(m, left)) {
          if (mnl_attr_get_type(m) == RTAX_MTU && mnl_attr_get_payload_len(m) == 4)
            rt.mtu = mnl_attr_get_u32(m);
          left -= MNL_ALIGN(m->nla_len);
          m = reinterpret_cast<const nlattr *>(reinterpret_cast<const char *>(m) +
                                               MNL_ALIGN(m->nla_len));
        }
      }
      route = rt;
    });
  } catch (const SysError &e) {
    // ENETUNREACH, EHOSTUNREACH...: no route is an answer, not a failure.
    if (e.err() == ENOMEM || e.err() == ENOBUFS)
      throw;
    return std::nullopt;
  }
  return route;
}

std::optional<Egress> EgressResolver::resolve(const FlowTuple &out) {
  auto rit = routes_.find(out.dst);
  if (rit == routes_.end())
    rit = routes_.emplace(out.dst, query_route(out.dst)).first;
  if (!rit->second) {
    last_failure_ = "no unicast route to " + out.dst.to_string();
    return std::nullopt;
  }
  const Route &route = *rit->second;
  auto lit = links_.find(route.oif);
  if (lit == links_.end() || !lit->second.up) {
    last_failure_ = "output link " + std::to_string(route.oif) + " is down";
    return std::nullopt;
  }
  IpAddr next_hop = route.gateway ? *route.gateway : out.dst;
  auto nit = neighbours_.find({route.oif, next_hop});
  if (nit == neighbours_.end()) {
    last_failure_ = "next hop " + next_hop.to_string() + " not resolved";
    return std::nullopt;
  }
  Egress eg;
  eg.ifindex = route.oif;
  eg.src_mac = lit->second.mac;
  eg.dst_mac = nit->second;
  std::uint32_t mtu = route.mtu ? route.mtu : lit->second.mtu;
  eg.mtu = static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu ? mtu : 1500, 65535));
  return eg;
}

bool EgressResolver::process_events() {
  bool changed = false;
  for (;;) {
    long n = events_.recv(buf_.data(), buf_.size());
    if (n == -ENOBUFS) {
      // Lost events: start over from a fresh dump.
      dump_all();
      changed = true;
      continue;
    }
    if (n == 0)
      return changed;
    int left = static_cast<int>(n);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf_.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left))
      changed |= apply(nlh);
  }
}

} // namespace xdpflow
