#include "core/observed_egress.h"

#include <arpa/inet.h>
#include <cstring>

namespace xdpflow {

namespace {

constexpr std::uint8_t ecn_mask = 0x03;
constexpr std::uint8_t ecn_ce = 0x03;

// The field of a frame the fast path's rewrite would not reproduce, or
// XF_FIELD_NONE. arrived: the same direction at tc ingress, when seen.
std::uint32_t unreproducible(const xf_observation &sent,
                             const std::optional<xf_observation> &arrived) {
  if (sent.flags & XF_OBS_UNPARSED)
    return XF_FIELD_ENCAP; // more tags than the data path writes
  if (sent.flags & XF_OBS_IP_OPTIONS)
    return XF_FIELD_IP_OPTIONS;
  if (arrived && (arrived->flags & XF_OBS_SEEN)) {
    std::uint8_t changed = arrived->tos ^ sent.tos;
    // DSCP rewritten by the kernel (nft/tc) or ECN changed other than by a
    // queue marking congestion (CE is per packet, not the flow's policy).
    if ((changed & ~ecn_mask) || ((changed & ecn_mask) && (sent.tos & ecn_mask) != ecn_ce))
      return XF_FIELD_TOS;
  }
  return XF_FIELD_NONE;
}

} // namespace

xf_obs_key make_obs_key(const FlowTuple &t, xf_obs_point point) {
  xf_obs_key k{};
  t.src.to_words(k.src);
  t.dst.to_words(k.dst);
  k.sport = htons(t.sport);
  k.dport = htons(t.dport);
  k.family = t.src.family;
  k.proto = t.proto;
  k.point = point;
  return k;
}

FlowTuple tuple_of(const xf_obs_key &key) {
  return tuple_of_key(key);
}

ObservedEgress::ObservedEgress(ObservationWatcher &watcher, Attached attached, MtuOf mtu_of)
    : watcher_(watcher), attached_(std::move(attached)), mtu_of_(std::move(mtu_of)) {}

ObservedEgress::Record &ObservedEgress::touch(Records &records, const FlowTuple &t,
                                              xf_obs_point point) {
  auto [it, fresh] = records.try_emplace(t);
  Record &r = it->second;
  r.asked = true;
  if (fresh) {
    Handshakes &h = handshakes(point);
    if (auto hs = h.obs.find(t); hs != h.obs.end()) {
      r.obs = hs->second;
      h.obs.erase(hs);
    }
  }
  // Watched while nothing is known (and once more when a handshake record
  // is all that is known, so a later difference is reported). With the
  // list full, the direction stays unwatched (its connection on the kernel
  // path) and is tried again when asked about after a sweep made room
  // (marked watched regardless, as before, it was never added to the list
  // later).
  if ((fresh || !r.obs) && !r.watched && !watch_full_) {
    if (watcher_.watch(make_obs_key(t, point))) {
      r.watched = true;
      watched_++;
    } else {
      watch_full_ = true;
    }
  }
  return r;
}

Verdict ObservedEgress::judge(const FlowTuple &arriving, const FlowTuple &outgoing) const {
  Verdict v;
  auto e = egress_.find(outgoing);
  if (e == egress_.end() || !e->second.obs) {
    v.reason = XF_WAIT_NOT_OBSERVED;
    return v;
  }
  const xf_observation &o = *e->second.obs;
  if (!attached_(o.ifindex)) {
    v.reason = XF_WAIT_NOT_ATTACHED;
    v.detail = o.ifindex;
    return v;
  }
  std::optional<xf_observation> arrived;
  if (auto i = ingress_.find(arriving); i != ingress_.end())
    arrived = i->second.obs;
  if (std::uint32_t field = unreproducible(o, arrived)) {
    v.reason = XF_WAIT_CANNOT_REPRODUCE;
    v.detail = field;
    return v;
  }
  Egress eg;
  eg.ifindex = o.ifindex;
  std::memcpy(eg.src_mac.data(), o.src_mac, 6);
  std::memcpy(eg.dst_mac.data(), o.dst_mac, 6);
  eg.encap = o.encap;
  // The L3 MTU: the device's, less the PPPoE header the kernel's PPP
  // device accounts for (VLAN devices keep their lower device's MTU).
  std::uint32_t mtu = mtu_of_(o.ifindex, outgoing.dst).value_or(1500);
  if (o.encap.flags & XF_ENCAP_PPPOE)
    mtu -= 8;
  eg.mtu = static_cast<std::uint16_t>(mtu > 0xffff ? 0xffff : mtu);
  v.egress = eg;
  return v;
}

std::optional<Egress> ObservedEgress::resolve(const FlowTuple &outgoing) {
  Record &r = touch(egress_, outgoing, XF_OBS_EGRESS);
  if (!r.obs)
    return std::nullopt;
  // Where it goes, whatever the verdict on the rest: used to find an
  // entry's key, which the offload decision (resolve_direction) made.
  Verdict v = judge(FlowTuple{}, outgoing);
  if (v.reason == XF_WAIT_NOT_ATTACHED)
    return std::nullopt;
  return v.egress;
}

std::optional<Egress> ObservedEgress::resolve_direction(const FlowTuple &arriving,
                                                        const FlowTuple &outgoing) {
  touch(egress_, outgoing, XF_OBS_EGRESS);
  touch(ingress_, arriving, XF_OBS_INGRESS);
  return judge(arriving, outgoing).egress;
}

bool ObservedEgress::observe(const xf_obs_event &ev) {
  Records &records = ev.key.point == XF_OBS_INGRESS ? ingress_ : egress_;
  FlowTuple t = tuple_of(ev.key);
  auto it = records.find(t);
  if (it == records.end()) {
    if (ev.kind == XF_OBS_EV_SYN) {
      Handshakes &h = handshakes(static_cast<xf_obs_point>(ev.key.point));
      if (h.obs.insert_or_assign(t, ev.obs).second)
        h.order.push_back(t);
      while (h.order.size() > max_handshakes) {
        h.obs.erase(h.order.front());
        h.order.pop_front();
      }
    }
    return false; // nobody asked (yet), or forgotten meanwhile
  }
  bool news = !it->second.obs || std::memcmp(&*it->second.obs, &ev.obs, sizeof(ev.obs)) != 0;
  it->second.obs = ev.obs;
  return news;
}

void ObservedEgress::expect(const FlowTuple &orig, const FlowTuple &reply) {
  touch(egress_, reversed(reply), XF_OBS_EGRESS);
  touch(ingress_, orig, XF_OBS_INGRESS);
  touch(egress_, reversed(orig), XF_OBS_EGRESS);
  touch(ingress_, reply, XF_OBS_INGRESS);
}

void ObservedEgress::forget_all() {
  for (auto &h : handshakes_)
    h = Handshakes{};
  for (auto *records : {&egress_, &ingress_}) {
    xf_obs_point point = records == &ingress_ ? XF_OBS_INGRESS : XF_OBS_EGRESS;
    for (auto &[t, r] : *records)
      if (r.watched)
        watcher_.unwatch(make_obs_key(t, point));
    records->clear();
  }
  watched_ = 0;
  watch_full_ = false;
}

void ObservedEgress::mark_in_use(const FlowTuple &arriving, const FlowTuple &outgoing) {
  if (auto e = egress_.find(outgoing); e != egress_.end())
    e->second.in_use = true;
  if (auto i = ingress_.find(arriving); i != ingress_.end())
    i->second.in_use = true;
}

void ObservedEgress::sweep(Records &records, xf_obs_point point) {
  for (auto it = records.begin(); it != records.end();) {
    Record &r = it->second;
    r.unused_sweeps = r.asked || r.in_use ? 0 : r.unused_sweeps + 1;
    bool keep = r.unused_sweeps < 2;
    // In the table: its packets take the fast path now (or, with the TC
    // hook, would only cost the observer a compare): stop watching.
    if (r.watched && (!keep || r.in_use)) {
      watcher_.unwatch(make_obs_key(it->first, point));
      r.watched = false;
      watched_--;
    }
    if (!keep) {
      it = records.erase(it);
      continue;
    }
    r.asked = r.in_use = false;
    ++it;
  }
}

void ObservedEgress::sweep() {
  std::size_t before = watched_;
  sweep(egress_, XF_OBS_EGRESS);
  sweep(ingress_, XF_OBS_INGRESS);
  if (watched_ < before)
    watch_full_ = false;
}

} // namespace xdpflow
