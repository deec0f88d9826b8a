// libFuzzer harness for the conntrack netlink parser (core/ct_message.h) and
// what consumes its output, FlowSync (core/flow_sync.h), all pure code run
// under ASan + UBSan. An input is one config byte, then a buffer as recv()
// would return it: netlink messages back to back, each handed to
// parse_ct_message with the bytes really left. Checked on every message:
//   - no crash, no sanitizer report, Malformed always says why;
//   - an Ok event is consistent (one family, one protocol, both tuples) and
//     survives a round trip: written back with put_ct_tuple and parsed again
//     it gives the same event;
//   - fed to FlowSync (fake table of 2..16 entries, fake routes) as far as a
//     kernel could send it (LiveConntrack: tuples unique), the table
//     holds exactly two entries per offloaded connection, never more than its
//     capacity, only redirects to allowed interfaces, and every entry is a
//     direction of a live conntrack entry rewriting packets exactly as
//     conntrack's NAT does; the same after a resync (the live entries again
//     as a dump), re-resolving after the routes changed (then every entry
//     follows the new routes) and keepalive/idle passes.
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/fake_flow_table.h"
#include "core/ct_message.h"
#include "core/flow_sync.h"
#include "ct_stream.h"

using namespace xdpflow;

namespace {

[[noreturn]] void fail(const std::string &what) {
  std::fprintf(stderr, "\nPROPERTY VIOLATED: %s\n", what.c_str());
  std::abort();
}

using FakeTable = xdpflow::testing::FakeFlowTable;

// Routes by the destination's last byte: unresolved, LAN, WAN (VLAN on some),
// or an interface xdpflow is not attached to.
FlowTuple rewritten(const xf_flow_key &key, const xf_flow_action &a);

// `shift` changes every route at once (as a link or route change would)
// before the final re-resolve.
class FakeEgress : public EgressLookup {
public:
  std::optional<Egress> resolve(const FlowTuple &out) override {
    std::uint8_t b = out.dst.bytes[out.dst.family == XF_FAMILY_IPV6 ? 15 : 3] + shift;
    if (b % 4 == 0)
      return std::nullopt;
    Egress e;
    e.ifindex = b % 4 == 1 ? 2 : b % 4 == 2 ? 3 : 9;
    e.src_mac = {2, 0, 0, 0, 0, static_cast<std::uint8_t>(e.ifindex)};
    e.dst_mac = {2, 0, 0, 0, 1, b};
    e.mtu = b & 8 ? 1280 : 1500;
    if (b & 16) {
      e.encap.vlan_count = 1;
      e.encap.vlan_id[0] = b;
    }
    return e;
  }
  std::uint8_t shift = 0;
};

// Every entry is where the routes say now: it arrives on the interface its
// reply leaves through and leaves as its own route says.
void check_entries_follow_routes(const FakeTable &table, FakeEgress &egress, const char *when) {
  for (const auto &[key, value] : table.entries) {
    FlowTuple t = tuple_of(key);
    auto in = egress.resolve(reversed(t));
    auto out = egress.resolve(rewritten(key, value.action));
    if (!in || !out || in->ifindex != key.ifindex || out->ifindex != value.action.egress_ifindex ||
        out->dst_mac[5] != value.action.dst_mac[5] || out->mtu != value.action.mtu ||
        std::memcmp(&in->encap, &key.encap, sizeof(xf_encap)) ||
        std::memcmp(&out->encap, &value.action.encap, sizeof(xf_encap)))
      fail(std::string(when) + ": entry " + to_string(t) + " does not follow the routes");
  }
}

class FakeConntrack : public ConntrackWriter {
public:
  void update(const CtUpdate &) override { updates++; }
  std::size_t updates = 0;
};

bool same_tuple(const FlowTuple &a, const FlowTuple &b) {
  bool ports = a.proto == 6 || a.proto == 17; // put_ct_tuple writes them only then
  return a.src == b.src && a.dst == b.dst && a.proto == b.proto &&
         (!ports || (a.sport == b.sport && a.dport == b.dport));
}

void check_round_trip(const CtEvent &ev) {
  std::vector<std::uint8_t> again;
  fuzz::append_ct_message(again, ev);
  CtParseResult r =
      parse_ct_message(reinterpret_cast<const nlmsghdr *>(again.data()), again.size());
  if (r.status != CtParseStatus::Ok)
    fail("an Ok event written back does not parse: " + r.error);
  const CtEvent &b = r.event;
  if (b.type != ev.type || b.from_dump != ev.from_dump || !same_tuple(b.orig, ev.orig) ||
      !same_tuple(b.reply, ev.reply) || b.status != ev.status || b.has_status != ev.has_status ||
      b.tcp_state != ev.tcp_state || b.zone != ev.zone || b.mark != ev.mark ||
      b.has_helper != ev.has_helper || b.helper != ev.helper || b.has_master != ev.has_master ||
      b.id != ev.id || b.timeout != ev.timeout)
    fail("round trip changed the event (" + to_string(ev.orig) + ")");
}

void check_event(const CtEvent &ev) {
  for (const IpAddr *a : {&ev.orig.src, &ev.orig.dst, &ev.reply.src, &ev.reply.dst})
    if (a->family != ev.orig.src.family ||
        (a->family != XF_FAMILY_IPV4 && a->family != XF_FAMILY_IPV6))
      fail("Ok event with mixed or unknown address families");
  if (ev.orig.proto != ev.reply.proto)
    fail("Ok event whose tuples disagree on the protocol");
  check_round_trip(ev);
}

struct LiveConntrack;
void check_entries_match_conntrack(const FakeTable &table, const LiveConntrack &ct,
                                   const char *when);

void check_table(const FakeTable &table, const FlowSync &sync, const char *when) {
  FlowSyncStats s = sync.stats();
  if (table.entries.size() != 2 * s.flows_offloaded)
    fail(std::string(when) + ": table has " + std::to_string(table.entries.size()) +
         " entries for " + std::to_string(s.flows_offloaded) + " offloaded connections");
  if (table.entries.size() > table.capacity())
    fail(std::string(when) + ": table above capacity");
  for (const auto &[k, v] : table.entries) {
    if (v.action.egress_ifindex != 2 && v.action.egress_ifindex != 3)
      fail(std::string(when) + ": entry redirects to a non-attached interface");
    if (k.pad)
      fail(std::string(when) + ": padding not zero");
  }
}

// The kernel's guarantee, which the fuzzer must respect to test FlowSync
// rather than inputs no kernel sends: a tuple (original or reply direction)
// belongs to at most one live conntrack entry. Events that would break it are
// not fed to FlowSync (they are still parsed and checked).
struct LiveConntrack {
  std::map<FlowTuple, CtEvent> live;    // by original tuple
  std::map<FlowTuple, FlowTuple> owner; // either tuple -> original tuple

