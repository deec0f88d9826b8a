// In-memory FlowTable for pure-logic tests (FlowSync unit tests, the netlink
// fuzzer): an ordered map with the real table's capacity rule, so a full
// table refuses new keys but still replaces existing ones.
#pragma once

#include <cstring>
#include <map>

#include "core/flow_table.h"

namespace xdpflow::testing {

struct FlowKeyLess {
  bool operator()(const xf_flow_key &a, const xf_flow_key &b) const {
    return std::memcmp(&a, &b, sizeof(a)) < 0;
  }
};

class FakeFlowTable : public FlowTable {
public:
  explicit FakeFlowTable(std::size_t capacity = 1000) : capacity_(capacity) {}
  bool upsert(const xf_flow_key &k, const xf_flow_value &v) override {
    if (!entries.count(k) && entries.size() >= capacity_)
      return false;
    entries[k] = v;
    return true;
  }
  bool remove(const xf_flow_key &k) override { return entries.erase(k) > 0; }
  std::optional<xf_flow_value> lookup(const xf_flow_key &k) const override {
    auto it = entries.find(k);
    return it == entries.end() ? std::nullopt : std::optional(it->second);
  }
  void for_each(
      const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const override {
    for (auto &[k, v] : entries)
      visit(k, v);
  }
  std::size_t capacity() const override { return capacity_; }

  std::map<xf_flow_key, xf_flow_value, FlowKeyLess> entries;

private:
  std::size_t capacity_;
};

} // namespace xdpflow::testing
