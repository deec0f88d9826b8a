// The control plane against the real kernel: runs inside the gateway
// namespace of tests/lib/gateway.sh (see run.sh), with the real fast path
// attached to lan0/wan0, real nftables masquerade and conntrack, and real
// TCP/UDP connections between the client and server namespaces.
#include <gtest/gtest.h>

#include <atomic>
#include <bpf/bpf.h>
#include <chrono>
#include <functional>
#include <linux/if_link.h>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "common/root.h"
#include "controlplane/ct_inject.h"
#include "controlplane/ct_traffic.h"
#include "controlplane/netns_util.h"
#include "kernel/bpf_flow_table.h"
#include "kernel/control_plane.h"
#include "kernel/fast_path.h"

namespace xdpflow {
namespace {

using namespace std::chrono_literals;
using testing::in_netns;
using testing::mac_string;
using testing::sh;
using testing::SockAddr;

template <class P> bool wait_until(P pred, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  ~Fd() {
    if (fd >= 0)
      close(fd);
  }
  Fd(Fd &&o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd &operator=(Fd &&o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
};

void write_all(int fd, const void *p, std::size_t n) {
  auto *b = static_cast<const char *>(p);
  while (n) {
    ssize_t w = ::write(fd, b, n);
    if (w <= 0)
      throw SysError(errno, "write");
    b += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Bytes read until EOF; stops early (short count) when nothing arrives for
// the socket's receive timeout, so a lost FIN fails the test instead of
// hanging it.
std::size_t read_until_eof(int fd) {
  std::vector<char> buf(1 << 16);
  std::size_t total = 0;
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) {
      ADD_FAILURE() << "no EOF: " << strerror(errno) << " after " << total << " bytes";
      return total;
    }
    if (r == 0)
      return total;
    total += static_cast<std::size_t>(r);
  }
}

class ControlPlaneTest : public ::testing::Test {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    ns_client = testing::env_or_throw("XF_NS_CLIENT");
    ns_server = testing::env_or_throw("XF_NS_SERVER");
    client4 = *IpAddr::parse(testing::env_or_throw("XF_CLIENT_V4"));
    server4 = *IpAddr::parse(testing::env_or_throw("XF_SERVER_V4"));
    wan4 = *IpAddr::parse(testing::env_or_throw("XF_GW_WAN_V4"));
    client6 = *IpAddr::parse(testing::env_or_throw("XF_CLIENT_V6"));
    server6 = *IpAddr::parse(testing::env_or_throw("XF_SERVER_V6"));
    wan6 = *IpAddr::parse(testing::env_or_throw("XF_GW_WAN_V6"));
    lan = if_nametoindex("lan0");
    wan = if_nametoindex("wan0");
    ASSERT_NE(lan, 0u) << "run inside the gateway namespace (tests/controlplane/run.sh)";
    ASSERT_NE(wan, 0u);
    lan_mac = testing::mac_of("lan0");
    wan_mac = testing::mac_of("wan0");
    client_mac = in_netns(ns_client, [] { return testing::mac_of("eth0"); });
    server_mac = in_netns(ns_server, [] { return testing::mac_of("eth0"); });
    sh("conntrack -F 2>/dev/null || true");
    sh("nft reset counters >/dev/null");
  }

  void TearDown() override {
    stop_control_plane();
    for (int fd : links)
      close(fd);
    links.clear();
    if (traffic_) {
      traffic_.reset();
      for (const auto &ns : {ns_client, ns_server})
        sh("ip netns exec " + ns + " nft delete table inet xfcp_synthetic 2>/dev/null || true");
    }
  }

  // The packets of injected connections (ct_traffic.h), sent from the
  // client's and the server's interfaces through the gateway. The synthetic
  // connections' server ports are 10000 and up (testing::synthetic_flow);
  // the ends drop what arrives for them before their stacks answer it, as
  // hosts whose sockets are gone and that stay silent would: a TCP RST or an
  // ICMP error would end or disturb the conntrack entry under test.
  testing::ConnectionTraffic &traffic() {
    if (!traffic_) {
      sh("ip netns exec " + ns_server +
         " nft add table inet xfcp_synthetic '{ chain pre { type filter hook prerouting priority "
         "raw; meta l4proto { tcp, udp } th dport 10000-10999 drop; }; }'");
      sh("ip netns exec " + ns_client +
         " nft add table inet xfcp_synthetic '{ chain pre { type filter hook prerouting priority "
         "raw; meta l4proto { tcp, udp } th sport 10000-10999 drop; }; }'");
      auto open = [](const std::string &ns) {
        return in_netns(ns, [] { return std::make_unique<testing::FrameSender>("eth0"); });
      };
      traffic_ = std::make_unique<testing::ConnectionTraffic>(
          testing::ConnectionEnd{open(ns_client), client_mac, lan_mac},
          testing::ConnectionEnd{open(ns_server), server_mac, wan_mac});
    }
    return *traffic_;
  }

  // What live connections do: each sends again (a packet per direction)
  // every 200 ms while `waiting` says it is not where the test expects it
  // yet, until done() or the timeout. The kernel forwards those packets and
  // the observer learns them (a connection found in conntrack is offloaded
  // from its next packets).
  bool send_until(const std::vector<testing::InjectedFlow> &flows,
                  const std::function<bool(const testing::InjectedFlow &)> &waiting,
                  const std::function<bool()> &done, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    auto &t = traffic();
    while (std::chrono::steady_clock::now() < end) {
      for (const auto &f : flows)
        if (waiting(f))
          t.send(f);
      t.flush();
      if (wait_until(done, 0.2))
        return true;
    }
    return done();
  }

  void start_control_plane(ControlPlaneConfig config = {}, std::uint32_t max_flows = 16384) {
    fp = std::make_unique<FastPath>(FastPathOptions{max_flows});
    table = std::make_unique<BpfFlowTable>(fp->flow_maps());
    for (auto ifindex : {lan, wan}) {
      fp->add_egress(ifindex);
      LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
      int link = bpf_link_create(fp->prog_fd(), ifindex, BPF_XDP, &opts);
      ASSERT_GE(link, 0) << "attaching XDP to ifindex " << ifindex << ": " << strerror(errno);
      links.push_back(link);
    }
    config.interfaces = {{lan, "lan0", true}, {wan, "wan0", true}};
    if (std::getenv("XF_CP_VERBOSE"))
      config.verbose = 1;
    cp = std::make_unique<ControlPlane>(config, *fp);
    stop = false;
    synced = false;
    cp_thread = std::thread([this] {
      try {
        cp->run(stop, [this] { synced = true; });
      } catch (const std::exception &e) {
        cp_error = e.what();
        synced = true;
      }
    });
    ASSERT_TRUE(wait_until([&] { return synced.load(); }, 10)) << "control plane never synced";
    ASSERT_EQ(cp_error, "");
  }

  void stop_control_plane() {
    if (cp_thread.joinable()) {
      stop = true;
      cp_thread.join();
    }
    EXPECT_EQ(cp_error, "") << "the control plane failed";
    cp.reset();
  }

  xf_status status() {
    xf_status s{};
    __u32 key = 0;
    bpf_map_lookup_elem(fp->status_fd(), &key, &s);
    return s;
  }

  std::optional<xf_flow_value> entry(std::uint32_t ifindex, const FlowTuple &t) {
    return table->lookup(make_flow_key(ifindex, xf_encap{}, t));
  }

  // The reply-direction key the masquerade produced (its port is the
  // kernel's choice): the entry on wan0 from server:sport.
  std::optional<std::pair<FlowTuple, xf_flow_value>>
  reply_entry(const IpAddr &server, std::uint16_t sport, std::uint8_t proto) {
    std::optional<std::pair<FlowTuple, xf_flow_value>> found;
    table->for_each([&](const xf_flow_key &k, const xf_flow_value &v) {
      FlowTuple t = tuple_of(k);
      if (k.ifindex == wan && t.src == server && t.sport == sport && t.proto == proto)
        found = {t, v};
    });
    return found;
  }

  std::size_t table_size() {
    std::size_t n = 0;
    table->for_each([&](const xf_flow_key &, const xf_flow_value &) { n++; });
    return n;
  }

  struct TcpPair {
    Fd client, server;
    FlowTuple orig; // client -> server as conntrack sees it
  };
  TcpPair tcp_connect(const IpAddr &client, const IpAddr &server, std::uint16_t port) {
    return tcp_between(ns_client, client, ns_server, server, server, port);
  }
  // A connection from `from` (in from_ns) to dial:port, accepted by a
  // listener on listen_addr:port in to_ns (dial differs from listen_addr
  // when the gateway DNATs).
  TcpPair tcp_between(const std::string &from_ns, const IpAddr &from, const std::string &to_ns,
                      const IpAddr &listen_addr, const IpAddr &dial, std::uint16_t port) {
    int family = dial.family == XF_FAMILY_IPV4 ? AF_INET : AF_INET6;
    Fd listener(testing::socket_in(to_ns, family, SOCK_STREAM));
    int one = 1;
    setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    auto laddr = SockAddr::of(listen_addr, port);
    if (bind(listener.fd, laddr.sa(), laddr.len) || listen(listener.fd, 4))
      throw SysError(errno, "listen on " + listen_addr.to_string());
    TcpPair p;
    p.client = Fd(testing::socket_in(from_ns, family, SOCK_STREAM));
    auto daddr = SockAddr::of(dial, port);
    if (connect(p.client.fd, daddr.sa(), daddr.len))
      throw SysError(errno, "connect to " + dial.to_string());
    p.server = Fd(accept(listener.fd, nullptr, nullptr));
    timeval tv{10, 0};
    setsockopt(p.server.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(p.client.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(p.client.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    // A first exchange: the handshake is complete and ASSURED on both sides.
    write_all(p.client.fd, "hello", 5);
    char buf[5];
    if (::read(p.server.fd, buf, 5) != 5)
      throw SysError(errno, "first read");
    p.orig = {from, dial, testing::local_port(p.client.fd), port, IPPROTO_TCP};
    return p;
  }

  // The checks every offloaded masqueraded connection must pass.
  void expect_masqueraded(const FlowTuple &orig, const IpAddr &wan_addr) {
    auto o = entry(lan, orig);
    ASSERT_TRUE(o) << "no original-direction entry for " << to_string(orig);
    EXPECT_EQ(o->action.direction, XF_DIR_ORIGINAL);
    EXPECT_EQ(o->action.egress_ifindex, wan);
    EXPECT_EQ(mac_string(o->action.src_mac), mac_string(wan_mac.data()));
    EXPECT_EQ(mac_string(o->action.dst_mac), mac_string(server_mac.data()));
    EXPECT_TRUE(o->action.nat & XF_NAT_SRC_ADDR);
    EXPECT_EQ(IpAddr::from_words(orig.src.family, o->action.new_src), wan_addr);
    EXPECT_FALSE(o->action.nat & (XF_NAT_DST_ADDR | XF_NAT_DST_PORT));

    auto r = reply_entry(orig.dst, orig.dport, orig.proto);
    ASSERT_TRUE(r) << "no reply-direction entry on wan0 for " << to_string(orig);
    EXPECT_EQ(r->first.dst, wan_addr);
    const auto &ra = r->second.action;
    EXPECT_EQ(ra.direction, XF_DIR_REPLY);
    EXPECT_EQ(ra.egress_ifindex, lan);
    EXPECT_EQ(mac_string(ra.src_mac), mac_string(lan_mac.data()));
    EXPECT_EQ(mac_string(ra.dst_mac), mac_string(client_mac.data()));
    EXPECT_TRUE(ra.nat & XF_NAT_DST_ADDR);
    EXPECT_EQ(IpAddr::from_words(orig.src.family, ra.new_dst), orig.src);
    std::uint16_t new_dport = (ra.nat & XF_NAT_DST_PORT) ? ntohs(ra.new_dport) : r->first.dport;
    EXPECT_EQ(new_dport, orig.sport);
  }

  // A UDP "stream": the client sends, the server answers every datagram.
  struct UdpPair {
    Fd client, server;
    FlowTuple orig;
    std::uint64_t answered = 0;
    // One request/response round (about 100 ms).
    void exchange() {
      char buf[64];
      sockaddr_storage from;
      socklen_t flen = sizeof(from);
      send(client.fd, "ping", 4, 0);
      std::this_thread::sleep_for(20ms);
      ssize_t n = recvfrom(server.fd, buf, sizeof(buf), MSG_DONTWAIT, (sockaddr *)&from, &flen);
      if (n > 0)
        sendto(server.fd, buf, static_cast<std::size_t>(n), 0, (sockaddr *)&from, flen);
      std::this_thread::sleep_for(20ms);
      if (recv(client.fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        answered++;
      std::this_thread::sleep_for(60ms);
    }
  };
  UdpPair udp_pair(const IpAddr &client, const IpAddr &server, std::uint16_t port) {
    UdpPair p;
    p.server = Fd(testing::socket_in(ns_server, AF_INET, SOCK_DGRAM));
    auto saddr = SockAddr::of(server, port);
    if (bind(p.server.fd, saddr.sa(), saddr.len))
      throw SysError(errno, "udp bind");
    p.client = Fd(testing::socket_in(ns_client, AF_INET, SOCK_DGRAM));
    if (connect(p.client.fd, saddr.sa(), saddr.len))
      throw SysError(errno, "udp connect");
    p.orig = {client, server, testing::local_port(p.client.fd), port, IPPROTO_UDP};
    return p;
  }
  // Exchanges until the flow is offloaded: conntrack marks a UDP flow
  // ASSURED once replies keep coming for more than 2 s.
  bool exchange_until_offloaded(UdpPair &udp) {
    return wait_until(
        [&] {
          udp.exchange();
          return entry(lan, udp.orig).has_value();
        },
        8);
  }

  std::string ns_client, ns_server;
  IpAddr client4, server4, wan4, client6, server6, wan6;
  std::uint32_t lan = 0, wan = 0;
  std::array<std::uint8_t, 6> lan_mac{}, wan_mac{}, client_mac{}, server_mac{};
  std::unique_ptr<FastPath> fp;
  std::unique_ptr<BpfFlowTable> table;
  std::unique_ptr<ControlPlane> cp;
  std::vector<int> links;
  std::thread cp_thread;
  std::atomic<bool> stop{false}, synced{false};
  std::string cp_error;
  std::unique_ptr<testing::ConnectionTraffic> traffic_;
};

TEST_F(ControlPlaneTest, TcpIpv4MasqueradedBothDirectionsAndCleanClose) {
  start_control_plane();
  auto s = status();
  EXPECT_EQ(s.pid, static_cast<__u32>(getpid()));
  EXPECT_GT(s.heartbeat_ns, 0u);

  auto conn = tcp_connect(client4, server4, 5001);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5))
      << "not offloaded: " << to_string(conn.orig);
  expect_masqueraded(conn.orig, wan4);
  EXPECT_TRUE(wait_until([&] { return status().flows_offloaded == 1; }, 2));

  // 4 MiB through the fast path, then a FIN that conntrack must accept even
  // though it saw none of those segments (BE_LIBERAL), or the firewall's
  // "ct state invalid drop" would eat it.
  std::thread reader([&] { EXPECT_EQ(read_until_eof(conn.server.fd), 4u << 20); });
  std::vector<char> chunk(1 << 16, 'x');
  for (int i = 0; i < 64; i++)
    write_all(conn.client.fd, chunk.data(), chunk.size());
  // Most of it crossed the fast path: the original direction's entry counted
  // it (frames as received, headers included) before the FIN removes it.
  std::uint64_t carried = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        if (auto o = entry(lan, conn.orig))
          carried = o->bytes;
        return carried >= (3u << 20);
      },
      5))
      << "the fast path carried only " << carried << " of the 4 MiB's bytes";
  shutdown(conn.client.fd, SHUT_WR);
  reader.join();
  std::string ruleset = sh("nft list ruleset");
  EXPECT_NE(ruleset.find("packets 0 bytes 0 drop comment \"invalid\""), std::string::npos)
      << "conntrack judged packets invalid:\n"
      << ruleset;
  // FIN seen by conntrack: the flow leaves the table.
  EXPECT_TRUE(wait_until([&] { return !entry(lan, conn.orig).has_value(); }, 5));
}

TEST_F(ControlPlaneTest, FastPathCarriesTheOffloadedConnection) {
  start_control_plane();
  auto conn = tcp_connect(client4, server4, 5002);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5));
  std::thread reader([&] { read_until_eof(conn.server.fd); });
  std::vector<char> chunk(1 << 16, 'y');
  for (int i = 0; i < 16; i++)
    write_all(conn.client.fd, chunk.data(), chunk.size());
  // Counters are read before the FIN: it removes the entries.
  EXPECT_TRUE(wait_until(
      [&] {
        auto o = entry(lan, conn.orig);
        auto r = reply_entry(server4, 5002, IPPROTO_TCP);
        return o && r && o->packets >= 100 && r->second.packets > 0;
      },
      5))
      << "the XDP program did not forward the connection's packets";
  shutdown(conn.client.fd, SHUT_WR);
  reader.join();
}

TEST_F(ControlPlaneTest, TcpIpv6Masqueraded) {
  start_control_plane();
  auto conn = tcp_connect(client6, server6, 5003);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5))
      << "not offloaded: " << to_string(conn.orig);
  expect_masqueraded(conn.orig, wan6);
}

