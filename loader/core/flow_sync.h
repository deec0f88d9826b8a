// FlowSync: the offload decisions, pure. Conntrack events in (CtEvent),
// flow-table writes out (through EntryPairWriter), egress from an injected
// EgressLookup, conntrack refreshes out through an injected ConntrackWriter.
// No syscalls, no clock: the caller passes "now" (CLOCK_MONOTONIC ns), so
// unit tests drive it with fakes. docs/architecture.md, "How a connection
// becomes an entry".
//
// Its other jobs are rooms of their own, which it wires together:
// core/entry_pair_writer.h writes and removes a connection's two entries,
// core/keepalive_pass.h (with core/keepalive_schedule.h) refreshes conntrack
// for active connections and retires idle ones, core/resync.h sweeps the
// table after lost events. core/loop_pacing.h says when the control plane
// runs each of them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/conntrack_writer.h"
#include "core/ct_message.h"
#include "core/entry_pair_writer.h"
#include "core/flow_entry.h"
#include "core/flow_key.h"
#include "core/flow_table.h"
#include "core/hook_choice.h"
#include "core/idle_flows.h"
#include "core/keepalive_pass.h"
#include "core/resync.h"

namespace xdpflow {

class EgressLookup {
public:
  virtual ~EgressLookup() = default;
  // Where a packet with this (post-NAT) tuple goes, or nullopt when the route
  // or the next hop's MAC is not known (yet).
  virtual std::optional<Egress> resolve(const FlowTuple &outgoing) = 0;
  // The same for one direction about to be offloaded, knowing the tuple it
  // arrives with (conntrack's tuple of that direction): an implementation
  // that knows how the kernel forwarded it can refuse a direction the data
  // path would not reproduce. By default only where it goes matters.
  virtual std::optional<Egress> resolve_direction(const FlowTuple &arriving,
                                                  const FlowTuple &outgoing) {
    (void)arriving;
    return resolve(outgoing);
  }
};

struct FlowSyncConfig {
  std::unordered_set<std::uint32_t> redirect_ifindexes; // both egresses must be in it
  std::uint32_t exclude_mark = 0, exclude_mask = 0;     // mask 0: no exclusion
  std::uint64_t idle_timeout_ns = 300'000'000'000ull;
  std::uint64_t keepalive_interval_ns = 5'000'000'000ull; // at most once per flow per this
  std::uint32_t tcp_timeout_sec = 432000;                 // nf_conntrack_tcp_timeout_established
  std::uint32_t udp_timeout_sec = 120;                    // nf_conntrack_udp_timeout_stream
  int verbose = 0;
};

enum class SyncOutcome {
  Offloaded,      // both directions entered the table
  Updated,        // egress or NAT changed, entries rewritten
  Unchanged,      // already offloaded as it should be
  Removed,        // left the table (DESTROY, state change, no longer offloadable)
  NotOffloadable, // stays on the kernel path (see why_not_offloadable)
  Unresolved,     // offloadable but no route/neighbour yet: retried on changes
  RejectedFull,   // the table is full
  Ignored,        // nothing to do (DESTROY of an unknown flow...)
  Idle,           // left the table for idleness; conntrack saw no packet since
};
const char *to_string(SyncOutcome o);

struct FlowSyncStats {
  std::uint64_t offloads_total = 0;
  std::uint64_t removals_total = 0;
  std::uint64_t rejected_full = 0; // flows refused because the table was full
  std::uint64_t keepalive_refreshes = 0;
  std::uint64_t idle_removals = 0;
  std::uint64_t swept = 0;           // removed by a resync sweep (flows + orphan entries)
  std::uint64_t flows_offloaded = 0; // connections in the table now
  std::uint64_t flows_pending = 0;   // offloadable, egress unresolved
  std::uint64_t flows_idle = 0;      // left the table idle, watched for new activity
  std::uint64_t evicted_stale = 0;   // dead flows whose keys a live one reused
};

// Why a conntrack entry must stay on the kernel path, or nullptr.
const char *why_not_offloadable(const CtEvent &ev, const FlowSyncConfig &config);

// Per-connection memory: none for offloaded connections (their two table
// entries say everything: tuples, NAT, egress, conntrack id, last hit; see
// core/flow_entry.h). Records only for connections waiting to enter the
// table (egress unresolved, table full: few) and compact ones for
// connections that left it idle (core/idle_flows.h).
class FlowSync {
public:
  using Logger = std::function<void(const std::string &line)>;
  FlowSync(FlowSyncConfig config, FlowTable &table, EgressLookup &egress, ConntrackWriter &ct,
           Logger log = {});
  // Its pieces refer to each other (and log through it): not copied.
  FlowSync(const FlowSync &) = delete;
  FlowSync &operator=(const FlowSync &) = delete;

  // One conntrack event or dump entry.
  SyncOutcome handle(const CtEvent &ev, std::uint64_t now_ns);
  // The rules it decides by (why_not_offloadable's second argument).
  const FlowSyncConfig &config() const { return config_; }
  // A dump entry looked at only for the idle connections' sake (the periodic
  // dump that notices their renewed activity): anything else is ignored,
  // so the dump costs no table access for offloaded connections.
  SyncOutcome recheck_idle(const CtEvent &ev, std::uint64_t now_ns);

  // Resync after lost events: begin, handle() every dump entry, end. end
  // removes the table entries whose connection the dump did not confirm
  // (and entries whose partner is missing), and drops unconfirmed pending
  // and idle records. Returns how many connections it removed entries of.
  void begin_resync();
  std::size_t end_resync();

