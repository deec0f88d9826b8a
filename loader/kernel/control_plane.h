// The control plane's entry point, as `xdpflow attach` runs it: follows
// conntrack, decides what to offload (core/flow_sync.h), learns each
// direction's egress from the kernel's own packets and drops entries when
// the kernel's decision may change (kernel/relearning.h), keeps offloaded
// conntrack entries alive, and publishes its state in the xf_status map.
// docs/architecture.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xdpflow {

class FastPath;
class TcHooks;

struct ControlPlaneConfig {
  struct Interface {
    std::uint32_t ifindex = 0;
    std::string name;
    bool redirect_target = true; // in the devmap: flows may leave through it
  };
  std::vector<Interface> interfaces;
  // Flows with (ct mark & exclude_mask) == exclude_mark stay on the kernel
  // path (e.g. for SQM/QoS); mask 0 disables the exclusion.
  std::uint32_t exclude_mark = 0, exclude_mask = 0;
  unsigned idle_timeout_sec = 300; // no packets for this long: leave the map
  int verbose = 0;                 // 1+: one log line per flow decision
  int ct_rcvbuf_bytes = 0;         // conntrack socket buffer; 0 = default large; tests set tiny
};

class ControlPlane {
public:
  ControlPlane(const ControlPlaneConfig &config, FastPath &fast_path);
  ~ControlPlane();
  ControlPlane(const ControlPlane &) = delete;
  ControlPlane &operator=(const ControlPlane &) = delete;

  // Lets FlowSync ask hooks which hook forwards each direction, and follows
  // tc changes (qdiscs, ifb redirects) through it while running: entries
  // whose decision changed are rewritten within one poll. Before run().
  void follow_tc(TcHooks &hooks);

  // An interface attached while running (a port joining a followed bridge):
  // observed, a redirect target, the waiting connections retried. Throws
  // SysError.
  void add_interface(const ControlPlaneConfig::Interface &i);
  // One detached while running: the entries through it leave the table.
  void remove_interface(std::uint32_t ifindex);
  // run() polls fd beside its own and calls on_readable when it is readable
  // (before the changes and events of that round). Before run().
  void watch(int fd, std::function<void()> on_readable);

  // Dumps conntrack, offloads what qualifies, calls on_synced once, then
  // follows conntrack events, route/neighbour/link changes and keepalive until
  // `stop` becomes true (checked at least every 200 ms). Throws SysError on a
  // failure it cannot recover from.
  void run(const std::atomic<bool> &stop, const std::function<void()> &on_synced);

private:
  struct Impl;
  Impl *impl_;
};

} // namespace xdpflow
