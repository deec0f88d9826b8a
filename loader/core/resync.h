// Resync: brings the flow table back in line with conntrack after lost
// events (the event socket overran, or at start-up), from a full conntrack
// dump. FlowSync handles every dump entry as usual and confirms here the
// offloadable ones; at the end, entries of connections the dump did not
// confirm leave the table, and a confirmed connection with one entry only
// is placed again (or removed).
//
// It keeps 8 bytes per connection (tuple hashes) and per table entry (a
// snapshot), for the resync only: a dump entry of a connection whose two
// entries were in the table when the resync began costs no syscall.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/flow_entry.h"
#include "core/flow_table.h"

namespace xdpflow {

class Resync {
public:
  using Log = std::function<void(const std::string &line)>;
  // logv: the verbose log (each swept connection); may be empty.
  Resync(FlowTable &table, Log logv);

  // Snapshots the table.
  void begin();
  bool active() const { return active_; }
  // An offloadable dump entry, original tuple orig: its connection stays.
  void confirm(const FlowTuple &orig) {
    if (active_)
      confirmed_.push_back(tuple_hash(orig));
  }
  // Both entries of the connection (orig, conntrack id ct_id) were in the
  // table when the resync began: lost events cannot have changed them
  // (tuples and NAT are fixed for a conntrack entry; egress changes come
  // through re-resolving). False when no resync is under way.
  bool both_entries_at_begin(const FlowTuple &orig, std::uint32_t ct_id) const;

  // Called for a confirmed connection found with one entry only: places it
  // again from that entry, true when both its entries are in the table now.
  using Replace = std::function<bool(const xf_flow_key &, const xf_flow_value &)>;
  struct Result {
    std::size_t removed = 0;           // connections whose entries it removed
    std::uint64_t flows_offloaded = 0; // connections with both entries in the table now
  };
  // Sweeps the table. Until release(), confirmed() still answers.
  Result sweep(const Replace &replace);
  // Whether the dump confirmed the connection with this original tuple hash.
  bool confirmed(std::uint64_t hash) const { return index_of(hash) >= 0; }
  // Gives the resync's memory back.
  void release();

private:
  std::ptrdiff_t index_of(std::uint64_t hash) const;
  static std::uint64_t snapshot_key(std::uint64_t hash, std::uint32_t ct_id,
                                    std::uint8_t direction);

  FlowTable &table_;
  Log logv_;
  bool active_ = false;
  // tuple_hash of every offloadable dump entry's original tuple (sorted and
  // unique once the sweep begins), and the table's entries when it began.
  std::vector<std::uint64_t> confirmed_;
  std::vector<std::uint64_t> in_table_;
};

} // namespace xdpflow
