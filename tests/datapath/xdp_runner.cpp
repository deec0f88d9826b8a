#include "xdp_runner.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <ctime>
#include <linux/bpf.h>
#include <vector>

#include "core/error.h"
#include "core/stats_report.h"

namespace xdpflow::testing {

XdpRun xdp_test_run(int prog_fd, const Bytes &frame, std::uint32_t ingress_ifindex,
                    std::uint32_t repeat) {
  // Room for the longest layer-2 header the program may push in front.
  Bytes out(frame.size() + 64);
  // The kernel wants data = 0 and data_end = frame size in the context: the
  // frame starts at the default headroom, no metadata.
  xdp_md ctx{};
  ctx.data_end = static_cast<std::uint32_t>(frame.size());
  ctx.ingress_ifindex = ingress_ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(out.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
    throw SysError(errno, "BPF_PROG_TEST_RUN of a " + std::to_string(frame.size()) +
                              "-byte frame on ifindex " + std::to_string(ingress_ifindex));
  out.resize(opts.data_size_out);
  return XdpRun{opts.retval, std::move(out), opts.duration};
}

xf_counters read_counters(int counters_fd) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0)
    throw SysError(-cpus, "counting possible CPUs");
  std::vector<xf_counters> per_cpu(static_cast<std::size_t>(cpus));
  std::uint32_t key = 0;
  if (bpf_map_lookup_elem(counters_fd, &key, per_cpu.data()) != 0)
    throw SysError(errno, "reading the xf_counters map");
  return sum_counters(per_cpu);
}

void put_flow(const FlowMaps &maps, const xf_flow_key &key, const xf_flow_value &value) {
  if (int err = maps.update(key, value, BPF_ANY))
    throw SysError(err, "inserting a flow into the flow maps");
}

std::optional<xf_flow_value> get_flow(const FlowMaps &maps, const xf_flow_key &key) {
  xf_flow_value value{};
  if (int err = maps.lookup(key, value)) {
    if (err == ENOENT)
      return std::nullopt;
    throw SysError(err, "reading a flow from the flow maps");
  }
  return value;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

} // namespace xdpflow::testing
