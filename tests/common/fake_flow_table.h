// In-memory FlowTable for pure-logic tests (FlowSync unit tests, the netlink
// fuzzer): an ordered map with the real table's capacity rule, so a full
// table refuses new keys but still replaces existing ones.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "core/flow_table.h"

namespace xdpflow::testing {

struct FlowKeyLess {
  bool operator()(const xf_flow_key &a, const xf_flow_key &b) const {
    return std::memcmp(&a, &b, sizeof(a)) < 0;
  }
};

class FakeFlowTable : public FlowTable {
public:
  using Visit = std::function<void(const xf_flow_key &, const xf_flow_value &)>;
  explicit FakeFlowTable(std::size_t capacity = 1000) : capacity_(capacity) {}
  bool upsert(const xf_flow_key &k, const xf_flow_value &v) override {
    if (!entries.count(k) && entries.size() >= capacity_)
      return false;
    entries[k] = v;
    return true;
  }
  Insert insert(const xf_flow_key &k, const xf_flow_value &v) override {
    if (entries.count(k))
      return Insert::Exists;
    if (entries.size() >= capacity_)
      return Insert::Full;
    entries[k] = v;
    return Insert::Inserted;
  }
  bool remove(const xf_flow_key &k) override { return entries.erase(k) > 0; }
  std::optional<xf_flow_value> lookup(const xf_flow_key &k) const override {
    auto it = entries.find(k);
    return it == entries.end() ? std::nullopt : std::optional(it->second);
  }
  void for_each(const Visit &visit) const override {
    for (auto &[k, v] : entries)
      visit(k, v);
  }
  std::size_t capacity() const override { return capacity_; }
  // As the BPF map's batches: read a chunk, then visit it (the visitor may
  // change the table); the cursor is the last key read.
  bool for_each_chunk(Cursor &cursor, std::size_t max, const Visit &visit) const override {
    auto it = cursor.started ? entries.upper_bound(cursor.last) : entries.begin();
    std::vector<std::pair<xf_flow_key, xf_flow_value>> chunk;
    for (; it != entries.end() && chunk.size() < std::max<std::size_t>(max, 1); ++it)
      chunk.push_back(*it);
    bool more = it != entries.end();
    if (!chunk.empty()) {
      cursor.started = true;
      cursor.last = chunk.back().first;
    }
    for (const auto &[k, v] : chunk)
      visit(k, v);
    if (!more)
      cursor = Cursor{};
    return more;
  }

  std::map<xf_flow_key, xf_flow_value, FlowKeyLess> entries;

private:
  std::size_t capacity_;
};

} // namespace xdpflow::testing
