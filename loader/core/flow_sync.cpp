#include "core/flow_sync.h"

#include <algorithm>
#include <cstring>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <string_view>
#include <vector>

namespace xdpflow {

const char *to_string(SyncOutcome o) {
  switch (o) {
  case SyncOutcome::Offloaded:
    return "offloaded";
  case SyncOutcome::Updated:
    return "updated";
  case SyncOutcome::Unchanged:
    return "unchanged";
  case SyncOutcome::Removed:
    return "removed";
  case SyncOutcome::NotOffloadable:
    return "not offloadable";
  case SyncOutcome::Unresolved:
    return "egress unresolved";
  case SyncOutcome::RejectedFull:
    return "rejected (table full)";
  case SyncOutcome::Ignored:
    return "ignored";
  case SyncOutcome::Idle:
    return "idle";
  }
  return "?";
}

const char *why_not_offloadable(const CtEvent &ev, const FlowSyncConfig &config) {
  if (ev.orig.proto != IPPROTO_TCP && ev.orig.proto != IPPROTO_UDP)
    return "protocol not handled by the data path";
  if (ev.has_helper)
    return "conntrack helper";
  if (ev.has_master)
    return "expected connection (has a master)";
  if (ev.zone != 0)
    return "conntrack zone";
  if (config.exclude_mask && (ev.mark & config.exclude_mask) == config.exclude_mark)
    return "excluded mark";
  if (!ev.has_status || !(ev.status & IPS_ASSURED))
    return "not assured";
  if (ev.status & IPS_DYING)
    return "dying";
  if (ev.orig.proto == IPPROTO_TCP && (!ev.tcp_state || *ev.tcp_state != TCP_CONNTRACK_ESTABLISHED))
    return "TCP not established";
  return nullptr;
}

namespace {

xf_flow_action make_action(const FlowTuple &in, const FlowTuple &out, const Egress &eg,
                           std::uint8_t direction) {
  xf_flow_action a{};
  a.egress_ifindex = eg.ifindex;
  a.mtu = eg.mtu;
  a.direction = direction;
  a.encap = eg.encap;
  std::memcpy(a.src_mac, eg.src_mac.data(), 6);
  std::memcpy(a.dst_mac, eg.dst_mac.data(), 6);
  if (out.src != in.src) {
    a.nat |= XF_NAT_SRC_ADDR;
    out.src.to_words(a.new_src);
  }
  if (out.dst != in.dst) {
    a.nat |= XF_NAT_DST_ADDR;
    out.dst.to_words(a.new_dst);
  }
  if (out.sport != in.sport) {
    a.nat |= XF_NAT_SRC_PORT;
    a.new_sport = htons(out.sport);
  }
  if (out.dport != in.dport) {
    a.nat |= XF_NAT_DST_PORT;
    a.new_dport = htons(out.dport);
  }
  return a;
}

bool same(const void *a, const void *b, std::size_t n) {
  return std::memcmp(a, b, n) == 0;
}

} // namespace

FlowSync::FlowSync(FlowSyncConfig config, FlowTable &table, EgressLookup &egress,
                   ConntrackWriter &ct, Logger log)
    : config_(std::move(config)), table_(table), egress_(egress), ct_(ct), log_(std::move(log)) {}

void FlowSync::log(const std::string &line) const {
  if (log_)
    log_(line);
}
void FlowSync::logv(const std::string &line) const {
  if (config_.verbose > 0)
    log(line);
}

FlowSyncStats FlowSync::stats() const {
  FlowSyncStats s = stats_;
  s.flows_pending = flows_.size() - stats_.flows_offloaded - stats_.flows_idle;
  return s;
}

void FlowSync::set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec) {
  config_.tcp_timeout_sec = tcp_sec;
  config_.udp_timeout_sec = udp_sec;
}

