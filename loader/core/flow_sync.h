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

#include "core/ct_message.h"
#include "core/flow_key.h"
#include "core/flow_table.h"

namespace xdpflow {

// How packets leave towards one destination: the route's output interface,
// the MACs to write and the L3 MTU.
struct Egress {
  std::uint32_t ifindex = 0;
  std::array<std::uint8_t, 6> src_mac{}; // the output interface's MAC
  std::array<std::uint8_t, 6> dst_mac{}; // the next hop's MAC
  std::uint16_t mtu = 1500;
  xf_encap encap{};
  bool operator==(const Egress &) const = default;
};

class EgressLookup {
public:
  virtual ~EgressLookup() = default;
  // Where a packet with this (post-NAT) tuple goes, or nullopt when the route
  // or the next hop's MAC is not known (yet).
  virtual std::optional<Egress> resolve(const FlowTuple &outgoing) = 0;
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

class FlowSync {
public:
  using Logger = std::function<void(const std::string &line)>;
  FlowSync(FlowSyncConfig config, FlowTable &table, EgressLookup &egress, ConntrackWriter &ct,
           Logger log = {});

  // One conntrack event or dump entry.
  SyncOutcome handle(const CtEvent &ev, std::uint64_t now_ns);

  // Resync after lost events: begin, handle() every dump entry, end. end
  // removes the flows the dump did not confirm and any table entry that
  // belongs to no known flow. Returns how many connections/entries it removed.
  void begin_resync();
  std::size_t end_resync();

  // Routes, neighbours or links changed: re-resolve every offloadable flow
  // (rewrite, remove or, for pending ones, offload).
  void reresolve_all(std::uint64_t now_ns);
  // Retries only the flows still waiting for their egress (cheap when
  // everything is offloaded; done periodically in case resolution completed
  // without an event we follow).
  void retry_pending(std::uint64_t now_ns);

  // Periodic pass over the table: refresh conntrack for flows whose packet
  // counters advanced, remove flows idle for idle_timeout_ns. An idle flow
  // stays known: when a later event or dump entry shows conntrack's timeout
  // pushed back beyond what our own refreshes explain, packets took the
  // kernel path again and the flow is offloaded again (the caller dumps the
  // table now and then while stats().flows_idle > 0).
  void keepalive(std::uint64_t now_ns);
  // The same pass in pieces (ControlPlane walks the table a chunk per loop
  // iteration): begin, visit every entry, finish.
  void keepalive_begin();
  void keepalive_visit(const xf_flow_key &key, const xf_flow_value &value);
  void keepalive_finish(std::uint64_t now_ns);

  void set_ct_timeouts(std::uint32_t tcp_sec, std::uint32_t udp_sec);
  FlowSyncStats stats() const;
  std::size_t known_flows() const { return flows_.size(); }

private:
  struct Flow {
    // What is kept of the conntrack entry (the original tuple is the key of
    // flows_): small, as there may be millions.
    FlowTuple reply;
    std::uint32_t ct_id = 0;
    std::optional<std::uint8_t> tcp_state;
    bool offloaded = false;
    bool rejected_counted = false;
    xf_flow_key keys[2]{}; // [XF_DIR_ORIGINAL], [XF_DIR_REPLY] when offloaded
    xf_flow_action actions[2]{};
    std::uint32_t generation = 0;
    std::uint64_t offloaded_ns = 0;
    std::uint64_t last_active_ns = 0;  // packets counter last advanced
    std::uint64_t last_refresh_ns = 0; // conntrack timeout last refreshed
    std::uint64_t packets_seen = 0;    // both directions, at the last pass
    std::uint64_t pass_packets = 0;    // accumulating during a pass
    bool active_since_refresh = false;
    bool idle = false;               // out of the table for idleness
    bool pending_logged = false;     // "pending" said once, not on every retry
    bool superseded = false;         // a live flow took one of its keys: dead
    std::uint64_t ct_expires_ns = 0; // when conntrack would expire it, as last known
  };
  using FlowMap = std::unordered_map<FlowTuple, Flow, FlowTupleHash>;

  SyncOutcome install(const FlowTuple &orig, Flow &flow, std::uint64_t now_ns);
  void uninstall(Flow &flow);
  void erase(FlowMap::iterator it);
  void evict_owners(const xf_flow_key (&keys)[2], const Flow &flow);
  Flow *find_by_key(const xf_flow_key &key);
  void index(Flow &flow);
  void unindex(const Flow &flow);
  void logv(const std::string &line) const;
  void log(const std::string &line) const;

  FlowSyncConfig config_;
  FlowTable &table_;
  EgressLookup &egress_;
  ConntrackWriter &ct_;
  Logger log_;
  struct KeyHash {
    std::size_t operator()(const xf_flow_key &k) const noexcept;
  };
  struct KeyEq {
    bool operator()(const xf_flow_key &a, const xf_flow_key &b) const noexcept;
  };
  FlowMap flows_; // by original tuple; nodes are stable, so by_key_ may point into it
  // Both table keys of every offloaded flow: one lookup per entry when
  // walking the table (keepalive, resync sweep).
  std::unordered_map<xf_flow_key, Flow *, KeyHash, KeyEq> by_key_;
  std::uint32_t generation_ = 1;
  bool full_logged_ = false;
  bool table_full_ = false; // last insert was refused and nothing left since
  FlowSyncStats stats_;
};

} // namespace xdpflow
