// EntryPairWriter: the only code that writes a connection's two flow-table
// entries (core/flow_entry.h) and removes them again. FlowSync decides
// whether and where a connection is offloaded; this makes the table say so,
// with as few syscalls as it can, without ever touching another live
// connection's entries, and keeps the counts of what the table holds.
//
// The table is the state (nothing is kept per offloaded connection), so
// everything here is derived from the entries it reads: an entry belongs to
// a connection when its direction and conntrack id say so (belongs_to), and
// its partner is the entry its action names (partner_key).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/flow_entry.h"
#include "core/flow_table.h"
#include "core/hook_choice.h"

namespace xdpflow {

class EntryPairWriter {
public:
  using Log = std::function<void(const std::string &line)>;
  // logv: the verbose log (evictions of stale connections); may be empty.
  EntryPairWriter(FlowTable &table, Log logv);

  // An entry the caller has just read.
  struct KnownEntry {
    xf_flow_key key;
    xf_flow_value value;
  };
  enum class Write {
    Offloaded, // the connection's pair is new in the table
    Updated,   // its entries were rewritten or moved
    Unchanged, // they already were exactly these
    Full,      // the table refused an insert: nothing of the connection is left in it
  };
  // Makes the table hold exactly e for the connection with conntrack id
  // ct_id, its counters kept across rewrites. existing_orig: its
  // original-direction entry when the caller has just read it (saves a
  // lookup, and finds the old pair when the original key moved).
  // likely_in_table: look the keys up before inserting (an update of an
  // offloaded connection: one syscall less than a refused insert).
  Write write(const FlowEntries &e, std::uint32_t ct_id, std::uint64_t now_ns,
              const std::optional<KnownEntry> &existing_orig, bool likely_in_table);

  // Removes the original-direction entry at key and its partner (require_id:
  // only if it has that conntrack id; otherwise another connection's entry
  // there is a stale one and goes too). True when the entry was removed.
  bool remove_at(const xf_flow_key &key, std::uint32_t ct_id, bool require_id);
  // Removes the entry and its partner. True when the entry was removed.
  bool remove_pair(const xf_flow_key &key, const xf_flow_value &value);
  // Removes the entry at key, then partner (the caller found it with
  // partner_of). The connection counts as gone only when both left.
  enum class Removal { None, EntryOnly, Pair };
  Removal remove_entries(const xf_flow_key &key, const std::optional<xf_flow_key> &partner);
  // The partner of (key, value) when it really is one: the other direction
  // of the same connection, naming key as its own partner.
  std::optional<xf_flow_key> partner_of(const xf_flow_key &key, const xf_flow_value &value,
                                        std::optional<xf_flow_value> *partner_value = nullptr);

  // Which hook forwards each direction (core/hook_choice.h): entries of a
  // direction not forwarded by its ingress's XDP get XF_FLOW_TC_ONLY. Null
  // (the default): every entry is written without flags.
  void set_direction_policy(DirectionPolicy *policy) { policy_ = policy; }
  // xf_flow_value.flags of the entry at key with this action.
  std::uint32_t flags_for(const xf_flow_key &key, const xf_flow_action &action) const;

  // The last insert was refused and nothing has left the table since.
  bool table_full() const { return table_full_; }

  struct Counts {
    std::uint64_t flows_offloaded = 0; // connections with both entries in the table
    std::uint64_t offloads_total = 0;
    std::uint64_t removals_total = 0;
    std::uint64_t evicted_stale = 0; // dead connections whose keys a live one reused
  };
  const Counts &counts() const { return counts_; }
  // A resync counted the connections in the table afresh and removed the
  // entries of `removed` connections itself, straight from the table.
  void resynced(std::uint64_t flows_offloaded, std::size_t removed);

private:
  struct Claim {
    enum Kind { Fresh, Own, Full } kind;
    xf_flow_value old; // with Own
  };
  Claim claim(const xf_flow_key &key, const xf_flow_value &value, bool expect_existing);
  bool rewrite(const xf_flow_key &key, xf_flow_value value, const xf_flow_value &old);
  void evict(const xf_flow_key &key, const xf_flow_value &value);
  // A connection with both entries counted left the table.
  void connection_left();

  FlowTable &table_;
  Log logv_;
  DirectionPolicy *policy_ = nullptr;
  bool table_full_ = false;
  Counts counts_;
};

} // namespace xdpflow