TEST_F(ControlPlaneTest, PortForwardedConnectionIsDnatedBothWays) {
  start_control_plane();
  // The server (WAN) dials the gateway's WAN address on the forwarded port;
  // the gateway DNATs it to the client (LAN host), same port.
  const std::uint16_t port = 8080;
  auto conn = tcp_between(ns_server, server4, ns_client, client4, wan4, port);
  ASSERT_TRUE(wait_until([&] { return entry(wan, conn.orig).has_value(); }, 5))
      << "not offloaded: " << to_string(conn.orig);
  auto o = entry(wan, conn.orig);
  EXPECT_EQ(o->action.direction, XF_DIR_ORIGINAL);
  EXPECT_EQ(o->action.egress_ifindex, lan);
  EXPECT_EQ(o->action.nat, XF_NAT_DST_ADDR);
  EXPECT_EQ(IpAddr::from_words(XF_FAMILY_IPV4, o->action.new_dst), client4);
  EXPECT_EQ(mac_string(o->action.dst_mac), mac_string(client_mac.data()));
  EXPECT_EQ(mac_string(o->action.src_mac), mac_string(lan_mac.data()));
  // The client's answer: client:8080 -> server, leaves from the WAN address.
  FlowTuple reply{client4, server4, port, conn.orig.sport, IPPROTO_TCP};
  auto r = entry(lan, reply);
  ASSERT_TRUE(r) << "no reply-direction entry for " << to_string(reply);
  EXPECT_EQ(r->action.direction, XF_DIR_REPLY);
  EXPECT_EQ(r->action.egress_ifindex, wan);
  EXPECT_EQ(r->action.nat, XF_NAT_SRC_ADDR);
  EXPECT_EQ(IpAddr::from_words(XF_FAMILY_IPV4, r->action.new_src), wan4);
  EXPECT_EQ(mac_string(r->action.dst_mac), mac_string(server_mac.data()));
}

