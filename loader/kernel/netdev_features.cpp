#include "kernel/netdev_features.h"

#include <cerrno>
#include <cstring>
#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/sockios.h>
#include <memory>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace xdpflow {

namespace {

// include/uapi/linux/netdev.h (6.3+), absent from the build's 6.1 headers.
constexpr std::uint8_t kNetdevCmdDevGet = 1;
constexpr std::uint16_t kNetdevAttrIfindex = 1;
constexpr std::uint16_t kNetdevAttrXdpFeatures = 3;

struct SocketCloser {
  void operator()(mnl_socket *s) const { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;

// Sends one request and runs cb over the answer; false on any failure.
bool transact(mnl_socket *sock, nlmsghdr *nlh, mnl_cb_t cb, void *data) {
  unsigned portid = mnl_socket_get_portid(sock);
  unsigned seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
    return false;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock, buf, sizeof buf);
    if (n < 0)
      return false;
    int ret = mnl_cb_run(buf, n, seq, portid, cb, data);
    if (ret < 0)
      return false;
    if (ret == MNL_CB_STOP)
      return true;
  }
}

nlmsghdr *genl_request(char *buf, std::uint16_t family, std::uint8_t cmd, unsigned seq) {
  nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = family;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto *genl = static_cast<genlmsghdr *>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  genl->cmd = cmd;
  genl->version = 1;
  return nlh;
}

// mnl_attr_for_each without its void* arithmetic, which C++ rejects.
template <typename F> void for_each_attr(const nlmsghdr *nlh, F visit) {
  const auto *attr =
      static_cast<const nlattr *>(mnl_nlmsg_get_payload_offset(nlh, sizeof(genlmsghdr)));
  int len =
      static_cast<int>(nlh->nlmsg_len) -
      static_cast<int>(reinterpret_cast<const char *>(attr) - reinterpret_cast<const char *>(nlh));
  while (mnl_attr_ok(attr, len)) {
    visit(attr);
    len -= static_cast<int>(MNL_ALIGN(attr->nla_len));
    attr = mnl_attr_next(attr);
  }
}

int family_id_cb(const nlmsghdr *nlh, void *data) {
  for_each_attr(nlh, [&](const nlattr *attr) {
    if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
        mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
      *static_cast<std::uint16_t *>(data) = mnl_attr_get_u16(attr);
  });
  return MNL_CB_OK;
}

int features_cb(const nlmsghdr *nlh, void *data) {
  for_each_attr(nlh, [&](const nlattr *attr) {
    if (mnl_attr_get_type(attr) == kNetdevAttrXdpFeatures &&
        mnl_attr_validate(attr, MNL_TYPE_U64) >= 0)
      *static_cast<std::optional<std::uint64_t> *>(data) = mnl_attr_get_u64(attr);
  });
  return MNL_CB_OK;
}

} // namespace

std::string driver_name(const std::string &ifname) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return {};
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char *>(&info);
  int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  close(fd);
  return rc == 0 ? std::string(info.driver) : std::string();
}

std::optional<std::uint64_t> query_xdp_features(std::uint32_t ifindex) {
  Socket sock(mnl_socket_open(NETLINK_GENERIC));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return std::nullopt;
  char buf[MNL_SOCKET_BUFFER_SIZE];

  nlmsghdr *nlh = genl_request(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "netdev");
  std::uint16_t family = 0;
  if (!transact(sock.get(), nlh, family_id_cb, &family) || family == 0)
    return std::nullopt;

  nlh = genl_request(buf, family, kNetdevCmdDevGet, 2);
  mnl_attr_put_u32(nlh, kNetdevAttrIfindex, ifindex);
  std::optional<std::uint64_t> features;
  if (!transact(sock.get(), nlh, features_cb, &features))
    return std::nullopt;
  return features;
}

} // namespace xdpflow