SyncOutcome FlowSync::handle(const CtEvent &ev, std::uint64_t now_ns) {
  auto it = flows_.find(ev.orig);
  if (ev.type == CtEventType::Destroy) {
    if (it == flows_.end())
      return SyncOutcome::Ignored;
    // A DESTROY of an older entry with the same tuple (ids differ) must not
    // remove its successor.
    if (ev.id && it->second.ct_id && ev.id != it->second.ct_id)
      return SyncOutcome::Ignored;
    logv("remove " + to_string(ev.orig) + ": destroyed");
    erase(it);
    return SyncOutcome::Removed;
  }

  CtEvent merged = ev;
  // Events carry CTA_PROTOINFO only when it changed: keep the state we know.
  if (!merged.tcp_state && it != flows_.end())
    merged.tcp_state = it->second.tcp_state;
  if (const char *why = why_not_offloadable(merged, config_)) {
    if (it == flows_.end())
      return SyncOutcome::NotOffloadable;
    logv("remove " + to_string(ev.orig) + ": " + why);
    erase(it);
    return SyncOutcome::Removed;
  }
  if (it == flows_.end())
    it = flows_.emplace(merged.orig, Flow{}).first;
  Flow &flow = it->second;
  flow.reply = merged.reply;
  flow.ct_id = merged.id;
  flow.tcp_state = merged.tcp_state;
  flow.generation = generation_;
  flow.superseded = false;
  std::uint64_t expires = merged.timeout ? now_ns + *merged.timeout * 1'000'000'000ull : 0;
  if (flow.idle) {
    // Conntrack pushes the timeout back only for packets it sees (or for our
    // refreshes, accounted in ct_expires_ns): a few seconds of slack for the
    // coarse clocks on both sides.
    constexpr std::uint64_t slack = 3'000'000'000ull;
    if (!expires || expires <= flow.ct_expires_ns + slack)
      return SyncOutcome::Idle;
    logv("active again " + to_string(merged.orig));
    flow.idle = false;
    stats_.flows_idle--;
  }
  if (expires)
    flow.ct_expires_ns = expires;
  return install(merged.orig, flow, now_ns);
}

// Resolves both directions and makes the table match. Keeps the counters of
// entries that stay, so keepalive and `xdpflow flows` see continuity.
SyncOutcome FlowSync::install(const FlowTuple &orig, Flow &flow, std::uint64_t now_ns) {
  const FlowTuple &reply = flow.reply;
  // A packet leaving in one direction looks like the other direction's tuple
  // reversed: conntrack's reply tuple is what the reply looks like on the
  // wire, so the original direction leaves as reversed(reply).
  FlowTuple out_orig = reversed(reply); // original direction on its way out
  FlowTuple out_reply = reversed(orig); // reply direction on its way out
  auto eg_orig = egress_.resolve(out_orig);
  auto eg_reply = eg_orig ? egress_.resolve(out_reply) : std::nullopt;
  bool allowed = eg_orig && eg_reply && config_.redirect_ifindexes.count(eg_orig->ifindex) &&
                 config_.redirect_ifindexes.count(eg_reply->ifindex);
  if (!allowed) {
    if (flow.offloaded) {
      logv("remove " + to_string(orig) + ": egress no longer resolved or not attached");
      uninstall(flow);
      return SyncOutcome::Removed;
    }
    if (!flow.pending_logged)
      logv("pending " + to_string(orig) + ": egress unresolved or not an attached interface");
    flow.pending_logged = true;
    return SyncOutcome::Unresolved;
  }

  xf_flow_key keys[2];
  xf_flow_action actions[2];
  // A packet of the original direction arrives on the interface the reply
  // leaves through, and vice versa (symmetric routing, as nf_flow_table).
  keys[XF_DIR_ORIGINAL] = make_flow_key(eg_reply->ifindex, eg_reply->encap, orig);
  keys[XF_DIR_REPLY] = make_flow_key(eg_orig->ifindex, eg_orig->encap, reply);
  actions[XF_DIR_ORIGINAL] = make_action(orig, out_orig, *eg_orig, XF_DIR_ORIGINAL);
  actions[XF_DIR_REPLY] = make_action(reply, out_reply, *eg_reply, XF_DIR_REPLY);

  if (flow.offloaded && same(keys, flow.keys, sizeof(keys)) &&
      same(actions, flow.actions, sizeof(actions)))
    return SyncOutcome::Unchanged;

  bool was_offloaded = flow.offloaded;
  xf_flow_value values[2]{};
  for (int d = 0; d < 2; d++) {
    if (was_offloaded) {
      if (auto old = table_.lookup(flow.keys[d])) {
        values[d].packets = old->packets;
        values[d].bytes = old->bytes;
        values[d].last_seen_ns = old->last_seen_ns;
      }
    }
    values[d].action = actions[d];
    values[d].generation = flow.generation;
  }
  if (was_offloaded) {
    unindex(flow);
    for (int d = 0; d < 2; d++)
      if (!same(&keys[d], &flow.keys[d], sizeof(xf_flow_key)))
        table_.remove(flow.keys[d]);
  }

  evict_owners(keys, flow);
  bool ok0 = table_.upsert(keys[0], values[0]);
  bool ok1 = ok0 && table_.upsert(keys[1], values[1]);
  if (!ok1) {
    if (ok0)
      table_.remove(keys[0]);
    if (was_offloaded) {
      // Replacing entries failed half-way: drop the old ones too.
      table_.remove(flow.keys[0]);
      table_.remove(flow.keys[1]);
      flow.offloaded = false;
      stats_.flows_offloaded--;
      stats_.removals_total++;
    }
    if (!flow.rejected_counted) {
      flow.rejected_counted = true;
      stats_.rejected_full++;
    }
    table_full_ = true;
    if (!full_logged_) {
      full_logged_ = true;
      log("flow table full (" + std::to_string(table_.capacity()) +
          " entries): new flows stay on the kernel path");
    }
    return SyncOutcome::RejectedFull;
  }
  std::memcpy(flow.keys, keys, sizeof(keys));
  std::memcpy(flow.actions, actions, sizeof(actions));
  index(flow);
  full_logged_ = false;
  if (was_offloaded) {
    logv("update " + to_string(orig) + ": egress " + std::to_string(eg_orig->ifindex) + "/" +
         std::to_string(eg_reply->ifindex));
    return SyncOutcome::Updated;
  }
  flow.offloaded = true;
  flow.pending_logged = false;
  flow.offloaded_ns = flow.last_active_ns = flow.last_refresh_ns = now_ns;
  flow.packets_seen = 0;
  flow.active_since_refresh = false;
  stats_.flows_offloaded++;
  stats_.offloads_total++;
  // Conntrack will not see the offloaded segments; without BE_LIBERAL its
  // window tracking would judge the final FIN out of window.
  if (orig.proto == IPPROTO_TCP)
    ct_.update(CtUpdate{orig, std::nullopt, true});
  logv("offload " + to_string(orig) + " -> ifindex " + std::to_string(eg_orig->ifindex) +
       ", reply -> ifindex " + std::to_string(eg_reply->ifindex));
  return SyncOutcome::Offloaded;
}

