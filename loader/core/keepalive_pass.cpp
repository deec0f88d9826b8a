#include "core/keepalive_pass.h"

#include <algorithm>
#include <netinet/in.h>

namespace xdpflow {

namespace {
constexpr std::uint64_t sec_ns = 1'000'000'000ull;
} // namespace

KeepalivePass::KeepalivePass(FlowTable &table, EntryPairWriter &writer, ConntrackWriter &ct,
                             IdleFlows &idle, std::uint64_t idle_timeout_ns,
                             std::uint64_t interval_ns, Log logv)
    : table_(table), writer_(writer), ct_(ct), idle_(idle), idle_timeout_ns_(idle_timeout_ns),
      logv_(logv ? std::move(logv) : [](const std::string &) {}), schedule_(interval_ns) {}

void KeepalivePass::visit(const xf_flow_key &key, const xf_flow_value &value) {
  const xf_flow_action &a = value.action;
  FlowTuple orig = original_tuple(key, a);
  std::uint64_t hash = tuple_hash(orig);
  if (value.last_seen_ns + idle_timeout_ns_ <= schedule_.pass_start()) {
    idle_check(key, value, orig, hash);
    return;
  }
  if (!schedule_.due(hash, key.proto))
    return;
  // Hit since its previous due pass?
  std::uint64_t since = schedule_.hits_count_after(key.proto);
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
  ct_.update(CtUpdate{orig, schedule_.timeout_sec(key.proto), false});
  refreshes_++;
}

// An entry not hit for idle_timeout: its connection leaves the table if the
// other direction is idle too, and conntrack ages it normally from then on,
// from the full timeout.
void KeepalivePass::idle_check(const xf_flow_key &key, const xf_flow_value &value,
                               const FlowTuple &orig, std::uint64_t hash) {
  std::optional<xf_flow_value> p;
  auto pk = writer_.partner_of(key, value, &p);
  if (pk && p->last_seen_ns + idle_timeout_ns_ > schedule_.pass_start())
    return; // the other direction is active
  // None: a copy of an entry this pass removed as its partner's partner;
  // EntryOnly: an entry without its partner, nothing else to know of it.
  if (writer_.remove_entries(key, pk) != EntryPairWriter::Removal::Pair)
    return;
  idle_removals_++;
  // Conntrack's timeout runs from here, set to its full length as
  // nf_flow_table sets it when a flow leaves its table: the expiry is then
  // known exactly, and any packet conntrack sees later moves it
  // (FlowSync::handle). (Bounded instead by our last refresh, the expiry
  // was only known to be no later, and a connection that came back with
  // data in flight, whose timeout conntrack shortens, looked idle for good.)
  ct_.update(CtUpdate{orig, schedule_.timeout_sec(key.proto), false});
  std::uint64_t expires = schedule_.pass_start() + schedule_.timeout_sec(key.proto) * sec_ns;
  idle_.put({hash, value.ct_id, static_cast<std::uint32_t>(expires / sec_ns)});
  logv_("remove " + to_string(orig) + ": idle");
}

} // namespace xdpflow
