#include "kernel/link_watch.h"

#include <cerrno>
#include <fstream>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sstream>
#include <sys/socket.h>

#include "core/error.h"
#include "kernel/unique_fd.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

namespace xdpflow {

namespace {

std::vector<std::string> read_pppoe_devices() {
  std::ifstream in("/proc/net/pppoe"); // absent without the pppoe module
  if (!in)
    return {};
  std::stringstream text;
  text << in.rdbuf();
  return parse_pppoe_devices(text.str());
}

int keep_attr(const nlattr *attr, void *data) {
  auto *tb = static_cast<const nlattr **>(data);
  if (mnl_attr_get_type(attr) <= NLMSGERR_ATTR_MAX)
    tb[mnl_attr_get_type(attr)] = attr;
  return MNL_CB_OK;
}

} // namespace

LinkTable read_link_table() {
  LinkTable table;
  NetlinkSocket query(NETLINK_ROUTE, "rtnetlink (links)");
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto *ifm = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  query.request(nlh, [&](const nlmsghdr *msg, std::size_t) {
    if (auto fact = parse_link_message(msg))
      table.apply(*fact);
  });
  table.pppoe_devices = read_pppoe_devices();
  return table;
}

LinkWatch::LinkWatch()
    : events_(NETLINK_ROUTE, "rtnetlink link events"), buf_(MNL_SOCKET_BUFFER_SIZE * 4) {
  events_.join_group(RTNLGRP_LINK);
  events_.set_nonblocking();
}

bool LinkWatch::drain(LinkTable &table) {
  bool any = false;
  for (;;) {
    long n = events_.recv(buf_.data(), buf_.size());
    if (n == -ENOBUFS) { // lost messages: read everything again
      table = read_link_table();
      any = true;
      continue;
    }
    if (n <= 0)
      return any;
    int left = static_cast<int>(n);
    for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf_.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left))
      if (auto fact = parse_link_message(nlh)) {
        table.apply(*fact);
        any = true;
      }
    // A PPPoE session's device may have come with the link.
    table.pppoe_devices = read_pppoe_devices();
  }
}

std::string xdp_refusal_reason(std::uint32_t ifindex, std::uint32_t mode_flag, int prog_fd) {
  UniqueFd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock)
    return "";
  int one = 1;
  setsockopt(sock.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(sock.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  std::vector<std::uint8_t> req(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr *nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_SETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = 1;
  auto *ifm = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = static_cast<int>(ifindex);
  nlattr *xdp = mnl_attr_nest_start(nlh, IFLA_XDP);
  mnl_attr_put_u32(nlh, IFLA_XDP_FD, static_cast<std::uint32_t>(-1));
  mnl_attr_put_u32(nlh, IFLA_XDP_FLAGS, mode_flag | XDP_FLAGS_REPLACE);
  mnl_attr_put_u32(nlh, IFLA_XDP_EXPECTED_FD, static_cast<std::uint32_t>(prog_fd));
  mnl_attr_nest_end(nlh, xdp);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(sock.get(), nlh, nlh->nlmsg_len, 0, reinterpret_cast<sockaddr *>(&kernel),
             sizeof kernel) < 0)
    return "";
  std::vector<std::uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
  long n = recv(sock.get(), buf.data(), buf.size(), 0);
  if (n <= 0)
    return "";
  auto *reply = reinterpret_cast<const nlmsghdr *>(buf.data());
  if (!mnl_nlmsg_ok(reply, static_cast<int>(n)) || reply->nlmsg_type != NLMSG_ERROR ||
      !(reply->nlmsg_flags & NLM_F_ACK_TLVS))
    return "";
  const nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
  // NETLINK_CAP_ACK: the error carries only the request's header.
  if (mnl_attr_parse(reply, sizeof(nlmsgerr), keep_attr, tb) < 0 || !tb[NLMSGERR_ATTR_MSG] ||
      mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) < 0)
    return "";
  std::string says = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
  // The probe's own refusal: every check before it passed, and those after
  // it (the driver's, e.g. veth's MTU) are not reached, so no reason known.
  if (says == "Active program does not match expected")
    return "";
  return says;
}

} // namespace xdpflow
