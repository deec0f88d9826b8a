#include "core/flow_sync.h"

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>

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

} // namespace

FlowSync::FlowSync(FlowSyncConfig config, FlowTable &table, EgressLookup &egress,
                   ConntrackWriter &ct, Logger log)
    : config_(std::move(config)), table_(table), egress_(egress), ct_(ct), log_(std::move(log)),
      writer_(table, [this](const std::string &line) { logv(line); }),
      keepalive_(table, writer_, ct, idle_, config_.idle_timeout_ns, config_.keepalive_interval_ns,
                 [this](const std::string &line) { logv(line); }),
      resync_(table, [this](const std::string &line) { logv(line); }) {
  keepalive_.set_ct_timeouts(config_.tcp_timeout_sec, config_.udp_timeout_sec);
}

void FlowSync::log(const std::string &line) const {
  if (log_)
    log_(line);
}
void FlowSync::logv(const std::string &line) const {
  if (config_.verbose > 0)
    log(line);
}

FlowSyncStats FlowSync::stats() const {
  FlowSyncStats s;
  const EntryPairWriter::Counts &c = writer_.counts();
  s.offloads_total = c.offloads_total;
  s.removals_total = c.removals_total;
  s.rejected_full = rejected_full_;
  s.keepalive_refreshes = keepalive_.refreshes();
  s.idle_removals = keepalive_.idle_removals();
  s.flows_offloaded = c.flows_offloaded;
  s.evicted_stale = c.evicted_stale;
  s.swept = swept_;
  s.flows_pending = pending_.size();
  s.flows_idle = idle_.size();
  return s;
}

void FlowSync::set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec) {
  config_.tcp_timeout_sec = tcp_sec;
  config_.udp_timeout_sec = udp_sec;
  keepalive_.set_ct_timeouts(tcp_sec, udp_sec);
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
      if (okey && writer_.remove_at(*okey, ev.id, /*require_id=*/false))
        removed = true;
    }
    if (!removed)
      return SyncOutcome::NotOffloadable;
    logv("remove " + to_string(ev.orig) + ": " + why);
    return SyncOutcome::Removed;
  }

  resync_.confirm(ev.orig);
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
  } else if (pit == pending_.end() && resync_.both_entries_at_begin(ev.orig, ev.id)) {
    // Lost events cannot have changed its entries, so no syscall for the
    // bulk of a resync dump.
    return SyncOutcome::Unchanged;
  }
  // An update (an event or a resync's dump entry) is mostly about a
  // connection already offloaded: our own BE_LIBERAL and timeout refreshes
  // come back as updates. A new one, or the first dump, inserts directly.
  bool likely_in_table = ev.type == CtEventType::Update && writer_.counts().flows_offloaded > 0;
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
      removed = writer_.remove_at(*key, ev.id, /*require_id=*/true) || removed;
    } else {
      // No route back to its source any more: its entry can be on any
      // attached interface.
      for (std::uint32_t ifindex : config_.redirect_ifindexes)
        if (writer_.remove_at(make_flow_key(ifindex, xf_encap{}, ev.orig), ev.id, true)) {
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
    bool removed = existing_orig && writer_.remove_at(existing_orig->key, conn.ct_id, false);
    if (eg_reply) {
      xf_flow_key k = make_flow_key(eg_reply->ifindex, eg_reply->encap, orig);
      if (!existing_orig || !same_key(k, existing_orig->key))
        removed = writer_.remove_at(k, conn.ct_id, /*require_id=*/false) || removed;
    }
    Pending &rec = pending_[orig];
    bool logged = rec.logged;
    rec = conn;
    index_pending(orig, conn.reply);
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
  using Write = EntryPairWriter::Write;
  Write w = writer_.write(e, conn.ct_id, now_ns, existing_orig, likely_in_table);
  if (w == Write::Full)
    return reject_full(orig, conn);
  if (!pending_.empty())
    pending_.erase(orig);
  full_logged_ = false;
  if (w == Write::Offloaded) {
    // Conntrack will not see the offloaded segments; without BE_LIBERAL its
    // window tracking would judge the final FIN out of window.
    if (orig.proto == IPPROTO_TCP)
      ct_.update(CtUpdate{orig, std::nullopt, true});
    logv("offload " + to_string(orig) + " -> ifindex " + std::to_string(eg_orig->ifindex) +
         ", reply -> ifindex " + std::to_string(eg_reply->ifindex));
    return SyncOutcome::Offloaded;
  }
  if (w == Write::Updated) {
    logv("update " + to_string(orig) + ": egress " + std::to_string(eg_orig->ifindex) + "/" +
         std::to_string(eg_reply->ifindex));
    return SyncOutcome::Updated;
  }
  return SyncOutcome::Unchanged;
}

SyncOutcome FlowSync::reject_full(const FlowTuple &orig, const Pending &conn) {
  Pending &rec = pending_[orig];
  bool counted = rec.rejected_counted || conn.rejected_counted;
  rec = conn;
  index_pending(orig, conn.reply);
  rec.rejected_counted = true;
  if (!counted)
    rejected_full_++;
  if (!full_logged_) {
    full_logged_ = true;
    log("flow table full (" + std::to_string(table_.capacity()) +
        " entries): new flows stay on the kernel path");
  }
  return SyncOutcome::RejectedFull;
}

void FlowSync::retry_pending(std::uint64_t now_ns) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    // Connections refused for a full table wait until something leaves it.
    if (it->second.rejected_counted && writer_.table_full()) {
      ++it;
      continue;
    }
    FlowTuple orig = it->first;
    Pending conn = it->second;
    ++it; // place() may erase this record (never inserts another one)
    place(orig, conn, now_ns);
  }
}

void FlowSync::index_pending(const FlowTuple &orig, const FlowTuple &reply) {
  if (pending_by_reply_.size() > 2 * pending_.size() + 1024) {
    pending_by_reply_.clear();
    for (const auto &[o, p] : pending_)
      pending_by_reply_.insert_or_assign(p.reply, o);
  }
  pending_by_reply_.insert_or_assign(reply, orig);
}

void FlowSync::retry_observed(const std::vector<FlowTuple> &observed, std::uint64_t now_ns) {
  if (pending_.empty())
    return;
  if (observed.size() * 4 > pending_.size()) {
    retry_pending(now_ns);
    return;
  }
  // A direction is observed as it arrives (the original direction: orig;
  // the reply: reply) and as it leaves (the original: reversed(reply); the
  // reply: reversed(orig)).
  std::vector<FlowTuple> origs;
  for (const FlowTuple &t : observed)
    for (const FlowTuple &u : {t, reversed(t)}) {
      origs.push_back(u);
      auto r = pending_by_reply_.find(u);
      if (r != pending_by_reply_.end())
        origs.push_back(r->second);
    }
  for (const FlowTuple &orig : origs) {
    auto it = pending_.find(orig);
    if (it == pending_.end() || (it->second.rejected_counted && writer_.table_full()))
      continue;
    Pending conn = it->second;
    place(orig, conn, now_ns);
  }
}

} // namespace xdpflow
