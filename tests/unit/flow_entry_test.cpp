// Reading a connection back from one of its flow-table entries
// (core/flow_entry.h): tuples, NAT and partner key round-trip for every kind
// of NAT, both families and encapsulated egress; and the compact idle
// records (core/idle_flows.h).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <netinet/in.h>
#include <random>

#include "core/flow_entry.h"
#include "core/idle_flows.h"

namespace xdpflow {
namespace {

FlowTuple tuple(const char *src, std::uint16_t sport, const char *dst, std::uint16_t dport,
                std::uint8_t proto = IPPROTO_TCP) {
  return FlowTuple{*IpAddr::parse(src), *IpAddr::parse(dst), sport, dport, proto};
}

Egress egress(std::uint32_t ifindex, std::uint8_t vlans = 0, bool pppoe = false) {
  Egress e;
  e.ifindex = ifindex;
  e.src_mac = {2, 0, 0, 0, 0, static_cast<std::uint8_t>(ifindex)};
  e.dst_mac = {2, 0, 0, 0, 1, static_cast<std::uint8_t>(ifindex)};
  e.encap.vlan_count = vlans;
  for (std::uint8_t i = 0; i < vlans; i++)
    e.encap.vlan_id[i] = static_cast<std::uint16_t>(100 + i);
  if (pppoe) {
    e.encap.flags = XF_ENCAP_PPPOE;
    e.encap.pppoe_sid = 0x0102;
  }
  return e;
}

struct Case {
  const char *name;
  FlowTuple orig, reply;
  Egress eg_orig, eg_reply;
};

class FlowEntryRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(FlowEntryRoundTrip, EitherEntryGivesTheConnectionAndItsPartner) {
  const Case &c = GetParam();
  FlowEntries e = make_flow_entries(c.orig, c.reply, c.eg_orig, c.eg_reply);
  // The original direction leaves as the reply arrives, reversed, and back.
  EXPECT_EQ(translated_tuple(e.keys[XF_DIR_ORIGINAL], e.actions[XF_DIR_ORIGINAL]),
            reversed(c.reply));
  EXPECT_EQ(translated_tuple(e.keys[XF_DIR_REPLY], e.actions[XF_DIR_REPLY]), reversed(c.orig));
  for (int d = 0; d < 2; d++) {
    SCOPED_TRACE(d == XF_DIR_ORIGINAL ? "original entry" : "reply entry");
    EXPECT_EQ(original_tuple(e.keys[d], e.actions[d]), c.orig);
    EXPECT_EQ(reply_tuple(e.keys[d], e.actions[d]), c.reply);
    EXPECT_TRUE(same_key(partner_key(e.keys[d], e.actions[d]), e.keys[1 - d]));
  }
  // Keys: the original arrives where the reply leaves, with its encapsulation.
  EXPECT_EQ(e.keys[XF_DIR_ORIGINAL].ifindex, c.eg_reply.ifindex);
  EXPECT_EQ(0, std::memcmp(&e.keys[XF_DIR_ORIGINAL].encap, &c.eg_reply.encap, sizeof(xf_encap)));
  EXPECT_EQ(e.keys[XF_DIR_REPLY].ifindex, c.eg_orig.ifindex);
  EXPECT_EQ(0, std::memcmp(&e.keys[XF_DIR_REPLY].encap, &c.eg_orig.encap, sizeof(xf_encap)));
}

INSTANTIATE_TEST_SUITE_P(
    Nat, FlowEntryRoundTrip,
    ::testing::Values(
        Case{"routed_v4", tuple("198.18.0.2", 40000, "198.19.0.2", 80),
             tuple("198.19.0.2", 80, "198.18.0.2", 40000), egress(3), egress(2)},
        Case{"snat_with_port", tuple("198.18.0.2", 40000, "198.19.0.2", 80),
             tuple("198.19.0.2", 80, "198.19.0.1", 61000), egress(3), egress(2)},
        Case{"dnat_with_port", tuple("198.19.0.2", 5000, "198.19.0.1", 8080),
             tuple("198.18.0.2", 80, "198.19.0.2", 5000), egress(2), egress(3)},
        Case{"snat_and_dnat_with_ports", tuple("198.18.0.2", 1234, "198.18.9.9", 53, IPPROTO_UDP),
             tuple("198.19.0.2", 5353, "198.19.0.1", 4321, IPPROTO_UDP), egress(3), egress(2)},
        Case{"snat_v6", tuple("2001:2::2", 40000, "2001:2:1::2", 443),
             tuple("2001:2:1::2", 443, "2001:2:1::1", 1025), egress(3), egress(2)},
        Case{"dnat_v6_udp", tuple("2001:2:1::2", 5000, "2001:2:1::1", 53, IPPROTO_UDP),
             tuple("2001:2::53", 5353, "2001:2:1::2", 5000, IPPROTO_UDP), egress(2), egress(3)},
        Case{"vlan_egress", tuple("198.18.0.2", 40000, "198.19.0.2", 80),
             tuple("198.19.0.2", 80, "198.19.0.1", 61000), egress(3, 1), egress(2)},
        Case{"qinq_both_sides", tuple("198.18.0.2", 40000, "198.19.0.2", 80),
             tuple("198.19.0.2", 80, "198.19.0.1", 61000), egress(3, 2), egress(2, 1)},
        Case{"pppoe_egress", tuple("198.18.0.2", 40000, "198.19.0.2", 80),
             tuple("198.19.0.2", 80, "198.19.0.1", 61000), egress(3, 1, true), egress(2)}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(TupleHash, EqualTuplesEqualHashesAnyFieldChangesIt) {
  FlowTuple t = tuple("198.18.0.2", 40000, "198.19.0.2", 80);
  EXPECT_EQ(tuple_hash(t), tuple_hash(tuple("198.18.0.2", 40000, "198.19.0.2", 80)));
  EXPECT_NE(tuple_hash(t), tuple_hash(reversed(t)));
  FlowTuple u = t;
  u.proto = IPPROTO_UDP;
  EXPECT_NE(tuple_hash(t), tuple_hash(u));
  u = t;
  u.sport++;
  EXPECT_NE(tuple_hash(t), tuple_hash(u));
  u = t;
  u.dst = *IpAddr::parse("198.19.0.3");
  EXPECT_NE(tuple_hash(t), tuple_hash(u));
}

// The idle records against std::map under random puts and erases (probe
// runs that wrap, deletions in the middle of runs, growing and shrinking).
TEST(IdleFlows, BehavesAsAMap) {
  IdleFlows idle;
  std::map<std::uint64_t, IdleFlows::Record> model;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 200000; step++) {
    // Few distinct hashes with colliding low bits: long probe runs.
    std::uint64_t hash = ((rng() % 3000) << 4 | 0xf) * (step < 100000 ? 1 : 64);
    if (rng() % 3) {
      IdleFlows::Record r{hash, static_cast<std::uint32_t>(rng()),
                          static_cast<std::uint32_t>(step)};
      idle.put(r);
      model[hash] = r;
    } else {
      EXPECT_EQ(idle.erase(hash), model.erase(hash) == 1);
    }
    if (step % 997 == 0) {
      ASSERT_EQ(idle.size(), model.size());
      for (const auto &[h, r] : model) {
        const auto *got = idle.find(h);
        ASSERT_NE(got, nullptr) << "step " << step;
        EXPECT_EQ(got->expires_sec, r.expires_sec);
      }
    }
  }
  idle.erase_if([](const IdleFlows::Record &r) { return r.expires_sec % 2; });
  std::erase_if(model, [](const auto &kv) { return kv.second.expires_sec % 2; });
  ASSERT_EQ(idle.size(), model.size());
  for (const auto &[h, r] : model)
    EXPECT_NE(idle.find(h), nullptr);
  for (const auto &[h, r] : std::map(model))
    idle.erase(h);
  EXPECT_EQ(idle.size(), 0u);
  EXPECT_LE(idle.memory_bytes(), 64 * sizeof(IdleFlows::Record)) << "memory given back";
}

} // namespace
} // namespace xdpflow
