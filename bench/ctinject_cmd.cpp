// `xfbench ctinject`: creates N conntrack entries in a namespace at once
// over ctnetlink (what `conntrack -I` does, without a process per entry):
// masqueraded TCP and UDP connections client:port -> server:port, ASSURED
// and ESTABLISHED, as the control plane's own offload-rate tool creates
// them (tests/controlplane/ct_inject.h, reused here). The control plane of
// an `xdpflow attach` running in that namespace offloads them from the
// events; scripts/bench measures its memory and keepalive cost at 1 M.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <netinet/in.h>
#include <thread>

#include "commands.h"
#include "controlplane/ct_inject.h"
#include "core/error.h"
#include "netns.h"
#include "result_line.h"

namespace xfbench {
namespace {

struct InjectOptions {
  std::string ns, client = "198.18.0.2", server = "198.19.0.2", wan = "198.19.0.1";
  std::uint32_t flows = 100000;
  // Churn: connections created per second, each deleted `lifetime` later,
  // for `seconds` (0: the bulk creation above).
  std::uint32_t churn_rate = 0;
  double lifetime = 0.5, seconds = 5;
};

xdpflow::IpAddr addr(const std::string &text, const char *what) {
  auto a = xdpflow::IpAddr::parse(text);
  if (!a)
    throw xdpflow::UsageError(std::string(what) + ": not an IP address: " + text);
  return *a;
}

// Churn: every 10 ms, creates the connections due by then and deletes those
// older than the lifetime, so about rate x lifetime live at once.
void run_churn(const InjectOptions &o, const xdpflow::IpAddr &client, const xdpflow::IpAddr &server,
               const xdpflow::IpAddr &wan) {
  NetnsScope scope(o.ns);
  xdpflow::testing::CtInjector inject;
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto flow = [&](std::uint64_t i) {
    return xdpflow::testing::synthetic_flow(client, server, wan, static_cast<std::uint32_t>(i),
                                            i % 2 ? IPPROTO_UDP : IPPROTO_TCP);
  };
  std::uint64_t created = 0, removed = 0;
  for (;;) {
    double t = std::chrono::duration<double>(clock::now() - t0).count();
    if (t >= o.seconds)
      break;
    auto due = static_cast<std::uint64_t>(t * o.churn_rate);
    for (; created < due; created++)
      inject.create(flow(created));
    auto old = static_cast<std::uint64_t>(std::max(0.0, t - o.lifetime) * o.churn_rate);
    for (; removed < old && removed < created; removed++)
      inject.remove(flow(removed));
    inject.flush();
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
      .set("seconds", std::chrono::duration<double>(clock::now() - t0).count());
  std::printf("%s\n", line.to_string().c_str());
}

void run_inject(const InjectOptions &o) {
  auto client = addr(o.client, "--client"), server = addr(o.server, "--server"),
       wan = addr(o.wan, "--wan");
  if (o.churn_rate)
    return run_churn(o, client, server, wan);
  NetnsScope scope(o.ns);
  xdpflow::testing::CtInjector inject;
  auto t0 = std::chrono::steady_clock::now();
  for (std::uint32_t i = 0; i < o.flows; i++)
    inject.create(xdpflow::testing::synthetic_flow(client, server, wan, i,
                                                   i % 2 ? IPPROTO_UDP : IPPROTO_TCP));
  std::size_t refused = inject.flush();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (refused)
    std::fprintf(stderr, "xfbench: conntrack refused %zu of %u entries (first: %s)\n", refused,
                 o.flows, std::strerror(inject.first_error()));
  ResultLine line;
  line.set("kind", "ctinject")
      .set("created", std::to_string(o.flows - refused))
      .set("refused", std::to_string(refused))
      .set("seconds", seconds);
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
  cmd->callback([o] { run_inject(*o); });
}

} // namespace xfbench
