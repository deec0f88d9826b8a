// `xfbench ctinject`: creates N conntrack entries in a namespace at once
// over ctnetlink (what `conntrack -I` does, without a process per entry):
// masqueraded TCP and UDP connections client:port -> server:port, ASSURED
// and ESTABLISHED, with a real source-NAT binding, as the control plane's own
// offload-rate tool creates them (tests/controlplane/ct_inject.h, reused
// here). The control plane of an `xdpflow attach` running in that namespace
// offloads a connection once its egress observer has seen the kernel forward
// the connection's packets; an injected entry has none, so with --lan-end
// and --wan-end the connections send (tests/controlplane/ct_traffic.h): a
// packet per direction, from the hosts' interfaces through the gateway,
// which forwards and NATs them by the injected entries.
//  - bulk: every connection not in the flow table yet sends one packet per
//    direction per round, rounds back to back, until the control plane
//    reports them all offloaded (`xdpflow`'s published status) or
//    --timeout;
//  - churn: each connection sends a packet per direction 20 ms and 200 ms
//    after its creation (the first usually after the control plane has
//    started watching it, the second for when it had not).
// scripts/bench measures the offload rate, memory and keepalive cost at 1 M
// and the fast path under churn with it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <thread>

#include "commands.h"
#include "controlplane/ct_inject.h"
#include "controlplane/ct_traffic.h"
#include "core/error.h"
#include "kernel/bpf_flow_table.h"
#include "kernel/instance.h"
#include "netns.h"
#include "result_line.h"

