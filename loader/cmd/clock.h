// The clock the kernel side stamps with: xf_status and the data path's
// last_seen_ns (the control plane publishes it to the program) both use
// CLOCK_MONOTONIC.
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
