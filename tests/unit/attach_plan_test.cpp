// The attach plan (core/attach_plan.h) over link facts parsed from rtnetlink
// messages built here as the kernel writes them (core/link_facts.h): this
// kernel has no 8021Q or PPP, so VLAN and PPP devices exist only as such
// messages.
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <vector>

#include "core/attach_plan.h"
#include "core/error.h"
#include "core/netlink_attr.h"

namespace xdpflow {
namespace {

// A link message's contents, set by name: msg(6, "eth1.7").kind("vlan").link(5).
struct LinkMsg {
  std::uint32_t ifindex_ = 0;
  std::string name_, kind_;
  std::uint32_t master_ = 0, link_ = 0;
  int link_netnsid_ = -1;
  std::uint32_t xdp_attr_ = 0, xdp_prog_id_ = 0; // attribute type inside IFLA_XDP
  std::uint16_t type_ = RTM_NEWLINK;
  std::uint8_t family_ = AF_UNSPEC;

  template <class F, class V> LinkMsg with(F LinkMsg::*field, V v) const {
    auto m = *this;
    m.*field = std::move(v);
    return m;
  }
  LinkMsg kind(std::string k) const { return with(&LinkMsg::kind_, std::move(k)); }
  LinkMsg master(std::uint32_t v) const { return with(&LinkMsg::master_, v); }
  LinkMsg link(std::uint32_t v) const { return with(&LinkMsg::link_, v); }
  LinkMsg link_netnsid(int v) const { return with(&LinkMsg::link_netnsid_, v); }
  LinkMsg xdp(std::uint32_t attr, std::uint32_t id) const {
    return with(&LinkMsg::xdp_attr_, attr).with(&LinkMsg::xdp_prog_id_, id);
  }
  LinkMsg type(std::uint16_t v) const { return with(&LinkMsg::type_, v); }
  LinkMsg family(std::uint8_t v) const { return with(&LinkMsg::family_, v); }
};

LinkMsg msg(std::uint32_t ifindex, std::string name) {
  LinkMsg m;
  m.ifindex_ = ifindex;
  m.name_ = std::move(name);
  return m;
}

// One message as the kernel sends it (rtnl_fill_ifinfo's attributes we read).
std::vector<std::uint8_t> build(const LinkMsg &m) {
  std::vector<std::uint8_t> buf(8192);
  nlmsghdr *nlh = nl::put_header(buf.data());
  nlh->nlmsg_type = m.type_;
  auto *ifm = static_cast<ifinfomsg *>(nl::put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = m.family_;
  ifm->ifi_index = static_cast<int>(m.ifindex_);
  nl::put_strz(nlh, IFLA_IFNAME, m.name_);
  if (m.master_)
    nl::put_u32(nlh, IFLA_MASTER, m.master_);
  if (m.link_)
    nl::put_u32(nlh, IFLA_LINK, m.link_);
  if (m.link_netnsid_ >= 0)
    nl::put_u32(nlh, IFLA_LINK_NETNSID, static_cast<std::uint32_t>(m.link_netnsid_));
  if (!m.kind_.empty()) {
    nlattr *info = nl::nest_start(nlh, IFLA_LINKINFO);
    nl::put_strz(nlh, IFLA_INFO_KIND, m.kind_);
    nl::nest_end(nlh, info);
  }
  if (m.xdp_attr_) {
    nlattr *xdp = nl::nest_start(nlh, IFLA_XDP);
    nl::put_u8(nlh, IFLA_XDP_ATTACHED, XDP_ATTACHED_MULTI);
    nl::put_u32(nlh, static_cast<std::uint16_t>(m.xdp_attr_), m.xdp_prog_id_);
    nl::nest_end(nlh, xdp);
  }
  buf.resize(nlh->nlmsg_len);
  return buf;
}

std::optional<LinkFact> parse(const LinkMsg &m) {
  auto buf = build(m);
  return parse_link_message(reinterpret_cast<const nlmsghdr *>(buf.data()));
}

// The OpenWrt-like gateway: br-lan (10) over lan0 (2) and lan1 (3), wan (4),
// eth1 (5) with the VLAN eth1.7 (6) and QinQ eth1.7.8 (7) on it, a VLAN
// port lan2.5 (9) of br-lan over lan2 (8), and ppp0 (11).
struct Gateway {
  LinkTable table;
  void add(const LinkMsg &m) {
    auto f = parse(m);
    ASSERT_TRUE(f) << m.name_;
    table.apply(*f);
  }
  Gateway() {
    add(msg(10, "br-lan").kind("bridge"));
    add(msg(2, "lan0").kind("veth").master(10));
    add(msg(3, "lan1").kind("veth").master(10));
    add(msg(4, "wan"));
    add(msg(5, "eth1"));
    add(msg(6, "eth1.7").kind("vlan").link(5));
    add(msg(7, "eth1.7.8").kind("vlan").link(6));
    add(msg(8, "lan2"));
    add(msg(11, "ppp0").kind("ppp"));
  }
};

std::vector<std::string> names(const AttachPlan &p) {
  std::vector<std::string> out;
  for (const auto &t : p.targets)
    out.push_back(t.name);
  return out;
}

std::string message_of(const std::vector<std::string> &typed, const LinkTable &t) {
  try {
    plan_targets(typed, t);
  } catch (const UsageError &e) {
    return e.what();
  }
  return "(no error)";
}

using Names = std::vector<std::string>;

TEST(LinkFacts, ParsesKindMasterAndLowerDevice) {
  auto f = parse(msg(6, "eth1.7").kind("vlan").master(10).link(5));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->ifindex, 6u);
  EXPECT_EQ(f->name, "eth1.7");
  EXPECT_EQ(f->kind, "vlan");
  EXPECT_EQ(f->master, 10u);
  EXPECT_EQ(f->lower, 5u);
  EXPECT_FALSE(f->lower_elsewhere);
  EXPECT_FALSE(f->deleted);
}

TEST(LinkFacts, LinkNamingItselfIsNoLowerDevice) {
  auto f = parse(msg(4, "wan").link(4));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->lower, 0u);
  EXPECT_EQ(f->kind, "");
}

TEST(LinkFacts, LinkNetnsidSaysTheLowerDeviceIsElsewhere) {
  auto f = parse(msg(2, "lan0").kind("veth").link(9).link_netnsid(0));
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->lower_elsewhere);
}

