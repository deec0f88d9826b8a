// The clocks the kernel side stamps with: xf_status uses CLOCK_MONOTONIC,
// the data path's last_seen_ns bpf_ktime_get_coarse_ns (MONOTONIC_COARSE).
#pragma once

#include <cstdint>
#include <ctime>

namespace xdpflow::cmd {

inline std::uint64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000ull + std::uint64_t(ts.tv_nsec);
}

} // namespace xdpflow::cmd
