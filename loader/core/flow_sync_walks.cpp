// FlowSync's walks over the table (core/flow_sync.h): re-resolving,
// keepalive and the resync's sweep. Each decides from the entries alone.
#include <algorithm>
#include <cstring>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <netinet/in.h>
#include <vector>

#include "core/flow_sync.h"

namespace xdpflow {

namespace {

constexpr std::uint64_t sec_ns = 1'000'000'000ull;
// The data path stamps hits with the CLOCK_MONOTONIC the control plane
// publishes, which it does at every pass start too, so a hit after a pass
// start is never stamped before it; a hit this close before one counts in
// both windows (at worst one extra refresh), never in neither.
constexpr std::uint64_t coarse_slack_ns = 20'000'000ull;

} // namespace

// Visits the table in chunks read before they are visited, so visit may
// change it.
void FlowSync::walk(const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) {
  FlowTable::Cursor cursor;
  while (table_.for_each_chunk(cursor, 4096, visit)) {
  }
}

// Each entry's action says where its packets leave: an entry whose egress
// still resolves the same (and whose hook is still the one the direction
// policy says) costs no syscall, so a route or neighbour change
// costs a walk of the table plus the connections it really moves.
void FlowSync::reresolve_all(std::uint64_t now_ns) {
  walk([&](const xf_flow_key &key, const xf_flow_value &value) {
    const xf_flow_action &a = value.action;
    auto eg = egress_.resolve(translated_tuple(key, a));
    if (allowed(eg) && eg->ifindex == a.egress_ifindex && eg->mtu == a.mtu &&
        std::memcmp(eg->src_mac.data(), a.src_mac, 6) == 0 &&
        std::memcmp(eg->dst_mac.data(), a.dst_mac, 6) == 0 &&
        std::memcmp(&eg->encap, &a.encap, sizeof(xf_encap)) == 0 &&
        value.flags == direction_flags(key, a))
      return;
    // Its connection is placed anew, from the table's current original
    // entry (the chunk may hold a copy of one this walk already changed).
    xf_flow_key okey = a.direction == XF_DIR_ORIGINAL ? key : partner_key(key, a);
    auto current = table_.lookup(okey);
    if (!current || current->action.direction != XF_DIR_ORIGINAL)
      return; // an entry without its original: the next resync sweeps it
    Pending conn;
    conn.reply = reply_tuple(okey, current->action);
    conn.ct_id = current->ct_id;
    if (okey.proto == IPPROTO_TCP)
      conn.tcp_state = TCP_CONNTRACK_ESTABLISHED;
    place(tuple_of(okey), conn, now_ns, KnownEntry{okey, *current});
  });
  retry_pending(now_ns);
}

void FlowSync::keepalive(std::uint64_t now_ns) {
  keepalive_begin(now_ns);
  walk([this](const xf_flow_key &key, const xf_flow_value &value) { keepalive_visit(key, value); });
  keepalive_finish();
}

// Refreshes are spread over passes without any per-connection state: a
// connection is due in pass n when (hash(orig tuple) + n) % spread == 0,
// spread = how many passes fit in its refresh window (at the spacing the
// passes really have), so each active connection is refreshed about once a
// window and conntrack, whose timeout is at least three windows, never
// expires it.
void FlowSync::keepalive_begin(std::uint64_t now_ns) {
  std::uint64_t previous = pass_ ? pass_start_[pass_ % pass_start_.size()] : 0;
  pass_++;
  pass_spacing_ = pass_ > 1 && now_ns > previous ? now_ns - previous : 0;
  pass_start_[pass_ % pass_start_.size()] = now_ns;
  pass_now_ = now_ns;
  auto spread = [this](std::uint8_t proto) -> std::uint64_t {
    if (!pass_spacing_)
      return 1; // first pass: every active connection is due
    return std::clamp<std::uint64_t>(window_ns(proto) / pass_spacing_, 1, max_spread);
  };
  spread_tcp_ = spread(IPPROTO_TCP);
  spread_udp_ = spread(IPPROTO_UDP);
}

void FlowSync::keepalive_visit(const xf_flow_key &key, const xf_flow_value &value) {
  const xf_flow_action &a = value.action;
  FlowTuple orig = original_tuple(key, a);
  std::uint64_t hash = tuple_hash(orig);
  if (value.last_seen_ns + config_.idle_timeout_ns <= pass_now_) {
    idle_check(key, value, orig, hash);
    return;
  }
  std::uint64_t spread = key.proto == IPPROTO_TCP ? spread_tcp_ : spread_udp_;
  if ((hash + pass_) % spread)
    return;
  // Hit since its previous due pass, `spread` passes ago?
  std::uint64_t since = pass_ > spread ? pass_start_[(pass_ - spread) % pass_start_.size()] : 0;
  since = since > coarse_slack_ns ? since - coarse_slack_ns : 0;
  auto hit = [since](const xf_flow_value &v) { return v.packets && v.last_seen_ns > since; };
  if (!hit(value))
    return;
  if (a.direction == XF_DIR_REPLY) {
    // When both directions are active the original entry refreshes, once.
    // (A hit on it after its own visit in this pass is seen at the next due
    // pass: one window late at worst, well within the timeout.)
    auto o = table_.lookup(partner_key(key, a));
    if (o && o->action.direction == XF_DIR_ORIGINAL && hit(*o))
      return;
  }
  ct_.update(CtUpdate{orig, timeout_sec(key.proto), false});
  stats_.keepalive_refreshes++;
}

// An entry not hit for idle_timeout: its connection leaves the table if the
// other direction is idle too, and conntrack ages it normally from then on,
// from the full timeout.
void FlowSync::idle_check(const xf_flow_key &key, const xf_flow_value &value, const FlowTuple &orig,
                          std::uint64_t hash) {
  std::optional<xf_flow_value> p;
  auto pk = partner_of(key, value, &p);
  if (pk && p->last_seen_ns + config_.idle_timeout_ns > pass_now_)
    return; // the other direction is active
  if (!table_.remove(key))
    return; // a copy of an entry this pass removed as its partner's partner
  table_full_ = false;
  if (!pk || !table_.remove(*pk))
    return; // an entry without its partner: nothing else to know of it
  stats_.flows_offloaded--;
  stats_.removals_total++;
  stats_.idle_removals++;
  // Conntrack's timeout runs from here, set to its full length as
  // nf_flow_table sets it when a flow leaves its table: the expiry is then
  // known exactly, and any packet conntrack sees later moves it (handle()).
  // (Estimated instead from our last refresh, the expiry was only bounded,
  // and a connection that came back with data in flight, whose timeout
  // conntrack shortens, looked idle for good.)
  ct_.update(CtUpdate{orig, timeout_sec(key.proto), false});
  std::uint64_t expires = pass_now_ + timeout_sec(key.proto) * sec_ns;
  idle_.put({hash, value.ct_id, static_cast<std::uint32_t>(expires / sec_ns)});
  logv("remove " + to_string(orig) + ": idle");
}

void FlowSync::keepalive_finish() {}

// Both entries of a connection, as a resync's snapshot of the table keeps
// them: tuple hash and conntrack id mixed, the direction in the low bit.
std::uint64_t FlowSync::snapshot_key(std::uint64_t hash, std::uint32_t ct_id,
                                     std::uint8_t direction) {
  return ((hash ^ (std::uint64_t{ct_id} * 0x9e3779b97f4a7c15ull)) & ~1ull) | (direction & 1);
}

void FlowSync::begin_resync() {
  resyncing_ = true;
  confirmed_.clear();
  // What the table holds now (8 bytes per entry, for the resync only): a
  // dump entry of a connection with both entries in it costs no syscall.
  in_table_.clear();
  walk([this](const xf_flow_key &key, const xf_flow_value &value) {
    in_table_.push_back(snapshot_key(tuple_hash(original_tuple(key, value.action)), value.ct_id,
                                     value.action.direction));
  });
  std::sort(in_table_.begin(), in_table_.end());
}

std::size_t FlowSync::end_resync() {
  resyncing_ = false;
  std::sort(confirmed_.begin(), confirmed_.end());
  confirmed_.erase(std::unique(confirmed_.begin(), confirmed_.end()), confirmed_.end());
  auto index_of = [this](std::uint64_t hash) -> std::ptrdiff_t {
    auto it = std::lower_bound(confirmed_.begin(), confirmed_.end(), hash);
    return it != confirmed_.end() && *it == hash ? it - confirmed_.begin() : -1;
  };
  // Which directions of each confirmed connection the table holds.
  std::vector<std::uint8_t> directions(confirmed_.size());
  std::vector<std::uint64_t> removed;
  walk([&](const xf_flow_key &key, const xf_flow_value &value) {
    std::uint64_t hash = tuple_hash(original_tuple(key, value.action));
    std::ptrdiff_t i = index_of(hash);
    if (i < 0) {
      logv("remove " + to_string(original_tuple(key, value.action)) +
           ": not in conntrack any more (resync)");
      if (table_.remove(key))
        removed.push_back(hash);
    } else {
      directions[i] |= 1u << (value.action.direction & 1);
    }
  });
  // A confirmed (still offloadable) connection with one entry only (its
  // partner went with an event we lost, or the snapshot was taken just
  // before it left): placed again from that entry, or removed if it cannot be.
  std::vector<std::uint64_t> restored;
  bool halves = std::any_of(directions.begin(), directions.end(),
                            [](std::uint8_t d) { return d == 1 || d == 2; });
  if (halves)
    walk([&](const xf_flow_key &key, const xf_flow_value &value) {
      FlowTuple orig = original_tuple(key, value.action);
      std::uint64_t hash = tuple_hash(orig);
      std::ptrdiff_t i = index_of(hash);
      if (i < 0 || directions[i] == 3)
        return;
      Pending conn;
      conn.reply = reply_tuple(key, value.action);
      conn.ct_id = value.ct_id;
      if (key.proto == IPPROTO_TCP)
        conn.tcp_state = TCP_CONNTRACK_ESTABLISHED;
      std::optional<KnownEntry> known;
      if (value.action.direction == XF_DIR_ORIGINAL)
        known = KnownEntry{key, value};
      SyncOutcome o = place(orig, conn, 0, known);
      if (o == SyncOutcome::Offloaded || o == SyncOutcome::Updated || o == SyncOutcome::Unchanged) {
        restored.push_back(hash);
      } else if (table_.remove(key)) {
        removed.push_back(hash);
      }
    });
  std::sort(restored.begin(), restored.end());
  stats_.flows_offloaded = std::count(directions.begin(), directions.end(), 3) +
                           (std::unique(restored.begin(), restored.end()) - restored.begin());

  for (auto it = pending_.begin(); it != pending_.end();)
    it = index_of(tuple_hash(it->first)) < 0 ? pending_.erase(it) : std::next(it);
  idle_.erase_if([&](const IdleFlows::Record &r) { return index_of(r.hash) < 0; });

  std::sort(removed.begin(), removed.end());
  std::size_t n = std::unique(removed.begin(), removed.end()) - removed.begin();
  if (n)
    table_full_ = false;
  stats_.swept += n;
  stats_.removals_total += n;
  // 8 bytes per connection and per entry, for the resync only.
  std::vector<std::uint64_t>().swap(confirmed_);
  std::vector<std::uint64_t>().swap(in_table_);
  return n;
}

} // namespace xdpflow
