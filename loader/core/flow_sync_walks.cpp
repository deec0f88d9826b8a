// FlowSync's walks over the table (core/flow_sync.h): re-resolving, and the
// keepalive pass and the resync wired to their rooms (core/keepalive_pass.h,
// core/resync.h). Each decides from the entries alone.
#include <cstring>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>

#include "core/flow_sync.h"
#include "core/table_walk.h"

namespace xdpflow {
namespace {

// The entry with this action already leaves as eg says.
bool leaves_as(const std::optional<Egress> &eg, const xf_flow_action &a) {
  return eg && eg->ifindex == a.egress_ifindex && eg->mtu == a.mtu &&
         std::memcmp(eg->src_mac.data(), a.src_mac, 6) == 0 &&
         std::memcmp(eg->dst_mac.data(), a.dst_mac, 6) == 0 &&
         std::memcmp(&eg->encap, &a.encap, sizeof(xf_encap)) == 0;
}

} // namespace

SyncOutcome FlowSync::place_from_entry(const xf_flow_key &key, const xf_flow_value &value,
                                       std::uint64_t now_ns) {
  Pending conn;
  conn.reply = reply_tuple(key, value.action);
  conn.ct_id = value.ct_id;
  // Only established TCP is offloaded.
  if (key.proto == IPPROTO_TCP)
    conn.tcp_state = TCP_CONNTRACK_ESTABLISHED;
  std::optional<KnownEntry> known;
  if (value.action.direction == XF_DIR_ORIGINAL)
    known = KnownEntry{key, value};
  return place(original_tuple(key, value.action), conn, now_ns, known);
}

SyncOutcome FlowSync::replace_in_table(const KnownEntry &o, std::uint64_t now_ns) {
  const xf_flow_action &a = o.value.action;
  Pending conn;
  conn.reply = reply_tuple(o.key, a);
  conn.ct_id = o.value.ct_id;
  if (o.key.proto == IPPROTO_TCP)
    conn.tcp_state = TCP_CONNTRACK_ESTABLISHED;
  FlowTuple orig = original_tuple(o.key, a);
  std::optional<xf_flow_value> partner;
  if (auto pk = writer_.partner_of(o.key, o.value, &partner)) {
    auto eg_orig = egress_.resolve_in_table(translated_tuple(o.key, a), egress_of(a));
    auto eg_reply = egress_.resolve_in_table(translated_tuple(*pk, partner->action),
                                             egress_of(partner->action));
    if (allowed(eg_orig) && allowed(eg_reply)) {
      // Both entries read: nothing to write when they stay as they are.
      if (leaves_as(eg_orig, a) && leaves_as(eg_reply, partner->action) &&
          o.value.flags == writer_.flags_for(o.key, a) &&
          partner->flags == writer_.flags_for(*pk, partner->action))
        return SyncOutcome::Unchanged;
      return write_placed(orig, conn, *eg_orig, *eg_reply, now_ns, o, false);
    }
  }
  // Half in the table, or an egress that no longer holds: placed as a
  // connection not in it.
  return place(orig, conn, now_ns, o);
}

// Each entry's action says where its packets leave: an entry whose egress
// still resolves the same (and whose hook is still the one the direction
// policy says) costs no syscall, so a route or neighbour change
// costs a walk of the table plus the connections it really moves.
void FlowSync::reresolve_all(std::uint64_t now_ns) {
  walk_table(table_, [&](const xf_flow_key &key, const xf_flow_value &value) {
    const xf_flow_action &a = value.action;
    auto eg = egress_.resolve_in_table(translated_tuple(key, a), egress_of(a));
    if (allowed(eg) && leaves_as(eg, a) && value.flags == writer_.flags_for(key, a))
      return;
    // Its connection is placed anew, from the table's current original
    // entry (the chunk may hold a copy of one this walk already changed).
    xf_flow_key okey = a.direction == XF_DIR_ORIGINAL ? key : partner_key(key, a);
    auto current = table_.lookup(okey);
    if (!current || current->action.direction != XF_DIR_ORIGINAL)
      return; // an entry without its original: the next resync sweeps it
    replace_in_table(KnownEntry{okey, *current}, now_ns);
  });
  retry_pending(now_ns);
}

void FlowSync::relearn_all(std::uint64_t now_ns) {
  walk_table(table_, [&](const xf_flow_key &key, const xf_flow_value &value) {
    if (value.action.direction == XF_DIR_ORIGINAL)
      place_from_entry(key, value, now_ns);
  });
  retry_pending(now_ns);
}

void FlowSync::keepalive(std::uint64_t now_ns) {
  keepalive_begin(now_ns);
  walk_table(table_, [this](const xf_flow_key &key, const xf_flow_value &value) {
    keepalive_visit(key, value);
  });
  keepalive_finish();
}

void FlowSync::keepalive_begin(std::uint64_t now_ns) {
  keepalive_.begin(now_ns);
}

void FlowSync::keepalive_visit(const xf_flow_key &key, const xf_flow_value &value) {
  // Every pair entries arrive with is known again after a pass, whatever
  // wrote them (an earlier run).
  if (value.action.direction == XF_DIR_ORIGINAL)
    ingresses_.learn(key.ifindex, key.encap);
  keepalive_.visit(key, value);
}

void FlowSync::keepalive_finish() {
  keepalive_.finish();
}

void FlowSync::begin_resync() {
  resync_.begin();
}

std::size_t FlowSync::end_resync() {
  Resync::Result r = resync_.sweep([this](const xf_flow_key &key, const xf_flow_value &value) {
    SyncOutcome o = place_from_entry(key, value, 0);
    return o == SyncOutcome::Offloaded || o == SyncOutcome::Updated || o == SyncOutcome::Unchanged;
  });
  // Records of connections the dump did not confirm: they are gone.
  for (auto it = pending_.begin(); it != pending_.end();)
    it = resync_.confirmed(tuple_hash(it->first)) ? std::next(it) : pending_.erase(it);
  idle_.erase_if([this](const IdleFlows::Record &rec) { return !resync_.confirmed(rec.hash); });
  writer_.resynced(r.flows_offloaded, r.removed);
  swept_ += r.removed;
  resync_.release();
  return r.removed;
}

} // namespace xdpflow