// Conntrack keeps both tuples of every live entry unique, so a known flow
// that owns one of a new flow's keys is dead and its DESTROY was lost (e.g.
// masquerade reused the port before the resync). Left alone, the new flow
// would overwrite its entry and lose it again when the dead one is removed,
// or get the dead one's NAT written over it on a re-resolve. The dead flow
// stays known only until the next resync sweeps it; an event for it revives
// it (then the other one was the dead one).
void FlowSync::evict_owners(const xf_flow_key (&keys)[2], const Flow &flow) {
  for (const auto &key : keys) {
    Flow *owner = find_by_key(key);
    if (!owner || owner == &flow)
      continue;
    logv("evict a stale flow whose table key a new connection reuses (lost DESTROY)");
    uninstall(*owner);
    owner->superseded = true;
    stats_.evicted_stale++;
  }
}

void FlowSync::uninstall(Flow &flow) {
  if (!flow.offloaded)
    return;
  unindex(flow);
  table_.remove(flow.keys[0]);
  table_.remove(flow.keys[1]);
  table_full_ = false;
  flow.offloaded = false;
  stats_.flows_offloaded--;
  stats_.removals_total++;
}

void FlowSync::erase(FlowMap::iterator it) {
  if (it->second.idle)
    stats_.flows_idle--;
  uninstall(it->second);
  flows_.erase(it);
}

void FlowSync::begin_resync() {
  generation_++;
}

