#include "kernel/relearning.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <ctime>
#include <netinet/in.h>
#include <vector>

#include "core/error.h"
#include "core/flow_entry.h"
#include "core/observer_report.h"

namespace xdpflow {
namespace {

constexpr std::uint64_t ms = 1'000'000ull;
// Waiting connections listed in xf_obs_pending (`flows --pending`).
constexpr std::size_t max_published_pending = 4096;

std::uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + ts.tv_nsec;
}

} // namespace

Relearning::Relearning(const std::vector<std::uint32_t> &ifindexes,
                       std::set<std::uint32_t> redirect, std::vector<int> bind_prog_fds,
                       std::function<void(const std::string &)> log)
    : log_(std::move(log)), redirect_(std::move(redirect)),
      observed_(
          observer_, [this](std::uint32_t i) { return redirect_.count(i) > 0; },
          [this](std::uint32_t i, const IpAddr &dst) -> std::optional<std::uint32_t> {
            auto link = changes_.mtu_of(i);
            auto route = changes_.route_mtu(dst);
            if (link && route)
              return std::min(*link, *route);
            return route ? route : link;
          }) {
  // Bound to both hooks' programs: `status` finds the maps through
  // whichever of them is attached (an all-veth gateway has only TC).
  for (int prog : bind_prog_fds)
    for (int fd : {observer_.status_fd(), observer_.pending_fd()})
      if (bpf_prog_bind_map(prog, fd, nullptr))
        throw SysError(errno, "binding the observer's status maps to the fast path's programs");
  for (std::uint32_t ifindex : ifindexes)
    observer_.attach(ifindex);
}

void Relearning::add_interface(std::uint32_t ifindex, bool redirect) {
  observer_.attach(ifindex);
  if (redirect)
    redirect_.insert(ifindex);
}

void Relearning::remove_interface(std::uint32_t ifindex) {
  observer_.detach(ifindex);
  redirect_.erase(ifindex);
}

std::vector<int> Relearning::fds() const {
  return {changes_.route_fd(), changes_.nftables_fd(), observer_.events_fd()};
}

void Relearning::process(FlowSync &sync, std::uint64_t now_ns) {
  auto causes = changes_.process_events();
  for (bool c : causes)
    if (c) {
      invalidate(causes, sync, now_ns);
      break;
    }
  std::vector<FlowTuple> news;
  status_.observations += observer_.consume([&](const xf_obs_event &ev) {
    if (observed_.observe(ev))
      news.push_back(tuple_of(ev.key));
  });
  if (!news.empty())
    sync.retry_observed(news, now_ns);
}

void Relearning::expect(const CtEvent &ev) {
  if (ev.type == CtEventType::New && ev.orig.proto == IPPROTO_UDP)
    observed_.expect(ev.orig, ev.reply);
}

void Relearning::invalidate(const ChangeMonitor::Causes &causes, FlowSync &sync,
                            std::uint64_t now_ns) {
  replace_all(causes, true, sync, now_ns);
}

void Relearning::qdisc_changed(FlowSync &sync, std::uint64_t now_ns) {
  ChangeMonitor::Causes causes{};
  causes[XF_INVAL_QDISC] = true;
  replace_all(causes, false, sync, now_ns);
}

void Relearning::replace_all(const ChangeMonitor::Causes &causes, bool forget, FlowSync &sync,
                             std::uint64_t now_ns) {
  std::uint64_t t0 = monotonic_ns();
  std::uint64_t before = sync.stats().flows_offloaded;
  // Every entry is placed anew; with nothing observed it leaves the table
  // and its connection waits for its next packets.
  if (forget)
    observed_.forget_all();
  sync.reresolve_all(now_ns);
  std::uint64_t after = sync.stats().flows_offloaded;
  std::uint64_t removed = before > after ? before - after : 0;
  std::string names;
  int first = -1;
  for (int c = 0; c < XF_INVAL_MAX; c++)
    if (causes[c]) {
      status_.invalidations[c]++;
      if (first < 0)
        first = c;
      names += std::string(names.empty() ? "" : ", ") + invalidation_key(c);
    }
  // A removal is counted once, under the first cause of the batch.
  status_.removed[first] += removed;
  status_.last_invalidation_ns = now_ns;
  status_.last_invalidation_cost_ns = monotonic_ns() - t0;
  if (removed)
    log_(names + " changed: " + std::to_string(removed) +
         " connections left the table to be learned again from the kernel's next packets (" +
         std::to_string(status_.last_invalidation_cost_ns / 1000) + " us)");
}

void Relearning::visit(const xf_flow_key &key, const xf_flow_value &value,
                       std::uint64_t pass_start_ns) {
  observed_.mark_in_use(tuple_of(key), translated_tuple(key, value.action));
  // Hit during the last few seconds: its next hop must stay fresh.
  if (value.packets && value.last_seen_ns + 5000 * ms > pass_start_ns) {
    Mac mac;
    std::copy(value.action.dst_mac, value.action.dst_mac + 6, mac.begin());
    macs_in_use_.insert(mac);
  }
}

void Relearning::pass_finished(std::uint64_t now_ns) {
  // At least every other second: every entry has been visited since the
  // last sweep and every waiting connection retried (once a second).
  if (now_ns < last_sweep_ns_ + 2000 * ms)
    return;
  last_sweep_ns_ = now_ns;
  observed_.sweep();
  status_.neigh_refreshes += changes_.refresh_stale(macs_in_use_);
  macs_in_use_.clear();
}

void Relearning::publish(const FlowSync &sync) {
  for (auto &w : status_.waiting)
    w = 0;
  std::size_t n = 0;
  int pending_fd = observer_.pending_fd();
  // Few connections wait (normally none for long): rewritten whole.
  if (published_pending_) {
    xf_obs_key key{}, next{};
    std::vector<xf_obs_key> keys;
    const void *prev = nullptr;
    while (!bpf_map_get_next_key(pending_fd, prev, &next)) {
      keys.push_back(next);
      key = next;
      prev = &key;
    }
    for (const auto &k : keys)
      bpf_map_delete_elem(pending_fd, &k);
  }
  sync.for_each_pending(
      [&](const FlowTuple &orig, const FlowTuple &reply, std::uint32_t ct_id, bool table_full) {
        xf_pending p{};
        p.reply = make_obs_key(reply, XF_OBS_EGRESS);
        p.ct_id = ct_id;
        if (table_full) {
          p.reason = XF_WAIT_TABLE_FULL;
        } else {
          // The direction that waits: the original first.
          Verdict v = observed_.judge(orig, reversed(reply));
          p.direction = XF_DIR_ORIGINAL;
          if (v.ok()) {
            v = observed_.judge(reply, reversed(orig));
            p.direction = XF_DIR_REPLY;
          }
          p.reason =
              v.ok() ? std::uint8_t{XF_WAIT_NOT_OBSERVED} : v.reason; // ok both: about to be placed
          p.detail = v.detail;
        }
        status_.waiting[p.reason]++;
        // Listed for `flows --pending` up to a bound, counted all: after an
        // invalidation with 100 k connections offloaded, all of them wait,
        // and two syscalls each every second would slow their re-learning.
        xf_obs_key k = make_obs_key(orig, XF_OBS_EGRESS);
        if (n < max_published_pending && !bpf_map_update_elem(pending_fd, &k, &p, BPF_ANY))
          n++;
      });
  published_pending_ = n;
  __u32 zero = 0;
  if (bpf_map_update_elem(observer_.status_fd(), &zero, &status_, BPF_ANY))
    throw SysError(errno, "publishing the observer's status");
}

} // namespace xdpflow
