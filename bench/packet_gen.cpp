#include "packet_gen.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_proto.h"
#include "core/error.h"
#include "rig_programs.h"
#include "xdpflow/csum.h"

using xdpflow::SysError;

namespace xfbench {
namespace {

void put16(std::uint8_t *p, std::uint16_t host) {
  std::uint16_t n = htons(host);
  std::memcpy(p, &n, 2);
}

// One's complement sum of len bytes (even) as network-order words.
std::uint32_t sum_words(const std::uint8_t *p, std::size_t len, std::uint32_t sum) {
  for (std::size_t i = 0; i < len; i += 2)
    sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  return sum;
}

std::uint16_t finish(std::uint32_t sum) {
  return static_cast<std::uint16_t>(~xf_csum_fold(sum));
}

} // namespace

PacketGen::PacketGen(const PacketGenOptions &options) : options_(options) {
  if (options.src.family != options.dst.family || !options.src.family)
    throw xdpflow::UsageError("generator: source and destination must be one address family");
  if (options.flows == 0 || options.first_flow + options.flows > XFB_MAX_FLOWS)
    throw xdpflow::UsageError("generator: flows must be 1.." + std::to_string(XFB_MAX_FLOWS));
  // Protocol 0: a send-only socket, no copy of received frames.
  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw SysError(errno, "opening the generator's AF_PACKET socket");
  int one = 1;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(options.ifindex);
  if (setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
      bind(fd_, reinterpret_cast<sockaddr *>(&sll), sizeof(sll))) {
    int err = errno;
    close(fd_);
    throw SysError(err, "binding the generator's AF_PACKET socket to ifindex " +
                            std::to_string(options.ifindex));
  }
  frames_.resize(std::size_t{batch} * XFB_FRAME_LEN);
}

PacketGen::~PacketGen() {
  close(fd_);
}

void PacketGen::build(std::uint8_t *f, std::uint32_t flow, bool miss) const {
  std::memset(f, 0, XFB_FRAME_LEN);
  std::memcpy(f, options_.dst_mac.data(), 6);
  std::memcpy(f + 6, options_.src_mac.data(), 6);
  xdpflow::IpAddr src = flow_source(options_.src, flow);
  std::uint16_t dport = miss ? XFB_MISS_DPORT : XFB_DPORT;

  if (src.family == XF_FAMILY_IPV4) {
    put16(f + 12, ETH_P_IP);
    std::uint8_t *ip = f + ETH_HLEN, *udp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, XFB_FRAME_LEN - ETH_HLEN);
    ip[8] = XFB_TTL;
    ip[9] = IPPROTO_UDP;
    std::memcpy(ip + 12, src.bytes.data(), 4);
    std::memcpy(ip + 16, options_.dst.bytes.data(), 4);
    put16(ip + 10, finish(sum_words(ip, 20, 0)));
    put16(udp, xfb_flow_sport(flow));
    put16(udp + 2, dport);
    put16(udp + 4, XFB_FRAME_LEN - ETH_HLEN - 20);
    // UDP checksum 0: none, as IPv4 allows; forwarders keep it.
    return;
  }
  put16(f + 12, ETH_P_IPV6);
  std::uint8_t *ip = f + ETH_HLEN, *udp = ip + 40;
  std::uint16_t udp_len = XFB_FRAME_LEN - ETH_HLEN - 40;
  ip[0] = 0x60;
  put16(ip + 4, udp_len);
  ip[6] = IPPROTO_UDP;
  ip[7] = XFB_TTL;
  std::memcpy(ip + 8, src.bytes.data(), 16);
  std::memcpy(ip + 24, options_.dst.bytes.data(), 16);
  put16(udp, xfb_flow_sport(flow));
  put16(udp + 2, dport);
  put16(udp + 4, udp_len);
  // Pseudo-header (addresses, length, next header), then header + payload.
  std::uint32_t sum = sum_words(ip + 8, 32, udp_len + IPPROTO_UDP);
  std::uint16_t check = finish(sum_words(udp, udp_len, sum));
  put16(udp + 6, check ? check : 0xffff);
}

std::uint32_t PacketGen::flow_at(std::uint64_t seq) const {
  std::uint64_t i = seq % options_.flows;
  if (!options_.scattered || options_.flows == 1)
    return static_cast<std::uint32_t>(i);
  // A prime stride visits every flow once per round (flows < both primes'
  // product, so one of them is coprime to it).
  std::uint64_t stride = options_.flows % 1000003 ? 1000003 : 999983;
  return static_cast<std::uint32_t>(i * stride % options_.flows);
}

std::uint32_t PacketGen::send_batch() {
  mmsghdr msgs[batch];
  iovec iov[batch];
  for (std::uint32_t i = 0; i < batch; i++, seq_++) {
    bool miss = options_.miss_every && seq_ % options_.miss_every == options_.miss_every - 1;
    std::uint8_t *f = frames_.data() + std::size_t{i} * XFB_FRAME_LEN;
    build(f, options_.first_flow + flow_at(seq_), miss);
    iov[i] = {f, XFB_FRAME_LEN};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = sendmmsg(fd_, msgs, batch, 0);
  if (n < 0) {
    if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
      return 0;
    throw SysError(errno, "sending generator frames (sendmmsg)");
  }
  sent_ += static_cast<std::uint32_t>(n);
  return static_cast<std::uint32_t>(n);
}

} // namespace xfbench