TEST_F(ControlPlaneTest, UdpOffloadedOnceAssuredAndDestroyRemoves) {
  start_control_plane();
  auto udp = udp_pair(client4, server4, 5004);
  const FlowTuple &orig = udp.orig;
  ASSERT_TRUE(exchange_until_offloaded(udp)) << "UDP flow not offloaded: " << to_string(orig);
  expect_masqueraded(orig, wan4);

  sh("conntrack -D -p udp --orig-port-src " + std::to_string(orig.sport) + " >/dev/null 2>&1");
  EXPECT_TRUE(wait_until([&] { return table_size() == 0; }, 5))
      << "entries left after conntrack -D: " << table_size();
}

TEST_F(ControlPlaneTest, NeighbourMacChangeUpdatesEntries) {
  start_control_plane();
  auto conn = tcp_connect(client4, server4, 5005);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5));
  std::string real = mac_string(server_mac.data());
  // A change drops the entries; the kernel's next packets re-teach them
  // (the egress observer), so the connection keeps sending meanwhile.
  auto poke = [&] {
    write_all(conn.client.fd, "x", 1);
    write_all(conn.server.fd, "y", 1);
  };
  sh("ip neigh replace " + server4.to_string() +
     " lladdr 02:00:00:00:0c:99 dev wan0 nud permanent");
  bool moved = wait_until(
      [&] {
        poke();
        auto o = entry(lan, conn.orig);
        return o && mac_string(o->action.dst_mac) == "02:00:00:00:0c:99";
      },
      5);
  sh("ip neigh replace " + server4.to_string() + " lladdr " + real + " dev wan0 nud reachable");
  EXPECT_TRUE(moved) << "entry still points at the old MAC";
  EXPECT_TRUE(wait_until(
      [&] {
        poke();
        auto o = entry(lan, conn.orig);
        return o && mac_string(o->action.dst_mac) == real &&
               reply_entry(server4, 5005, IPPROTO_TCP);
      },
      5));
  // The other direction did not move.
  auto r = reply_entry(server4, 5005, IPPROTO_TCP);
  ASSERT_TRUE(r);
  EXPECT_EQ(mac_string(r->second.action.dst_mac), mac_string(client_mac.data()));
}

