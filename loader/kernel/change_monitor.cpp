#include "kernel/change_monitor.h"

#include <cerrno>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/error.h"

namespace xdpflow {
namespace {

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

// Link flags whose change changes where or whether the kernel forwards.
constexpr std::uint32_t watched_flags = IFF_UP | IFF_RUNNING;

} // namespace

ChangeMonitor::ChangeMonitor()
    : query_(NETLINK_ROUTE, "rtnetlink queries"), events_(NETLINK_ROUTE, "rtnetlink events"),
      nft_(NETLINK_NETFILTER, "nftables events"), neigh_(NETLINK_ROUTE, "neighbour refreshes"),
      buf_(1 << 16) {
  neigh_.set_nonblocking();
  // Join before dumping: a change between the dump and the join would be lost.
  events_.set_rcvbuf(4 << 20);
  for (unsigned group :
       {RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE,
        RTNLGRP_IPV6_RULE, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR})
    events_.join_group(group);
  events_.set_nonblocking();
  nft_.join_group(NFNLGRP_NFTABLES);
  nft_.set_nonblocking();
  dump_all();
}

void ChangeMonitor::dump_all() {
  links_.clear();
  neighbours_ = NeighbourMirror{};
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  Causes ignored{};
  auto on_msg = [&](const nlmsghdr *nlh, std::size_t) { apply(nlh, ignored); };

  nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto *ifm = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  query_.request(nlh, on_msg);

  // AF_UNSPEC lists IP neighbours; the FDB is asked for separately.
  for (std::uint8_t family : {AF_UNSPEC, AF_BRIDGE}) {
    nlh = mnl_nlmsg_put_header(req.data());
    nlh->nlmsg_type = RTM_GETNEIGH;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    auto *ndm = static_cast<ndmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = family;
    query_.request(nlh, on_msg);
  }
}

void ChangeMonitor::apply(const nlmsghdr *nlh, Causes &causes) {
  switch (nlh->nlmsg_type) {
  case RTM_NEWLINK:
  case RTM_DELLINK:
    route_mtus_.clear();
    if (apply_link(nlh))
      causes[XF_INVAL_LINK] = true;
    break;
  case RTM_DELADDR:
    // A masqueraded flow whose source address left must not be offloaded
    // again: the kernel resets it, and the observer sees that.
    causes[XF_INVAL_LINK] = true;
    break;
  case RTM_NEWADDR:
    // A new address (or one whose flags changed: IPv6 DAD finishing a
    // second after a link comes up, in every fresh container) changes no
    // established connection's path or NAT: masquerade chose the source
    // when the connection began, and the prefix route a new address brings
    // comes as RTM_NEWROUTE. Counting it re-learned every connection.
    break;
  case RTM_NEWNEIGH:
  case RTM_DELNEIGH:
    if (auto cause = apply_neigh(nlh))
      causes[*cause] = true;
    break;
  case RTM_NEWROUTE:
  case RTM_DELROUTE:
    route_mtus_.clear();
    causes[XF_INVAL_ROUTE] = true;
    break;
  case RTM_NEWRULE:
  case RTM_DELRULE:
    causes[XF_INVAL_RULE] = true;
    break;
  default:
    break;
  }
}

// True when something forwarding depends on changed: MTU, up/running,
// MAC, bridge membership, or the link left. (Attaching programs, counters
// and the like also send RTM_NEWLINK: not changes.)
bool ChangeMonitor::apply_link(const nlmsghdr *nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg))
    return false;
  auto *ifm = static_cast<const ifinfomsg *>(mnl_nlmsg_get_payload(nlh));
  std::uint32_t ifindex = ifm->ifi_index;
  if (nlh->nlmsg_type == RTM_DELLINK)
    return links_.erase(ifindex) > 0;
  if (ifm->ifi_family == AF_BRIDGE)
    return false; // per-port bridge info, the AF_UNSPEC message carries the link
  auto tb = attrs(nlh, sizeof(ifinfomsg), IFLA_MAX);
  Link link;
  link.flags = ifm->ifi_flags & watched_flags;
  if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
    std::memcpy(link.mac.data(), mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
  if (tb[IFLA_MTU] && mnl_attr_get_payload_len(tb[IFLA_MTU]) == 4)
    link.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
  // The bridge a port belongs to is folded into the flags word's spare bits
  // of the comparison: a port leaving or joining a bridge is a change.
  std::uint32_t master = tb[IFLA_MASTER] ? mnl_attr_get_u32(tb[IFLA_MASTER]) : 0;
  link.flags |= master << 16;
  auto it = links_.find(ifindex);
  bool changed = it != links_.end() && !(it->second == link);
  links_[ifindex] = link;
  return changed;
}