namespace xfbench {
namespace {

using clock = std::chrono::steady_clock;

struct InjectOptions {
  std::string ns, client = "198.18.0.2", server = "198.19.0.2", wan = "198.19.0.1";
  std::uint32_t flows = 100000;
  // Churn: connections created per second, each deleted `lifetime` later,
  // for `seconds` (0: the bulk creation above).
  std::uint32_t churn_rate = 0;
  double lifetime = 0.5, seconds = 5;
  // The connections' packets: NS:IF of each end, the gateway's interfaces
  // facing them (in --ns), the synthetic hosts' MACs. No --lan-end: none.
  std::string lan_end, wan_end, gw_lan, gw_wan, client_mac, server_mac;
  double timeout = 120;
};

xdpflow::IpAddr addr(const std::string &text, const char *what) {
  auto a = xdpflow::IpAddr::parse(text);
  if (!a)
    throw xdpflow::UsageError(std::string(what) + ": not an IP address: " + text);
  return *a;
}

Mac mac_arg(const std::string &text, const char *what) {
  auto m = xdpflow::testing::parse_mac(text);
  if (!m)
    throw xdpflow::UsageError(std::string(what) + ": not a MAC address: " + text);
  return *m;
}

// "NS:IF" -> a sender on IF, opened in NS.
std::unique_ptr<xdpflow::testing::FrameSender> sender_at(const std::string &end, const char *what) {
  auto colon = end.find(':');
  if (colon == std::string::npos)
    throw xdpflow::UsageError(std::string(what) + ": expected NAMESPACE:INTERFACE, got " + end);
  NetnsScope scope(end.substr(0, colon));
  return std::make_unique<xdpflow::testing::FrameSender>(end.substr(colon + 1));
}

// The connections' packets, when asked for; opened before the caller
// enters --ns.
std::optional<xdpflow::testing::ConnectionTraffic> open_traffic(const InjectOptions &o) {
  if (o.lan_end.empty() && o.wan_end.empty())
    return std::nullopt;
  if (o.lan_end.empty() || o.wan_end.empty() || o.gw_lan.empty() || o.gw_wan.empty() ||
      o.client_mac.empty() || o.server_mac.empty())
    throw xdpflow::UsageError("--lan-end, --wan-end, --gw-lan, --gw-wan, --client-mac and "
                              "--server-mac go together");
  Mac lan_mac, wan_mac;
  {
    NetnsScope scope(o.ns);
    lan_mac = mac_of(o.gw_lan);
    wan_mac = mac_of(o.gw_wan);
  }
  return std::make_optional<xdpflow::testing::ConnectionTraffic>(
      xdpflow::testing::ConnectionEnd{sender_at(o.lan_end, "--lan-end"),
                                      mac_arg(o.client_mac, "--client-mac"), lan_mac},
      xdpflow::testing::ConnectionEnd{sender_at(o.wan_end, "--wan-end"),
                                      mac_arg(o.server_mac, "--server-mac"), wan_mac});
}

// Churn: every 10 ms, creates the connections due by then, sends the
// packets due, deletes those older than the lifetime, so about rate x
// lifetime live at once.
void run_churn(const InjectOptions &o, const xdpflow::IpAddr &client, const xdpflow::IpAddr &server,
               const xdpflow::IpAddr &wan) {
  auto traffic = open_traffic(o);
  NetnsScope scope(o.ns);
  xdpflow::testing::CtInjector inject;
  auto t0 = clock::now();
  auto flow = [&](std::uint64_t i) {
    return xdpflow::testing::synthetic_flow(client, server, wan, static_cast<std::uint32_t>(i),
                                            i % 2 ? IPPROTO_UDP : IPPROTO_TCP);
  };
  // Connections created before this time (s) have sent their k-th pair.
  auto upto = [&](double t) { return static_cast<std::uint64_t>(std::max(0.0, t) * o.churn_rate); };
  constexpr double send_ages[] = {0.020, 0.200};
  std::uint64_t created = 0, removed = 0, sent[2] = {0, 0};
  for (;;) {
    double t = std::chrono::duration<double>(clock::now() - t0).count();
    if (t >= o.seconds)
      break;
    for (auto due = upto(t); created < due; created++)
      inject.create(flow(created));
    for (auto old = upto(t - o.lifetime); removed < old && removed < created; removed++)
      inject.remove(flow(removed));
    inject.flush();
    if (traffic)
      for (int k = 0; k < 2; k++)
        for (auto due = std::min(upto(t - send_ages[k]), created); sent[k] < due; sent[k]++)
          if (sent[k] >= removed)
            traffic->send(flow(sent[k]));
    if (traffic)
      traffic->flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (; removed < created; removed++)
    inject.remove(flow(removed));
  std::size_t refused = inject.flush();
  ResultLine line;
  line.set("kind", "ctchurn")
      .set("created", std::to_string(created))
      .set("removed", std::to_string(removed))
      .set("refused", std::to_string(refused))
      .set("frames_sent", std::to_string(traffic ? traffic->sent() : 0))
      .set("seconds", std::chrono::duration<double>(clock::now() - t0).count());
  std::printf("%s\n", line.to_string().c_str());
}

void run_inject(const InjectOptions &o) {
  auto client = addr(o.client, "--client"), server = addr(o.server, "--server"),
       wan = addr(o.wan, "--wan");
  if (o.churn_rate)
    return run_churn(o, client, server, wan);
  auto traffic = open_traffic(o);
  NetnsScope scope(o.ns);
  xdpflow::testing::CtInjector inject;
  auto t0 = clock::now();
  auto flow = [&](std::uint32_t i) {
    return xdpflow::testing::synthetic_flow(client, server, wan, i,
                                            i % 2 ? IPPROTO_UDP : IPPROTO_TCP);
  };
  for (std::uint32_t i = 0; i < o.flows; i++)
    inject.create(flow(i));
  std::size_t refused = inject.flush();
  double seconds = std::chrono::duration<double>(clock::now() - t0).count();
  if (refused)
    std::fprintf(stderr, "xfbench: conntrack refused %zu of %u entries (first: %s)\n", refused,
                 o.flows, std::strerror(inject.first_error()));
  std::uint64_t created = o.flows - refused, offloaded = 0;
  std::uint32_t rounds = 0;
  if (traffic) {
    // Rounds of one packet per direction of every connection not in the
    // flow table yet, until the control plane (found as `xdpflow status`
    // finds it) counts them all.
    auto instance = xdpflow::RunningInstance::find();
    xdpflow::BpfFlowTable table(instance.flow_maps());
    std::uint32_t lan = ifindex_of(o.gw_lan);
    std::vector<bool> in_table(o.flows);
    auto count = [&] { return instance.control_plane_status().flows_offloaded; };
    while ((offloaded = count()) < created &&
           clock::now() - t0 < std::chrono::duration<double>(o.timeout)) {
      for (std::uint32_t i = 0; i < o.flows; i++) {
        if (in_table[i])
          continue;
        auto f = flow(i);
        if (table.lookup(xdpflow::make_flow_key(lan, xf_encap{}, f.orig)))
          in_table[i] = true;
        else
          traffic->send(f);
      }
      traffic->flush();
      rounds++;
    }
  }
  ResultLine line;
  line.set("kind", "ctinject")
      .set("created", std::to_string(created))
      .set("refused", std::to_string(refused))
      .set("seconds", seconds);
  if (traffic)
    line.set("offloaded", std::to_string(offloaded))
        .set("send_rounds", std::to_string(rounds))
        .set("frames_sent", std::to_string(traffic->sent()))
        .set("seconds_to_offloaded", std::chrono::duration<double>(clock::now() - t0).count());
  std::printf("%s\n", line.to_string().c_str());
}

} // namespace

void register_ctinject(CLI::App &app) {
  auto o = std::make_shared<InjectOptions>();
  auto *cmd = app.add_subcommand("ctinject", "create conntrack entries in bulk in a namespace");
  cmd->add_option("--ns", o->ns, "network namespace")->required();
  cmd->add_option("--flows", o->flows, "connections to create")->capture_default_str();
  cmd->add_option("--churn", o->churn_rate,
                  "instead: create this many connections a second, each deleted --lifetime "
                  "later, for --seconds");
  cmd->add_option("--lifetime", o->lifetime, "churn: seconds a connection lives")
      ->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "churn: how long")->capture_default_str();
  cmd->add_option("--client", o->client, "original source (LAN host)")->capture_default_str();
  cmd->add_option("--server", o->server, "original destination")->capture_default_str();
  cmd->add_option("--wan", o->wan, "masquerade address (reply destination)")->capture_default_str();
  cmd->add_option("--lan-end", o->lan_end,
                  "NS:IF the original direction's packets leave from (none: no packets)");
  cmd->add_option("--wan-end", o->wan_end, "NS:IF the reply direction's packets leave from");
  cmd->add_option("--gw-lan", o->gw_lan, "the gateway's interface facing --lan-end (in --ns)");
  cmd->add_option("--gw-wan", o->gw_wan, "the gateway's interface facing --wan-end (in --ns)");
  cmd->add_option("--client-mac", o->client_mac, "source MAC of the original direction");
  cmd->add_option("--server-mac", o->server_mac, "source MAC of the reply direction");
  cmd->add_option("--timeout", o->timeout, "bulk: give up sending after this many seconds")
      ->capture_default_str();
  cmd->callback([o] { run_inject(*o); });
}

} // namespace xfbench
