#include "kernel/tc_facts.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <functional>
#include <libmnl/libmnl.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernel/netdev_features.h"

namespace xdpflow {
namespace {

// Walks the attributes in [first, first + len) (mnl_attr_for_each without
// its void* arithmetic, which C++ rejects).
template <typename F> void for_each_in(const nlattr *first, int len, F visit) {
  const nlattr *a = first;
  while (mnl_attr_ok(a, len)) {
    visit(a);
    len -= static_cast<int>(MNL_ALIGN(a->nla_len));
    a = mnl_attr_next(a);
  }
}

template <typename F> void for_each_nested(const nlattr *nest, F visit) {
  for_each_in(static_cast<const nlattr *>(mnl_attr_get_payload(nest)),
              static_cast<int>(mnl_attr_get_payload_len(nest)), visit);
}

template <typename F> void for_each_tc_attr(const nlmsghdr *nlh, F visit) {
  const auto *first = static_cast<const nlattr *>(mnl_nlmsg_get_payload_offset(nlh, sizeof(tcmsg)));
  int len =
      static_cast<int>(nlh->nlmsg_len) -
      static_cast<int>(reinterpret_cast<const char *>(first) - reinterpret_cast<const char *>(nlh));
  for_each_in(first, len, visit);
}

std::string attr_string(const nlattr *a) {
  if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 && mnl_attr_validate(a, MNL_TYPE_STRING) < 0)
    return {};
  return std::string(mnl_attr_get_str(a),
                     strnlen(mnl_attr_get_str(a), mnl_attr_get_payload_len(a)));
}

nlmsghdr *tc_dump_request(char *buf, std::uint16_t type, std::uint32_t ifindex,
                          std::uint32_t parent, std::uint32_t seq) {
  nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  auto *tcm = static_cast<tcmsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(tcmsg)));
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = static_cast<int>(ifindex);
  tcm->tcm_parent = parent;
  return nlh;
}

// The attribute of a classifier's TCA_OPTIONS that holds its actions.
int actions_attr_of(const std::string &kind) {
  if (kind == "u32")
    return TCA_U32_ACT;
  if (kind == "bpf")
    return TCA_BPF_ACT;
  if (kind == "basic")
    return TCA_BASIC_ACT;
  if (kind == "matchall")
    return TCA_MATCHALL_ACT;
  if (kind == "flower")
    return TCA_FLOWER_ACT;
  return -1;
}

// The target ifindex of a mirred redirect among the actions, 0 when none.
std::uint32_t mirred_redirect_target(const nlattr *actions) {
  std::uint32_t target = 0;
  for_each_nested(actions, [&](const nlattr *action) {
    std::string kind;
    const nlattr *options = nullptr;
    for_each_nested(action, [&](const nlattr *a) {
      if (mnl_attr_get_type(a) == TCA_ACT_KIND)
        kind = attr_string(a);
      else if (mnl_attr_get_type(a) == TCA_ACT_OPTIONS)
        options = a;
    });
    if (kind != "mirred" || !options)
      return;
    for_each_nested(options, [&](const nlattr *a) {
      if (mnl_attr_get_type(a) != TCA_MIRRED_PARMS ||
          mnl_attr_get_payload_len(a) < sizeof(tc_mirred))
        return;
      const auto *p = static_cast<const tc_mirred *>(mnl_attr_get_payload(a));
      if (p->eaction == TCA_EGRESS_REDIR || p->eaction == TCA_INGRESS_REDIR)
        target = p->ifindex;
    });
  });
  return target;
}

// One filter of a dump: its tcmsg, TCA_KIND and TCA_OPTIONS (may be null).
using FilterVisit =
    std::function<void(const tcmsg &tcm, const std::string &kind, const nlattr *options)>;

// Dumps the filters of ifindex's ingress block (ingress or clsact qdisc, the
// way `tc filter show dev X ingress` asks; an empty dump when there is
// neither). Throws SysError.
void dump_ingress_filters(NetlinkSocket &sock, std::uint32_t ifindex, const FilterVisit &visit) {
  std::vector<char> buf(8192);
  nlmsghdr *req = tc_dump_request(buf.data(), RTM_GETTFILTER, ifindex,
                                  TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), 0);
  sock.request(
      req,
      [&](const nlmsghdr *nlh, std::size_t) {
        if (nlh->nlmsg_type != RTM_NEWTFILTER)
          return;
        std::string kind;
        const nlattr *options = nullptr;
        for_each_tc_attr(nlh, [&](const nlattr *a) {
          if (mnl_attr_get_type(a) == TCA_KIND)
            kind = attr_string(a);
          else if (mnl_attr_get_type(a) == TCA_OPTIONS)
            options = a;
        });
        visit(*static_cast<const tcmsg *>(mnl_nlmsg_get_payload(nlh)), kind, options);
      },
      EINVAL);
}

} // namespace

