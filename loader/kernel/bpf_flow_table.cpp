#include "kernel/bpf_flow_table.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <vector>

#include "core/error.h"

namespace xdpflow {

BpfFlowTable::BpfFlowTable(int map_fd) : fd_(map_fd) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd_, &info, &len))
    throw SysError(errno, "reading the flow table's map info");
  if (info.key_size != sizeof(xf_flow_key) || info.value_size != sizeof(xf_flow_value))
    throw RuntimeError("the flow table map does not match this xdpflow build (key " +
                       std::to_string(info.key_size) + " bytes, value " +
                       std::to_string(info.value_size) + " bytes)");
  capacity_ = info.max_entries;
}

bool BpfFlowTable::upsert(const xf_flow_key &key, const xf_flow_value &value) {
  if (bpf_map_update_elem(fd_, &key, &value, BPF_ANY) == 0)
    return true;
  if (errno == E2BIG || errno == ENOMEM) // preallocated hash: E2BIG when full
    return false;
  throw SysError(errno, "updating the flow table");
}

FlowTable::Insert BpfFlowTable::insert(const xf_flow_key &key, const xf_flow_value &value) {
  if (bpf_map_update_elem(fd_, &key, &value, BPF_NOEXIST) == 0)
    return Insert::Inserted;
  if (errno == EEXIST) // checked before the allocation: a full table still says so
    return Insert::Exists;
  if (errno == E2BIG || errno == ENOMEM)
    return Insert::Full;
  throw SysError(errno, "inserting into the flow table");
}

bool BpfFlowTable::remove(const xf_flow_key &key) {
  if (bpf_map_delete_elem(fd_, &key) == 0)
    return true;
  if (errno == ENOENT)
    return false;
  throw SysError(errno, "deleting from the flow table");
}

std::optional<xf_flow_value> BpfFlowTable::lookup(const xf_flow_key &key) const {
  xf_flow_value value;
  if (bpf_map_lookup_elem(fd_, &key, &value) == 0)
    return value;
  if (errno == ENOENT)
    return std::nullopt;
  throw SysError(errno, "looking up the flow table");
}

void BpfFlowTable::for_each(
    const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const {
  // Batched reads: one syscall per chunk instead of two per entry.
  constexpr __u32 chunk = 4096;
  std::vector<xf_flow_key> keys(chunk);
  std::vector<xf_flow_value> values(chunk);
  xf_flow_key in_batch{}, out_batch{};
  bool first = true;
  for (;;) {
    __u32 count = chunk;
    int err = bpf_map_lookup_batch(fd_, first ? nullptr : &in_batch, &out_batch, keys.data(),
                                   values.data(), &count, nullptr);
    int saved = errno;
    for (__u32 i = 0; i < count; i++)
      visit(keys[i], values[i]);
    if (err) {
      if (saved == ENOENT) // no more entries
        return;
      throw SysError(saved, "reading the flow table in batches");
    }
    in_batch = out_batch;
    first = false;
  }
}

bool BpfFlowTable::for_each_chunk(
    Cursor &cursor, std::size_t max,
    const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const {
  // The hash map's batch token is a bucket index: resuming from it later is
  // what the kernel's own batch walk does between calls.
  __u32 chunk = static_cast<__u32>(std::min<std::size_t>(std::max<std::size_t>(max, 64), 65536));
  if (chunk_keys_.size() < chunk) {
    chunk_keys_.resize(chunk);
    chunk_values_.resize(chunk);
  }
  xf_flow_key out_batch{};
  __u32 count = chunk;
  int err = bpf_map_lookup_batch(fd_, cursor.started ? &cursor.token : nullptr, &out_batch,
                                 chunk_keys_.data(), chunk_values_.data(), &count, nullptr);
  int saved = errno;
  // Read first, visited after: the visitor may change the map.
  for (__u32 i = 0; i < count; i++)
    visit(chunk_keys_[i], chunk_values_[i]);
  if (err) {
    if (saved == ENOENT) { // the walk is complete
      cursor = Cursor{};
      return false;
    }
    throw SysError(saved, "reading the flow table in batches");
  }
  cursor.started = true;
  cursor.token = out_batch;
  return true;
}

} // namespace xdpflow
