#include "core/entry_pair_writer.h"

namespace xdpflow {

namespace {

void keep_counters(xf_flow_value &to, const xf_flow_value &from) {
  to.packets = from.packets;
  to.bytes = from.bytes;
  to.last_seen_ns = from.last_seen_ns;
}

} // namespace

EntryPairWriter::EntryPairWriter(FlowTable &table, Log logv)
    : table_(table), logv_(logv ? std::move(logv) : [](const std::string &) {}) {}

std::uint32_t EntryPairWriter::flags_for(const xf_flow_key &key,
                                         const xf_flow_action &action) const {
  if (!policy_)
    return 0;
  // Anything but XDP: the XDP program (if the ingress has one) passes it on,
  // to the TC program beside it or, where there is none, to the kernel.
  return policy_->decide(key.ifindex, action.egress_ifindex).hook == DirectionHook::Xdp
             ? 0
             : XF_FLOW_TC_ONLY;
}

void EntryPairWriter::connection_left() {
  counts_.flows_offloaded--;
  counts_.removals_total++;
}

void EntryPairWriter::resynced(std::uint64_t flows_offloaded, std::size_t removed) {
  counts_.flows_offloaded = flows_offloaded;
  counts_.removals_total += removed;
  if (removed)
    table_full_ = false;
}

bool EntryPairWriter::remove_at(const xf_flow_key &key, std::uint32_t ct_id, bool require_id) {
  auto v = table_.lookup(key);
  if (!v || v->action.direction != XF_DIR_ORIGINAL)
    return false;
  if (!same_connection(v->ct_id, ct_id)) {
    if (require_id)
      return false;
    logv_("remove a stale connection's entries (lost DESTROY)");
    counts_.evicted_stale++;
  }
  return remove_pair(key, *v);
}

std::optional<xf_flow_key>
EntryPairWriter::partner_of(const xf_flow_key &key, const xf_flow_value &value,
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

bool EntryPairWriter::remove_pair(const xf_flow_key &key, const xf_flow_value &value) {
  return remove_entries(key, partner_of(key, value)) != Removal::None;
}

EntryPairWriter::Removal
EntryPairWriter::remove_entries(const xf_flow_key &key, const std::optional<xf_flow_key> &partner) {
  if (!table_.remove(key))
    return Removal::None; // e.g. a walk's copy of an entry removed as its partner's partner
  table_full_ = false;
  if (!partner || !table_.remove(*partner))
    return Removal::EntryOnly; // an entry without its partner: never counted
  connection_left();
  return Removal::Pair;
}

// Conntrack keeps both tuples of every live entry unique, so another
// connection owning one of a new connection's keys is dead and its DESTROY
// was lost (e.g. masquerade reused the port before the resync). Its partner
// goes too, or a late removal or re-resolve of it could touch the live
// connection's entries. An event for it later re-offloads it (then the
// other one was the dead one).
void EntryPairWriter::evict(const xf_flow_key &key, const xf_flow_value &value) {
  logv_("evict a stale connection whose table key a new connection reuses (lost DESTROY)");
  counts_.evicted_stale++;
  table_full_ = false;
  if (auto pk = partner_of(key, value); pk && table_.remove(*pk))
    connection_left();
}

// Takes key for value: inserted if absent (one syscall, the common case);
// if present and the same connection's entry of that direction, returns it
// untouched (Own) for the caller to compare; if another connection's,
// evicts that one and overwrites.
EntryPairWriter::Claim EntryPairWriter::claim(const xf_flow_key &key, const xf_flow_value &value,
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
bool EntryPairWriter::rewrite(const xf_flow_key &key, xf_flow_value value,
                              const xf_flow_value &old) {
  if (same_action(old.action, value.action) && old.ct_id == value.ct_id && old.flags == value.flags)
    return false;
  keep_counters(value, old);
  table_.upsert(key, value);
  return true;
}

EntryPairWriter::Write EntryPairWriter::write(const FlowEntries &e, std::uint32_t ct_id,
                                              std::uint64_t now_ns,
                                              const std::optional<KnownEntry> &existing_orig,
                                              bool likely_in_table) {
  const xf_flow_key &k0 = e.keys[XF_DIR_ORIGINAL], &k1 = e.keys[XF_DIR_REPLY];
  xf_flow_value v[2]{};
  for (int d = 0; d < 2; d++) {
    v[d].action = e.actions[d];
    v[d].ct_id = ct_id;
    v[d].flags = flags_for(e.keys[d], e.actions[d]);
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
    if (counted) // its old pair has left above
      connection_left();
    table_full_ = true;
    return Write::Full;
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
    if (counted)
      connection_left();
    table_full_ = true;
    return Write::Full;
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
    counts_.flows_offloaded++;
    counts_.offloads_total++;
    return Write::Offloaded;
  }
  return changed ? Write::Updated : Write::Unchanged;
}

} // namespace xdpflow