TEST_F(ControlPlaneTest, RouteMtuChangeUpdatesEntries) {
  start_control_plane();
  auto conn = tcp_connect(client4, server4, 5010);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5));
  EXPECT_EQ(entry(lan, conn.orig)->action.mtu, 1500);
  // A change drops the entries; the kernel's next packets re-teach them.
  auto poke = [&] {
    write_all(conn.client.fd, "x", 1);
    write_all(conn.server.fd, "y", 1);
  };
  sh("ip route add " + server4.to_string() + "/32 dev wan0 mtu 1400");
  bool updated = wait_until(
      [&] {
        poke();
        auto o = entry(lan, conn.orig);
        return o && o->action.mtu == 1400;
      },
      5);
  sh("ip route del " + server4.to_string() + "/32 dev wan0");
  EXPECT_TRUE(updated) << "route MTU not applied";
  EXPECT_TRUE(wait_until(
      [&] {
        poke();
        auto o = entry(lan, conn.orig);
        return o && o->action.mtu == 1500;
      },
      5));
}

TEST_F(ControlPlaneTest, OverrunAndResyncEndWithTheOffloadableConntrackSet) {
  ControlPlaneConfig config;
  config.ct_rcvbuf_bytes = 4096; // a burst must overrun it
  start_control_plane(config);
  testing::CtInjector inject;
  std::map<FlowTuple, testing::InjectedFlow> live;
  std::set<FlowTuple> expected;
  auto flow = [&](std::uint32_t i, bool assured) {
    return testing::synthetic_flow(client4, server4, wan4, i, i % 2 ? IPPROTO_UDP : IPPROTO_TCP,
                                   assured);
  };
  // Burst 1: 3000 offloadable, 500 not (no reply seen: never assured).
  for (std::uint32_t i = 0; i < 3500; i++) {
    auto f = flow(i, i < 3000);
    inject.create(f);
    live[f.orig] = f;
    if (f.assured)
      expected.insert(f.orig);
  }
  ASSERT_EQ(inject.flush(), 0u) << strerror(inject.first_error());
  // Burst 2, right behind: 1000 of them deleted, 1000 new.
  for (std::uint32_t i = 0; i < 1000; i++) {
    auto f = flow(i, true);
    inject.remove(f);
    live.erase(f.orig);
    expected.erase(f.orig);
  }
  for (std::uint32_t i = 5000; i < 6000; i++) {
    auto f = flow(i, true);
    inject.create(f);
    live[f.orig] = f;
    expected.insert(f.orig);
  }
  ASSERT_EQ(inject.flush(), 0u) << strerror(inject.first_error());

  auto map_set = [&] {
    std::set<FlowTuple> got;
    std::size_t entries = 0;
    table->for_each([&](const xf_flow_key &k, const xf_flow_value &v) {
      entries++;
      if (v.action.direction == XF_DIR_ORIGINAL)
        got.insert(tuple_of(k));
    });
    return std::make_pair(got, entries);
  };
  // The live connections send (the unassured ones too, their original
  // direction only); the deleted ones are gone and send nothing.
  std::vector<testing::InjectedFlow> senders;
  for (const auto &[orig, f] : live)
    senders.push_back(f);
  bool converged = send_until(
      senders, [&](const testing::InjectedFlow &f) { return !entry(lan, f.orig).has_value(); },
      [&] {
        auto [got, entries] = map_set();
        return got == expected && entries == 2 * expected.size();
      },
      30);
  auto [got, entries] = map_set();
  std::string missing, extra;
  for (const auto &t : expected)
    if (!got.count(t) && missing.size() < 300)
      missing += to_string(t) + "; ";
  for (const auto &t : got)
    if (!expected.count(t) && extra.size() < 300)
      extra += to_string(t) + "; ";
  EXPECT_TRUE(converged) << "map has " << got.size() << " connections (" << entries
                         << " entries), conntrack has " << expected.size()
                         << " offloadable; missing: " << missing << " extra: " << extra;
  // The status is published once per loop: it may lag the map a little.
  EXPECT_TRUE(wait_until([&] { return status().flows_offloaded == expected.size(); }, 2))
      << "xf_status.flows_offloaded " << status().flows_offloaded;
  auto s = status();
  EXPECT_GE(s.events_lost, 1u) << "the tiny buffer never overran: the test proved nothing";
  EXPECT_GE(s.resyncs, 1u);
}

