#include "kernel/control_plane.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <malloc.h>
#include <memory>
#include <net/if.h>
#include <optional>
#include <poll.h>
#include <set>
#include <unistd.h>

#include "core/error.h"
#include "core/flow_sync.h"
#include "core/loop_pacing.h"
#include "core/unreported_at_start.h"
#include "kernel/bpf_flow_table.h"
#include "kernel/ct_netlink.h"
#include "kernel/fast_path.h"
#include "kernel/relearning.h"
#include "kernel/tc_hooks.h"

namespace xdpflow {
namespace {

std::uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + ts.tv_nsec;
}

void log_line(const std::string &line) {
  std::fprintf(stderr, "xdpflow: %s\n", line.c_str());
}

// A numeric sysctl of this namespace, or fallback when unreadable.
std::uint32_t read_sysctl(const char *path, std::uint32_t fallback) {
  std::ifstream in(path);
  std::uint32_t v = 0;
  if (in >> v)
    return v;
  return fallback;
}

// A timeout sysctl (seconds): 0 would make no sense, keep the fallback.
std::uint32_t read_timeout(const char *path, std::uint32_t fallback) {
  std::uint32_t v = read_sysctl(path, fallback);
  return v ? v : fallback;
}

// The conntrack event socket's buffer (the kernel doubles it): room for a
// burst of about 200 k events (~300 bytes each) while the control plane
// catches up. Kernel memory, taken only while events queue. An overrun costs
// a full dump (resync), so a burst the buffer absorbs is offloaded faster.
constexpr int default_ct_rcvbuf = 64 << 20;

} // namespace

struct ControlPlane::Impl {
  Impl(const ControlPlaneConfig &config, FastPath &fast_path)
      : config(config), fast_path(fast_path), table(fast_path.flow_maps()),
        relearning(ifindexes_of(config), redirect_targets(config),
                   {fast_path.prog_fd(), fast_path.tc_prog_fd()}, log_line),
        listener(config.ct_rcvbuf_bytes ? config.ct_rcvbuf_bytes : default_ct_rcvbuf),
        sync(make_sync_config(config), table, relearning.egress(), writer, log_line) {
    status.pid = static_cast<__u32>(getpid());
    status.max_flows = fast_path.max_flows();
    status.started_ns = monotonic_ns();
  }

  static std::vector<std::uint32_t> ifindexes_of(const ControlPlaneConfig &c) {
    std::vector<std::uint32_t> out;
    for (const auto &i : c.interfaces)
      out.push_back(i.ifindex);
    return out;
  }
  static std::set<std::uint32_t> redirect_targets(const ControlPlaneConfig &c) {
    std::set<std::uint32_t> out;
    for (const auto &i : c.interfaces)
      if (i.redirect_target)
        out.insert(i.ifindex);
    return out;
  }

  static FlowSyncConfig make_sync_config(const ControlPlaneConfig &c) {
    FlowSyncConfig s;
    for (const auto &i : c.interfaces)
      if (i.redirect_target)
        s.redirect_ifindexes.insert(i.ifindex);
    s.exclude_mark = c.exclude_mark;
    s.exclude_mask = c.exclude_mask;
    s.idle_timeout_ns = static_cast<std::uint64_t>(c.idle_timeout_sec) * 1'000'000'000ull;
    s.verbose = c.verbose;
    return s;
  }

  void on_ct_message(const CtParseResult &r) {
    switch (r.status) {
    case CtParseStatus::Ok:
      status.ct_events++;
      status.last_ct_event_ns = monotonic_ns();
      relearning.expect(r.event);
      sync.handle(r.event, status.last_ct_event_ns);
      break;
    case CtParseStatus::Malformed:
      if (status.parse_errors++ < 10)
        log_line("malformed conntrack message ignored: " + r.error);
      break;
    case CtParseStatus::NotConntrack:
      break;
    }
  }

