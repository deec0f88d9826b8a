// The flow table's two BPF hash maps (IPv4 and IPv6 keys, flow.h) addressed
// with the loader's xf_flow_key: every call converts to the map's compact key
// and picks the map by key.family. Thin: one bpf() call per operation, errno
// returned as is for the caller to judge (ENOENT, E2BIG...).
#pragma once

#include <cstddef>
#include <vector>

#include "core/flow_table.h"
#include "xdpflow/flow.h"

namespace xdpflow {

// The value as the maps must hold it: action_check computed over the action
// (flow.h, "No torn entries"). FlowMaps' writes apply it.
xf_flow_value with_action_check(const xf_flow_value &value);

struct FlowMaps {
  int v4 = -1, v6 = -1; // not owned

  // 0 or the errno of the failed bpf() call.
  int update(const xf_flow_key &key, const xf_flow_value &value, __u64 flags) const;
  int lookup(const xf_flow_key &key, xf_flow_value &value) const;
  int remove(const xf_flow_key &key) const;
  // Many entries in one call per map (BPF_MAP_UPDATE_BATCH); 0 or errno.
  int update_batch(const std::vector<xf_flow_key> &keys,
                   const std::vector<xf_flow_value> &values) const;

  // Reads up to max entries of a walk over both maps (IPv4 first: cursor
  // part 0, then IPv6: part 1, with the map's batch token) into keys/values,
  // replacing what they held. Returns false once the walk is complete
  // (cursor reset); throws SysError on a failed read.
  bool read_chunk(FlowTable::Cursor &cursor, std::size_t max, std::vector<xf_flow_key> &keys,
                  std::vector<xf_flow_value> &values) const;

  // Kernel memory of both maps (map_memlock_bytes of each).
  std::uint64_t kernel_bytes() const;
};

// Kernel memory of the BPF map behind fd as the kernel accounts it (the
// "memlock" line of its fdinfo: buckets, preallocated entries, per-element
// overhead); throws SysError when it cannot be read.
std::uint64_t map_memlock_bytes(int fd);

} // namespace xdpflow
