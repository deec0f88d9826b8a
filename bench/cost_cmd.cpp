// `xfbench cost`: per-packet cost of XDP programs from BPF_PROG_TEST_RUN
// with repeat (the kernel's own mean time per run, no traffic): an
// XDP_PASS-only program (the floor), the bare forwarders (XDP and tc), and
// xdpflow on a flow-table hit (full rewrite, returns XDP_REDIRECT; the test run does not
// transmit) and on a miss (parse + lookup, XDP_PASS).
//
// A test run repeats the program on one buffer and xdpflow rewrites it in
// place, so the hit case is a routed flow (a NAT rewrite would make the
// second run miss) on a TTL-255 frame, 250 runs per call, averaged over a
// few calls; the other cases run in one call.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <optional>
#include <vector>

#include "bench_proto.h"
#include "commands.h"
#include "core/error.h"
#include "core/flow_key.h"
#include "core/stats_report.h"
#include "kernel/fast_path.h"
#include "netns.h"
#include "report.h"
#include "result_line.h"
#include "rig_programs.h"
#include "xfb_fwd.skel.h"
#include "xfb_pass.skel.h"

using xdpflow::SysError;

namespace xfbench {
namespace {

// A rewriting case runs at most this often per call: stays below TTL 255.
constexpr std::uint32_t kRewritingRunsPerCall = 250;

struct CostOptions {
  std::string ns; // run inside this namespace (default: where we are)
  std::uint32_t runs = 100000;
};

// 64-byte IPv4/UDP frame 198.18.0.10:sport -> 198.19.0.10:XFB_DPORT, TTL 255.
std::vector<std::uint8_t> udp_frame(std::uint16_t sport) {
  std::vector<std::uint8_t> f(XFB_FRAME_LEN, 0);
  auto *eth = reinterpret_cast<ethhdr *>(f.data());
  std::memset(eth->h_dest, 0x02, ETH_ALEN);
  std::memset(eth->h_source, 0x04, ETH_ALEN);
  eth->h_proto = htons(ETH_P_IP);
  auto *iph = reinterpret_cast<iphdr *>(eth + 1);
  iph->version = 4;
  iph->ihl = 5;
  iph->tot_len = htons(XFB_FRAME_LEN - ETH_HLEN);
  iph->ttl = 255;
  iph->protocol = IPPROTO_UDP;
  inet_pton(AF_INET, "198.18.0.10", &iph->saddr);
  inet_pton(AF_INET, "198.19.0.10", &iph->daddr);
  std::uint32_t sum = 0;
  for (int i = 0; i < 10; i++) {
    std::uint16_t w;
    std::memcpy(&w, reinterpret_cast<std::uint8_t *>(iph) + 2 * i, 2);
    sum += w;
  }
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  iph->check = static_cast<std::uint16_t>(~sum);
  auto *uh = reinterpret_cast<udphdr *>(iph + 1);
  uh->source = htons(sport);
  uh->dest = htons(XFB_DPORT);
  uh->len = htons(XFB_FRAME_LEN - ETH_HLEN - sizeof(iphdr));
  return f;
}

struct Cost {
  double mean_ns;
  std::uint32_t retval;
};

// ns per run over `runs` runs, at most `per_call` per test run. Each
// test run call swaps the kernel's global XDP dispatcher twice (RCU grace
// periods: milliseconds, and shared with every other XDP user), so calls
// are kept few.
// tc: the program is a sched_cls one (an skb test run, __sk_buff context).
Cost measure(int prog_fd, std::vector<std::uint8_t> frame, std::uint32_t ifindex,
             std::uint32_t runs, std::uint32_t per_call, bool tc = false) {
  std::uint32_t calls = std::max<std::uint32_t>(1, runs / per_call);
  std::vector<std::uint8_t> out(frame.size() + 256);
  std::vector<double> durations;
  std::uint32_t retval = 0;
  for (std::uint32_t c = 0; c < calls; c++) {
    xdp_md ctx{};
    ctx.data_end = static_cast<__u32>(frame.size());
    ctx.ingress_ifindex = ifindex;
    __sk_buff skb{};
    skb.ifindex = ifindex; // the skb's device
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<__u32>(frame.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<__u32>(out.size());
    opts.ctx_in = tc ? static_cast<void *>(&skb) : &ctx;
    opts.ctx_size_in = tc ? sizeof(skb) : sizeof(ctx);
    opts.repeat = std::min(runs, per_call);
    if (bpf_prog_test_run_opts(prog_fd, &opts))
      throw SysError(errno, "BPF_PROG_TEST_RUN for the cost measurement");
    durations.push_back(opts.duration);
    // The tc verdicts as their XDP counterparts, for one report format:
    // TC_ACT_OK (0) passes to the stack, TC_ACT_REDIRECT (7) redirects.
    retval = !tc                ? opts.retval
             : opts.retval == 0 ? XDP_PASS
             : opts.retval == 7 ? XDP_REDIRECT
                                : 0xff;
  }
  // Median over calls: a call that an interrupt storm or another XDP user
  // slowed down does not move it.
  return {spread_of(durations).median, retval};
}

const char *verdict_name(std::uint32_t v) {
  switch (v) {
  case XDP_ABORTED:
    return "ABORTED";
  case XDP_DROP:
    return "DROP";
  case XDP_PASS:
    return "PASS";
  case XDP_TX:
    return "TX";
  case XDP_REDIRECT:
    return "REDIRECT";
  }
  return "?";
}

// Why xdpflow passed, for the error message: its per-CPU slow-path counters.
std::string slow_reasons(int counters_fd) {
  xf_counters total{}; // both hooks
  for (const xf_counters &hook : xdpflow::read_hook_counters(counters_fd))
    xf_counters_add(&total, &hook);
  std::string out;
  for (unsigned r = 0; r < XF_SLOW_MAX; r++)
    if (total.slow[r])
      out += " " + std::string(xdpflow::slow_reason_name(r)) + "=" + std::to_string(total.slow[r]);
  return out.empty() ? " (no slow-path packets)" : out;
}

void report(const char *id, const char *title, const Cost &c, const char *expected,
            const std::string &context = "") {
  ResultLine line;
  line.set("kind", "cost")
      .set("case", id)
      .set("title", title)
      .set("ns", c.mean_ns)
      .set("verdict", verdict_name(c.retval));
  std::printf("%s\n", line.to_string().c_str());
  if (std::strcmp(verdict_name(c.retval), expected) != 0)
    throw xdpflow::RuntimeError(std::string("cost case ") + id + " returned XDP_" +
                                verdict_name(c.retval) + ", expected XDP_" + expected + context);
}

void run_cost(const CostOptions &o) {
  std::optional<NetnsScope> scope;
  if (!o.ns.empty())
    scope.emplace(o.ns);
  std::uint32_t lo = ifindex_of("lo");
  auto frame = udp_frame(xfb_flow_sport(0));

  xfb_pass *pass = xfb_pass__open_and_load();
  if (!pass)
    throw SysError(errno, "loading the XDP_PASS program");
  Cost c = measure(bpf_program__fd(pass->progs.xfb_pass), frame, lo, o.runs, o.runs);
  xfb_pass__destroy(pass);
  report("pass", "XDP_PASS only", c, "PASS");

  xfb_fwd *fwd = xfb_fwd__open();
  if (!fwd)
    throw SysError(errno, "opening the bare forwarder");
  fwd->rodata->out_ifindex = lo;
  if (int err = xfb_fwd__load(fwd)) {
    xfb_fwd__destroy(fwd);
    throw SysError(-err, "loading the bare forwarders");
  }
  c = measure(bpf_program__fd(fwd->progs.xfb_fwd), frame, lo, o.runs, o.runs);
  Cost tc = measure(bpf_program__fd(fwd->progs.xfb_fwd_tc), frame, lo, o.runs, o.runs, true);
  xfb_fwd__destroy(fwd);
  report("bare", "bare forwarder (MAC rewrite + bpf_redirect)", c, "REDIRECT");
  report("bare-tc", "bare tc forwarder (MAC rewrite + bpf_redirect)", tc, "REDIRECT");

  xdpflow::FastPath fp;
  // The frame's destination MAC (02:02:02:02:02:02) as lo's own: frames
  // for other MACs never hit.
  fp.add_interface(lo, {0x02, 0x02, 0x02, 0x02, 0x02, 0x02});
  xdpflow::FlowTuple t;
  t.src = *xdpflow::IpAddr::parse("198.18.0.10");
  t.dst = *xdpflow::IpAddr::parse("198.19.0.10");
  t.sport = xfb_flow_sport(0);
  t.dport = XFB_DPORT;
  t.proto = IPPROTO_UDP;
  xf_flow_key key = xdpflow::make_flow_key(lo, xf_encap{}, t);
  xf_flow_value value{};
  value.action.egress_ifindex = lo;
  value.action.mtu = 1500;
  // A repeated run sees its own output: the rewritten destination MAC must
  // stay lo's own (see add_interface above) for every run to hit.
  std::memset(value.action.dst_mac, 0x02, sizeof value.action.dst_mac);
  // No NAT: a repeated run sees its own output, and a rewritten source
  // address would miss the table from the second run on.
  if (int err = fp.flow_maps().update(key, value, BPF_ANY))
    throw SysError(err, "inserting the cost test's flow");
  // Fewer runs for the hit case: 250 per call (TTL), and calls are slow.
  c = measure(fp.prog_fd(), frame, lo, std::max<std::uint32_t>(o.runs / 10, 250),
              kRewritingRunsPerCall);
  report("xdpflow-hit", "xdpflow, table hit (TTL, checksum, MACs, redirect)", c, "REDIRECT",
         slow_reasons(fp.counters_fd()));
  c = measure(fp.prog_fd(), udp_frame(xfb_flow_sport(1)), lo, o.runs, o.runs);
  report("xdpflow-miss", "xdpflow, table miss (parse + lookup, XDP_PASS)", c, "PASS");

  // The tc hook on the same entry. It takes the kernel's PACKET_HOST verdict,
  // so the frame is for lo's own MAC (all zero), and so is the rewrite; it
  // refuses to forward with a stale clock, so the clock is published.
  std::memset(value.action.dst_mac, 0, sizeof value.action.dst_mac);
  if (int err = fp.flow_maps().update(key, value, BPF_EXIST))
    throw SysError(err, "updating the cost test's flow for the tc hook");
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  fp.publish_clock(static_cast<std::uint64_t>(now.tv_sec) * 1000000000ull +
                   static_cast<std::uint64_t>(now.tv_nsec));
  auto tc_frame = frame;
  std::memset(tc_frame.data(), 0, ETH_ALEN);
  c = measure(fp.tc_prog_fd(), tc_frame, lo, std::max<std::uint32_t>(o.runs / 10, 250),
              kRewritingRunsPerCall, true);
  report("xdpflow-tc-hit", "xdpflow tc hook, table hit (TTL, checksum helpers, MACs, redirect)", c,
         "REDIRECT", slow_reasons(fp.counters_fd()));
  auto tc_miss = udp_frame(xfb_flow_sport(1));
  std::memset(tc_miss.data(), 0, ETH_ALEN);
  c = measure(fp.tc_prog_fd(), tc_miss, lo, o.runs, o.runs, true);
  report("xdpflow-tc-miss", "xdpflow tc hook, table miss (parse + lookup, TC_ACT_OK)", c, "PASS");
}

} // namespace

void register_cost(CLI::App &app) {
  auto o = std::make_shared<CostOptions>();
  auto *cmd = app.add_subcommand("cost", "per-packet cost of the XDP programs (PROG_TEST_RUN)");
  cmd->add_option("--ns", o->ns, "network namespace to run in (its lo is used)");
  cmd->add_option("--runs", o->runs, "program runs per case (a tenth for the table hit)")
      ->capture_default_str();
  cmd->callback([o] { run_cost(*o); });
}

} // namespace xfbench