  // A full conntrack dump. Conntrack updates (BE_LIBERAL of what it
  // offloads) go out as it goes: queued until its end, a million-entry dump
  // would leave the writer's queue at its peak size for good.
  void dump(const std::function<void(const CtParseResult &)> &handle) {
    std::size_t handled = 0;
    listener.dump([&](const CtParseResult &r) {
      handle(r);
      if (++handled % 4096 == 0)
        writer.flush();
    });
  }

  // Full dump, then sweep what it did not confirm. At start, the
  // connections it could not offload yet for want of assurance are noted
  // (core/unreported_at_start.h).
  void resync(bool at_start = false) {
    sync.begin_resync();
    dump([this, at_start](const CtParseResult &r) {
      on_ct_message(r);
      if (at_start && r.status == CtParseStatus::Ok)
        unreported.note(r.event, why_not_offloadable(r.event, sync.config()));
    });
    std::size_t swept = sync.end_resync();
    if (swept)
      log_line("resync removed the entries of " + std::to_string(swept) +
               " connections conntrack no longer has");
    writer.flush();
    // The resync's transient memory (8 bytes per connection, the dump's
    // parsing) goes back to the system rather than staying at its peak.
    malloc_trim(0);
  }

  // Reads the namespace's conntrack timeouts (keepalive refreshes with
  // them); returns the shortest, which paces the keepalive passes
  // (core/loop_pacing.h).
  std::uint32_t refresh_timeouts() {
    std::uint32_t tcp =
        read_timeout("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established", 432000);
    std::uint32_t udp =
        read_timeout("/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream", 120);
    sync.set_ct_timeouts(tcp, udp);
    return std::min(tcp, udp);
  }

  void publish() {
    auto s = sync.stats();
    status.heartbeat_ns = monotonic_ns();
    status.flows_offloaded = s.flows_offloaded;
    status.rejected_full = s.rejected_full;
    status.offloads_total = s.offloads_total;
    status.removals_total = s.removals_total;
    status.keepalive_refreshes = s.keepalive_refreshes;
    __u32 key = 0;
    if (bpf_map_update_elem(fast_path.status_fd(), &key, &status, BPF_ANY))
      throw SysError(errno, "publishing the control plane status");
  }

  void handle_overrun() {
    int before = listener.rcvbuf();
    int after = listener.grow_buffer();
    listener.discard_queued();
    long drops = listener.drops();
    // xf_status.events_lost counts overruns (flow.h); the log has the count.
    status.events_lost++;
    std::string lost = "conntrack events lost";
    if (drops >= 0) {
      lost = std::to_string(drops - drops_seen) + " conntrack events lost";
      drops_seen = drops;
    }
    log_line(lost + " (receive buffer of " + std::to_string(before) +
             " bytes overran); buffer now " + std::to_string(after) +
             " bytes, resyncing from a full dump");
    status.resyncs++;
    resync();
  }

  // An attached interface deleted under us (ip link del): the kernel drops
  // its XDP link and devmap entry, re-resolving removes or moves the flows
  // that used it, the other interfaces keep running. Said once per interface.
  void report_removed_interfaces() {
    for (const auto &i : config.interfaces) {
      char name[IF_NAMESIZE];
      if (removed_ifindexes.count(i.ifindex) || if_indextoname(i.ifindex, name) || errno != ENXIO)
        continue;
      removed_ifindexes.insert(i.ifindex);
      log_line(i.name + ": interface removed (ifindex " + std::to_string(i.ifindex) +
               "); its flows leave the table, the other interfaces keep running");
    }
  }