TEST_F(ControlPlaneTest, FullTableKeepsNewFlowsOnTheKernelPathAndCountsThem) {
  start_control_plane({}, /*max_flows=*/2); // 4 map entries
  testing::CtInjector inject;
  std::vector<testing::InjectedFlow> flows;
  for (std::uint32_t i = 0; i < 5; i++) {
    flows.push_back(testing::synthetic_flow(client4, server4, wan4, 20000 + i));
    inject.create(flows.back());
  }
  ASSERT_EQ(inject.flush(), 0u) << strerror(inject.first_error());
  auto waiting = [&](const testing::InjectedFlow &f) { return !entry(lan, f.orig).has_value(); };
  // All five send; two fit.
  EXPECT_TRUE(send_until(
      flows, waiting, [&] { return status().rejected_full == 3; }, 10))
      << "rejected_full " << status().rejected_full;
  EXPECT_EQ(table_size(), 4u);
  EXPECT_EQ(status().flows_offloaded, 2u);
  // Two offloaded connections end: two of the refused ones get in on the
  // next retry, and no refusal is counted twice.
  std::set<FlowTuple> before;
  table->for_each([&](const xf_flow_key &k, const xf_flow_value &v) {
    if (v.action.direction == XF_DIR_ORIGINAL)
      before.insert(tuple_of(k));
  });
  std::vector<testing::InjectedFlow> refused;
  for (const auto &f : flows) {
    if (before.count(f.orig))
      inject.remove(f);
    else
      refused.push_back(f);
  }
  ASSERT_EQ(inject.flush(), 0u);
  EXPECT_TRUE(send_until(
      refused, waiting,
      [&] {
        std::size_t fresh = 0;
        table->for_each([&](const xf_flow_key &k, const xf_flow_value &v) {
          if (v.action.direction == XF_DIR_ORIGINAL && !before.count(tuple_of(k)))
            fresh++;
        });
        return fresh == 2;
      },
      10))
      << "refused flows did not get in once there was room";
  EXPECT_EQ(status().rejected_full, 3u);
}

