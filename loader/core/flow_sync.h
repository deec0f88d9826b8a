// FlowSync: the offload decisions, pure. Conntrack events in (CtEvent),
// flow-table writes out (FlowTable), egress from an injected EgressLookup,
// conntrack refreshes out through an injected ConntrackWriter. No syscalls, no
// clock: the caller passes "now" (CLOCK_MONOTONIC ns), so unit tests drive it
// with fakes. DESIGN.md "Control plane".
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/ct_message.h"
#include "core/flow_entry.h"
#include "core/flow_key.h"
#include "core/flow_table.h"
#include "core/hook_choice.h"
#include "core/idle_flows.h"

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

class ConntrackWriter {
public:
  virtual ~ConntrackWriter() = default;
  // Queued; the caller flushes in batches.
  virtual void update(const CtUpdate &update) = 0;
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

  // One conntrack event or dump entry.
  SyncOutcome handle(const CtEvent &ev, std::uint64_t now_ns);
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
  void set_direction_policy(DirectionPolicy *policy) { policy_ = policy; }
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
  void for_each_pending(const std::function<void(const FlowTuple &orig, const FlowTuple &reply,
                                                 std::uint32_t ct_id, bool table_full)> &visit)
      const {
    for (const auto &[orig, p] : pending_)
      visit(orig, p.reply, p.ct_id, p.rejected_counted && table_full_);
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

  // An entry the caller has just read.
  struct KnownEntry {
    xf_flow_key key;
    xf_flow_value value;
  };
  // The offload decision for one offloadable connection: resolve, then
  // write its entries or record it as pending. existing_orig: its
  // original-direction entry when the caller has just read it (used only if
  // the key is still the one to write).
  // likely_in_table: look its original entry up before trying to insert
  // (an update of an offloaded connection: one syscall less).
  SyncOutcome place(const FlowTuple &orig, const Pending &conn, std::uint64_t now_ns,
                    const std::optional<KnownEntry> &existing_orig = std::nullopt,
                    bool likely_in_table = false);
  SyncOutcome write_entries(const FlowEntries &e, std::uint32_t ct_id, std::uint64_t now_ns,
                            const std::optional<KnownEntry> &existing_orig, bool likely_in_table);
  struct Claim {
    enum Kind { Fresh, Own, Full } kind;
    xf_flow_value old; // with Own
  };
  Claim claim(const xf_flow_key &key, const xf_flow_value &value, bool expect_existing);
  bool rewrite(const xf_flow_key &key, xf_flow_value value, const xf_flow_value &old);
  SyncOutcome reject_full(const FlowTuple &orig, const Pending &conn);
  SyncOutcome handle_destroy(const CtEvent &ev);
  // The original-direction key of a connection, from the route back to its
  // source; nullopt when unresolved.
  std::optional<xf_flow_key> original_key(const FlowTuple &orig);
  // Removes the original-direction entry at key and its partner (require_id:
  // only if it has that conntrack id). True when the entry was removed.
  bool remove_at(const xf_flow_key &key, std::uint32_t ct_id, bool require_id);
  // Removes the entry and its partner; counts the connection when both left.
  bool remove_pair(const xf_flow_key &key, const xf_flow_value &value);
  std::optional<xf_flow_key> partner_of(const xf_flow_key &key, const xf_flow_value &value,
                                        std::optional<xf_flow_value> *partner_value = nullptr);
  // Another connection's entry sits at key (a dead one: conntrack keeps
  // tuples unique): remove its partner, the caller overwrites the key.
  void evict(const xf_flow_key &key, const xf_flow_value &value);
  void idle_check(const xf_flow_key &key, const xf_flow_value &value, const FlowTuple &orig,
                  std::uint64_t hash);
  void walk(const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit);
  bool allowed(const std::optional<Egress> &eg) const;
  std::uint32_t timeout_sec(std::uint8_t proto) const;
  std::uint64_t window_ns(std::uint8_t proto) const;
  // xf_flow_value.flags of the entry at key with this action.
  std::uint32_t direction_flags(const xf_flow_key &key, const xf_flow_action &action) const;
  void logv(const std::string &line) const;
  void log(const std::string &line) const;

  FlowSyncConfig config_;
  FlowTable &table_;
  EgressLookup &egress_;
  ConntrackWriter &ct_;
  Logger log_;
  DirectionPolicy *policy_ = nullptr;
  PendingMap pending_;
  IdleFlows idle_;
  bool full_logged_ = false;
  bool table_full_ = false; // last insert was refused and nothing left since
  // Resync in progress: tuple_hash of every offloadable dump entry's
  // original tuple, and the table's entries when it began (snapshot_key).
  bool resyncing_ = false;
  std::vector<std::uint64_t> confirmed_;
  std::vector<std::uint64_t> in_table_;
  static std::uint64_t snapshot_key(std::uint64_t hash, std::uint32_t ct_id,
                                    std::uint8_t direction);
  // Keepalive: pass number, start times of the last passes (a ring), and
  // the current pass's spreading factor per protocol.
  static constexpr std::uint64_t max_spread = 64;
  std::uint64_t pass_ = 0;
  std::array<std::uint64_t, max_spread + 1> pass_start_{};
  std::uint64_t pass_now_ = 0, pass_spacing_ = 0;
  std::uint64_t spread_tcp_ = 1, spread_udp_ = 1;
  FlowSyncStats stats_;
};

} // namespace xdpflow