std::size_t FlowSync::end_resync() {
  std::size_t removed = 0;
  for (auto it = flows_.begin(); it != flows_.end();) {
    auto next = std::next(it);
    if (it->second.generation != generation_) {
      logv("remove " + to_string(it->first) + ": not in conntrack any more (resync)");
      erase(it);
      removed++;
    }
    it = next;
  }
  // Entries no known flow owns (written by events we lost): collect first,
  // deleting while the map is being walked would disturb the walk.
  std::vector<xf_flow_key> orphans;
  table_.for_each([&](const xf_flow_key &key, const xf_flow_value &value) {
    (void)value;
    if (!find_by_key(key))
      orphans.push_back(key);
  });
  for (const auto &key : orphans)
    if (table_.remove(key))
      removed++;
  if (removed)
    table_full_ = false;
  stats_.swept += removed;
  return removed;
}

std::size_t FlowSync::KeyHash::operator()(const xf_flow_key &k) const noexcept {
  return std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char *>(&k), sizeof(k)));
}

bool FlowSync::KeyEq::operator()(const xf_flow_key &a, const xf_flow_key &b) const noexcept {
  return same(&a, &b, sizeof(a));
}

void FlowSync::index(Flow &flow) {
  by_key_[flow.keys[XF_DIR_ORIGINAL]] = &flow;
  by_key_[flow.keys[XF_DIR_REPLY]] = &flow;
}

void FlowSync::unindex(const Flow &flow) {
  for (const auto &key : flow.keys) {
    auto it = by_key_.find(key);
    if (it != by_key_.end() && it->second == &flow)
      by_key_.erase(it);
  }
}

FlowSync::Flow *FlowSync::find_by_key(const xf_flow_key &key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

void FlowSync::reresolve_all(std::uint64_t now_ns) {
  for (auto &[orig, flow] : flows_)
    if (!flow.idle && !flow.superseded)
      install(orig, flow, now_ns);
}

void FlowSync::retry_pending(std::uint64_t now_ns) {
  if (flows_.size() == stats_.flows_offloaded + stats_.flows_idle)
    return;
  for (auto &[orig, flow] : flows_) {
    // Flows refused for a full table wait until something leaves it.
    if (flow.offloaded || flow.idle || flow.superseded || (flow.rejected_counted && table_full_))
      continue;
    install(orig, flow, now_ns);
  }
}

void FlowSync::keepalive(std::uint64_t now_ns) {
  keepalive_begin();
  table_.for_each(
      [&](const xf_flow_key &key, const xf_flow_value &value) { keepalive_visit(key, value); });
  keepalive_finish(now_ns);
}

void FlowSync::keepalive_begin() {
  for (auto &[orig, flow] : flows_)
    flow.pass_packets = 0;
}

void FlowSync::keepalive_visit(const xf_flow_key &key, const xf_flow_value &value) {
  if (Flow *flow = find_by_key(key))
    flow->pass_packets += value.packets;
}

void FlowSync::keepalive_finish(std::uint64_t now_ns) {
  std::vector<FlowTuple> idle;
  for (auto &[orig, flow] : flows_) {
    if (!flow.offloaded)
      continue;
    if (flow.pass_packets != flow.packets_seen) {
      flow.packets_seen = flow.pass_packets;
      flow.last_active_ns = now_ns;
      flow.active_since_refresh = true;
    }
    if (now_ns - flow.last_active_ns >= config_.idle_timeout_ns) {
      idle.push_back(orig);
      continue;
    }
    std::uint32_t timeout =
        orig.proto == IPPROTO_TCP ? config_.tcp_timeout_sec : config_.udp_timeout_sec;
    // Refresh well before conntrack could expire the entry, even with a short
    // timeout, but not more often than the configured interval otherwise.
    std::uint64_t interval =
        std::min<std::uint64_t>(config_.keepalive_interval_ns, timeout * 1'000'000'000ull / 3);
    if (flow.active_since_refresh && now_ns - flow.last_refresh_ns >= interval) {
      ct_.update(CtUpdate{orig, timeout, false});
      flow.ct_expires_ns = now_ns + timeout * 1'000'000'000ull;
      flow.last_refresh_ns = now_ns;
      flow.active_since_refresh = false;
      stats_.keepalive_refreshes++;
    }
  }
  // Idle flows leave the table, so conntrack ages them normally; handle()
  // brings them back when conntrack shows new activity.
  for (const auto &orig : idle) {
    Flow &flow = flows_.find(orig)->second;
    logv("remove " + to_string(orig) + ": idle");
    uninstall(flow);
    flow.idle = true;
    stats_.flows_idle++;
    stats_.idle_removals++;
  }
}

} // namespace xdpflow
