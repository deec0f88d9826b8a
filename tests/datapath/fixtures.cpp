#include "fixtures.h"

#include <algorithm>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <stdexcept>

namespace xdpflow::testing {
namespace {

IpAddr addr(const std::string &text) {
  auto a = IpAddr::parse(text);
  if (!a)
    throw std::invalid_argument("fixture: bad address " + text);
  return *a;
}

} // namespace

FlowSpec flow(Dev in, std::uint8_t proto, const std::string &src, std::uint16_t sport,
              const std::string &dst, std::uint16_t dport) {
  FlowSpec f;
  f.ingress = in;
  f.tuple.src = addr(src);
  f.tuple.dst = addr(dst);
  f.tuple.sport = sport;
  f.tuple.dport = dport;
  f.tuple.proto = proto;
  f.action.mtu = 1500;
  return f;
}

FlowSpec FlowSpec::via(Dev out, const Mac &src_mac, const Mac &dst_mac, std::uint16_t mtu) const {
  FlowSpec f = *this;
  f.egress = out;
  std::copy(src_mac.begin(), src_mac.end(), f.action.src_mac);
  std::copy(dst_mac.begin(), dst_mac.end(), f.action.dst_mac);
  f.action.mtu = mtu;
  return f;
}

FlowSpec FlowSpec::snat(const std::string &a, std::uint16_t port) const {
  FlowSpec f = *this;
  f.action.nat |= XF_NAT_SRC_ADDR;
  addr(a).to_words(f.action.new_src);
  return port ? f.snat_port(port) : f;
}

FlowSpec FlowSpec::dnat(const std::string &a, std::uint16_t port) const {
  FlowSpec f = *this;
  f.action.nat |= XF_NAT_DST_ADDR;
  addr(a).to_words(f.action.new_dst);
  return port ? f.dnat_port(port) : f;
}

FlowSpec FlowSpec::snat_port(std::uint16_t port) const {
  FlowSpec f = *this;
  f.action.nat |= XF_NAT_SRC_PORT;
  f.action.new_sport = htons(port);
  return f;
}

FlowSpec FlowSpec::dnat_port(std::uint16_t port) const {
  FlowSpec f = *this;
  f.action.nat |= XF_NAT_DST_PORT;
  f.action.new_dport = htons(port);
  return f;
}

FlowSpec FlowSpec::arriving(const xf_encap &e) const {
  FlowSpec f = *this;
  f.encap = e;
  return f;
}

FlowSpec FlowSpec::leaving(const xf_encap &e) const {
  FlowSpec f = *this;
  f.action.encap = e;
  return f;
}

FlowSpec FlowSpec::mtu(std::uint16_t mtu) const {
  FlowSpec f = *this;
  f.action.mtu = mtu;
  return f;
}

FlowSpec FlowSpec::tc_only() const {
  FlowSpec f = *this;
  f.flags |= XF_FLOW_TC_ONLY;
  return f;
}

xf_encap untagged() {
  return xf_encap{};
}

xf_encap vlan_encap(std::uint16_t vid) {
  xf_encap e{};
  e.vlan_id[0] = vid;
  e.vlan_count = 1;
  return e;
}

xf_encap qinq_encap(std::uint16_t outer, std::uint16_t inner, bool outer_8021ad) {
  xf_encap e{};
  e.vlan_id[0] = outer;
  e.vlan_id[1] = inner;
  e.vlan_count = 2;
  e.flags = outer_8021ad ? XF_ENCAP_OUTER_8021AD : 0;
  return e;
}

xf_encap pppoe_encap(std::uint16_t sid) {
  xf_encap e{};
  e.pppoe_sid = sid;
  e.flags = XF_ENCAP_PPPOE;
  return e;
}

xf_encap vlan_pppoe_encap(std::uint16_t vid, std::uint16_t sid) {
  xf_encap e = pppoe_encap(sid);
  e.vlan_id[0] = vid;
  e.vlan_count = 1;
  return e;
}

Fixture Fixture::with_devmap(std::vector<Dev> devs) const {
  Fixture f = *this;
  f.devmap = std::move(devs);
  return f;
}

Fixture Fixture::tc_refuses(int reason) const {
  Fixture f = *this;
  f.tc_slow_reason = reason;
  return f;
}

Fixture Fixture::only(Hooks h) const {
  Fixture f = *this;
  f.hooks = h;
  return f;
}

Fixture Fixture::also(const FlowSpec &extra) const {
  Fixture f = *this;
  f.flows.push_back(extra);
  return f;
}

Fixture redirected(std::string name, Bytes in, const FlowSpec &f, Bytes out) {
  Fixture fx;
  fx.name = std::move(name);
  fx.ingress = f.ingress;
  fx.in = std::move(in);
  fx.flows = {f};
  fx.verdict = XDP_REDIRECT;
  fx.out = std::move(out);
  fx.hit_flow = 0;
  return fx;
}

Fixture passed(std::string name, Bytes in, int reason, std::vector<FlowSpec> flows, Dev ingress) {
  Fixture fx;
  fx.name = std::move(name);
  fx.ingress = ingress;
  fx.out = in;
  fx.in = std::move(in);
  fx.flows = std::move(flows);
  fx.verdict = XDP_PASS;
  fx.slow_reason = reason;
  return fx;
}

Packet lan_in() {
  return Packet().eth(kGwLanMac, kClientMac);
}
Packet lan_out() {
  return Packet().eth(kClientMac, kGwLanMac);
}
Packet wan_in() {
  return Packet().eth(kGwWanMac, kUpstreamMac);
}
Packet wan_out() {
  return Packet().eth(kUpstreamMac, kGwWanMac);
}
Packet dmz_out() {
  return Packet().eth(kDmzHostMac, kGwDmzMac);
}

FlowSpec to_wan(const FlowSpec &f) {
  return f.via(Dev::kWan, kGwWanMac, kUpstreamMac);
}
FlowSpec to_lan(const FlowSpec &f) {
  return f.via(Dev::kLan, kGwLanMac, kClientMac);
}
FlowSpec to_dmz(const FlowSpec &f) {
  return f.via(Dev::kDmz, kGwDmzMac, kDmzHostMac);
}

FlowSpec masq4(std::uint8_t proto, std::uint16_t dport) {
  return to_wan(flow(Dev::kLan, proto, kClient4, 40000, kServer4, dport)).snat(kGwWan4, 61000);
}
FlowSpec masq6(std::uint8_t proto, std::uint16_t dport) {
  return to_wan(flow(Dev::kLan, proto, kClient6, 40000, kServer6, dport)).snat(kGwWan6, 61000);
}
FlowSpec reply4(std::uint8_t proto) {
  return to_lan(flow(Dev::kWan, proto, kServer4, 53, kGwWan4, 61000)).dnat(kClient4, 40000);
}
FlowSpec reply6(std::uint8_t proto) {
  return to_lan(flow(Dev::kWan, proto, kServer6, 53, kGwWan6, 61000)).dnat(kClient6, 40000);
}

void append(std::vector<Fixture> &to, const std::vector<Fixture> &more) {
  to.insert(to.end(), more.begin(), more.end());
}

void PrintTo(const Fixture &f, std::ostream *os) {
  *os << f.name << " (" << f.in.size() << "-byte frame)";
}

std::vector<Fixture> all_fixtures() {
  std::vector<Fixture> all;
  for (auto table : {hit_fixtures, encap_fixtures, refusal_fixtures, malformed_fixtures,
                     kernel_check_fixtures, hook_fixtures})
    append(all, table());
  return all;
}

} // namespace xdpflow::testing
