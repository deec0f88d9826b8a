#include "kernel/flow_maps.h"

#include <cstring>

#include <bpf/bpf.h>
#include <cerrno>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/map_key.h"

namespace xdpflow {
namespace {

int result(int rc) {
  return rc == 0 ? 0 : errno;
}

// One batch read of a map with key type K: values straight into `values`,
// keys converted to xf_flow_key.
template <typename K>
int read_batch(int fd, FlowTable::Cursor &cursor, std::size_t max, std::vector<xf_flow_key> &keys,
               std::vector<xf_flow_value> &values) {
  std::vector<K> map_keys(max);
  values.resize(max);
  __u32 out_token = 0;
  __u32 count = static_cast<__u32>(max);
  int rc = bpf_map_lookup_batch(fd, cursor.started ? &cursor.token : nullptr, &out_token,
                                map_keys.data(), values.data(), &count, nullptr);
  int err = rc ? errno : 0;
  values.resize(count);
  keys.resize(count);
  for (__u32 i = 0; i < count; i++)
    keys[i] = from_map_key(map_keys[i]);
  cursor.started = true;
  cursor.token = out_token;
  return err;
}

} // namespace

xf_flow_value with_action_check(const xf_flow_value &value) {
  __u64 w[8];
  std::memcpy(w, &value.action, sizeof w);
  xf_flow_value v = value;
  v.action_check = xf_action_check_words(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
  return v;
}

int FlowMaps::update(const xf_flow_key &key, const xf_flow_value &given, __u64 flags) const {
  const xf_flow_value value = with_action_check(given);
  if (key.family == XF_FAMILY_IPV4) {
    xf_flow_key4 k = to_map_key4(key);
    return result(bpf_map_update_elem(v4, &k, &value, flags));
  }
  xf_flow_key6 k = to_map_key6(key);
  return result(bpf_map_update_elem(v6, &k, &value, flags));
}

int FlowMaps::lookup(const xf_flow_key &key, xf_flow_value &value) const {
  if (key.family == XF_FAMILY_IPV4) {
    xf_flow_key4 k = to_map_key4(key);
    return result(bpf_map_lookup_elem(v4, &k, &value));
  }
  xf_flow_key6 k = to_map_key6(key);
  return result(bpf_map_lookup_elem(v6, &k, &value));
}

int FlowMaps::remove(const xf_flow_key &key) const {
  if (key.family == XF_FAMILY_IPV4) {
    xf_flow_key4 k = to_map_key4(key);
    return result(bpf_map_delete_elem(v4, &k));
  }
  xf_flow_key6 k = to_map_key6(key);
  return result(bpf_map_delete_elem(v6, &k));
}

int FlowMaps::update_batch(const std::vector<xf_flow_key> &keys,
                           const std::vector<xf_flow_value> &values) const {
  std::vector<xf_flow_key4> keys4;
  std::vector<xf_flow_key6> keys6;
  std::vector<xf_flow_value> values4, values6;
  for (std::size_t i = 0; i < keys.size() && i < values.size(); i++) {
    if (keys[i].family == XF_FAMILY_IPV4) {
      keys4.push_back(to_map_key4(keys[i]));
      values4.push_back(with_action_check(values[i]));
    } else {
      keys6.push_back(to_map_key6(keys[i]));
      values6.push_back(with_action_check(values[i]));
    }
  }
  if (!keys4.empty()) {
    __u32 count = static_cast<__u32>(keys4.size());
    if (bpf_map_update_batch(v4, keys4.data(), values4.data(), &count, nullptr))
      return errno;
  }
  if (!keys6.empty()) {
    __u32 count = static_cast<__u32>(keys6.size());
    if (bpf_map_update_batch(v6, keys6.data(), values6.data(), &count, nullptr))
      return errno;
  }
  return 0;
}

bool FlowMaps::read_chunk(FlowTable::Cursor &cursor, std::size_t max,
                          std::vector<xf_flow_key> &keys,
                          std::vector<xf_flow_value> &values) const {
  keys.clear();
  values.clear();
  while (cursor.part < 2) {
    int err = cursor.part == 0 ? read_batch<xf_flow_key4>(v4, cursor, max, keys, values)
                               : read_batch<xf_flow_key6>(v6, cursor, max, keys, values);
    if (err == 0)
      return true;
    if (err != ENOENT) // ENOENT: this map's walk is complete
      throw SysError(err, std::string("reading the IPv") + (cursor.part == 0 ? "4" : "6") +
                              " flow map in batches");
    cursor.part++;
    cursor.started = false;
    if (!keys.empty())
      return true;
  }
  cursor = FlowTable::Cursor{};
  return false;
}

std::uint64_t map_memlock_bytes(int fd) {
  const std::string path = "/proc/self/fdinfo/" + std::to_string(fd);
  std::ifstream in(path);
  if (!in)
    throw SysError(errno ? errno : ENOENT, "reading " + path + " (a BPF map's memory)");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("memlock:", 0) == 0)
      return std::stoull(line.substr(8));
  throw SysError(ENODATA, "no memlock line in " + path);
}

std::uint64_t FlowMaps::kernel_bytes() const {
  return map_memlock_bytes(v4) + map_memlock_bytes(v6);
}

} // namespace xdpflow
