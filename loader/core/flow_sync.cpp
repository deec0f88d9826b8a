#include "core/flow_sync.h"

#include <algorithm>
#include <cstring>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
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

constexpr std::uint64_t sec_ns = 1'000'000'000ull;
// Conntrack counts in seconds and both clocks are coarse: an idle
// connection's expiry moved by more than this means renewed activity.
constexpr std::uint64_t idle_slack_sec = 3;

void keep_counters(xf_flow_value &to, const xf_flow_value &from) {
  to.packets = from.packets;
  to.bytes = from.bytes;
  to.last_seen_ns = from.last_seen_ns;
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
  s.flows_pending = pending_.size();
  s.flows_idle = idle_.size();
  return s;
}

void FlowSync::set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec) {
  config_.tcp_timeout_sec = tcp_sec;
  config_.udp_timeout_sec = udp_sec;
}

std::uint32_t FlowSync::timeout_sec(std::uint8_t proto) const {
  return proto == IPPROTO_TCP ? config_.tcp_timeout_sec : config_.udp_timeout_sec;
}

// How long an active connection may go without a refresh: the configured
// interval, but never more than a third of conntrack's timeout.
std::uint64_t FlowSync::window_ns(std::uint8_t proto) const {
  return std::min<std::uint64_t>(config_.keepalive_interval_ns, timeout_sec(proto) * sec_ns / 3);
}

std::uint32_t FlowSync::direction_flags(const xf_flow_key &key,
                                        const xf_flow_action &action) const {
  if (!policy_)
    return 0;
  // Anything but XDP: the XDP program (if the ingress has one) passes it on,
  // to the TC program beside it or, where there is none, to the kernel.
  return policy_->decide(key.ifindex, action.egress_ifindex).hook == DirectionHook::Xdp
             ? 0
             : XF_FLOW_TC_ONLY;
}

bool FlowSync::allowed(const std::optional<Egress> &eg) const {
  return eg && config_.redirect_ifindexes.count(eg->ifindex);
}

std::optional<xf_flow_key> FlowSync::original_key(const FlowTuple &orig) {
  // The original direction arrives where the reply leaves.
  auto eg_reply = egress_.resolve(reversed(orig));
  if (!eg_reply)
    return std::nullopt;
  return make_flow_key(eg_reply->ifindex, eg_reply->encap, orig);
}

