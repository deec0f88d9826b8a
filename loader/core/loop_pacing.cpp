#include "core/loop_pacing.h"

#include <algorithm>

namespace xdpflow {

namespace {

constexpr std::uint64_t ms = 1'000'000ull;
constexpr std::uint64_t first_pass_after = 1000 * ms;
constexpr std::uint64_t retry_every = 1000 * ms;
constexpr std::uint64_t idle_check_every = 10'000 * ms;
constexpr std::uint64_t min_pass_period = 250 * ms, max_pass_period = 2000 * ms;
constexpr int idle_poll_ms = 100;
// Passes take at most about a tenth of the loop's time.
constexpr std::uint64_t busy_share = 10;

} // namespace

LoopPacing::LoopPacing(std::uint64_t start_ns)
    : next_pass_(start_ns + first_pass_after), next_retry_(start_ns + retry_every),
      next_idle_check_(start_ns + idle_check_every) {}

int LoopPacing::poll_timeout_ms() const {
  return in_pass_ ? 0 : idle_poll_ms;
}

std::uint64_t LoopPacing::pass_period_ns(std::uint32_t shortest_timeout_sec) {
  // Often enough to refresh an active flow well before the shortest timeout.
  return std::clamp<std::uint64_t>(std::uint64_t{shortest_timeout_sec} * 1000 * ms / 6,
                                   min_pass_period, max_pass_period);
}

void LoopPacing::begin_pass(std::uint64_t now_ns, std::uint32_t shortest_timeout_sec) {
  in_pass_ = true;
  pass_started_ = now_ns;
  pass_busy_ns_ = 0;
  pass_period_ = pass_period_ns(shortest_timeout_sec);
  pass_cap_ = std::uint64_t{shortest_timeout_sec} * 1000 * ms / 3;
}

void LoopPacing::chunk_walked(std::uint64_t busy_ns, bool more) {
  pass_busy_ns_ += busy_ns;
  if (more)
    return;
  in_pass_ = false;
  // Passes take at most about a tenth of the time, and are never so sparse
  // that an active flow's conntrack entry could expire.
  next_pass_ =
      pass_started_ + std::min(std::max(pass_period_, busy_share * pass_busy_ns_), pass_cap_);
}

bool LoopPacing::retry_now(std::uint64_t now_ns) {
  if (now_ns < next_retry_)
    return false;
  next_retry_ = now_ns + retry_every;
  return true;
}

bool LoopPacing::idle_check_now(std::uint64_t now_ns) {
  if (now_ns < next_idle_check_)
    return false;
  next_idle_check_ = now_ns + idle_check_every;
  return true;
}

} // namespace xdpflow
