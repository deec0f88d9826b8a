// The fast path's two programs (XDP `xdpflow` and tc `xdpflow_tc`, one BPF
// object) and their shared maps, loaded from the skeleton embedded in the
// binary. Owns the BPF object: destroying it closes every fd, which detaches
// nothing by itself (links are owned by XdpLink / TcLink).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "kernel/flow_maps.h"
#include "xdpflow/flow.h"

struct xf_fastpath; // generated skeleton (xf_fastpath.skel.h)

namespace xdpflow {

using MacAddress = std::array<std::uint8_t, 6>;

struct FastPathOptions {
  std::uint32_t max_flows = XF_DEFAULT_MAX_FLOWS; // connections
};

class FastPath {
public:
  // Opens and loads (verifier) both programs; throws SysError with the reason.
  explicit FastPath(const FastPathOptions &options = {});
  ~FastPath();
  FastPath(const FastPath &) = delete;
  FastPath &operator=(const FastPath &) = delete;

  int prog_fd() const;        // XDP
  int tc_prog_fd() const;     // tc ingress (sched_cls)
  FlowMaps flow_maps() const; // the flow table: one map per address family
  int counters_fd() const;    // per-CPU, one xf_counters per enum xf_hook
  int devmap_fd() const;
  int interfaces_fd() const; // xf_ifaces: slot ifindex % XF_IFACE_SLOTS
  int status_fd() const;
  std::uint32_t max_flows() const { return max_flows_; }

  // Publishes CLOCK_MONOTONIC ns to the data path, which stamps every hit's
  // last_seen_ns with it and (TC) stops forwarding when it is 2 s old (no
  // syscall: the program's .bss is mapped).
  void publish_clock(std::uint64_t now_ns);

  // Makes ifindex an attached interface: its own MAC (frames to other MACs
  // never hit) and a redirect target of both hooks. Throws on failure, or
  // when another attached interface uses the same slot of xf_ifaces.
  void add_interface(std::uint32_t ifindex, const MacAddress &mac);
  void remove_interface(std::uint32_t ifindex);
  // add_interface with the device's current MAC, read from the kernel.
  void add_egress(std::uint32_t ifindex);
  void remove_egress(std::uint32_t ifindex) { remove_interface(ifindex); }

private:
  ::xf_fastpath *skel_ = nullptr;
  std::uint32_t max_flows_;
};

// The counters map (fd) summed over CPUs, one entry per enum xf_hook;
// throws SysError.
std::array<xf_counters, XF_HOOK_COUNT> read_hook_counters(int counters_fd);

// The MAC of a device in the caller's network namespace; throws SysError.
MacAddress interface_mac(std::uint32_t ifindex);

// The destination MAC of the frames arriving on ifindex that the kernel
// routes: the device's own, or for a bridge port its bridge's (hosts on the
// LAN resolve the gateway to br-lan's address; frames for it arrive on the
// ports). The data path's destination-MAC check compares with this.
MacAddress routed_mac(std::uint32_t ifindex);

} // namespace xdpflow
