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
  // Inserts only if the key is absent (BPF_NOEXIST): a new connection's
  // entries cost one syscall each, and an existing entry is never
  // overwritten blindly (its owner may be another connection). Throws
  // SysError on any other failure.
  enum class Insert { Inserted, Exists, Full };
  virtual Insert insert(const xf_flow_key &key, const xf_flow_value &value) = 0;
  // Returns false when the key was not there.
  virtual bool remove(const xf_flow_key &key) = 0;
  virtual std::optional<xf_flow_value> lookup(const xf_flow_key &key) const = 0;
  // Visits every entry (batched reads on the real map). The visitor must not
  // change the table; for_each_chunk's may.
  virtual void
  for_each(const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const = 0;
  // Map entries the table holds at most (2 per connection).
  virtual std::size_t capacity() const = 0;

  // A walk in pieces, so a caller can keep serving events between them.
  // Start with a default-constructed cursor; each call visits about `max`
  // entries and returns false once the walk is complete. The chunk is read
  // before it is visited, so the visitor may change the table (it may then
  // see a copy of an entry it has just removed). Entries changed between
  // calls may be visited twice or, if added meanwhile, not at all.
  struct Cursor {
    bool started = false;
    // Opaque position, each table uses what fits it: the BPF maps which map
    // (one per family) and its batch token, an in-memory table the last key.
    int part = 0;
    std::uint32_t token = 0;
    xf_flow_key last{};
  };
  virtual bool for_each_chunk(
      Cursor &cursor, std::size_t max,
      const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const = 0;
};

} // namespace xdpflow
