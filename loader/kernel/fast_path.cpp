#include "kernel/fast_path.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <string>

#include "core/error.h"
#include "xf_fastpath.skel.h"

namespace xdpflow {

FastPath::FastPath(const FastPathOptions &options) : max_flows_(options.max_flows) {
  if (max_flows_ == 0 || max_flows_ > (1u << 24))
    throw UsageError("--max-flows must be between 1 and 16777216, got " +
                     std::to_string(max_flows_));
  skel_ = xf_fastpath__open();
  if (!skel_)
    throw SysError(errno, "opening the embedded BPF object");
  // Both directions of max_flows connections, in either family's map.
  int err = bpf_map__set_max_entries(skel_->maps.xf_flows4, 2 * max_flows_);
  if (!err)
    err = bpf_map__set_max_entries(skel_->maps.xf_flows6, 2 * max_flows_);
  if (!err)
    err = xf_fastpath__load(skel_);
  if (err) {
    xf_fastpath__destroy(skel_);
    skel_ = nullptr;
    throw SysError(err, "loading the XDP program into the kernel (needs CAP_BPF and "
                        "CAP_NET_ADMIN; run as root or see xdpflow.service)");
  }
}

FastPath::~FastPath() {
  xf_fastpath__destroy(skel_);
}

int FastPath::prog_fd() const {
  return bpf_program__fd(skel_->progs.xdpflow);
}
FlowMaps FastPath::flow_maps() const {
  return FlowMaps{bpf_map__fd(skel_->maps.xf_flows4), bpf_map__fd(skel_->maps.xf_flows6)};
}
int FastPath::counters_fd() const {
  return bpf_map__fd(skel_->maps.xf_counters);
}
int FastPath::devmap_fd() const {
  return bpf_map__fd(skel_->maps.xf_devmap);
}
int FastPath::status_fd() const {
  return bpf_map__fd(skel_->maps.xf_status);
}

void FastPath::publish_clock(std::uint64_t now_ns) {
  __atomic_store_n(&skel_->bss->xf_clock_ns, now_ns, __ATOMIC_RELAXED);
}

void FastPath::add_egress(std::uint32_t ifindex) {
  bpf_devmap_val val{};
  val.ifindex = ifindex;
  if (bpf_map_update_elem(devmap_fd(), &ifindex, &val, BPF_ANY))
    throw SysError(errno, "adding ifindex " + std::to_string(ifindex) + " to the devmap");
}

void FastPath::remove_egress(std::uint32_t ifindex) {
  if (bpf_map_delete_elem(devmap_fd(), &ifindex) && errno != ENOENT)
    throw SysError(errno, "removing ifindex " + std::to_string(ifindex) + " from the devmap");
}

} // namespace xdpflow
