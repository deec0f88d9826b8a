// FlowTable over the real BPF hash maps (one per address family), by fd: the
// loader's own maps or those found through a running instance's program
// (map id -> fd).
#pragma once

#include <vector>

#include "core/flow_table.h"
#include "kernel/flow_maps.h"

namespace xdpflow {

class BpfFlowTable : public FlowTable {
public:
  // Does not take ownership of the fds.
  explicit BpfFlowTable(const FlowMaps &maps);

  bool upsert(const xf_flow_key &key, const xf_flow_value &value) override;
  Insert insert(const xf_flow_key &key, const xf_flow_value &value) override;
  bool remove(const xf_flow_key &key) override;
  std::optional<xf_flow_value> lookup(const xf_flow_key &key) const override;
  void for_each(
      const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const override;
  std::size_t capacity() const override { return capacity_; }
  bool for_each_chunk(
      Cursor &cursor, std::size_t max,
      const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const override;

private:
  FlowMaps maps_;
  std::size_t capacity_;
  // for_each_chunk's buffers, kept between calls: a keepalive pass reads
  // hundreds of chunks.
  mutable std::vector<xf_flow_key> chunk_keys_;
  mutable std::vector<xf_flow_value> chunk_values_;
};

} // namespace xdpflow
