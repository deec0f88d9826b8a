// The FlowSync unit tests' fakes and fixture (flow_sync_test.cpp,
// flow_sync_keepalive_test.cpp): a fake flow table, egress routes by
// destination address and a conntrack writer that records its updates.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <stdexcept>

#include "common/fake_flow_table.h"
#include "core/flow_sync.h"
#include "unit/ct_test_messages.h"

namespace xdpflow::flow_sync_test {

using testing::CtMsg;
using testing::tuple;

using FakeTable = testing::FakeFlowTable;

// Routes by destination address only, as a simple gateway would.
class FakeEgress : public EgressLookup {
public:
  std::optional<Egress> resolve(const FlowTuple &out) override {
    auto it = routes.find(out.dst.to_string());
    if (it == routes.end())
      return std::nullopt;
    return it->second;
  }
  std::map<std::string, Egress> routes;
};

class FakeConntrack : public ConntrackWriter {
public:
  void update(const CtUpdate &u) override { updates.push_back(u); }
  std::vector<CtUpdate> updates;
};

constexpr std::uint32_t LAN = 2, WAN = 3;
constexpr std::uint64_t SEC = 1'000'000'000ull;

inline Egress egress(std::uint32_t ifindex, std::uint8_t src_last, std::uint8_t dst_last) {
  Egress e;
  e.ifindex = ifindex;
  e.src_mac = {0x02, 0, 0, 0, 0, src_last};
  e.dst_mac = {0x02, 0, 0, 0, 1, dst_last};
  e.mtu = 1500;
  return e;
}

inline xf_flow_key key_of(std::uint32_t ifindex, const FlowTuple &t) {
  return make_flow_key(ifindex, xf_encap{}, t);
}

inline __u32 word(const char *addr) {
  __u32 w[4];
  IpAddr::parse(addr)->to_words(w);
  return w[0];
}

class FlowSyncTest : public ::testing::Test {
protected:
  FlowSyncTest() {
    eg.routes["198.18.1.2"] = egress(LAN, 0x0a, 0x02); // client, behind the LAN
    eg.routes["198.19.0.2"] = egress(WAN, 0x0b, 0x03); // server, on the WAN
    eg.routes["2001:2::2"] = egress(LAN, 0x0a, 0x12);
    eg.routes["2001:2:1::2"] = egress(WAN, 0x0b, 0x13);
    config.redirect_ifindexes = {LAN, WAN};
  }
  FlowSync &sync() {
    if (!sync_)
      sync_.emplace(config, table, eg, ct);
    return *sync_;
  }
  SyncOutcome handle(const CtMsg &m, std::uint64_t now = SEC) {
    return sync().handle(m.event(), now);
  }
  const xf_flow_value &entry(std::uint32_t ifindex, const FlowTuple &t) {
    auto it = table.entries.find(key_of(ifindex, t));
    if (it == table.entries.end())
      throw std::runtime_error("no entry for " + to_string(t));
    return it->second;
  }

  FlowSyncConfig config;
  FakeTable table;
  FakeEgress eg;
  FakeConntrack ct;
  std::optional<FlowSync> sync_;

  // Client 198.18.1.2:40000 -> server 198.19.0.2:80, masqueraded to
  // 198.19.0.1:61000 on the WAN.
  FlowTuple snat_orig = tuple("198.18.1.2", 40000, "198.19.0.2", 80);
  FlowTuple snat_reply = tuple("198.19.0.2", 80, "198.19.0.1", 61000);
};

} // namespace xdpflow::flow_sync_test
