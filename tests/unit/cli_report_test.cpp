// Formatting of stats, flows and status (core/*_report.h, json.h, table.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "core/flow_report.h"
#include "core/json.h"
#include "core/stats_report.h"
#include "core/status_report.h"
#include "core/table.h"

namespace xdpflow {
namespace {

TEST(CliJson, WritesNestedObjectsAndEscapes) {
  JsonWriter j;
  j.begin_object().field("a", 1).key("b").begin_array().value("x\"y").value(true).null();
  j.end_array().field("c", std::uint64_t{18446744073709551615ull}).end_object();
  EXPECT_EQ(j.str(), R"({"a":1,"b":["x\"y",true,null],"c":18446744073709551615})");
  EXPECT_EQ(json_escape("a\nb\x01"), "\"a\\nb\\u0001\"");
}

TEST(CliTable, AlignsColumnsWithoutTrailingBlanks) {
  TextTable t({{"NAME"}, {"N", TextTable::Align::Right}});
  t.add_row({"lan0", "5"});
  t.add_row({"a", "12345"});
  EXPECT_EQ(t.render(), "NAME      N\nlan0      5\na     12345\n");
}

TEST(CliTable, HumanNumbers) {
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_count(1234567), "1.23M");
  EXPECT_EQ(human_bytes(1536), "1.50KiB");
  EXPECT_EQ(human_duration(59), "59s");
  EXPECT_EQ(human_duration(3725), "1h02m");
  EXPECT_EQ(human_duration(90061), "1d01h");
}

StatsSnapshot sample_stats() {
  StatsSnapshot s;
  s.interfaces = {{"lan0", 2, XdpMode::Native, std::nullopt, true, "veth", Hook::Tc, "veth", "tcx"},
                  {"wan0", 3, XdpMode::Generic, std::nullopt, true, "", Hook::Xdp, "", ""}};
  xf_counters a{}, b{};
  a.rx_packets = 100;
  a.fast_packets = 80;
  a.fast_bytes = 8000;
  a.slow[XF_SLOW_NO_FLOW] = 15;
  a.slow[XF_SLOW_TCP_FIN_RST] = 5;
  b.rx_packets = 10;
  b.fast_packets = 10;
  b.fast_bytes = 1000;
  b.redirect_errors = 1;
  set_hook_counters(s, {a, b}); // a: XDP, b: TC
  s.flows_offloaded = 3;
  s.flows_capacity = 1024;
  s.rejected_full = 2;
  return s;
}

// The reasons in their JSON order, the first two given, the rest zero.
std::string reasons_json(int no_flow, int fin_rst) {
  return R"("slow_reasons":{"no_flow":)" + std::to_string(no_flow) + R"(,"tcp_fin_rst":)" +
         std::to_string(fin_rst) +
         R"(,"ttl":0,"mtu":0,"unparsed":0,)"
         R"("not_ip":0,"not_tcp_udp":0,"ip_options":0,"fragment":0,"ipv6_ext":0,)"
         R"("no_egress":0,"not_unicast":0,"to_tc":0,"stale_control_plane":0,"not_for_us":0,)"
         R"("head_adjust_failed":0,"tc_unsupported":0,"bad_ip_checksum":0,"bad_ip_header":0,)"
         R"("bad_ip_length":0,"truncated_l4":0,"bad_tcp_doff":0,"martian_address":0,)"
         R"("trailer":0,"torn_entry":0})";
}

TEST(CliStats, JsonHasTheDesignFieldNamesHookSumsAndPerHookCounters) {
  EXPECT_EQ(stats_json(sample_stats()),
            R"({"interfaces":[{"name":"lan0","ifindex":2,"hook":"tc","mode":null},)"
            R"({"name":"wan0","ifindex":3,"hook":"xdp","mode":"generic"}],)"
            R"("totals":{"rx_packets":110,"fast_packets":90,"fast_bytes":9000,"slow_packets":20,)" +
                reasons_json(15, 5) +
                R"(,"redirect_errors":1},)"
                R"("hooks":{"xdp":{"rx_packets":100,"fast_packets":80,"fast_bytes":8000,)"
                R"("slow_packets":20,)" +
                reasons_json(15, 5) +
                R"(,"redirect_errors":0},)"
                R"("tc":{"rx_packets":10,"fast_packets":10,"fast_bytes":1000,"slow_packets":0,)" +
                reasons_json(0, 0) +
                R"(,"redirect_errors":1}},)"
                R"("flows":{"offloaded":3,"capacity":1024,"rejected_full":2}})"
                "\n");
}