SyncOutcome FlowSync::handle(const CtEvent &ev, std::uint64_t now_ns) {
  if (ev.type == CtEventType::Destroy)
    return handle_destroy(ev);

  // What we remember of it, if anything. A record of another conntrack
  // entry with the same tuple is stale (its DESTROY was lost).
  auto pit = pending_.empty() ? pending_.end() : pending_.find(ev.orig);
  if (pit != pending_.end() && !same_connection(pit->second.ct_id, ev.id)) {
    pending_.erase(pit);
    pit = pending_.end();
  }
  std::uint64_t hash = 0;
  const IdleFlows::Record *idle = nullptr;
  if (idle_.size()) {
    hash = tuple_hash(ev.orig);
    idle = idle_.find(hash);
    if (idle && !same_connection(idle->ct_id, ev.id)) {
      idle_.erase(hash);
      idle = nullptr;
    }
  }

  // Events carry CTA_PROTOINFO only when it changed: keep the state we know.
  // Only established TCP is offloaded, so one idle or in the table is
  // ESTABLISHED.
  std::optional<std::uint8_t> tcp_state = ev.tcp_state;
  std::optional<KnownEntry> in_table; // its original entry, when read to learn that
  std::optional<xf_flow_key> okey;
  if (!tcp_state && ev.orig.proto == IPPROTO_TCP) {
    if (pit != pending_.end())
      tcp_state = pit->second.tcp_state;
    else if (idle)
      tcp_state = TCP_CONNTRACK_ESTABLISHED;
    else if ((okey = original_key(ev.orig))) {
      auto v = table_.lookup(*okey);
      if (v && belongs_to(*v, XF_DIR_ORIGINAL, ev.id)) {
        tcp_state = TCP_CONNTRACK_ESTABLISHED;
        in_table = KnownEntry{*okey, *v};
      }
    }
  }
  const char *why = nullptr;
  if (tcp_state == ev.tcp_state) {
    why = why_not_offloadable(ev, config_);
  } else {
    CtEvent merged = ev;
    merged.tcp_state = tcp_state;
    why = why_not_offloadable(merged, config_);
  }

  if (why) {
    bool removed = false;
    if (pit != pending_.end()) {
      pending_.erase(pit);
      removed = true;
    }
    if (idle) {
      idle_.erase(hash);
      removed = true;
    }
    // An entry at its original key is its own or a dead connection's (the
    // live one with this tuple is this one): either way it goes.
    if (ev.orig.proto == IPPROTO_TCP || ev.orig.proto == IPPROTO_UDP) {
      if (!okey)
        okey = original_key(ev.orig);
      if (okey && remove_at(*okey, ev.id, /*require_id=*/false))
        removed = true;
    }
    if (!removed)
      return SyncOutcome::NotOffloadable;
    logv("remove " + to_string(ev.orig) + ": " + why);
    return SyncOutcome::Removed;
  }

  if (resyncing_)
    confirmed_.push_back(tuple_hash(ev.orig));
  Pending conn{ev.reply, ev.id, tcp_state};
  if (pit != pending_.end()) {
    conn.rejected_counted = pit->second.rejected_counted;
    conn.logged = pit->second.logged;
  }
  if (idle) {
    // Our refresh at its removal set conntrack's expiry to expires_sec; only
    // a packet conntrack saw since then moves it: later (the full timeout
    // from that packet), or earlier: TCP gets the much shorter
    // unacknowledged-data (300 s) or retransmission timeout while data is
    // in flight, which is when a dump is most likely to catch a connection
    // that came back sending.
    if (!ev.timeout)
      return SyncOutcome::Idle;
    std::uint64_t expiry = now_ns / sec_ns + *ev.timeout;
    if (expiry + idle_slack_sec >= idle->expires_sec &&
        expiry <= idle->expires_sec + idle_slack_sec)
      return SyncOutcome::Idle;
    logv("active again " + to_string(ev.orig));
    idle_.erase(hash);
  } else if (pit == pending_.end() && !in_table_.empty() &&
             std::binary_search(in_table_.begin(), in_table_.end(),
                                snapshot_key(tuple_hash(ev.orig), ev.id, XF_DIR_ORIGINAL)) &&
             std::binary_search(in_table_.begin(), in_table_.end(),
                                snapshot_key(tuple_hash(ev.orig), ev.id, XF_DIR_REPLY))) {
    // Both entries were in the table when the resync began, with this
    // conntrack id: lost events cannot have changed them (tuples and NAT are
    // fixed for a conntrack entry; egress changes come through
    // reresolve_all), so no syscall for the bulk of a resync dump.
    return SyncOutcome::Unchanged;
  }
  // An update (an event or a resync's dump entry) is mostly about a
  // connection already offloaded: our own BE_LIBERAL and timeout refreshes
  // come back as updates. A new one, or the first dump, inserts directly.
  bool likely_in_table = ev.type == CtEventType::Update && stats_.flows_offloaded > 0;
  return place(ev.orig, conn, now_ns, in_table, likely_in_table);
}

SyncOutcome FlowSync::recheck_idle(const CtEvent &ev, std::uint64_t now_ns) {
  if (ev.type == CtEventType::Destroy || !idle_.find(tuple_hash(ev.orig)))
    return SyncOutcome::Ignored;
  return handle(ev, now_ns);
}