TEST_F(ControlPlaneTest, UdpCarriedOnlyByXdpOutlivesConntrackTimeout) {
  const int timeout = 4;
  sh("sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=" + std::to_string(timeout));
  struct Restore {
    ~Restore() { system("sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=120"); }
  } restore;
  start_control_plane();
  auto udp = udp_pair(client4, server4, 5006);
  const FlowTuple &orig = udp.orig;
  ASSERT_TRUE(exchange_until_offloaded(udp)) << "UDP flow not offloaded";
  std::string id_before =
      sh("conntrack -L -p udp --dport 5006 -o id 2>/dev/null | grep -o 'id=[0-9]*'");
  auto before = entry(lan, orig);
  ASSERT_TRUE(before);

  // 3 x the stream timeout of traffic that conntrack never sees.
  udp.answered = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3 * timeout + 1);
  int rounds = 0;
  while (std::chrono::steady_clock::now() < end) {
    udp.exchange();
    rounds++;
  }
  auto after = entry(lan, orig);
  ASSERT_TRUE(after) << "the offloaded entry left the table";
  EXPECT_GT(after->packets, before->packets + rounds / 2) << "traffic did not take the fast path";
  EXPECT_GT(udp.answered, static_cast<std::uint64_t>(rounds / 2));
  std::string id_after =
      sh("conntrack -L -p udp --dport 5006 -o id 2>/dev/null | grep -o 'id=[0-9]*'");
  EXPECT_EQ(id_after, id_before) << "conntrack expired the entry (a new one took its place)";
  EXPECT_GT(status().keepalive_refreshes, 0u);
}

} // namespace
} // namespace xdpflow