TEST(CliStats, TableShowsTotalsAndShares) {
  auto text = stats_table(sample_stats());
  EXPECT_NE(text.find("Interfaces: lan0 (tc) wan0 (generic)"), std::string::npos) << text;
  EXPECT_NE(text.find("fast path             90   81.8%   80  10"), std::string::npos) << text;
  EXPECT_NE(text.find("Flows offloaded: 3 of 1024 (0.3%), rejected (table full): 2"),
            std::string::npos);
}

TEST(CliStats, RatesPerSecondAndHitRatio) {
  StatsSnapshot a, b;
  b.totals.rx_packets = 2000;
  b.totals.fast_packets = 1500;
  b.totals.fast_bytes = 1'000'000;
  b.totals.slow[XF_SLOW_NO_FLOW] = 400;
  b.totals.slow[XF_SLOW_FRAGMENT] = 100;
  b.flows_offloaded = 7;
  auto r = compute_rates(a, b, 2.0);
  EXPECT_DOUBLE_EQ(r.rx_pps, 1000);
  EXPECT_DOUBLE_EQ(r.fast_pps, 750);
  EXPECT_DOUBLE_EQ(r.fast_bps, 4'000'000);
  EXPECT_DOUBLE_EQ(r.slow_pps, 250);
  EXPECT_DOUBLE_EQ(r.slow_pps_by_reason[XF_SLOW_NO_FLOW], 200);
  ASSERT_TRUE(r.hit_ratio);
  EXPECT_DOUBLE_EQ(*r.hit_ratio, 0.75);
  EXPECT_FALSE(compute_rates(a, a, 1.0).hit_ratio); // no traffic: no ratio
  // Header and row line up: same column count and the same width.
  auto header = rates_header(), row = rates_row("12:00:01", r);
  EXPECT_EQ(header.size(), row.size()) << header << row;
  EXPECT_NE(row.find("75.0%"), std::string::npos);
  EXPECT_NE(row.find("4.00M"), std::string::npos);
}

// A masqueraded TCP connection: client 198.18.0.2:40000 -> server
// 198.19.0.2:80 on lan0 (2), leaving wan0 (3) as 198.19.0.1:50000.
std::vector<FlowEntry> masquerade_pair() {
  FlowTuple orig{*IpAddr::parse("198.18.0.2"), *IpAddr::parse("198.19.0.2"), 40000, 80,
                 IPPROTO_TCP};
  FlowTuple reply{*IpAddr::parse("198.19.0.2"), *IpAddr::parse("198.19.0.1"), 80, 50000,
                  IPPROTO_TCP};
  FlowEntry o{make_flow_key(2, {}, orig), {}};
  o.value.action.egress_ifindex = 3;
  o.value.action.direction = XF_DIR_ORIGINAL;
  o.value.action.nat = XF_NAT_SRC_ADDR | XF_NAT_SRC_PORT;
  IpAddr::parse("198.19.0.1")->to_words(o.value.action.new_src);
  o.value.action.new_sport = htons(50000);
  o.value.packets = 10;
  o.value.bytes = 1000;
  o.value.last_seen_ns = 5'000'000'000ull;
  FlowEntry r{make_flow_key(3, {}, reply), {}};
  r.value.action.egress_ifindex = 2;
  r.value.action.direction = XF_DIR_REPLY;
  r.value.action.nat = XF_NAT_DST_ADDR | XF_NAT_DST_PORT;
  IpAddr::parse("198.18.0.2")->to_words(r.value.action.new_dst);
  r.value.action.new_dport = htons(40000);
  r.value.packets = 20;
  r.value.bytes = 30000;
  r.value.last_seen_ns = 7'000'000'000ull;
  return {r, o}; // reply first: pairing must not depend on the order
}

std::string names(std::uint32_t i) {
  return i == 2 ? "lan0" : i == 3 ? "wan0" : "if" + std::to_string(i);
}