SyncOutcome FlowSync::handle_destroy(const CtEvent &ev) {
  bool removed = false;
  if (!pending_.empty()) {
    auto it = pending_.find(ev.orig);
    if (it != pending_.end() && same_connection(it->second.ct_id, ev.id)) {
      pending_.erase(it);
      removed = true;
    }
  }
  if (idle_.size()) {
    std::uint64_t hash = tuple_hash(ev.orig);
    const auto *rec = idle_.find(hash);
    if (rec && same_connection(rec->ct_id, ev.id)) {
      idle_.erase(hash);
      removed = true;
    }
  }
  // (Not skipped for a DESTROY without IPS_ASSURED: one lookup, and the
  // status bits are the message's word, not the table's.)
  bool maybe_offloaded = ev.orig.proto == IPPROTO_TCP || ev.orig.proto == IPPROTO_UDP;
  if (maybe_offloaded) {
    // The ids must match: a late DESTROY of an older entry with the same
    // tuple must not remove its successor.
    if (auto key = original_key(ev.orig)) {
      removed = remove_at(*key, ev.id, /*require_id=*/true) || removed;
    } else {
      // No route back to its source any more: its entry can be on any
      // attached interface.
      for (std::uint32_t ifindex : config_.redirect_ifindexes)
        if (remove_at(make_flow_key(ifindex, xf_encap{}, ev.orig), ev.id, true)) {
          removed = true;
          break;
        }
    }
  }
  if (!removed)
    return SyncOutcome::Ignored;
  logv("remove " + to_string(ev.orig) + ": destroyed");
  return SyncOutcome::Removed;
}

bool FlowSync::remove_at(const xf_flow_key &key, std::uint32_t ct_id, bool require_id) {
  auto v = table_.lookup(key);
  if (!v || v->action.direction != XF_DIR_ORIGINAL)
    return false;
  if (!same_connection(v->ct_id, ct_id)) {
    if (require_id)
      return false;
    logv("remove a stale connection's entries (lost DESTROY)");
    stats_.evicted_stale++;
  }
  return remove_pair(key, *v);
}

// The partner of the entry (key, value), when it really is: the other
// direction of the same connection, naming key as its own partner.
std::optional<xf_flow_key> FlowSync::partner_of(const xf_flow_key &key, const xf_flow_value &value,
                                                std::optional<xf_flow_value> *partner_value) {
  xf_flow_key pk = partner_key(key, value.action);
  auto p = table_.lookup(pk);
  if (!p || p->action.direction == value.action.direction ||
      !same_connection(p->ct_id, value.ct_id) || !same_key(partner_key(pk, p->action), key))
    return std::nullopt;
  if (partner_value)
    *partner_value = p;
  return pk;
}

bool FlowSync::remove_pair(const xf_flow_key &key, const xf_flow_value &value) {
  auto pk = partner_of(key, value);
  if (!table_.remove(key))
    return false;
  table_full_ = false;
  if (pk && table_.remove(*pk)) {
    stats_.flows_offloaded--;
    stats_.removals_total++;
  }
  return true;
}

// Conntrack keeps both tuples of every live entry unique, so another
// connection owning one of a new connection's keys is dead and its DESTROY
// was lost (e.g. masquerade reused the port before the resync). Its partner
// goes too, or a late removal or re-resolve of it could touch the live
// connection's entries. An event for it later re-offloads it (then the
// other one was the dead one).
void FlowSync::evict(const xf_flow_key &key, const xf_flow_value &value) {
  logv("evict a stale connection whose table key a new connection reuses (lost DESTROY)");
  stats_.evicted_stale++;
  table_full_ = false;
  if (auto pk = partner_of(key, value); pk && table_.remove(*pk)) {
    stats_.flows_offloaded--;
    stats_.removals_total++;
  }
}

