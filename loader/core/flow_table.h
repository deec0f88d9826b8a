// The flow table as the control plane sees it. The real one is the BPF hash
// maps (kernel/bpf_flow_table.h); unit tests use an in-memory fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "xdpflow/flow.h"

namespace xdpflow {

class FlowTable {
public:
  virtual ~FlowTable() = default;
  // Inserts or replaces one direction. Returns false when the table is full;
  // throws SysError on any other failure.
  virtual bool upsert(const xf_flow_key &key, const xf_flow_value &value) = 0;
  // Returns false when the key was not there.
  virtual bool remove(const xf_flow_key &key) = 0;
  virtual std::optional<xf_flow_value> lookup(const xf_flow_key &key) const = 0;
  // Visits every entry (batched reads on the real map).
  virtual void
  for_each(const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const = 0;
  // Map entries the table holds at most (2 per connection).
  virtual std::size_t capacity() const = 0;

  // A walk in pieces, so a caller can keep serving events between them.
  // Start with a default-constructed cursor; each call visits about `max`
  // entries and returns false once the walk is complete. Entries changed
  // between calls may be visited twice or not at all. The default walks
  // everything in one piece.
  struct Cursor {
    bool started = false;
    int part = 0;            // opaque position: which map (one per family)
    std::uint32_t token = 0; // and the map's batch token
  };
  virtual bool for_each_chunk(
      Cursor &cursor, std::size_t max,
      const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const {
    (void)cursor;
    (void)max;
    for_each(visit);
    return false;
  }
};

} // namespace xdpflow
