#include "rig_programs.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include "core/error.h"
#include "kernel/fast_path.h"
#include "kernel/flow_maps.h"
#include "xfb_fib.skel.h"
#include "xfb_fwd.skel.h"
#include "xfb_napi_trace.skel.h"
#include "xfb_sink.skel.h"

using xdpflow::IpAddr;
using xdpflow::SysError;

namespace xfbench {

IpAddr flow_source(const IpAddr &flow0_src, std::uint32_t i) {
  IpAddr a = flow0_src;
  std::size_t last = a.family == XF_FAMILY_IPV4 ? 0 : 12;
  std::uint32_t word;
  std::memcpy(&word, a.bytes.data() + last, 4);
  word = htonl(ntohl(word) + xfb_flow_src_offset(i));
  std::memcpy(a.bytes.data() + last, &word, 4);
  return a;
}

template <typename T> std::vector<T> read_per_cpu(int map_fd, const char *what) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0)
    throw SysError(-cpus, "counting possible CPUs");
  std::vector<T> per_cpu(cpus);
  __u32 zero = 0;
  if (bpf_map_lookup_elem(map_fd, &zero, per_cpu.data()))
    throw SysError(errno, std::string("reading ") + what);
  return per_cpu;
}
template std::vector<xfb_sink_counters> read_per_cpu(int, const char *);

// ---- NapiTrace ------------------------------------------------------------

NapiTrace::NapiTrace(const std::vector<std::uint32_t> &pids) : threads_(pids.size()) {
  if (pids.empty() || pids.size() > XFB_MAX_NAPI)
    throw xdpflow::UsageError("napi trace: 1.." + std::to_string(XFB_MAX_NAPI) + " threads");
  skel_ = xfb_napi_trace__open();
  if (!skel_)
    throw SysError(errno, "opening the NAPI tracepoint's BPF object");
  for (std::size_t i = 0; i < pids.size(); i++)
    const_cast<__u32 &>(skel_->rodata->pids[i]) = pids[i];
  if (int err = xfb_napi_trace__load(skel_)) {
    xfb_napi_trace__destroy(skel_);
    throw SysError(-err, "loading the NAPI tracepoint's BPF program");
  }
  link_ = bpf_program__attach(skel_->progs.xfb_napi_poll);
  if (!link_) {
    int err = errno;
    xfb_napi_trace__destroy(skel_);
    throw SysError(err, "attaching to the napi:napi_poll tracepoint");
  }
}

NapiTrace::~NapiTrace() {
  bpf_link__destroy(link_);
  xfb_napi_trace__destroy(skel_);
}

xfb_napi_stats NapiTrace::read(std::size_t i) const {
  xfb_napi_stats s;
  std::memcpy(&s, const_cast<const xfb_napi_stats *>(&skel_->bss->stats[i]), sizeof(s));
  return s;
}

// ---- Sink -----------------------------------------------------------------

Sink::Sink(std::uint32_t ifindex) {
  skel_ = xfb_sink__open_and_load();
  if (!skel_)
    throw SysError(errno, "loading the sink's BPF program");
  try {
    link_.emplace(bpf_program__fd(skel_->progs.xfb_sink), ifindex, "the sink");
  } catch (...) {
    xfb_sink__destroy(skel_);
    throw;
  }
}

Sink::~Sink() {
  link_.reset();
  xfb_sink__destroy(skel_);
}

xfb_sink_counters Sink::read() const {
  xfb_sink_counters sum{};
  for (const auto &c : read_per_cpu<xfb_sink_counters>(bpf_map__fd(skel_->maps.xfb_sink_counters),
                                                       "the sink's counters")) {
    sum.packets += c.packets;
    sum.bytes += c.bytes;
    sum.ttl_fixed += c.ttl_fixed;
    sum.passed += c.passed;
    sum.misses += c.misses;
  }
  return sum;
}

// ---- BareForwarder --------------------------------------------------------

BareForwarder::BareForwarder(std::uint32_t in_ifindex, std::uint32_t out_ifindex,
                             const Mac &src_mac, const Mac &dst_mac, GwHook hook) {
  skel_ = xfb_fwd__open();
  if (!skel_)
    throw SysError(errno, "opening the bare forwarder's BPF object");
  std::memcpy(const_cast<__u8 *>(skel_->rodata->src_mac), src_mac.data(), 6);
  std::memcpy(const_cast<__u8 *>(skel_->rodata->dst_mac), dst_mac.data(), 6);
  skel_->rodata->out_ifindex = out_ifindex;
  bpf_program__set_autoload(skel_->progs.xfb_fwd, hook == GwHook::Xdp);
  bpf_program__set_autoload(skel_->progs.xfb_fwd_tc, hook == GwHook::Tc);
  try {
    if (int err = xfb_fwd__load(skel_))
      throw SysError(-err, "loading the bare forwarder's BPF program");
    if (hook == GwHook::Xdp)
      link_.emplace(bpf_program__fd(skel_->progs.xfb_fwd), in_ifindex, "the bare forwarder");
    else
      tc_link_.emplace(bpf_program__fd(skel_->progs.xfb_fwd_tc), in_ifindex,
                       xdpflow::TcDirection::Ingress);
  } catch (...) {
    xfb_fwd__destroy(skel_);
    throw;
  }
}