SyncOutcome FlowSync::place(const FlowTuple &orig, const Pending &conn, std::uint64_t now_ns,
                            const std::optional<KnownEntry> &existing_orig, bool likely_in_table) {
  // A packet leaving in one direction looks like the other direction's tuple
  // reversed: conntrack's reply tuple is what the reply looks like on the
  // wire, so the original direction leaves as reversed(reply).
  auto eg_orig = egress_.resolve_direction(orig, reversed(conn.reply));
  auto eg_reply = egress_.resolve_direction(conn.reply, reversed(orig));
  if (!allowed(eg_orig) || !allowed(eg_reply)) {
    // Entries of an egress that went away leave: found where the caller
    // read them, or at the original key if that is still known.
    bool removed = existing_orig && remove_at(existing_orig->key, conn.ct_id, false);
    if (eg_reply) {
      xf_flow_key k = make_flow_key(eg_reply->ifindex, eg_reply->encap, orig);
      if (!existing_orig || !same_key(k, existing_orig->key))
        removed = remove_at(k, conn.ct_id, /*require_id=*/false) || removed;
    }
    Pending &rec = pending_[orig];
    bool logged = rec.logged;
    rec = conn;
    if (!logged)
      logv("pending " + to_string(orig) + ": egress unresolved or not an attached interface");
    rec.logged = true;
    if (removed) {
      logv("remove " + to_string(orig) + ": egress no longer resolved or not attached");
      return SyncOutcome::Removed;
    }
    return SyncOutcome::Unresolved;
  }

  FlowEntries e = make_flow_entries(orig, conn.reply, *eg_orig, *eg_reply);
  SyncOutcome o = write_entries(e, conn.ct_id, now_ns, existing_orig, likely_in_table);
  if (o == SyncOutcome::RejectedFull)
    return reject_full(orig, conn);
  if (!pending_.empty())
    pending_.erase(orig);
  full_logged_ = false;
  if (o == SyncOutcome::Offloaded) {
    // Conntrack will not see the offloaded segments; without BE_LIBERAL its
    // window tracking would judge the final FIN out of window.
    if (orig.proto == IPPROTO_TCP)
      ct_.update(CtUpdate{orig, std::nullopt, true});
    logv("offload " + to_string(orig) + " -> ifindex " + std::to_string(eg_orig->ifindex) +
         ", reply -> ifindex " + std::to_string(eg_reply->ifindex));
  } else if (o == SyncOutcome::Updated) {
    logv("update " + to_string(orig) + ": egress " + std::to_string(eg_orig->ifindex) + "/" +
         std::to_string(eg_reply->ifindex));
  }
  return o;
}

SyncOutcome FlowSync::reject_full(const FlowTuple &orig, const Pending &conn) {
  Pending &rec = pending_[orig];
  bool counted = rec.rejected_counted || conn.rejected_counted;
  rec = conn;
  rec.rejected_counted = true;
  if (!counted)
    stats_.rejected_full++;
  table_full_ = true;
  if (!full_logged_) {
    full_logged_ = true;
    log("flow table full (" + std::to_string(table_.capacity()) +
        " entries): new flows stay on the kernel path");
  }
  return SyncOutcome::RejectedFull;
}

// Takes key for value: inserted if absent (one syscall, the common case);
// if present and the same connection's entry of that direction, returns it
// untouched (Own) for the caller to compare; if another connection's,
// evicts that one and overwrites.
FlowSync::Claim FlowSync::claim(const xf_flow_key &key, const xf_flow_value &value,
                                bool expect_existing) {
  std::optional<xf_flow_value> old;
  if (expect_existing)
    old = table_.lookup(key);
  if (!old) {
    switch (table_.insert(key, value)) {
    case FlowTable::Insert::Inserted:
      return {Claim::Fresh, {}};
    case FlowTable::Insert::Full:
      return {Claim::Full, {}};
    case FlowTable::Insert::Exists:
      old = table_.lookup(key);
      break;
    }
  }
  if (old && belongs_to(*old, value.action.direction, value.ct_id))
    return {Claim::Own, *old};
  if (old)
    evict(key, *old);
  table_.upsert(key, value); // replaces an entry: never refused
  return {Claim::Fresh, {}};
}

// Rewrites the connection's own entry when its action (or id) changed,
// keeping the counters so keepalive and `xdpflow flows` see continuity.
bool FlowSync::rewrite(const xf_flow_key &key, xf_flow_value value, const xf_flow_value &old) {
  if (same_action(old.action, value.action) && old.ct_id == value.ct_id && old.flags == value.flags)
    return false;
  keep_counters(value, old);
  table_.upsert(key, value);
  return true;
}

