// A whole-table walk whose visitor may change the table: FlowSync's
// re-resolving, keepalive and resync all remove or rewrite entries as they go.
#pragma once

#include <cstddef>
#include <functional>

#include "core/flow_table.h"

namespace xdpflow {

using EntryVisitor = std::function<void(const xf_flow_key &, const xf_flow_value &)>;

// Visits the table in chunks, each read before it is visited (see
// FlowTable::for_each_chunk), so visit may change the table.
inline void walk_table(const FlowTable &table, const EntryVisitor &visit) {
  constexpr std::size_t chunk = 4096;
  FlowTable::Cursor cursor;
  while (table.for_each_chunk(cursor, chunk, visit)) {
  }
}

} // namespace xdpflow