TEST(LinkFacts, XdpProgramIdInEitherForm) {
  auto one = parse(msg(10, "br-lan").xdp(IFLA_XDP_PROG_ID, 77).kind("bridge"));
  auto multi = parse(msg(10, "br-lan").xdp(IFLA_XDP_SKB_PROG_ID, 78).kind("bridge"));
  ASSERT_TRUE(one && multi);
  EXPECT_EQ(one->xdp_prog_id, 77u);
  EXPECT_EQ(multi->xdp_prog_id, 78u);
  EXPECT_EQ(parse(msg(4, "wan"))->xdp_prog_id, 0u);
}

TEST(LinkFacts, DellinkAndOtherMessages) {
  auto del = parse(msg(3, "lan1").type(RTM_DELLINK));
  ASSERT_TRUE(del);
  EXPECT_TRUE(del->deleted);
  // The bridge's per-port AF_BRIDGE messages are not the link's.
  EXPECT_FALSE(parse(msg(3, "lan1").master(10).family(AF_BRIDGE)));
  EXPECT_FALSE(parse(msg(3, "lan1").type(RTM_NEWADDR)));
  // Truncated before the ifinfomsg ends.
  auto buf = build(msg(3, "lan1"));
  auto *nlh = reinterpret_cast<nlmsghdr *>(buf.data());
  nlh->nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg) - 4);
  EXPECT_FALSE(parse_link_message(nlh));
}

TEST(LinkFacts, PppoeDevicesFromProc) {
  EXPECT_EQ(parse_pppoe_devices("Id       Address              Device\n"), Names{});
  EXPECT_EQ(parse_pppoe_devices("Id       Address              Device\n"
                                "00000A1B 02:00:00:00:00:01     eth1\n"
                                "00000A1C 02:00:00:00:00:02     eth1\n"
                                "00000A1D 02:00:00:00:00:03     eth2\n"),
            (Names{"eth1", "eth2"}));
}

TEST(AttachPlan, BridgeAttachesItsPortsNeverTheBridge) {
  Gateway g;
  auto p = plan_targets({"br-lan", "wan"}, g.table);
  EXPECT_EQ(names(p), (Names{"lan0", "lan1", "wan"}));
  EXPECT_EQ(p.targets[0].via, "port of br-lan");
  EXPECT_EQ(p.targets[0].side, 10u);
  // Hosts behind br-lan send to br-lan's MAC: that is what the port's fast
  // path must take as its own; wan's is its own.
  EXPECT_EQ(p.targets[0].mac_of, 10u);
  EXPECT_EQ(p.targets[1].mac_of, 10u);
  EXPECT_EQ(p.targets[2].mac_of, 4u);
  EXPECT_EQ(p.followed, std::vector<std::uint32_t>{10});
  EXPECT_TRUE(p.warnings.empty());
}