// Makes the table hold exactly e for the connection: Offloaded (new),
// Updated, Unchanged or RejectedFull (nothing of it left in the table).
SyncOutcome FlowSync::write_entries(const FlowEntries &e, std::uint32_t ct_id, std::uint64_t now_ns,
                                    const std::optional<KnownEntry> &existing_orig,
                                    bool likely_in_table) {
  const xf_flow_key &k0 = e.keys[XF_DIR_ORIGINAL], &k1 = e.keys[XF_DIR_REPLY];
  xf_flow_value v[2]{};
  for (int d = 0; d < 2; d++) {
    v[d].action = e.actions[d];
    v[d].ct_id = ct_id;
    v[d].flags = direction_flags(e.keys[d], e.actions[d]);
    // Not idle from the start; packets == 0 tells keepalive it was never hit.
    v[d].last_seen_ns = now_ns;
  }

  bool counted = false; // the connection already had its pair in the table
  bool changed = false;
  if (existing_orig && !same_key(existing_orig->key, k0) &&
      belongs_to(existing_orig->value, XF_DIR_ORIGINAL, ct_id)) {
    // Its original entry moves (the reply's route changed): the old pair
    // leaves, its counters go with it.
    counted = changed = true;
    keep_counters(v[0], existing_orig->value);
    xf_flow_key old_k1 = partner_key(existing_orig->key, existing_orig->value.action);
    table_.remove(existing_orig->key);
    if (!same_key(old_k1, k1)) {
      auto p = table_.lookup(old_k1);
      if (p && belongs_to(*p, XF_DIR_REPLY, ct_id)) {
        keep_counters(v[1], *p);
        table_.remove(old_k1);
      }
    }
  }
  Claim c0 = existing_orig && same_key(existing_orig->key, k0) &&
                     belongs_to(existing_orig->value, XF_DIR_ORIGINAL, ct_id)
                 ? Claim{Claim::Own, existing_orig->value}
                 : claim(k0, v[0], likely_in_table);
  if (c0.kind == Claim::Full) {
    if (counted) { // its old pair has left above
      stats_.flows_offloaded--;
      stats_.removals_total++;
    }
    return SyncOutcome::RejectedFull;
  }
  std::optional<xf_flow_key> old_k1;
  if (c0.kind == Claim::Own) {
    counted = true;
    old_k1 = partner_key(k0, c0.old.action);
    changed = rewrite(k0, v[0], c0.old);
  }
  bool k1_expected = old_k1 && same_key(*old_k1, k1);
  if (old_k1 && !k1_expected) {
    // The reply arrives elsewhere now (the original direction's route
    // changed): its entry moves, with its counters.
    auto moved = table_.lookup(*old_k1);
    if (moved && belongs_to(*moved, XF_DIR_REPLY, ct_id)) {
      keep_counters(v[1], *moved);
      table_.remove(*old_k1);
    }
    changed = true;
  }
  Claim c1 = claim(k1, v[1], k1_expected);
  if (c1.kind == Claim::Full) {
    table_.remove(k0);
    if (counted) {
      stats_.flows_offloaded--;
      stats_.removals_total++;
    }
    return SyncOutcome::RejectedFull;
  }
  if (c1.kind == Claim::Own) {
    // Its reply entry: if its original entry was elsewhere (the reply's
    // route changed), that one goes.
    xf_flow_key old_k0 = partner_key(k1, c1.old.action);
    if (!same_key(old_k0, k0)) {
      auto stale = table_.lookup(old_k0);
      if (stale && belongs_to(*stale, XF_DIR_ORIGINAL, ct_id))
        table_.remove(old_k0);
      changed = true;
    }
    counted = true;
    changed = rewrite(k1, v[1], c1.old) || changed;
  } else if (counted) {
    changed = true; // its reply entry was written anew
  }
  if (!counted) {
    stats_.flows_offloaded++;
    stats_.offloads_total++;
    return SyncOutcome::Offloaded;
  }
  return changed ? SyncOutcome::Updated : SyncOutcome::Unchanged;
}

void FlowSync::retry_pending(std::uint64_t now_ns) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    // Connections refused for a full table wait until something leaves it.
    if (it->second.rejected_counted && table_full_) {
      ++it;
      continue;
    }
    FlowTuple orig = it->first;
    Pending conn = it->second;
    ++it; // place() may erase this record (never inserts another one)
    place(orig, conn, now_ns);
  }
}

} // namespace xdpflow