  bool accepts(const CtEvent &ev) {
    if (ev.orig == ev.reply)
      return false;
    auto old = live.find(ev.orig);
    // Conntrack ids tell entries with the same tuple apart over time.
    bool other_entry = old != live.end() && ev.id && old->second.id && ev.id != old->second.id;
    if (ev.type == CtEventType::Destroy) {
      if (other_entry)
        return true; // a late DESTROY of an older entry: the live one stays
      if (old != live.end()) {
        owner.erase(old->second.orig);
        owner.erase(old->second.reply);
        live.erase(old);
      }
      return true;
    }
    // Checked before anything changes: a refused event leaves the model as
    // it was (the old entry's tuples are owned by ev.orig, so they pass).
    for (const FlowTuple *t : {&ev.orig, &ev.reply}) {
      auto it = owner.find(*t);
      if (it != owner.end() && it->second != ev.orig)
        return false;
    }
    if (other_entry) { // the old entry's DESTROY was lost: a new entry replaces it
      owner.erase(old->second.orig);
      owner.erase(old->second.reply);
      live.erase(old);
      old = live.end();
    }
    if (old != live.end() && old->second.reply != ev.reply)
      return false; // conntrack never changes an entry's reply tuple
    owner[ev.orig] = ev.orig;
    owner[ev.reply] = ev.orig;
    live[ev.orig] = ev;
    return true;
  }
};

// What a packet matching `key` looks like after the entry's rewrite. Kept
// apart from core/flow_entry's translated_tuple on purpose: FlowSync reads
// connections back with that one, so the oracle must not share it.
FlowTuple rewritten(const xf_flow_key &key, const xf_flow_action &a) {
  FlowTuple t = tuple_of(key);
  if (a.nat & XF_NAT_SRC_ADDR)
    t.src = IpAddr::from_words(key.family, a.new_src);
  if (a.nat & XF_NAT_DST_ADDR)
    t.dst = IpAddr::from_words(key.family, a.new_dst);
  if (a.nat & XF_NAT_SRC_PORT)
    t.sport = ntohs(a.new_sport);
  if (a.nat & XF_NAT_DST_PORT)
    t.dport = ntohs(a.new_dport);
  return t;
}

// Every entry belongs to a live conntrack entry, in the direction it says,
// and rewrites a packet exactly as conntrack's NAT does: the original
// direction leaves as the reversed reply tuple, the reply direction as the
// reversed original tuple.
void check_entries_match_conntrack(const FakeTable &table, const LiveConntrack &ct,
                                   const char *when) {
  for (const auto &[key, value] : table.entries) {
    FlowTuple t = tuple_of(key);
    auto owner = ct.owner.find(t);
    if (owner == ct.owner.end())
      fail(std::string(when) + ": entry " + to_string(t) + " belongs to no live conntrack entry");
    const CtEvent &ev = ct.live.at(owner->second);
    bool orig = value.action.direction == XF_DIR_ORIGINAL;
    if (!(t == (orig ? ev.orig : ev.reply)))
      fail(std::string(when) + ": entry " + to_string(t) + " is not the " +
           (orig ? "original" : "reply") + " tuple of its conntrack entry");
    if (!(rewritten(key, value.action) == reversed(orig ? ev.reply : ev.orig)))
      fail(std::string(when) + ": entry " + to_string(t) + " rewrites to " +
           to_string(rewritten(key, value.action)) + ", conntrack's NAT gives " +
           to_string(reversed(orig ? ev.reply : ev.orig)));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  if (size < 1)
    return -1;
  static const bool verbose = std::getenv("XF_FUZZ_VERBOSE") != nullptr; // triage
  std::uint8_t config = data[0];
  // An exactly-sized heap copy: ASan sees any read past what recv() gave.
  std::size_t len = size - 1;
  auto *buf = static_cast<std::uint8_t *>(std::malloc(len ? len : 1));
  std::memcpy(buf, data + 1, len);

  FakeTable table(2 * ((config & 7) + 1));
  FakeEgress egress;
  FakeConntrack ct;
  FlowSyncConfig cfg;
  cfg.redirect_ifindexes = {2, 3};
  if (config & 0x10) {
    cfg.exclude_mark = 1;
    cfg.exclude_mask = 1;
  }
  std::size_t log_lines = 0;
  FlowSync sync(cfg, table, egress, ct, [&](const std::string &) { log_lines++; });

  LiveConntrack conntrack;
  std::size_t messages = 0;
  std::uint64_t now = 1'000'000'000ull;
  std::size_t off = 0;
  while (len - off >= sizeof(nlmsghdr)) {
    auto *nlh = reinterpret_cast<const nlmsghdr *>(buf + off);
    CtParseResult r = parse_ct_message(nlh, len - off);
    if (r.status == CtParseStatus::Malformed && r.error.empty())
      fail("Malformed without a reason");
    if (r.status == CtParseStatus::Ok && conntrack.accepts(r.event)) {
      check_event(r.event);
      SyncOutcome outcome = sync.handle(r.event, now);
      if (verbose)
        std::fprintf(stderr, "event type %d dump %d: %s / %s zone %u mark %u -> %s\n",
                     static_cast<int>(r.event.type), r.event.from_dump,
                     to_string(r.event.orig).c_str(), to_string(r.event.reply).c_str(),
                     r.event.zone, r.event.mark, to_string(outcome));
      check_table(table, sync, "after an event");
      check_entries_match_conntrack(table, conntrack, "after an event");
    }
    now += 7'000'000'000ull;
    if (++messages % 4 == 3) {
      sync.keepalive(now);
      check_table(table, sync, "after keepalive");
    }
    std::uint32_t msg_len = nlh->nlmsg_len;
    if (msg_len < sizeof(nlmsghdr) || msg_len > len - off)
      break; // what recv()'s reader does with a broken header: stop
    off += NLMSG_ALIGN(msg_len);
    if (off > len)
      break;
  }
  if (config & 0x08) {
    sync.begin_resync();
    for (auto [orig, ev] : conntrack.live) {
      ev.from_dump = true;
      ev.type = CtEventType::Update;
      sync.handle(ev, now);
    }
    sync.end_resync();
    check_table(table, sync, "after a resync");
    check_entries_match_conntrack(table, conntrack, "after a resync");
  }
  check_entries_follow_routes(table, egress, "before re-resolving");
  egress.shift = config >> 5; // 0..7: routes change (or not) under the table
  sync.reresolve_all(now);
  check_table(table, sync, "after re-resolving");
  check_entries_match_conntrack(table, conntrack, "after re-resolving");
  check_entries_follow_routes(table, egress, "after re-resolving");
  sync.keepalive(now + 3600'000'000'000ull); // everything idle for an hour
  check_table(table, sync, "after the idle pass");
  if (!table.entries.empty())
    fail("flows idle for an hour are still in the table");
  std::free(buf);
  return 0;
}
