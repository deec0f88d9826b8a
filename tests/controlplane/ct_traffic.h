// The packets of connections injected into conntrack (ct_inject.h), sent
// through the gateway as their hosts would send them. A connection found in
// conntrack is offloaded only once the egress observer has seen the kernel
// forward its packets (docs/architecture.md), and an injected entry carries
// none: these are its "next packets". Each one crosses the gateway's kernel
// path for real: conntrack matches it to the injected entry, NAT rewrites it
// by the entry's binding, the route and the neighbour table send it on, and
// the observer records the frame as sent.
//
// Frames go out of an AF_PACKET socket on the host-side interface of each
// end (the LAN host's for the original direction, the WAN host's for the
// reply), addressed to the gateway's MAC: one TCP ACK (sequence numbers
// consistent between the two directions, so conntrack's window check takes
// them for a picked-up connection) or one small UDP datagram per direction.
// Checksums computed from scratch (tests/common/inet_csum.h).
#pragma once

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/if_packet.h>
#include <memory>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "common/inet_csum.h"
#include "controlplane/ct_inject.h"
#include "core/error.h"
#include "core/flow_key.h"

namespace xdpflow::testing {

using MacAddr = std::array<std::uint8_t, 6>;

// "02:00:00:00:00:02" -> bytes; nullopt when it is not a MAC address.
inline std::optional<MacAddr> parse_mac(const std::string &text) {
  unsigned b[6];
  char end;
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                  &end) != 6)
    return std::nullopt;
  MacAddr m;
  for (int i = 0; i < 6; i++) {
    if (b[i] > 0xff)
      return std::nullopt;
    m[i] = static_cast<std::uint8_t>(b[i]);
  }
  return m;
}

// One frame of a connection's direction t: Ethernet (dst, src), IPv4 or
// IPv6, then a TCP ACK without payload or a UDP datagram of 8 bytes.
// reply: the direction answering the original one (its TCP sequence and
// acknowledgement numbers are the original's swapped).
inline std::vector<std::uint8_t> connection_frame(const MacAddr &dst, const MacAddr &src,
                                                  const FlowTuple &t, bool reply) {
  const bool v4 = t.src.family == XF_FAMILY_IPV4;
  const bool tcp = t.proto == IPPROTO_TCP;
  const std::size_t l3 = v4 ? 20 : 40, l4 = tcp ? 20 : 16;
  std::vector<std::uint8_t> f(14 + l3 + l4, 0);
  auto put16 = [&](std::size_t at, std::uint16_t v) {
    f[at] = static_cast<std::uint8_t>(v >> 8);
    f[at + 1] = static_cast<std::uint8_t>(v);
  };
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    put16(at, static_cast<std::uint16_t>(v >> 16));
    put16(at + 2, static_cast<std::uint16_t>(v));
  };
  std::memcpy(&f[0], dst.data(), 6);
  std::memcpy(&f[6], src.data(), 6);
  put16(12, v4 ? ETHERTYPE_IP : ETHERTYPE_IPV6);
  const std::size_t ip = 14, th = 14 + l3;
  const std::size_t alen = v4 ? 4 : 16;
  if (v4) {
    f[ip] = 0x45;
    put16(ip + 2, static_cast<std::uint16_t>(l3 + l4));
    put16(ip + 6, 0x4000); // DF
    f[ip + 8] = 64;
    f[ip + 9] = t.proto;
    std::memcpy(&f[ip + 12], t.src.bytes.data(), 4);
    std::memcpy(&f[ip + 16], t.dst.bytes.data(), 4);
    put16(ip + 10, inet_checksum({&f[ip], l3}));
  } else {
    f[ip] = 0x60;
    put16(ip + 4, static_cast<std::uint16_t>(l4));
    f[ip + 6] = t.proto;
    f[ip + 7] = 64;
    std::memcpy(&f[ip + 8], t.src.bytes.data(), 16);
    std::memcpy(&f[ip + 24], t.dst.bytes.data(), 16);
  }
  put16(th, t.sport);
  put16(th + 2, t.dport);
  std::size_t csum_at;
  if (tcp) {
    constexpr std::uint32_t client_seq = 1000, server_seq = 2000;
    put32(th + 4, reply ? server_seq : client_seq);
    put32(th + 8, reply ? client_seq : server_seq);
    f[th + 12] = 5 << 4;
    f[th + 13] = 0x10; // ACK
    put16(th + 14, 65535);
    csum_at = th + 16;
  } else {
    put16(th + 4, static_cast<std::uint16_t>(l4));
    std::memcpy(&f[th + 8], "xfcttest", 8);
    csum_at = th + 6;
  }
  // Pseudo-header (RFC 793 / RFC 8200 8.1) + L4 header and payload.
  InetSum sum;
  sum.add({&f[v4 ? ip + 12 : ip + 8], 2 * alen})
      .add16(t.proto)
      .add16(static_cast<std::uint16_t>(l4));
  sum.add({&f[th], l4});
  std::uint16_t c = sum.checksum();
  put16(csum_at, !tcp && c == 0 ? 0xffff : c); // UDP: 0 means "none"
  return f;
}

