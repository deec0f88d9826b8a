// KeepaliveSchedule: when each offloaded connection's conntrack timeout is
// refreshed, without any per-connection state. Conntrack sees none of the
// packets the fast path forwards, so the control plane pushes its timeout
// back for connections whose entries were hit; doing that for every active
// connection in every pass would cost one netlink message per connection per
// pass, so the refreshes are spread over passes instead.
//
// A connection is due in pass n when (hash(orig tuple) + n) % spread == 0,
// spread = how many passes fit in its refresh window at the spacing the
// passes really have (the caller paces them), so each active connection is
// refreshed about once a window, and conntrack, whose timeout is at least
// three windows, never expires it. Pure: the caller passes the times.
#pragma once

#include <array>
#include <cstdint>

namespace xdpflow {

class KeepaliveSchedule {
public:
  // interval_ns: how long an active connection may go without a refresh,
  // at most (shortened to a third of conntrack's timeout where that is less).
  explicit KeepaliveSchedule(std::uint64_t interval_ns) : interval_ns_(interval_ns) {}

  // Conntrack's established timeouts (seconds), the refreshes' value.
  void set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec);
  std::uint32_t timeout_sec(std::uint8_t proto) const;
  // How long an active connection of proto may go without a refresh.
  std::uint64_t window_ns(std::uint8_t proto) const;

  // A pass over the table starts at now_ns (CLOCK_MONOTONIC).
  void begin_pass(std::uint64_t now_ns);
  std::uint64_t pass_start() const { return pass_now_; }
  // How many passes apart one connection's due passes are (1: every pass).
  std::uint64_t spread(std::uint8_t proto) const;
  // Whether the connection whose original tuple hashes to hash is due in
  // this pass.
  bool due(std::uint64_t hash, std::uint8_t proto) const;
  // A due connection is refreshed when an entry of it was hit after this:
  // the start of its previous due pass, a little earlier for the clock's
  // coarseness, 0 (any hit) when there was none.
  std::uint64_t hits_count_after(std::uint8_t proto) const;

  static constexpr std::uint64_t max_spread = 64;

private:
  std::uint64_t interval_ns_;
  std::uint32_t tcp_timeout_sec_ = 432000; // nf_conntrack_tcp_timeout_established
  std::uint32_t udp_timeout_sec_ = 120;    // nf_conntrack_udp_timeout_stream
  // Pass number, start times of the last passes (a ring), and the current
  // pass's spacing from the previous one and spreading factor per protocol.
  std::uint64_t pass_ = 0;
  std::array<std::uint64_t, max_spread + 1> pass_start_{};
  std::uint64_t pass_now_ = 0, pass_spacing_ = 0;
  std::uint64_t spread_tcp_ = 1, spread_udp_ = 1;
};

} // namespace xdpflow
