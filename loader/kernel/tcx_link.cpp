#include "kernel/tcx_link.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>

#include "core/error.h"

namespace xdpflow {
namespace {

// enum bpf_attach_type values of Linux 6.6 (include/uapi/linux/bpf.h); the
// 6.1 UAPI headers Debian 12 ships end before them.
constexpr std::uint32_t kBpfTcxIngress = 46;
constexpr std::uint32_t kBpfTcxEgress = 47;
// BPF_F_BEFORE (bpf_mprog, 6.6): with no relative program, the chain's head.
constexpr std::uint32_t kBpfFBefore = 1u << 3;

std::string where(std::uint32_t ifindex, TcDirection dir) {
  return std::string("tc ") + to_string(dir) + " of ifindex " + std::to_string(ifindex);
}

// BPF_LINK_CREATE for a tcx attach type. link_create's layout up to `flags`
// (prog_fd, target_ifindex, attach_type, flags) is the same in the 6.1
// header; the tcx member that follows (relative_fd/id, expected_revision)
// stays zero: no anchor (appended at the end, or the head with BPF_F_BEFORE),
// no revision check.
int tcx_link_create(int prog_fd, std::uint32_t ifindex, TcDirection dir, TcOrder order) {
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.link_create.prog_fd = static_cast<std::uint32_t>(prog_fd);
  attr.link_create.target_ifindex = ifindex;
  attr.link_create.attach_type = dir == TcDirection::Ingress ? kBpfTcxIngress : kBpfTcxEgress;
  attr.link_create.flags = order == TcOrder::First ? kBpfFBefore : 0;
  return static_cast<int>(syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr)));
}

bpf_tc_attach_point tc_point(TcDirection dir) {
  return dir == TcDirection::Ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

} // namespace

const char *to_string(TcDirection dir) {
  return dir == TcDirection::Ingress ? "ingress" : "egress";
}

const char *to_string(TcLinkKind kind) {
  return kind == TcLinkKind::Tcx ? "tcx" : "clsact";
}

bool tc_force_clsact() {
  const char *v = std::getenv("XDPFLOW_FORCE_CLSACT");
  return v && std::strcmp(v, "1") == 0;
}

TcLink::TcLink(int prog_fd, std::uint32_t ifindex, TcDirection dir, TcOrder order)
    : ifindex_(ifindex), dir_(dir) {
  if (!tc_force_clsact()) {
    int fd = tcx_link_create(prog_fd, ifindex, dir, order);
    if (fd >= 0) {
      link_fd_ = UniqueFd(fd);
      kind_ = TcLinkKind::Tcx;
      return;
    }
    int err = errno;
    // A kernel without tcx does not know the attach type: EINVAL. Anything
    // else (EPERM, ENODEV...) would fail the same way through clsact.
    if (err != EINVAL && err != EOPNOTSUPP)
      throw SysError(err, "attaching a tcx link (BPF_LINK_CREATE) to the " + where(ifindex, dir));
  }
  attach_clsact(prog_fd, order);
}

void TcLink::attach_clsact(int prog_fd, TcOrder order) {
  kind_ = TcLinkKind::Clsact;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex_),
              .attach_point = tc_point(dir_));
  // Creates the clsact qdisc, or finds it there (EEXIST). Never removed by
  // us: other tools' filters may hang on it, and an empty clsact costs nothing.
  int rc = bpf_tc_hook_create(&hook);
  if (rc < 0 && rc != -EEXIST)
    throw SysError(-rc, "creating the clsact qdisc for the " + where(ifindex_, dir_) +
                            " (tcx unavailable or XDPFLOW_FORCE_CLSACT=1)");
  // Handle and priority 0: the kernel picks free ones, so existing filters
  // stay as they are; libbpf reads back what it picked. The kernel's pick
  // puts a new filter ahead of those there, so First holds when the program
  // that must run first is attached last (the observer is attached after the
  // fast path on each interface).
  (void)order;
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
  rc = bpf_tc_attach(&hook, &opts);
  if (rc < 0)
    throw SysError(-rc, "adding a clsact bpf filter on the " + where(ifindex_, dir_));
  handle_ = opts.handle;
  priority_ = opts.priority;
}

void remove_clsact_filter(std::uint32_t ifindex, TcDirection dir, std::uint32_t handle,
                          std::uint32_t priority) {
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
              .attach_point = tc_point(dir));
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = priority);
  int rc = bpf_tc_detach(&hook, &opts);
  if (rc < 0)
    throw SysError(-rc, "removing the clsact bpf filter (handle " + std::to_string(handle) +
                            ", priority " + std::to_string(priority) + ") from the " +
                            where(ifindex, dir));
}

void TcLink::release() {
  link_fd_.reset();
  if (handle_ != 0) {
    try {
      remove_clsact_filter(ifindex_, dir_, handle_, priority_);
    } catch (const SysError &) {
      // the interface or the filter is gone already
    }
    handle_ = 0;
  }
}

TcLink::~TcLink() {
  release();
}

TcLink::TcLink(TcLink &&other) noexcept
    : ifindex_(other.ifindex_), dir_(other.dir_), kind_(other.kind_),
      link_fd_(std::move(other.link_fd_)), handle_(std::exchange(other.handle_, 0)),
      priority_(other.priority_) {}

TcLink &TcLink::operator=(TcLink &&other) noexcept {
  if (this != &other) {
    release();
    ifindex_ = other.ifindex_;
    dir_ = other.dir_;
    kind_ = other.kind_;
    link_fd_ = std::move(other.link_fd_);
    handle_ = std::exchange(other.handle_, 0);
    priority_ = other.priority_;
  }
  return *this;
}

} // namespace xdpflow