namespace xdpflow {
namespace {

TEST_F(ControlPlaneTest, IdleFlowLeavesAndComesBackWithTraffic) {
  ControlPlaneConfig config;
  config.idle_timeout_sec = 2;
  start_control_plane(config);
  auto conn = tcp_connect(client4, server4, 5008);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5));
  ASSERT_TRUE(wait_until([&] { return table_size() == 0; }, 8)) << "idle flow stayed";
  // Idle for a while more, then traffic again (through the kernel now):
  // conntrack pushes the timeout back and the control plane notices.
  std::this_thread::sleep_for(3s);
  // The traffic goes on: the control plane notices the connection is back
  // (from conntrack's dump), then learns where its packets go from the next
  // ones the kernel forwards (the egress observer), as for any connection
  // it finds established.
  char buf[64];
  auto exchange = [&] {
    write_all(conn.client.fd, "again", 5);
    EXPECT_EQ(::read(conn.server.fd, buf, sizeof(buf)), 5);
    write_all(conn.server.fd, "reply", 5);
    EXPECT_EQ(::read(conn.client.fd, buf, sizeof(buf)), 5);
  };
  EXPECT_TRUE(wait_until(
      [&] {
        exchange();
        return entry(lan, conn.orig).has_value();
      },
      15))
      << "the flow was not offloaded again";
}

// Last: it takes wan0 down and up again, which flushes its neighbours.
TEST_F(ControlPlaneTest, LinkDownRemovesItsEntries) {
  start_control_plane();
  auto conn = tcp_connect(client4, server4, 5007);
  ASSERT_TRUE(wait_until([&] { return entry(lan, conn.orig).has_value(); }, 5));
  sh("ip link set wan0 down");
  bool removed = wait_until([&] { return table_size() == 0; }, 5);
  sh("ip link set wan0 up");
  sh("ip neigh replace " + server4.to_string() + " lladdr " + mac_string(server_mac.data()) +
     " dev wan0 nud reachable");
  EXPECT_TRUE(removed) << table_size() << " entries left with their egress link down";
}

} // namespace
} // namespace xdpflow