TEST(CliFlows, PairsDirectionsThroughTheNatRewrite) {
  auto conns = pair_connections(masquerade_pair());
  ASSERT_EQ(conns.size(), 1u);
  const auto &c = conns[0];
  ASSERT_TRUE(c.reply);
  EXPECT_EQ(c.original.tuple.sport, 40000);
  EXPECT_EQ(c.original.in_ifindex, 2u);
  EXPECT_EQ(c.original.out_ifindex, 3u);
  EXPECT_EQ(c.reply->in_ifindex, 3u);
  EXPECT_EQ(c.packets(), 30u);
  EXPECT_EQ(c.bytes(), 31000u);
  EXPECT_EQ(c.last_seen_ns(), 7'000'000'000ull);
}

TEST(CliFlows, UnpairedDirectionsAreStillShown) {
  auto entries = masquerade_pair();
  entries[1].value.action.new_sport = htons(50001); // no longer matches the reply
  auto conns = pair_connections(entries);
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_FALSE(conns[0].reply);
  EXPECT_TRUE(conns[1].original_is_reply_entry);
  auto text = flows_table(conns, names, 8'000'000'000ull);
  EXPECT_NE(text.find("(original only)"), std::string::npos);
  EXPECT_NE(text.find("(reply only)"), std::string::npos);
}

TEST(CliFlows, TableLooksLikeConntrackPlusRewriteEgressCounters) {
  auto conns = pair_connections(masquerade_pair());
  EXPECT_EQ(flows_table(conns, names, 9'500'000'000ull),
            "PROTO  ORIGINAL                           NAT                    IN    OUT   HOOK  "
            "PACKETS  BYTES  IDLE\n"
            "tcp    198.18.0.2:40000 -> 198.19.0.2:80  snat 198.19.0.1:50000  lan0  wan0  -     "
            "     30  31000    2s\n"
            "1 connection offloaded\n");
}

// Which hook forwards a direction: XDP where the ingress has it and the
// entry is not TC_ONLY; else TC where the ingress has the TC program; else
// the kernel.
TEST(CliFlows, DirectionHookFromFlagsAndIngressPrograms) {
  EXPECT_EQ(direction_hook_name(0, true, true), "xdp");
  EXPECT_EQ(direction_hook_name(0, true, false), "xdp");
  EXPECT_EQ(direction_hook_name(XF_FLOW_TC_ONLY, true, true), "tc");
  EXPECT_EQ(direction_hook_name(XF_FLOW_TC_ONLY, true, false), "kernel");
  EXPECT_EQ(direction_hook_name(0, false, true), "tc");
  EXPECT_EQ(direction_hook_name(0, false, false), "kernel");

  auto entries = masquerade_pair();
  entries[1].value.flags = XF_FLOW_TC_ONLY; // the original (upload): wan0 egress shaped
  auto conns = pair_connections(entries);
  // lan0 (2): XDP and TC; wan0 (3): XDP only (its ingress redirects to an ifb).
  annotate_hooks(conns, [](std::uint32_t ifindex) {
    return ifindex == 2 ? std::pair{true, true} : std::pair{true, false};
  });
  EXPECT_EQ(conns[0].original.hook, "tc");
  EXPECT_EQ(conns[0].reply->hook, "xdp");
  auto json = flows_json(conns, names, 9'500'000'000ull);
  EXPECT_NE(json.find(R"("nat":{"src":"198.19.0.1","sport":50000},"hook":"tc",)"),
            std::string::npos)
      << json;
  EXPECT_NE(flows_table(conns, names, 9'500'000'000ull).find("  wan0  tc/xdp  "),
            std::string::npos);
}

TEST(CliFlows, JsonCarriesBothDirections) {
  auto conns = pair_connections(masquerade_pair());
  auto json = flows_json(conns, names, 9'500'000'000ull);
  EXPECT_EQ(json, R"({"flows":[{"proto":"tcp","family":"ipv4","original":{"src":"198.18.0.2",)"
                  R"("dst":"198.19.0.2","sport":40000,"dport":80,"in":"lan0","in_ifindex":2,)"
                  R"("out":"wan0","out_ifindex":3,"nat":{"src":"198.19.0.1","sport":50000},)"
                  R"("packets":10,"bytes":1000,"idle_sec":4},"reply":{"src":"198.19.0.2",)"
                  R"("dst":"198.19.0.1","sport":80,"dport":50000,"in":"wan0","in_ifindex":3,)"
                  R"("out":"lan0","out_ifindex":2,"nat":{"dst":"198.18.0.2","dport":40000},)"
                  R"("packets":20,"bytes":30000,"idle_sec":2},"packets":30,"bytes":31000,)"
                  R"("idle_sec":2}],"count":1})"
                  "\n");
}

TEST(CliFlows, SortsAndKeepsTop) {
  auto entries = masquerade_pair();
  auto second = entries;
  for (auto &e : second) {
    e.key.sport = e.key.sport == htons(40000) ? htons(40001) : e.key.sport;
    e.key.dport = e.key.dport == htons(50000) ? htons(50001) : e.key.dport;
    if (e.value.action.direction == XF_DIR_ORIGINAL)
      e.value.action.new_sport = htons(50001);
    else
      e.value.action.new_dport = htons(40001);
    e.value.packets = 1000;
    e.value.bytes = 1;
    e.value.last_seen_ns = 1;
  }
  entries.insert(entries.end(), second.begin(), second.end());
  auto conns = pair_connections(entries);
  ASSERT_EQ(conns.size(), 2u);
  sort_connections(conns, FlowSort::Packets, 0);
  EXPECT_EQ(conns[0].original.tuple.sport, 40001);
  sort_connections(conns, FlowSort::Bytes, 0);
  EXPECT_EQ(conns[0].original.tuple.sport, 40000);
  sort_connections(conns, FlowSort::Idle, 1);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].original.tuple.sport, 40000);
  EXPECT_FALSE(idle_seconds(0, 5));
}

TEST(CliFlows, Ipv6PortForwardInBracketsAndUnknownInterfaces) {
  // WAN host 2001:2:0:2::2:50000 -> gw 2001:2:0:2::1:8080, DNAT to the LAN
  // host 2001:2:0:1::2:8080; the reply comes back from it.
  FlowTuple orig{*IpAddr::parse("2001:2:0:2::2"), *IpAddr::parse("2001:2:0:2::1"), 50000, 8080,
                 IPPROTO_UDP};
  FlowTuple reply{*IpAddr::parse("2001:2:0:1::2"), *IpAddr::parse("2001:2:0:2::2"), 8080, 50000,
                  IPPROTO_UDP};
  FlowEntry o{make_flow_key(3, {}, orig), {}};
  o.value.action.egress_ifindex = 2;
  o.value.action.direction = XF_DIR_ORIGINAL;
  o.value.action.nat = XF_NAT_DST_ADDR;
  IpAddr::parse("2001:2:0:1::2")->to_words(o.value.action.new_dst);
  FlowEntry r{make_flow_key(2, {}, reply), {}};
  r.value.action.egress_ifindex = 3;
  r.value.action.direction = XF_DIR_REPLY;
  r.value.action.nat = XF_NAT_SRC_ADDR;
  IpAddr::parse("2001:2:0:2::1")->to_words(r.value.action.new_src);
  auto conns = pair_connections({o, r});
  ASSERT_EQ(conns.size(), 1u);
  ASSERT_TRUE(conns[0].reply);
  auto text = flows_table(
      conns, [](std::uint32_t i) { return "if" + std::to_string(i); }, 0);
  EXPECT_NE(text.find("udp    [2001:2:0:2::2]:50000 -> [2001:2:0:2::1]:8080  "
                      "dnat [2001:2:0:1::2]:8080  if3  if2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("never"), std::string::npos); // never hit yet
  auto json = flows_json(conns, names, 0);
  EXPECT_NE(json.find(R"("family":"ipv6")"), std::string::npos);
  EXPECT_NE(json.find(R"("nat":{"dst":"2001:2:0:1::2"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("idle_sec":null)"), std::string::npos);
}

TEST(CliStatus, JsonAndTableShowLivenessFeaturesAndFill) {
  StatusSnapshot s;
  s.prog_id = 42;
  s.interfaces = {{"lan0", 2, XdpMode::Native, XDP_FEATURE_BASIC | XDP_FEATURE_NDO_XMIT, true,
                   "veth", Hook::Xdp, "forced", "tcx"},
                  {"wan0", 3, XdpMode::Generic, std::nullopt, false, "", Hook::Tc,
                   "veth (sender checksum offload leaves CHECKSUM_PARTIAL frames XDP cannot see)",
                   ""}};
  s.flows_offloaded = 5;
  s.flows_capacity = 100;
  s.table_bytes = 78400;
  s.cp.pid = 1234;
  s.cp.started_ns = 1'000'000'000ull;
  s.cp.heartbeat_ns = 60'000'000'000ull;
  s.cp.resyncs = 2;
  s.cp.rejected_full = 1;
  s.now_ns = 61'000'000'000ull;
  EXPECT_TRUE(control_plane_alive(s));
  auto json = status_json(s);
  EXPECT_NE(json.find(R"("xdp_features":["basic","ndo-xmit"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("xdp_features":null)"), std::string::npos);
  EXPECT_NE(json.find(R"({"name":"lan0","ifindex":2,"driver":"veth","hook":"xdp",)"
                      R"("hook_reason":"forced","tc_ingress":"tcx","mode":"native",)"),
            std::string::npos)
      << json;
  EXPECT_NE(
      json.find(R"x("hook":"tc","hook_reason":"veth (sender checksum offload leaves )x"
                R"x(CHECKSUM_PARTIAL frames XDP cannot see)","tc_ingress":null,"mode":null,)x"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("flows":{"offloaded":5,"capacity":100,"rejected_full":1})"),
            std::string::npos);
  EXPECT_NE(json.find(R"("table":{"bytes":78400,"bytes_per_connection":784})"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("pid":1234,"alive":true,"uptime_sec":60,"heartbeat_age_sec":1.000,)"
                      R"("last_ct_event_age_sec":null)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("bridges":[],)"), std::string::npos) << json;
  s.bridges = {{"br-lan", {"lan0", "lan1"}}};
  EXPECT_NE(status_json(s).find(R"("bridges":[{"name":"br-lan","ports":["lan0","lan1"]}],)"),
            std::string::npos);
  EXPECT_NE(status_table(s).find("\nBridges (their ports are attached, never the bridge):\n"
                                 "  br-lan: lan0, lan1\n"),
            std::string::npos);
  auto text = status_table(s);
  EXPECT_NE(text.find("Control plane: pid 1234, up 1m00s, heartbeat 1.0s ago (alive)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Flow table: 5 of 100 connections (5.0%), 1 rejected (table full)\n"
                      "  memory: 784 bytes of kernel memory per connection of capacity "
                      "(--max-flows), 0.1 MiB in all (both address families' maps, allocated at "
                      "start)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("wan0             3  ?       tc (none)  -       no (no ndo-xmit)  unknown"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lan0             2  veth    xdp+tcx    native"), std::string::npos) << text;
  EXPECT_NE(text.find("  wan0: tc: veth (sender checksum offload leaves CHECKSUM_PARTIAL frames "
                      "XDP cannot see)\n"),
            std::string::npos)
      << text;

  s.now_ns += kHeartbeatStaleNs;
  EXPECT_FALSE(control_plane_alive(s));
  EXPECT_NE(status_table(s).find("STALE"), std::string::npos);
  s.cp.pid = 0;
  EXPECT_NE(status_json(s).find(R"("control_plane":null)"), std::string::npos);
}

TEST(CliStatus, ObserverCountsEveryInvalidationCauseByName) {
  StatusSnapshot s;
  s.cp.pid = 1234;
  s.cp.heartbeat_ns = s.now_ns = 1'000'000'000ull;
  xf_obs_status obs{};
  obs.removed[XF_INVAL_FDB] = 3;
  obs.invalidations[XF_INVAL_FDB] = 1;
  obs.invalidations[XF_INVAL_QDISC] = 2;
  obs.last_invalidation_ns = 900'000'000ull;
  obs.last_invalidation_cost_ns = 1'500'000ull;
  s.obs = obs;
  auto text = status_table(s);
  EXPECT_NE(text.find("invalidations (connections removed/changes): route 0/0, rule 0/0, "
                      "neighbour 0/0, link 0/0, fdb 3/1, ruleset 0/0, qdisc 0/2;"),
            std::string::npos)
      << text;
  auto json = status_json(s);
  EXPECT_NE(json.find(R"("removed":{"route":0,"rule":0,"neighbour":0,"link":0,"fdb":3,)"
                      R"("ruleset":0,"qdisc":0})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("last_invalidation_ns":900000000,"last_invalidation_cost_us":1500)"),
            std::string::npos)
      << json;
}

} // namespace
} // namespace xdpflow
