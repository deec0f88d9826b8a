#include "kernel/bpf_flow_table.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <string>
#include <vector>

#include "core/error.h"

namespace xdpflow {
namespace {

// max_entries of one flow map, after checking it matches this build.
std::size_t checked_capacity(int fd, std::size_t key_size, const char *what) {
  bpf_map_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len))
    throw SysError(errno, std::string("reading the ") + what + " flow map's info");
  if (info.key_size != key_size || info.value_size != sizeof(xf_flow_value))
    throw RuntimeError(std::string("the ") + what +
                       " flow map does not match this xdpflow build (key " +
                       std::to_string(info.key_size) + " bytes, value " +
                       std::to_string(info.value_size) + " bytes)");
  return info.max_entries;
}

} // namespace

BpfFlowTable::BpfFlowTable(const FlowMaps &maps) : maps_(maps) {
  // Both maps are sized alike (FastPath): the capacity of either family.
  capacity_ = checked_capacity(maps.v4, sizeof(xf_flow_key4), "IPv4");
  checked_capacity(maps.v6, sizeof(xf_flow_key6), "IPv6");
}

bool BpfFlowTable::upsert(const xf_flow_key &key, const xf_flow_value &value) {
  int err = maps_.update(key, value, BPF_ANY);
  if (err == 0)
    return true;
  if (err == E2BIG || err == ENOMEM) // preallocated hash: E2BIG when full
    return false;
  throw SysError(err, "updating the flow table");
}

FlowTable::Insert BpfFlowTable::insert(const xf_flow_key &key, const xf_flow_value &value) {
  int err = maps_.update(key, value, BPF_NOEXIST);
  if (err == 0)
    return Insert::Inserted;
  if (err == EEXIST) // checked before the allocation: a full table still says so
    return Insert::Exists;
  if (err == E2BIG || err == ENOMEM)
    return Insert::Full;
  throw SysError(err, "inserting into the flow table");
}

bool BpfFlowTable::remove(const xf_flow_key &key) {
  int err = maps_.remove(key);
  if (err == 0)
    return true;
  if (err == ENOENT)
    return false;
  throw SysError(err, "deleting from the flow table");
}

std::optional<xf_flow_value> BpfFlowTable::lookup(const xf_flow_key &key) const {
  xf_flow_value value;
  int err = maps_.lookup(key, value);
  if (err == 0)
    return value;
  if (err == ENOENT)
    return std::nullopt;
  throw SysError(err, "looking up the flow table");
}

void BpfFlowTable::for_each(
    const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const {
  // Batched reads: one syscall per chunk instead of two per entry. Own
  // buffers: a for_each_chunk visitor may call this.
  Cursor cursor;
  std::vector<xf_flow_key> keys;
  std::vector<xf_flow_value> values;
  bool more;
  do {
    more = maps_.read_chunk(cursor, 4096, keys, values);
    for (std::size_t i = 0; i < keys.size(); i++)
      visit(keys[i], values[i]);
  } while (more);
}

bool BpfFlowTable::for_each_chunk(
    Cursor &cursor, std::size_t max,
    const std::function<void(const xf_flow_key &, const xf_flow_value &)> &visit) const {
  bool more =
      maps_.read_chunk(cursor, std::clamp<std::size_t>(max, 64, 65536), chunk_keys_, chunk_values_);
  // Read first, visited after: the visitor may change the maps.
  for (std::size_t i = 0; i < chunk_keys_.size(); i++)
    visit(chunk_keys_[i], chunk_values_[i]);
  return more;
}

} // namespace xdpflow
