#include "core/resync.h"

#include <algorithm>

#include "core/table_walk.h"

namespace xdpflow {

Resync::Resync(FlowTable &table, Log logv)
    : table_(table), logv_(logv ? std::move(logv) : [](const std::string &) {}) {}

// Both entries of a connection, as the snapshot keeps them: tuple hash and
// conntrack id mixed, the direction in the low bit.
std::uint64_t Resync::snapshot_key(std::uint64_t hash, std::uint32_t ct_id,
                                   std::uint8_t direction) {
  return ((hash ^ (std::uint64_t{ct_id} * 0x9e3779b97f4a7c15ull)) & ~1ull) | (direction & 1);
}

void Resync::begin() {
  active_ = true;
  confirmed_.clear();
  in_table_.clear();
  walk_table(table_, [this](const xf_flow_key &key, const xf_flow_value &value) {
    in_table_.push_back(snapshot_key(tuple_hash(original_tuple(key, value.action)), value.ct_id,
                                     value.action.direction));
  });
  std::sort(in_table_.begin(), in_table_.end());
}

bool Resync::both_entries_at_begin(const FlowTuple &orig, std::uint32_t ct_id) const {
  if (in_table_.empty())
    return false;
  std::uint64_t hash = tuple_hash(orig);
  return std::binary_search(in_table_.begin(), in_table_.end(),
                            snapshot_key(hash, ct_id, XF_DIR_ORIGINAL)) &&
         std::binary_search(in_table_.begin(), in_table_.end(),
                            snapshot_key(hash, ct_id, XF_DIR_REPLY));
}

std::ptrdiff_t Resync::index_of(std::uint64_t hash) const {
  auto it = std::lower_bound(confirmed_.begin(), confirmed_.end(), hash);
  return it != confirmed_.end() && *it == hash ? it - confirmed_.begin() : -1;
}

Resync::Result Resync::sweep(const Replace &replace) {
  active_ = false;
  std::sort(confirmed_.begin(), confirmed_.end());
  confirmed_.erase(std::unique(confirmed_.begin(), confirmed_.end()), confirmed_.end());
  // Which directions of each confirmed connection the table holds.
  std::vector<std::uint8_t> directions(confirmed_.size());
  std::vector<std::uint64_t> removed;
  walk_table(table_, [&](const xf_flow_key &key, const xf_flow_value &value) {
    std::uint64_t hash = tuple_hash(original_tuple(key, value.action));
    std::ptrdiff_t i = index_of(hash);
    if (i < 0) {
      logv_("remove " + to_string(original_tuple(key, value.action)) +
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
    walk_table(table_, [&](const xf_flow_key &key, const xf_flow_value &value) {
      std::uint64_t hash = tuple_hash(original_tuple(key, value.action));
      std::ptrdiff_t i = index_of(hash);
      if (i < 0 || directions[i] == 3)
        return;
      if (replace(key, value))
        restored.push_back(hash);
      else if (table_.remove(key))
        removed.push_back(hash);
    });
  std::sort(restored.begin(), restored.end());
  Result r;
  r.flows_offloaded = std::count(directions.begin(), directions.end(), 3) +
                      (std::unique(restored.begin(), restored.end()) - restored.begin());
  std::sort(removed.begin(), removed.end());
  r.removed = std::unique(removed.begin(), removed.end()) - removed.begin();
  return r;
}

void Resync::release() {
  std::vector<std::uint64_t>().swap(confirmed_);
  std::vector<std::uint64_t>().swap(in_table_);
}

} // namespace xdpflow
