// Egress from the kernel's own packets: an EgressLookup answered by what the
// egress observer (bpf/observer.bpf.c) saw the kernel send, not by asking
// for a route. Whatever the kernel routed by (marks set in prerouting, ip
// rules on source or incoming interface, the ECMP hash, the bridge FDB,
// VLAN/PPPoE devices) is in the frame it sent, so a direction is offloaded
// exactly where, and exactly as, the kernel forwards it.
//
// A direction is offloadable when its observation exists and the fast path's
// rewrite reproduces that frame: it leaves through an attached interface,
// with at most the encapsulation the data path writes, no IPv4 options, and
// the TOS it arrived with (the fast path leaves DSCP/ECN alone). Otherwise
// it waits, with a reason (Verdict).
//
// Pure: the BPF side is behind ObservationWatcher, interface facts behind
// two functions, so unit tests drive it with fakes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>

#include "core/flow_sync.h"
#include "xdpflow/observer.h"

namespace xdpflow {

// The observer's watch list (xf_obs_watch): the observer reports packets of
// watched keys only.
class ObservationWatcher {
public:
  virtual ~ObservationWatcher() = default;
  // Idempotent; false when the list is full (the key is not watched).
  virtual bool watch(const xf_obs_key &key) = 0;
  virtual void unwatch(const xf_obs_key &key) = 0; // absent: no error
};

xf_obs_key make_obs_key(const FlowTuple &t, xf_obs_point point);
FlowTuple tuple_of(const xf_obs_key &key);

// Why a direction cannot be offloaded now, or that it can (reason ==
// XF_WAIT_MAX).
struct Verdict {
  std::optional<Egress> egress;
  std::uint8_t reason = XF_WAIT_MAX; // enum xf_wait_reason
  std::uint32_t detail = 0;          // ifindex or enum xf_wait_field
  bool ok() const { return reason == XF_WAIT_MAX; }
};

class ObservedEgress : public EgressLookup {
public:
  using Attached = std::function<bool(std::uint32_t ifindex)>;
  // The MTU a packet to dst leaving through ifindex may have: the device's,
  // or the route's when it sets a smaller one.
  using MtuOf =
      std::function<std::optional<std::uint32_t>(std::uint32_t ifindex, const IpAddr &dst)>;
  ObservedEgress(ObservationWatcher &watcher, Attached attached, MtuOf mtu_of);

  // EgressLookup. resolve(): the observation of the packet leaving with
  // this tuple (used to find an entry's key). resolve_direction(): the same
  // for a direction being offloaded, which also needs the TOS it arrived
  // with to match.
  std::optional<Egress> resolve(const FlowTuple &outgoing) override;
  std::optional<Egress> resolve_direction(const FlowTuple &arriving,
                                          const FlowTuple &outgoing) override;

  // The verdict for one direction, without watching anything.
  Verdict judge(const FlowTuple &arriving, const FlowTuple &outgoing) const;

  // A ring-buffer record. True when it is news for a direction someone
  // asked about (the caller retries waiting connections). A handshake
  // record (XF_OBS_EV_SYN) nobody asked about yet is kept, a bounded
  // number of them, for when its connection is asked about.
  bool observe(const xf_obs_event &ev);

  // Watches both directions of a connection conntrack just announced (for
  // UDP, which has no handshake to report): by the time it is assured its
  // packets have been seen.
  void expect(const FlowTuple &orig, const FlowTuple &reply);

  // Every observation is the kernel's past decision: after a change that
  // could alter one, all are forgotten (and unwatched), and re-learned from
  // the next packets of the connections asked about again.
  void forget_all();

  // Lifetime: a record lives while it is asked about or used by a table
  // entry. The caller marks what its table walk finds in use, then sweeps:
  // records neither asked for nor in use at two sweeps in a row go (their
  // connection left or was never offloadable; two, because a walk may miss
  // an entry inserted behind its cursor); those in use are unwatched (an
  // offloaded direction's packets no longer need observing).
  void mark_in_use(const FlowTuple &arriving, const FlowTuple &outgoing);
  void sweep();

  std::size_t records() const { return egress_.size() + ingress_.size(); }
  std::size_t watched() const { return watched_; }
  // The watch list was full at the last try: directions asked about since
  // then are unwatched until a sweep or forget_all() makes room.
  bool watch_list_full() const { return watch_full_; }

private:
  struct Record {
    std::optional<xf_observation> obs;
    bool watched = false;
    bool asked = false;  // since the last sweep
    bool in_use = false; // since the last sweep
    std::uint8_t unused_sweeps = 0;
  };
  using Records = std::unordered_map<FlowTuple, Record, FlowTupleHash>;
  Record &touch(Records &records, const FlowTuple &t, xf_obs_point point);
  void sweep(Records &records, xf_obs_point point);

  // Handshake records of tuples nobody asked about yet, oldest first out.
  struct Handshakes {
    std::unordered_map<FlowTuple, xf_observation, FlowTupleHash> obs;
    std::deque<FlowTuple> order;
  };
  static constexpr std::size_t max_handshakes = 65536; // per point
  Handshakes &handshakes(xf_obs_point point) { return handshakes_[point == XF_OBS_INGRESS]; }

  ObservationWatcher &watcher_;
  Handshakes handshakes_[2];
  Attached attached_;
  MtuOf mtu_of_;
  Records egress_;  // by the tuple as sent
  Records ingress_; // by the tuple as it arrived
  std::size_t watched_ = 0;
  bool watch_full_ = false;
};

} // namespace xdpflow
