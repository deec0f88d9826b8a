// "The kernel decides, xdpflow repeats": the control plane's side of the
// egress observer and of invalidation, in one place.
//  - The observer's tc programs on every attached interface; its ring
//    buffer feeds ObservedEgress, FlowSync's EgressLookup; news retries the
//    waiting connections.
//  - ChangeMonitor's events (routes, rules, neighbours, links, addresses,
//    FDB, nftables ruleset): every observation is forgotten and every entry
//    re-placed, which removes it (nothing is observed any more), so the
//    kernel decides the next packets again and the observer re-learns.
//    Dropping everything is coarse but honest: which connections a route,
//    rule or ruleset change affects is the kernel's to say.
//  - Neighbour freshness: NTF_USE on STALE neighbours that offloaded
//    traffic sends to.
//  - Publishes waiting connections by reason (xf_obs_pending, for `flows
//    --pending`) and the counters (xf_obs_status, for `status`).
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "core/flow_sync.h"
#include "core/observed_egress.h"
#include "kernel/change_monitor.h"
#include "kernel/egress_observer.h"

namespace xdpflow {

class Relearning {
public:
  // ifindexes: the attached interfaces (observed); redirect: those flows
  // may leave through. bind_prog_fd: the fast path's program, to which the
  // published maps are bound so other processes find them by its map ids.
  Relearning(const std::vector<std::uint32_t> &ifindexes, std::set<std::uint32_t> redirect,
             std::vector<int> bind_prog_fds, std::function<void(const std::string &)> log);

  EgressLookup &egress() { return observed_; }

  // An interface attached or detached while running (a bridge port that
  // came or left): observed from now on, or no longer; redirect: flows may
  // leave through it. Throws SysError (add).
  void add_interface(std::uint32_t ifindex, bool redirect);
  void remove_interface(std::uint32_t ifindex);

  // For poll(): the change sockets and the ring buffer.
  std::vector<int> fds() const;
  // Handles whatever is queued on them: invalidates on changes, retries the
  // waiting connections on news.
  void process(FlowSync &sync, std::uint64_t now_ns);

  // The tc hooks' facts changed (a qdisc or ingress filter): the kernel's
  // decisions stand, only the hook an entry needs may differ, so the
  // observations are kept and the entries whose hook changed rewritten.
  // Counted under "qdisc" like the other causes.
  void qdisc_changed(FlowSync &sync, std::uint64_t now_ns);

  // A conntrack event, before FlowSync sees it: a new UDP connection is
  // watched from its first packets (TCP's handshake is reported unasked).
  void expect(const CtEvent &ev);

  // The keepalive's table walk: each entry, then the pass end.
  void visit(const xf_flow_key &key, const xf_flow_value &value, std::uint64_t pass_start_ns);
  void pass_finished(std::uint64_t now_ns);

  // Publishes the waiting connections and the counters.
  void publish(const FlowSync &sync);

private:
  void invalidate(const ChangeMonitor::Causes &causes, FlowSync &sync, std::uint64_t now_ns);
  // Re-places every entry (forgetting every observation first when told)
  // and counts the change under its causes.
  void replace_all(const ChangeMonitor::Causes &causes, bool forget, FlowSync &sync,
                   std::uint64_t now_ns);

  std::function<void(const std::string &)> log_;
  std::set<std::uint32_t> redirect_;
  ChangeMonitor changes_;
  EgressObserver observer_;
  ObservedEgress observed_;
  xf_obs_status status_{};
  std::set<Mac> macs_in_use_; // next hops of entries hit lately
  std::uint64_t last_sweep_ns_ = 0;
  std::size_t published_pending_ = 0;
};

} // namespace xdpflow
