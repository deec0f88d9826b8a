// Conversion between the loader's flow key (xf_flow_key, both families) and
// the compact per-family keys of the two BPF flow maps (flow.h explains why
// the maps use those). Pure: no syscalls.
#pragma once

#include "xdpflow/flow.h"

namespace xdpflow {

// key.family selects which one applies; the other is not meaningful.
xf_flow_key4 to_map_key4(const xf_flow_key &key);
xf_flow_key6 to_map_key6(const xf_flow_key &key);
xf_flow_key from_map_key(const xf_flow_key4 &key);
xf_flow_key from_map_key(const xf_flow_key6 &key);

} // namespace xdpflow