  // With nf_conntrack_events at 2 (the default) a connection that begins
  // while nobody listens never reports an event, not even its end: every
  // connection begun while xdpflow restarts would stay on the kernel path.
  // 1 gives every new connection its events (the kernel then keeps the
  // event extension on each, a few bytes).
  void enable_conntrack_events() {
    const char *path = "/proc/sys/net/netfilter/nf_conntrack_events";
    const std::uint32_t events = read_sysctl(path, 1);
    if (events == 0) {
      log_line("warning: net.netfilter.nf_conntrack_events is 0 in this namespace: no conntrack "
               "events, so only flows present at start are offloaded");
    } else if (events == 2) {
      std::ofstream out(path);
      if (out << "1\n" && out.flush())
        log_line("net.netfilter.nf_conntrack_events set to 1 in this namespace (was 2): with 2, "
                 "a connection that begins while no xdpflow runs never reports its events");
      else
        log_line("warning: could not set net.netfilter.nf_conntrack_events to 1 (" +
                 std::string(std::strerror(errno)) +
                 "): connections begun while xdpflow does not run are offloaded only if "
                 "assured within 2 minutes of its start");
    }
  }

  void run(const std::atomic<bool> &stop, const std::function<void()> &on_synced) {
    enable_conntrack_events();
    refresh_timeouts();
    fast_path.publish_clock(monotonic_ns());
    // The listener joined its groups in the constructor: events from now on
    // are queued, so nothing falls between the dump and the event stream.
    unreported.start(monotonic_ns());
    resync(true);
    publish();
    log_line("control plane synced: " + std::to_string(sync.stats().flows_offloaded) +
             " connections offloaded, conntrack buffer " + std::to_string(listener.rcvbuf()) +
             " bytes");
    if (on_synced)
      on_synced();

    LoopPacing pacing(monotonic_ns());
    while (!stop.load()) {
      // The conntrack listener, the tc facts, then the relearning's sockets.
      auto relearn_fds = relearning.fds();
      std::vector<pollfd> fds{{listener.fd(), POLLIN, 0},
                              {tc_hooks ? tc_hooks->fd() : -1, POLLIN, 0}};
      for (int fd : relearn_fds)
        fds.push_back({fd, POLLIN, 0});
      std::size_t relearn_end = fds.size();
      for (const auto &w : watches)
        fds.push_back({w.first, POLLIN, 0});
      int n = poll(fds.data(), fds.size(), pacing.poll_timeout_ms());
      if (n < 0 && errno != EINTR)
        throw SysError(errno, "waiting for netlink events");
      std::uint64_t now = monotonic_ns();
      // The data path stamps hits with this (flow.h last_seen_ns): at most
      // one poll timeout (100 ms) old.
      fast_path.publish_clock(now);
      for (std::size_t i = relearn_end; i < fds.size(); i++)
        if (fds[i].revents & POLLIN)
          watches[i - relearn_end].second();

      // Changes first: an observation queued behind a route change is the
      // old decision's and is forgotten with it.
      bool changed = false;
      for (std::size_t i = 2; i < relearn_end; i++)
        changed |= (fds[i].revents & POLLIN) != 0;
      if (changed) {
        report_removed_interfaces();
        relearning.process(sync, now);
      }
      // A qdisc or ingress filter changed: entries whose hook differs now
      // are rewritten (the walk skips those still right), counted as a
      // "qdisc" change in status.
      if ((fds[1].revents & POLLIN) && tc_hooks->refresh())
        relearning.qdisc_changed(sync, now);
      if (fds[0].revents & POLLIN) {
        auto res = listener.read([this](const CtParseResult &r) { on_ct_message(r); });
        if (res == CtListener::ReadResult::Overrun)
          handle_overrun();
      }
      now = monotonic_ns();
      // Keepalive walks the table a chunk per iteration, so events and
      // route changes are served in between even on a huge table.
      if (pacing.pass_due(now)) {
        pacing.begin_pass(now, refresh_timeouts());
        // A hit from here on is stamped no earlier than the pass start.
        fast_path.publish_clock(now);
        sync.keepalive_begin(now);
        cursor = FlowTable::Cursor{};
      }
      if (pacing.in_pass()) {
        std::uint64_t t0 = monotonic_ns();
        std::uint64_t pass_started = pacing.pass_started();
        bool more = table.for_each_chunk(cursor, pacing.chunk_entries(),
                                         [&](const xf_flow_key &k, const xf_flow_value &v) {
                                           sync.keepalive_visit(k, v);
                                           relearning.visit(k, v, pass_started);
                                         });
        if (!more) {
          sync.keepalive_finish();
          relearning.pass_finished(monotonic_ns());
        }
        pacing.chunk_walked(monotonic_ns() - t0, more);
      }
      // Flows waiting for a neighbour: retried on neighbour events above,
      // and once a second in case resolution completed without one.
      if (pacing.retry_now(now)) {
        sync.retry_pending(now);
        relearning.publish(sync);
      }
      // Flows that left the table idle come back only through what conntrack
      // tells: established TCP/UDP streams send no event when their packets
      // (on the kernel path now) push the timeout back, so look at a dump
      // (for the idle ones only: no table access for the others).
      // The same dump hands FlowSync the connections present at start
      // that were not assured then: they may never send an event.
      const bool idle = sync.stats().flows_idle, stragglers = unreported.watching(now);
      if (pacing.idle_check_now(now) && (idle || stragglers))
        dump([this, idle, stragglers](const CtParseResult &r) {
          if (r.status != CtParseStatus::Ok)
            return;
          if (idle)
            sync.recheck_idle(r.event, monotonic_ns());
          if (stragglers && unreported.take(r.event))
            on_ct_message(r);
        });
      if (std::size_t left = unreported.expire(now))
        log_line(std::to_string(left) +
                 " connections present at start were not reported assured within 2 minutes; "
                 "they stay on the kernel path");
      writer.flush();
      publish();
    }
    log_line("control plane stopping: " + std::to_string(sync.stats().flows_offloaded) +
             " connections offloaded");
  }