BareForwarder::~BareForwarder() {
  link_.reset();
  tc_link_.reset();
  xfb_fwd__destroy(skel_);
}

// ---- FibForwarder ---------------------------------------------------------

FibForwarder::FibForwarder(std::uint32_t in_ifindex) {
  skel_ = xfb_fib__open_and_load();
  if (!skel_)
    throw SysError(errno, "loading the FIB-lookup forwarder's BPF program");
  try {
    link_.emplace(bpf_program__fd(skel_->progs.xfb_fib), in_ifindex, "the FIB-lookup forwarder");
  } catch (...) {
    xfb_fib__destroy(skel_);
    throw;
  }
}

FibForwarder::~FibForwarder() {
  link_.reset();
  xfb_fib__destroy(skel_);
}

// ---- DirectXdpflow --------------------------------------------------------

namespace {
// The clock bpf_ktime_get_ns() reads, as the control plane publishes it.
std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}
} // namespace

DirectXdpflow::DirectXdpflow(const DirectOptions &options)
    : hook_(options.hook), family_(options.src.family) {
  xdpflow::FastPathOptions fp_options;
  // Room for every generated flow as a connection (two entries each), as a
  // gateway sized for that many connections would have.
  fp_options.max_flows = std::max<std::uint32_t>(XF_DEFAULT_MAX_FLOWS, options.flows);
  fast_path_ = std::make_unique<xdpflow::FastPath>(fp_options);
  fast_path_->add_egress(options.out_ifindex);
  fast_path_->add_egress(options.in_ifindex);
  fill(options);
  // Both interfaces, as `xdpflow attach IN OUT` would, on one hook.
  if (hook_ == GwHook::Xdp) {
    links_.emplace_back(fast_path_->prog_fd(), options.in_ifindex, "xdpflow");
    links_.emplace_back(fast_path_->prog_fd(), options.out_ifindex, "xdpflow");
    return;
  }
  fast_path_->publish_clock(monotonic_ns());
  clock_thread_ = std::thread([this] { publish_clock_until_stopped(); });
  try {
    for (auto ifindex : {options.in_ifindex, options.out_ifindex})
      tc_links_.emplace_back(fast_path_->tc_prog_fd(), ifindex, xdpflow::TcDirection::Ingress);
  } catch (...) {
    stop_clock();
    throw;
  }
}

DirectXdpflow::~DirectXdpflow() {
  links_.clear();
  tc_links_.clear();
  stop_clock();
}

void DirectXdpflow::publish_clock_until_stopped() {
  std::unique_lock<std::mutex> lock(clock_mutex_);
  while (!clock_stop_cv_.wait_for(lock, std::chrono::milliseconds(200),
                                  [this] { return clock_stop_; }))
    fast_path_->publish_clock(monotonic_ns());
}

void DirectXdpflow::stop_clock() {
  if (!clock_thread_.joinable())
    return;
  {
    std::lock_guard<std::mutex> lock(clock_mutex_);
    clock_stop_ = true;
  }
  clock_stop_cv_.notify_one();
  clock_thread_.join();
}

xf_counters DirectXdpflow::counters() const {
  return xdpflow::read_hook_counters(
      fast_path_->counters_fd())[hook_ == GwHook::Tc ? XF_HOOK_TC : XF_HOOK_XDP];
}

std::uint64_t DirectXdpflow::table_bytes() const {
  auto maps = fast_path_->flow_maps();
  return xdpflow::map_memlock_bytes(family_ == XF_FAMILY_IPV6 ? maps.v6 : maps.v4);
}

void DirectXdpflow::fill(const DirectOptions &o) {
  xf_flow_value value{};
  value.action.egress_ifindex = o.out_ifindex;
  value.action.mtu = 1500;
  value.action.direction = XF_DIR_ORIGINAL;
  std::memcpy(value.action.src_mac, o.out_src_mac.data(), 6);
  std::memcpy(value.action.dst_mac, o.out_dst_mac.data(), 6);
  if (o.snat) {
    value.action.nat = XF_NAT_SRC_ADDR;
    o.snat->to_words(value.action.new_src);
  }

  constexpr std::uint32_t chunk = 8192;
  std::vector<xf_flow_key> keys;
  std::vector<xf_flow_value> values(chunk, value);
  keys.reserve(chunk);
  auto start = std::chrono::steady_clock::now();
  for (std::uint32_t first = 0; first < o.flows; first += chunk) {
    keys.clear();
    for (std::uint32_t i = first; i < o.flows && i < first + chunk; i++) {
      xdpflow::FlowTuple t;
      t.src = flow_source(o.src, i);
      t.dst = o.dst;
      t.sport = xfb_flow_sport(i);
      t.dport = XFB_DPORT;
      t.proto = IPPROTO_UDP;
      keys.push_back(xdpflow::make_flow_key(o.in_ifindex, xf_encap{}, t));
    }
    values.resize(keys.size(), value);
    if (int err = fast_path_->flow_maps().update_batch(keys, values))
      throw SysError(err, "filling the flow table (batch at flow " + std::to_string(first) +
                              " of " + std::to_string(o.flows) + ")");
  }
  fill_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace xfbench