// An AF_PACKET socket that sends whole frames out of one interface, in
// batches (sendmmsg). Opened in the calling thread's network namespace.
class FrameSender {
public:
  explicit FrameSender(const std::string &ifname) {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); // send only: no protocol
    if (fd_ < 0)
      throw SysError(errno, "opening an AF_PACKET socket to send on " + ifname);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (!sll.sll_ifindex || bind(fd_, reinterpret_cast<sockaddr *>(&sll), sizeof(sll))) {
      int err = sll.sll_ifindex ? errno : ENODEV;
      close(fd_);
      throw SysError(err, "binding an AF_PACKET socket to " + ifname);
    }
  }
  ~FrameSender() { close(fd_); }
  FrameSender(const FrameSender &) = delete;
  FrameSender &operator=(const FrameSender &) = delete;

  void queue(std::vector<std::uint8_t> frame) {
    frames_.push_back(std::move(frame));
    if (frames_.size() == batch)
      flush();
  }

  // Sends what is queued. A full device queue (ENOBUFS) is waited out: every
  // frame is sent, none silently lost.
  void flush() {
    std::size_t done = 0;
    while (done < frames_.size()) {
      std::vector<mmsghdr> msgs(frames_.size() - done);
      std::vector<iovec> iov(msgs.size());
      for (std::size_t i = 0; i < msgs.size(); i++) {
        iov[i] = {frames_[done + i].data(), frames_[done + i].size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = sendmmsg(fd_, msgs.data(), static_cast<unsigned>(msgs.size()), 0);
      if (n < 0) {
        if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
          usleep(100);
          continue;
        }
        throw SysError(errno, "sending frames of injected connections");
      }
      done += static_cast<std::size_t>(n);
    }
    sent_ += frames_.size();
    frames_.clear();
  }

  std::uint64_t sent() const { return sent_; }

private:
  static constexpr std::size_t batch = 64;
  int fd_ = -1;
  std::vector<std::vector<std::uint8_t>> frames_;
  std::uint64_t sent_ = 0;
};

// Both ends of injected connections: the original direction leaves the LAN
// host's interface for the gateway's LAN MAC, the reply the WAN host's for
// the gateway's WAN MAC. Each sender is opened in the namespace the calling
// thread is in at construction: the caller enters each end's namespace
// around it (the two ends may share one, as in offload_rate.sh).
struct ConnectionEnd {
  std::unique_ptr<FrameSender> sender;
  MacAddr host_mac, gateway_mac;
};

class ConnectionTraffic {
public:
  ConnectionTraffic(ConnectionEnd lan, ConnectionEnd wan)
      : lan_(std::move(lan)), wan_(std::move(wan)) {}

  // One packet per direction of f; only the original direction for a
  // connection that saw no reply yet (f.assured false).
  void send(const InjectedFlow &f) {
    lan_.sender->queue(connection_frame(lan_.gateway_mac, lan_.host_mac, f.orig, false));
    if (f.assured)
      wan_.sender->queue(connection_frame(wan_.gateway_mac, wan_.host_mac, f.reply, true));
  }
  void flush() {
    lan_.sender->flush();
    wan_.sender->flush();
  }
  std::uint64_t sent() const { return lan_.sender->sent() + wan_.sender->sent(); }

private:
  ConnectionEnd lan_, wan_;
};

} // namespace xdpflow::testing