TEST(AttachPlan, VlanAttachesItsLowerDevice) {
  Gateway g;
  auto p = plan_targets({"br-lan", "eth1.7"}, g.table);
  EXPECT_EQ(names(p), (Names{"lan0", "lan1", "eth1"}));
  EXPECT_EQ(p.targets[2].via, "lower device of eth1.7");
  EXPECT_EQ(p.targets[2].mac_of, 5u);
  // QinQ: two levels down.
  EXPECT_EQ(names(plan_targets({"eth1.7.8", "wan"}, g.table)), (Names{"eth1", "wan"}));
}

TEST(AttachPlan, VlanPortOfABridgeAttachesItsLowerDevice) {
  Gateway g;
  g.add(msg(9, "lan2.5").kind("vlan").master(10).link(8));
  EXPECT_EQ(names(plan_targets({"br-lan", "wan"}, g.table)),
            (Names{"lan0", "lan1", "lan2", "wan"}));
}

TEST(AttachPlan, TwoVlansOnOneDeviceAreTwoSidesOnOneTarget) {
  Gateway g;
  g.add(msg(12, "eth1.9").kind("vlan").link(5));
  auto p = plan_targets({"eth1.7", "eth1.9"}, g.table);
  EXPECT_EQ(names(p), (Names{"eth1"}));
  EXPECT_TRUE(p.warnings.empty()); // routed between the VLANs: hairpin on eth1
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0], "eth1 (lower device of eth1.9) is already covered as lower device of "
                        "eth1.7: attached once");
}

TEST(AttachPlan, PppAttachesTheEthernetDeviceOfItsSession) {
  Gateway g;
  g.table.pppoe_devices = {"eth1"};
  auto p = plan_targets({"br-lan", "ppp0"}, g.table);
  EXPECT_EQ(names(p), (Names{"lan0", "lan1", "eth1"}));
  EXPECT_EQ(p.targets[2].via, "lower device of ppp0");
}

TEST(AttachPlan, PppWithIflinkUsesIt) {
  Gateway g;
  g.table.pppoe_devices = {"eth1", "lan2"}; // ambiguous, but IFLA_LINK says
  g.add(msg(11, "ppp0").kind("ppp").link(8));
  EXPECT_EQ(names(plan_targets({"ppp0", "wan"}, g.table)), (Names{"lan2", "wan"}));
}

TEST(AttachPlan, PppWhoseEthernetDeviceCannotBeToldIsRefused) {
  Gateway g;
  EXPECT_EQ(message_of({"ppp0", "wan"}, g.table),
            "ppp0: ppp0 carries no PPPoE session (/proc/net/pppoe lists none), so its Ethernet "
            "device is unknown; name that device instead");
  g.table.pppoe_devices = {"eth1", "lan2"};
  EXPECT_EQ(message_of({"ppp0", "wan"}, g.table),
            "ppp0: PPPoE sessions run over eth1, lan2: cannot tell which carries ppp0; name the "
            "Ethernet device instead");
}

TEST(AttachPlan, LowerDeviceElsewhereIsRefused) {
  Gateway g;
  g.add(msg(13, "v100").kind("vlan").link(3).link_netnsid(1));
  EXPECT_EQ(message_of({"v100", "wan"}, g.table),
            "v100 (VLAN) runs over a device in another network namespace; attach xdpflow there, "
            "on that device");
  g.add(msg(14, "v200").kind("vlan").link(99));
  EXPECT_EQ(message_of({"v200", "wan"}, g.table),
            "v200: its lower device (ifindex 99) is not in this network namespace; name the device "
            "that carries v200's frames instead");
}

TEST(AttachPlan, PortAndItsBridgeBothNamedAttachOnce) {
  Gateway g;
  for (const Names &typed :
       {Names{"br-lan", "lan0", "lan1", "wan"}, Names{"lan0", "lan1", "br-lan", "wan"}}) {
    auto p = plan_targets(typed, g.table);
    auto got = names(p);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (Names{"lan0", "lan1", "wan"}));
    EXPECT_EQ(p.notes.size(), 2u); // lan0, lan1: attached once
    EXPECT_TRUE(p.warnings.empty());
    EXPECT_EQ(p.followed, std::vector<std::uint32_t>{10});
  }
  auto p = plan_targets({"br-lan", "lan0", "wan"}, g.table);
  EXPECT_EQ(p.notes[0], "lan0 is already covered as port of br-lan: attached once");
}

