// The XDP program and its maps, loaded from the skeleton embedded in the
// binary. Owns the BPF object: destroying it closes every fd, which detaches
// nothing by itself (links are owned by XdpLink, see xdp_link.h).
#pragma once

#include <cstdint>
#include <memory>

#include "kernel/flow_maps.h"
#include "xdpflow/flow.h"

struct xf_fastpath; // generated skeleton (xf_fastpath.skel.h)

namespace xdpflow {

struct FastPathOptions {
  std::uint32_t max_flows = XF_DEFAULT_MAX_FLOWS; // connections
};

class FastPath {
public:
  // Opens and loads (verifier) the program; throws SysError with the reason.
  explicit FastPath(const FastPathOptions &options = {});
  ~FastPath();
  FastPath(const FastPath &) = delete;
  FastPath &operator=(const FastPath &) = delete;

  int prog_fd() const;
  FlowMaps flow_maps() const; // the flow table: one map per address family
  int counters_fd() const;
  int devmap_fd() const;
  int status_fd() const;
  std::uint32_t max_flows() const { return max_flows_; }

  // Publishes CLOCK_MONOTONIC ns to the data path, which stamps every hit's
  // last_seen_ns with it (no syscall: the program's .bss is mapped).
  void publish_clock(std::uint64_t now_ns);

  // Makes ifindex a redirect target (devmap entry); throws on failure.
  void add_egress(std::uint32_t ifindex);
  void remove_egress(std::uint32_t ifindex);

private:
  ::xf_fastpath *skel_ = nullptr;
  std::uint32_t max_flows_;
};

} // namespace xdpflow
