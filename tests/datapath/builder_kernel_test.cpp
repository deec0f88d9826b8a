// The packet builder's checksums judged by the kernel itself, not by code of
// ours: frames are injected into one end of a veth (AF_PACKET) and the other
// end, which owns the destination address, verifies them on local delivery.
// A valid frame moves a delivery counter (UDP/TCP to a closed port: NoPorts
// or a RST sent; ICMP echo: an echo request counted), a broken one the
// protocol's InCsumErrors. A corrupted copy of every frame is the control:
// it must be refused, so the check itself can fail.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <map>
#include <net/if.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "common/root.h"
#include "core/error.h"
#include "fixtures.h"
#include "test_netns.h"

namespace xdpflow::testing {
namespace {

using Counters = std::map<std::string, long long>;

// "Udp:NoPorts" -> value, from /proc/net/snmp (pairs of header and value
// lines) and /proc/net/snmp6 (name value lines); both of this netns.
Counters read_snmp() {
  Counters c;
  std::ifstream snmp("/proc/net/snmp");
  std::string names, values;
  while (std::getline(snmp, names) && std::getline(snmp, values)) {
    std::istringstream n(names), v(values);
    std::string prefix, name, ignored;
    n >> prefix;
    v >> ignored;
    long long value;
    while (n >> name && v >> value)
      c[prefix + name] = value;
  }
  std::ifstream snmp6("/proc/net/snmp6");
  std::string name;
  long long value;
  while (snmp6 >> name >> value)
    c[name] = value;
  return c;
}

void run(const std::string &command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
    throw RuntimeError("builder kernel test set-up failed: " + command);
}

Mac mac_of(const char *dev) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
  int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
  int err = errno;
  close(fd);
  if (rc != 0)
    throw SysError(err, std::string("reading the MAC of ") + dev);
  Mac m;
  std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

class BuilderKernelTest : public ::testing::Test {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    dev_ = &enter_private_netns();
    // xfdp-wan owns the "gateway" addresses; the client's MAC is static so
    // that replies (RST, echo reply) need no ARP/ND.
    static const bool configured = [] {
      run("ip addr replace 198.18.0.1/24 dev xfdp-wan");
      run("ip -6 addr replace 2001:2:0:1::1/64 dev xfdp-wan nodad");
      run("ip neigh replace 198.18.0.2 lladdr 02:00:00:00:01:02 dev xfdp-wan");
      run("ip -6 neigh replace 2001:2:0:1::2 lladdr 02:00:00:00:01:02 dev xfdp-wan");
      return true;
    }();
    (void)configured;
    wan_mac_ = mac_of("xfdp-wan");
    fd_ = socket(AF_PACKET, SOCK_RAW, 0);
    ASSERT_GE(fd_, 0) << std::strerror(errno);
  }
  void TearDown() override {
    if (fd_ >= 0)
      close(fd_);
  }

  Packet to_gateway() const { return Packet().eth(wan_mac_, kClientMac); }

  void inject(const Bytes &frame) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = static_cast<int>(dev_->lan);
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, wan_mac_.data(), 6);
    ASSERT_EQ(
        static_cast<ssize_t>(frame.size()),
        sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof(to)))
        << std::strerror(errno);
  }

  // Injects `frame` and waits (bounded) until one of the two counters moves;
  // returns which moved: +1 accepted, -1 checksum error, 0 neither.
  int verdict_of(const Bytes &frame, const std::string &accepted, const std::string &csum_error) {
    Counters before = read_snmp();
    inject(frame);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      Counters now = read_snmp();
      if (now[accepted] > before[accepted])
        return now[csum_error] > before[csum_error] ? 2 : 1;
      if (now[csum_error] > before[csum_error])
        return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return 0;
  }

  // The frame must be accepted, and a copy with its last byte flipped refused.
  void expect_kernel_agrees(const Bytes &frame, const std::string &accepted,
                            const std::string &csum_error) {
    EXPECT_EQ(1, verdict_of(frame, accepted, csum_error)) << hex_dump(frame);
    Bytes broken = frame;
    broken.back() ^= 0x5a;
    EXPECT_EQ(-1, verdict_of(broken, accepted, csum_error)) << hex_dump(broken);
  }

  const TestDevices *dev_ = nullptr;
  Mac wan_mac_{};
  int fd_ = -1;
};

TEST_F(BuilderKernelTest, Ipv4Udp) {
  expect_kernel_agrees(
      to_gateway().ipv4("198.18.0.2", "198.18.0.1").udp(40000, 9).payload(33).build(),
      "Udp:NoPorts", "Udp:InCsumErrors");
}

TEST_F(BuilderKernelTest, Ipv6Udp) {
  expect_kernel_agrees(
      to_gateway().ipv6("2001:2:0:1::2", "2001:2:0:1::1").udp(40000, 9).payload(33).build(),
      "Udp6NoPorts", "Udp6InCsumErrors");
}

TEST_F(BuilderKernelTest, Ipv4Tcp) {
  expect_kernel_agrees(to_gateway()
                           .ipv4("198.18.0.2", "198.18.0.1")
                           .tcp(40000, 9, {.flags = kSyn})
                           .payload(5)
                           .build(),
                       "Tcp:OutRsts", "Tcp:InCsumErrors");
}

TEST_F(BuilderKernelTest, Ipv6TcpWithOptions) {
  const TcpOpts syn_mss{.flags = kSyn, .options = {2, 4, 0x05, 0xb4}}; // MSS 1460
  expect_kernel_agrees(
      to_gateway().ipv6("2001:2:0:1::2", "2001:2:0:1::1").tcp(40000, 9, syn_mss).payload(3).build(),
      "Tcp:OutRsts", "Tcp:InCsumErrors");
}

TEST_F(BuilderKernelTest, IcmpEcho) {
  expect_kernel_agrees(to_gateway().ipv4("198.18.0.2", "198.18.0.1").icmp(8, 0).payload(21).build(),
                       "Icmp:InEchos", "Icmp:InCsumErrors");
  expect_kernel_agrees(
      to_gateway().ipv6("2001:2:0:1::2", "2001:2:0:1::1").icmp(128, 0).payload(21).build(),
      "Icmp6InType128", "Icmp6InCsumErrors");
}

// The builder's UDP rule: a checksum computing to 0 is sent as 0xffff, which
// the receiver accepts (and 0 on IPv4 means "none", also accepted).
TEST_F(BuilderKernelTest, UdpChecksumCornerCases) {
  auto frame = [&](const Bytes &payload) {
    return to_gateway().ipv4("198.18.0.2", "198.18.0.1").udp(40000, 9).payload(payload).build();
  };
  Bytes payload(16, 0x33);
  payload[0] = payload[1] = 0;
  Bytes probe = frame(payload);
  payload[0] = probe[40];
  payload[1] = probe[41]; // sum + ~sum = 0xffff: computes to 0
  Bytes corner = frame(payload);
  ASSERT_EQ(0xff, corner[40]);
  ASSERT_EQ(0xff, corner[41]);
  EXPECT_EQ(1, verdict_of(corner, "Udp:NoPorts", "Udp:InCsumErrors"));
  Bytes none = to_gateway()
                   .ipv4("198.18.0.2", "198.18.0.1")
                   .udp(40000, 9, {.no_checksum = true})
                   .payload(8)
                   .build();
  EXPECT_EQ(1, verdict_of(none, "Udp:NoPorts", "Udp:InCsumErrors"));
}

} // namespace
} // namespace xdpflow::testing