  // Routes, neighbours or links changed: re-resolve every offloaded and
  // pending connection (rewrite, remove or offload).
  void reresolve_all(std::uint64_t now_ns);
  // Retries only the connections still waiting for their egress (cheap when
  // everything is offloaded; done periodically in case resolution completed
  // without an event we follow).
  void retry_pending(std::uint64_t now_ns);
  // Retries only the waiting connections a direction of which was observed
  // as one of these tuples (arriving or leaving, either direction): news of
  // a few packets costs a few lookups, not a pass over every waiting
  // connection (after an invalidation with 100 k offloaded, each ring-buffer
  // batch retried them all, and the loop fell behind the observer).
  void retry_observed(const std::vector<FlowTuple> &observed, std::uint64_t now_ns);

  // Periodic pass over the table, stateless: refreshes conntrack's timeout
  // for connections whose entries were hit, spread over passes, and removes
  // connections idle for idle_timeout_ns. An idle connection stays known
  // (compactly): when a later event or dump entry shows conntrack's timeout
  // pushed back beyond what our own refreshes explain, packets took the
  // kernel path again and it is offloaded again (the caller dumps the table
  // now and then while stats().flows_idle > 0, through recheck_idle).
  void keepalive(std::uint64_t now_ns);
  // The same pass in pieces (ControlPlane walks the table a chunk per loop
  // iteration): begin, visit every entry (visit may change the table, as
  // FlowTable::for_each_chunk allows), finish.
  void keepalive_begin(std::uint64_t now_ns);
  void keepalive_visit(const xf_flow_key &key, const xf_flow_value &value);
  void keepalive_finish();

  void set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec);
  // Which hook forwards each direction (core/hook_choice.h): entries of a
  // direction not forwarded by its ingress's XDP get XF_FLOW_TC_ONLY. Null
  // (the default): every entry is written without flags. When the policy's
  // answers change, reresolve_all() rewrites the entries that differ.
  void set_direction_policy(DirectionPolicy *policy) { writer_.set_direction_policy(policy); }
  // An interface attached or detached while running (a bridge port that came
  // or left); the caller re-places the connections (reresolve_all).
  void set_redirect_target(std::uint32_t ifindex, bool on) {
    if (on)
      config_.redirect_ifindexes.insert(ifindex);
    else
      config_.redirect_ifindexes.erase(ifindex);
  }
  FlowSyncStats stats() const;
  // Connections FlowSync keeps a record of itself (pending + idle); none for
  // offloaded ones.
  std::size_t tracked_records() const { return pending_.size() + idle_.size(); }
  // The connections waiting to enter the table: original and reply tuple,
  // conntrack id, and whether the table was full when last tried.
  void
  for_each_pending(const std::function<void(const FlowTuple &orig, const FlowTuple &reply,
                                            std::uint32_t ct_id, bool table_full)> &visit) const {
    for (const auto &[orig, p] : pending_)
      visit(orig, p.reply, p.ct_id, p.rejected_counted && writer_.table_full());
  }
  // Memory of those records' containers, for `bytes per idle connection`.
  std::size_t idle_memory_bytes() const { return idle_.memory_bytes(); }

private:
  // An offloadable connection not in the table: egress unresolved, or
  // refused because the table was full.
  struct Pending {
    FlowTuple reply;
    std::uint32_t ct_id = 0;
    std::optional<std::uint8_t> tcp_state;
    bool rejected_counted = false; // counted once in rejected_full
    bool logged = false;           // "pending" said once, not on every retry
  };
  using PendingMap = std::unordered_map<FlowTuple, Pending, FlowTupleHash>;

  using KnownEntry = EntryPairWriter::KnownEntry;
  // The offload decision for one offloadable connection: resolve, then
  // write its entries or record it as pending. existing_orig: its
  // original-direction entry when the caller has just read it (used only if
  // the key is still the one to write).
  // likely_in_table: look its original entry up before trying to insert
  // (an update of an offloaded connection: one syscall less).
  SyncOutcome place(const FlowTuple &orig, const Pending &conn, std::uint64_t now_ns,
                    const std::optional<KnownEntry> &existing_orig = std::nullopt,
                    bool likely_in_table = false);
  // Places the connection of an entry read from the table anew, from that
  // entry alone (the table is the state).
  SyncOutcome place_from_entry(const xf_flow_key &key, const xf_flow_value &value,
                               std::uint64_t now_ns);
  SyncOutcome reject_full(const FlowTuple &orig, const Pending &conn);
  SyncOutcome handle_destroy(const CtEvent &ev);
  // The original-direction key of a connection, from the route back to its
  // source; nullopt when unresolved.
  std::optional<xf_flow_key> original_key(const FlowTuple &orig);
  bool allowed(const std::optional<Egress> &eg) const;
  void logv(const std::string &line) const;
  void log(const std::string &line) const;

  FlowSyncConfig config_;
  FlowTable &table_;
  EgressLookup &egress_;
  ConntrackWriter &ct_;
  Logger log_;
  PendingMap pending_;
  // Reply tuple -> original tuple of waiting connections, for
  // retry_observed. Entries are added with pending_'s and checked against
  // it when used, never removed one by one: rebuilt when twice its size.
  std::unordered_map<FlowTuple, FlowTuple, FlowTupleHash> pending_by_reply_;
  void index_pending(const FlowTuple &orig, const FlowTuple &reply);
  IdleFlows idle_;
  EntryPairWriter writer_;
  KeepalivePass keepalive_;
  Resync resync_;
  bool full_logged_ = false;
  // The counts of FlowSyncStats kept here; the others are the pieces'.
  std::uint64_t rejected_full_ = 0;
  std::uint64_t swept_ = 0;
};

} // namespace xdpflow
