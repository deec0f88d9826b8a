#include "xdp_runner.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <ctime>
#include <linux/bpf.h>
#include <vector>

#include "core/error.h"
#include "core/stats_report.h"
#include "kernel/fast_path.h"

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

XdpRun tc_test_run(int prog_fd, const Bytes &frame, std::uint32_t ingress_ifindex) {
  Bytes out(frame.size() + 64);
  __sk_buff ctx{};
  ctx.ifindex = ingress_ifindex; // selects skb->dev
  ctx.ingress_ifindex = ingress_ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<std::uint32_t>(frame.size()),
              .data_size_out = static_cast<std::uint32_t>(out.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1);
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
    throw SysError(errno, "BPF_PROG_TEST_RUN (tc) of a " + std::to_string(frame.size()) +
                              "-byte frame on ifindex " + std::to_string(ingress_ifindex));
  out.resize(opts.data_size_out);
  return XdpRun{opts.retval, std::move(out), opts.duration};
}

XdpRun xdp_test_run_short_headroom(int prog_fd, const Bytes &frame, std::uint32_t ingress_ifindex,
                                   std::uint32_t meta_len) {
  Bytes in(meta_len, 0xee);
  in.insert(in.end(), frame.begin(), frame.end());
  Bytes out(in.size() + 64);
  xdp_md ctx{};
  ctx.data = meta_len;
  ctx.data_end = static_cast<std::uint32_t>(in.size());
  ctx.ingress_ifindex = ingress_ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_out = out.data(),
              .data_size_in = static_cast<std::uint32_t>(in.size()),
              .data_size_out = static_cast<std::uint32_t>(out.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1);
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
    throw SysError(errno, "BPF_PROG_TEST_RUN with " + std::to_string(meta_len) +
                              " bytes of metadata on ifindex " + std::to_string(ingress_ifindex));
  out.resize(opts.data_size_out);
  if (out.size() < meta_len)
    throw RuntimeError("test run returned less than its metadata");
  out.erase(out.begin(), out.begin() + meta_len);
  return XdpRun{opts.retval, std::move(out), opts.duration};
}

xf_counters read_counters(int counters_fd, std::uint32_t hook) {
  return read_hook_counters(counters_fd).at(hook);
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