TcFacts read_tc_facts(std::uint32_t ifindex) {
  TcFacts facts;
  NetlinkSocket sock(NETLINK_ROUTE, "rtnetlink (tc facts)");
  std::vector<char> buf(8192);

  // Every qdisc of the namespace (the kernel ignores the ifindex of a qdisc
  // dump); ours are those of ifindex whose parent is not the ingress hook.
  nlmsghdr *req = tc_dump_request(buf.data(), RTM_GETQDISC, ifindex, 0, sock.next_seq());
  try {
    sock.request(req, [&](const nlmsghdr *nlh, std::size_t) {
      if (nlh->nlmsg_type != RTM_NEWQDISC)
        return;
      const auto *tcm = static_cast<const tcmsg *>(mnl_nlmsg_get_payload(nlh));
      if (static_cast<std::uint32_t>(tcm->tcm_ifindex) != ifindex ||
          tcm->tcm_parent == TC_H_INGRESS)
        return;
      for_each_tc_attr(nlh, [&](const nlattr *a) {
        if (mnl_attr_get_type(a) == TCA_KIND)
          facts.egress_qdiscs.push_back(attr_string(a));
      });
    });
  } catch (const SysError &e) {
    throw SysError(e.err(), "reading the qdiscs of ifindex " + std::to_string(ifindex) +
                                " (RTM_GETQDISC dump)");
  }

  // A mirred redirect to an ifb in an ingress filter's actions.
  try {
    dump_ingress_filters(
        sock, ifindex, [&](const tcmsg &, const std::string &kind, const nlattr *options) {
          int act = actions_attr_of(kind);
          if (act < 0 || !options || !facts.ingress_ifb.empty())
            return;
          for_each_nested(options, [&](const nlattr *a) {
            if (mnl_attr_get_type(a) != act || !facts.ingress_ifb.empty())
              return;
            std::uint32_t target = mirred_redirect_target(a);
            char name[IF_NAMESIZE] = {};
            if (target && if_indextoname(target, name) && driver_name(name) == "ifb")
              facts.ingress_ifb = name;
          });
        });
  } catch (const SysError &e) {
    throw SysError(e.err(), "reading the ingress filters of ifindex " + std::to_string(ifindex) +
                                " (RTM_GETTFILTER dump)");
  }
  return facts;
}

std::vector<TcIngressProgram> tc_ingress_programs(std::uint32_t ifindex) {
  std::vector<TcIngressProgram> out;
  // tcx (attach type 46, BPF_TCX_INGRESS; see tcx_link.cpp): the query's
  // layout up to prog_cnt is the one of the 6.1 headers. A kernel without
  // tcx answers EINVAL.
  __u32 ids[64] = {}, count = 64, flags = 0;
  if (bpf_prog_query(static_cast<int>(ifindex), static_cast<bpf_attach_type>(46), 0, &flags, ids,
                     &count) == 0)
    for (__u32 i = 0; i < std::min<__u32>(count, 64); i++)
      out.push_back({ids[i], TcLinkKind::Tcx});
  else if (errno == EPERM || errno == EACCES)
    throw SysError(errno, "querying the tcx programs of ifindex " + std::to_string(ifindex));

  NetlinkSocket sock(NETLINK_ROUTE, "rtnetlink (tc filters)");
  try {
    dump_ingress_filters(
        sock, ifindex, [&](const tcmsg &tcm, const std::string &kind, const nlattr *options) {
          if (kind != "bpf" || !options)
            return;
          for_each_nested(options, [&](const nlattr *a) {
            if (mnl_attr_get_type(a) == TCA_BPF_ID && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
              out.push_back({mnl_attr_get_u32(a), TcLinkKind::Clsact, tcm.tcm_handle,
                             TC_H_MAJ(tcm.tcm_info) >> 16});
          });
        });
  } catch (const SysError &) {
    // ENODEV (gone) or EINVAL: nothing there to report
  }
  return out;
}

DriverFacts read_driver_facts(const std::string &ifname, std::uint32_t ifindex) {
  return DriverFacts{driver_name(ifname), query_xdp_features(ifindex)};
}

TcChangeWatch::TcChangeWatch() : sock_(NETLINK_ROUTE, "rtnetlink (tc changes)") {
  sock_.join_group(RTNLGRP_TC);
  sock_.set_nonblocking();
}

bool TcChangeWatch::drain() {
  bool changed = false;
  std::vector<char> buf(8192);
  for (;;) {
    long n = sock_.recv(buf.data(), buf.size());
    if (n == 0)
      return changed;
    changed = true; // a message, or an overrun (-ENOBUFS): either way re-read
    if (n < 0)
      continue;
  }
}

} // namespace xdpflow
