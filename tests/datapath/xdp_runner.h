// Thin helpers over BPF_PROG_TEST_RUN and the fast path's maps, shared by the
// data-path tests and the per-packet cost tool.
#pragma once

#include <cstdint>
#include <optional>

#include "kernel/flow_maps.h"
#include "packet_builder.h"
#include "xdpflow/flow.h"

namespace xdpflow::testing {

struct XdpRun {
  std::uint32_t verdict = 0;     // XDP_PASS, XDP_REDIRECT, ...
  Bytes out;                     // the frame as the program left it
  std::uint32_t duration_ns = 0; // kernel-measured mean time of one run
};

// Runs prog_fd once (or `repeat` times on the same buffer) on a copy of
// `frame` as if received on ingress_ifindex (a device in the caller's
// network namespace). Throws SysError when the kernel refuses the run.
XdpRun xdp_test_run(int prog_fd, const Bytes &frame, std::uint32_t ingress_ifindex,
                    std::uint32_t repeat = 1);

// Runs the tc program once on a copy of `frame` as if received on the
// device ingress_ifindex (the skb's dev: eth_type_trans sets pkt_type from
// its MAC). verdict is the TC_ACT_* code.
XdpRun tc_test_run(int prog_fd, const Bytes &frame, std::uint32_t ingress_ifindex);

// XDP with `meta_len` bytes of metadata in front of the frame, which the
// test run takes from the headroom: with 216 (of 256, less the xdp_frame
// the kernel keeps there), bpf_xdp_adjust_head() cannot
// grow the head (the frame-after-a-failed-adjust fixtures). `out` is the
// frame only, metadata stripped.
XdpRun xdp_test_run_short_headroom(int prog_fd, const Bytes &frame, std::uint32_t ingress_ifindex,
                                   std::uint32_t meta_len = 216);

// One hook's per-CPU counters summed over all possible CPUs.
xf_counters read_counters(int counters_fd, std::uint32_t hook = XF_HOOK_XDP);

void put_flow(const FlowMaps &maps, const xf_flow_key &key, const xf_flow_value &value);
std::optional<xf_flow_value> get_flow(const FlowMaps &maps, const xf_flow_key &key);

// CLOCK_MONOTONIC in ns, the clock the control plane publishes to the program.
std::uint64_t monotonic_ns();

} // namespace xdpflow::testing