std::optional<xf_invalidation> ChangeMonitor::apply_neigh(const nlmsghdr *nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg))
    return std::nullopt;
  auto *ndm = static_cast<const ndmsg *>(mnl_nlmsg_get_payload(nlh));
  auto tb = attrs(nlh, sizeof(ndmsg), NDA_MAX);
  NeighbourEvent ev;
  ev.deleted = nlh->nlmsg_type == RTM_DELNEIGH;
  ev.ifindex = static_cast<std::uint32_t>(ndm->ndm_ifindex);
  ev.state = ndm->ndm_state;
  if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
    Mac mac;
    std::memcpy(mac.data(), mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
    ev.mac = mac;
  }
  if (ndm->ndm_family == AF_BRIDGE) {
    ev.bridge = true;
    ev.master = tb[NDA_MASTER] ? mnl_attr_get_u32(tb[NDA_MASTER]) : 0;
    if (!ev.master || (ndm->ndm_state & NUD_PERMANENT))
      return std::nullopt; // the bridge's own and the ports' addresses
  } else if (ndm->ndm_family == AF_INET || ndm->ndm_family == AF_INET6) {
    auto dst = addr_of(tb[NDA_DST], ndm->ndm_family);
    if (!dst)
      return std::nullopt;
    ev.dst = *dst;
  } else {
    return std::nullopt;
  }
  return neighbours_.apply(ev);
}

void ChangeMonitor::drain(NetlinkSocket &sock, Causes &causes, bool nftables) {
  for (;;) {
    long n = sock.recv(buf_.data(), buf_.size());
    if (n == -ENOBUFS) {
      // Lost events: anything may have changed.
      if (!nftables)
        dump_all();
      causes[nftables ? XF_INVAL_RULESET : XF_INVAL_ROUTE] = true;
      continue;
    }
    if (n <= 0)
      return;
    int left = static_cast<int>(n);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf_.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (!nftables)
        apply(nlh, causes);
      // One NEWGEN closes every committed ruleset transaction.
      else if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN))
        causes[XF_INVAL_RULESET] = true;
    }
  }
}

ChangeMonitor::Causes ChangeMonitor::process_events() {
  Causes causes{};
  drain(events_, causes, false);
  drain(nft_, causes, true);
  return causes;
}

std::optional<std::uint32_t> ChangeMonitor::mtu_of(std::uint32_t ifindex) const {
  auto it = links_.find(ifindex);
  if (it == links_.end() || !it->second.mtu)
    return std::nullopt;
  return it->second.mtu;
}

std::optional<std::uint32_t> ChangeMonitor::route_mtu(const IpAddr &dst) {
  auto it = route_mtus_.find(dst);
  if (it != route_mtus_.end())
    return it->second;
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto *rtm = static_cast<rtmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  bool v4 = dst.family == XF_FAMILY_IPV4;
  rtm->rtm_family = v4 ? AF_INET : AF_INET6;
  rtm->rtm_dst_len = v4 ? 32 : 128;
  mnl_attr_put(nlh, RTA_DST, v4 ? 4 : 16, dst.bytes.data());
  std::optional<std::uint32_t> mtu;
  try {
    query_.request(nlh, [&](const nlmsghdr *reply, std::size_t) {
      if (reply->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(reply) < sizeof(rtmsg))
        return;
      auto tb = attrs(reply, sizeof(rtmsg), RTA_MAX);
      if (!tb[RTA_METRICS])
        return;
      int left = static_cast<int>(mnl_attr_get_payload_len(tb[RTA_METRICS]));
      auto *m = static_cast<const nlattr *>(mnl_attr_get_payload(tb[RTA_METRICS]));
      while (left > 0 && mnl_attr_ok(m, left)) {
        if (mnl_attr_get_type(m) == RTAX_MTU && mnl_attr_get_payload_len(m) == 4)
          mtu = mnl_attr_get_u32(m);
        left -= MNL_ALIGN(m->nla_len);
        m = reinterpret_cast<const nlattr *>(reinterpret_cast<const char *>(m) +
                                             MNL_ALIGN(m->nla_len));
      }
    });
  } catch (const SysError &e) {
    if (e.err() == ENOMEM || e.err() == ENOBUFS)
      throw;
    // No route: no MTU of its own.
  }
  route_mtus_[dst] = mtu;
  return mtu;
}

std::size_t ChangeMonitor::refresh_stale(const std::set<Mac> &macs) {
  std::size_t sent = 0;
  for (const auto &[ifindex, dst] : neighbours_.stale_using(macs)) {
    std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
    nlh->nlmsg_type = RTM_NEWNEIGH;
    // No ACK asked and none awaited: a refresh must never hold up the
    // loop (waiting for this ACK blocked it on 6.18, seen in gdb); an error
    // reply is drained below.
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_REPLACE;
    nlh->nlmsg_seq = neigh_.next_seq();
    auto *ndm = static_cast<ndmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    bool v4 = dst.family == XF_FAMILY_IPV4;
    ndm->ndm_family = v4 ? AF_INET : AF_INET6;
    ndm->ndm_ifindex = static_cast<int>(ifindex);
    // NTF_USE: neigh_event_send(), what the kernel does when it transmits.
    ndm->ndm_flags = NTF_USE;
    mnl_attr_put(nlh, NDA_DST, v4 ? 4 : 16, dst.bytes.data());
    neigh_.send(nlh, nlh->nlmsg_len);
    sent++;
  }
  // Error replies (a neighbour gone meanwhile: its deletion event
  // invalidates what used it) are read and dropped.
  while (neigh_.recv(buf_.data(), buf_.size()) > 0) {
  }
  return sent;
}

} // namespace xdpflow
