#include "core/keepalive_schedule.h"

#include <algorithm>
#include <netinet/in.h>

namespace xdpflow {

namespace {

constexpr std::uint64_t sec_ns = 1'000'000'000ull;
// The data path stamps hits with the CLOCK_MONOTONIC the control plane
// publishes, which it does at every pass start too, so a hit after a pass
// start is never stamped before it; a hit this close before one counts in
// both windows (at worst one extra refresh), never in neither.
constexpr std::uint64_t coarse_slack_ns = 20'000'000ull;

} // namespace

void KeepaliveSchedule::set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec) {
  tcp_timeout_sec_ = tcp_sec;
  udp_timeout_sec_ = udp_sec;
}

std::uint32_t KeepaliveSchedule::timeout_sec(std::uint8_t proto) const {
  return proto == IPPROTO_TCP ? tcp_timeout_sec_ : udp_timeout_sec_;
}

// The configured interval, but never more than a third of conntrack's
// timeout.
std::uint64_t KeepaliveSchedule::window_ns(std::uint8_t proto) const {
  return std::min<std::uint64_t>(interval_ns_, timeout_sec(proto) * sec_ns / 3);
}

void KeepaliveSchedule::begin_pass(std::uint64_t now_ns) {
  std::uint64_t previous = pass_ ? pass_start_[pass_ % pass_start_.size()] : 0;
  pass_++;
  pass_spacing_ = pass_ > 1 && now_ns > previous ? now_ns - previous : 0;
  pass_start_[pass_ % pass_start_.size()] = now_ns;
  pass_now_ = now_ns;
  auto spread = [this](std::uint8_t proto) -> std::uint64_t {
    if (!pass_spacing_)
      return 1; // first pass: every active connection is due
    return std::clamp<std::uint64_t>(window_ns(proto) / pass_spacing_, 1, max_spread);
  };
  spread_tcp_ = spread(IPPROTO_TCP);
  spread_udp_ = spread(IPPROTO_UDP);
}

std::uint64_t KeepaliveSchedule::spread(std::uint8_t proto) const {
  return proto == IPPROTO_TCP ? spread_tcp_ : spread_udp_;
}

bool KeepaliveSchedule::due(std::uint64_t hash, std::uint8_t proto) const {
  return (hash + pass_) % spread(proto) == 0;
}

std::uint64_t KeepaliveSchedule::hits_count_after(std::uint8_t proto) const {
  std::uint64_t s = spread(proto);
  // (The ring holds max_spread + 1 starts: the one `spread` passes ago is
  // still there.)
  std::uint64_t since = pass_ > s ? pass_start_[(pass_ - s) % pass_start_.size()] : 0;
  return since > coarse_slack_ns ? since - coarse_slack_ns : 0;
}

} // namespace xdpflow