TEST(AttachPlan, SameNameTwiceAttachesOnce) {
  Gateway g;
  auto p = plan_targets({"wan", "br-lan", "wan"}, g.table);
  EXPECT_EQ(names(p), (Names{"wan", "lan0", "lan1"}));
  EXPECT_EQ(p.notes, Names{"wan is named twice: attached once"});
}

TEST(AttachPlan, PortsNamedWithoutTheirBridgeAreNotFollowed) {
  Gateway g;
  auto p = plan_targets({"lan0", "lan1", "wan"}, g.table);
  EXPECT_EQ(names(p), (Names{"lan0", "lan1", "wan"}));
  EXPECT_TRUE(p.followed.empty());
  EXPECT_TRUE(p.warnings.empty()); // br-lan's ports and wan: two sides
  ASSERT_EQ(p.notes.size(), 2u);
  EXPECT_EQ(p.notes[0], "lan0 is a port of br-lan: ports joining br-lan later are not attached; "
                        "name br-lan to follow them");
}

TEST(AttachPlan, OneSideOnlyWarnsThatNothingCanBeOffloaded) {
  Gateway g;
  for (const Names &typed :
       {Names{"wan"}, Names{"br-lan"}, Names{"lan0", "lan1"}, Names{"br-lan", "lan1"}}) {
    auto p = plan_targets(typed, g.table);
    ASSERT_EQ(p.warnings.size(), 1u) << typed[0];
    EXPECT_NE(p.warnings[0].find("only one side of the gateway is attached"), std::string::npos);
    EXPECT_NE(p.warnings[0].find("nothing can be offloaded"), std::string::npos);
  }
  EXPECT_EQ(plan_targets({"wan"}, g.table)
                .warnings[0]
                .find("only one side of the gateway is "
                      "attached (wan)"),
            0u);
  EXPECT_TRUE(plan_targets({"lan0", "wan"}, g.table).warnings.empty());
}

TEST(AttachPlan, UnknownNameIsRefusedAtStartSkippedWhileRunning) {
  Gateway g;
  EXPECT_EQ(message_of({"br-lan", "wan9"}, g.table),
            "interface 'wan9' does not exist in this network namespace (ip link lists those "
            "that do)");
  EXPECT_EQ(names(plan_targets({"br-lan", "wan9"}, g.table, true)), (Names{"lan0", "lan1"}));
}

TEST(AttachPlan, BridgeWithoutPortsIsRefusedAtStart) {
  Gateway g;
  g.add(msg(20, "br-guest").kind("bridge"));
  EXPECT_EQ(message_of({"br-guest"}, g.table),
            "nothing to attach: br-guest has no device to hook (a bridge without ports?); add the "
            "ports (ip link set DEV master BRIDGE) or name the interfaces");
  auto p = plan_targets({"br-guest", "wan"}, g.table);
  EXPECT_EQ(names(p), Names{"wan"});
  EXPECT_EQ(p.notes, Names{"br-guest has no ports yet: they are attached as they join it"});
  EXPECT_TRUE(plan_targets({"br-guest"}, g.table, true).targets.empty());
}

TEST(AttachPlan, PortsJoiningAndLeavingAFollowedBridge) {
  Gateway g;
  Names typed{"br-lan", "wan"};
  auto before = plan_targets(typed, g.table, true);
  g.add(msg(8, "lan2").kind("veth").master(10)); // ip link set lan2 master
  auto joined = plan_targets(typed, g.table, true);
  auto d = plan_difference(before, joined);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].name, "lan2");
  EXPECT_EQ(d.added[0].via, "port of br-lan");
  EXPECT_TRUE(d.removed.empty());

  g.add(msg(3, "lan1").kind("veth")); // nomaster
  auto left = plan_targets(typed, g.table, true);
  d = plan_difference(joined, left);
  EXPECT_TRUE(d.added.empty());
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].name, "lan1");

  g.add(msg(8, "lan2").type(RTM_DELLINK)); // ip link del
  d = plan_difference(left, plan_targets(typed, g.table, true));
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].name, "lan2");
  // Unrelated changes change nothing.
  g.add(msg(30, "dummy0"));
  EXPECT_TRUE(plan_difference(left, plan_targets(typed, g.table, true)).added.empty());
}

TEST(AttachPlan, BridgesOfTheAttachedInterfaces) {
  Gateway g;
  auto b = bridges_of({2, 3, 4}, g.table);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].first, "br-lan");
  EXPECT_EQ(b[0].second, (Names{"lan0", "lan1"}));
  EXPECT_TRUE(bridges_of({4, 5}, g.table).empty());
}

} // namespace
} // namespace xdpflow
