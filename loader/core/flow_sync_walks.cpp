// FlowSync's walks over the table (core/flow_sync.h): re-resolving, and the
// keepalive pass and the resync wired to their rooms (core/keepalive_pass.h,
// core/resync.h). Each decides from the entries alone.
#include <cstring>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>

#include "core/flow_sync.h"
#include "core/table_walk.h"

namespace xdpflow {

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

// Each entry's action says where its packets leave: an entry whose egress
// still resolves the same (and whose hook is still the one the direction
// policy says) costs no syscall, so a route or neighbour change
// costs a walk of the table plus the connections it really moves.
void FlowSync::reresolve_all(std::uint64_t now_ns) {
  walk_table(table_, [&](const xf_flow_key &key, const xf_flow_value &value) {
    const xf_flow_action &a = value.action;
    auto eg = egress_.resolve(translated_tuple(key, a));
    if (allowed(eg) && eg->ifindex == a.egress_ifindex && eg->mtu == a.mtu &&
        std::memcmp(eg->src_mac.data(), a.src_mac, 6) == 0 &&
        std::memcmp(eg->dst_mac.data(), a.dst_mac, 6) == 0 &&
        std::memcmp(&eg->encap, &a.encap, sizeof(xf_encap)) == 0 &&
        value.flags == writer_.flags_for(key, a))
      return;
    // Its connection is placed anew, from the table's current original
    // entry (the chunk may hold a copy of one this walk already changed).
    xf_flow_key okey = a.direction == XF_DIR_ORIGINAL ? key : partner_key(key, a);
    auto current = table_.lookup(okey);
    if (!current || current->action.direction != XF_DIR_ORIGINAL)
      return; // an entry without its original: the next resync sweeps it
    place_from_entry(okey, *current, now_ns);
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