  void add_interface(const ControlPlaneConfig::Interface &i) {
    relearning.add_interface(i.ifindex, i.redirect_target);
    config.interfaces.push_back(i);
    removed_ifindexes.erase(i.ifindex); // an ifindex the kernel gave again
    sync.set_redirect_target(i.ifindex, i.redirect_target);
    sync.retry_pending(monotonic_ns());
  }

  void remove_interface(std::uint32_t ifindex) {
    relearning.remove_interface(ifindex);
    sync.set_redirect_target(ifindex, false);
    config.interfaces.erase(std::remove_if(config.interfaces.begin(), config.interfaces.end(),
                                           [&](const ControlPlaneConfig::Interface &i) {
                                             return i.ifindex == ifindex;
                                           }),
                            config.interfaces.end());
    // Placed anew: a connection through it is no longer allowed there.
    sync.reresolve_all(monotonic_ns());
  }

  ControlPlaneConfig config;
  std::vector<std::pair<int, std::function<void()>>> watches;
  FastPath &fast_path;
  TcHooks *tc_hooks = nullptr;
  std::set<std::uint32_t> removed_ifindexes; // attached interfaces deleted meanwhile
  BpfFlowTable table;
  NetlinkConntrackWriter writer;
  Relearning relearning;
  CtListener listener;
  FlowSync sync;
  UnreportedAtStart unreported;
  xf_status status{};
  long drops_seen = 0;
  // The keepalive pass's position in the table (core/loop_pacing.h paces it).
  FlowTable::Cursor cursor;
};

ControlPlane::ControlPlane(const ControlPlaneConfig &config, FastPath &fast_path)
    : impl_(new Impl(config, fast_path)) {}

ControlPlane::~ControlPlane() {
  delete impl_;
}

void ControlPlane::follow_tc(TcHooks &hooks) {
  impl_->tc_hooks = &hooks;
  impl_->sync.set_direction_policy(&hooks);
}

void ControlPlane::add_interface(const ControlPlaneConfig::Interface &i) {
  impl_->add_interface(i);
}

void ControlPlane::remove_interface(std::uint32_t ifindex) {
  impl_->remove_interface(ifindex);
}

void ControlPlane::watch(int fd, std::function<void()> on_readable) {
  impl_->watches.emplace_back(fd, std::move(on_readable));
}

void ControlPlane::run(const std::atomic<bool> &stop, const std::function<void()> &on_synced) {
  impl_->run(stop, on_synced);
}

} // namespace xdpflow
