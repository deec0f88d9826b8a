// xdpflow flows [--json] [--top N] [--sort packets|bytes|idle]: the
// offloaded connections, paired back from the two directions in the table.
#include <cstdio>
#include <memory>

#include "cmd/clock.h"
#include "cmd/commands.h"
#include "core/flow_report.h"
#include "core/observer_report.h"
#include "kernel/instance.h"

namespace xdpflow::cmd {

namespace {

struct FlowsFlags {
  bool json = false;
  std::size_t top = 0;
  std::string sort = "packets";
  bool pending = false;
};

void run_flows(const FlowsFlags &f) {
  auto instance = RunningInstance::find();
  if (f.pending) {
    auto names = [](std::uint32_t ifindex) { return ifname_of(ifindex); };
    auto conns = instance.pending();
    std::fputs((f.json ? pending_json(conns, names) : pending_table(conns, names)).c_str(), stdout);
    return;
  }
  auto conns = pair_connections(instance.flow_entries());
  annotate_hooks(conns, [&](std::uint32_t ifindex) { return instance.ingress_hooks(ifindex); });
  FlowSort by = f.sort == "bytes"  ? FlowSort::Bytes
                : f.sort == "idle" ? FlowSort::Idle
                                   : FlowSort::Packets;
  sort_connections(conns, by, f.top);
  auto now = now_ns(CLOCK_MONOTONIC);
  auto names = [](std::uint32_t ifindex) { return ifname_of(ifindex); };
  std::fputs((f.json ? flows_json(conns, names, now) : flows_table(conns, names, now)).c_str(),
             stdout);
}

} // namespace

void register_flows(CLI::App &app) {
  auto flags = std::make_shared<FlowsFlags>();
  CLI::App *sub = app.add_subcommand(
      "flows", "The offloaded connections (like conntrack -L) with NAT rewrite, egress, "
               "packets, bytes and idle time");
  sub->add_flag("--json", flags->json, "One JSON object {\"flows\":[...],\"count\":N}");
  sub->add_option("--top", flags->top, "Only the first N after sorting")
      ->check(CLI::PositiveNumber) // any count: top is a size_t on 32-bit targets too
      ->type_name("N");
  sub->add_option("--sort", flags->sort,
                  "Order: packets or bytes (busiest first), idle (most recent first)")
      ->check(CLI::IsMember({"packets", "bytes", "idle"}))
      ->type_name("KEY")
      ->default_str("packets");
  sub->add_flag("--pending", flags->pending,
                "The connections waiting to be offloaded instead, each with what it waits for "
                "(not observed yet, egress not attached, rewrite cannot reproduce, table full); "
                "at most 4096 listed, `status` counts them all");
  sub->callback([flags] { run_flows(*flags); });
}

} // namespace xdpflow::cmd
