// A BPF program on an interface's tc ingress or egress, owned by this object.
//
// tcx (Linux 6.6+): a bpf_link created through the raw BPF_LINK_CREATE
// syscall (Debian 12's libbpf 1.1 and 6.1 UAPI headers predate tcx). The
// kernel drops the link with the last fd, so the program cannot outlive the
// process, even after kill -9. tcx links run in a chain beside other tcx
// links and before the clsact filters, which they leave alone.
//
// clsact (older kernels, or forced with XDPFLOW_FORCE_CLSACT=1 for tests):
// a direct-action bpf filter on the clsact qdisc (created if missing) through
// libbpf's bpf_tc_* calls, at a priority the kernel picks so it coexists with
// other filters. The destructor removes the filter; a killed process leaves it
// behind, which is why the fast path stops forwarding by itself when the
// control plane's clock goes stale (XF_SLOW_STALE).
#pragma once

#include <cstdint>
#include <string>

#include "kernel/unique_fd.h"

namespace xdpflow {

enum class TcDirection { Ingress, Egress };
enum class TcLinkKind { Tcx, Clsact };
// Where in the hook's chain: appended (Last), or ahead of what is there and
// of what is attached later without First (a program that must see every
// packet before another may redirect it or end the chain).
enum class TcOrder { Last, First };

const char *to_string(TcDirection dir);
const char *to_string(TcLinkKind kind);

class TcLink {
public:
  // Attaches prog_fd (a BPF_PROG_TYPE_SCHED_CLS program) to ifindex's tc
  // `dir`, through tcx when the kernel has it, else through a clsact filter.
  // Throws SysError (errno + the attempt) when neither works.
  TcLink(int prog_fd, std::uint32_t ifindex, TcDirection dir, TcOrder order = TcOrder::Last);
  ~TcLink();
  TcLink(TcLink &&other) noexcept;
  TcLink &operator=(TcLink &&other) noexcept;
  TcLink(const TcLink &) = delete;
  TcLink &operator=(const TcLink &) = delete;

  // "tcx" or "clsact".
  const char *kind() const { return to_string(kind_); }
  TcLinkKind link_kind() const { return kind_; }
  std::uint32_t ifindex() const { return ifindex_; }
  TcDirection direction() const { return dir_; }
  // Detaches now (also done by destruction); errors are ignored, as in a
  // destructor: the interface may be gone already.
  void release();

private:
  void attach_clsact(int prog_fd, TcOrder order);

  std::uint32_t ifindex_ = 0;
  TcDirection dir_ = TcDirection::Ingress;
  TcLinkKind kind_ = TcLinkKind::Tcx;
  UniqueFd link_fd_;         // tcx
  std::uint32_t handle_ = 0; // clsact filter, 0 when none
  std::uint32_t priority_ = 0;
};

// Removes a clsact bpf filter a killed process left (xdpflow detach).
// Throws SysError.
void remove_clsact_filter(std::uint32_t ifindex, TcDirection dir, std::uint32_t handle,
                          std::uint32_t priority);

// True when XDPFLOW_FORCE_CLSACT=1: tests of the clsact fallback on a kernel
// that has tcx. Not an option users need.
bool tc_force_clsact();

} // namespace xdpflow
