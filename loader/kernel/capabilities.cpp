#include "kernel/capabilities.h"

#include <cstdint>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace xdpflow {
namespace {

const char *capability_name(int cap) {
  switch (cap) {
  case CAP_NET_ADMIN:
    return "CAP_NET_ADMIN";
  case CAP_SYS_ADMIN:
    return "CAP_SYS_ADMIN";
  case CAP_PERFMON:
    return "CAP_PERFMON";
  case CAP_BPF:
    return "CAP_BPF";
  case CAP_SYS_RESOURCE:
    return "CAP_SYS_RESOURCE";
  default:
    return "a capability";
  }
}

} // namespace

std::string missing_capabilities_note(std::initializer_list<int> needed) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0)
    return "";
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1u; };
  std::string missing;
  for (int cap : needed) {
    bool ok = has(cap) || ((cap == CAP_BPF || cap == CAP_PERFMON) && has(CAP_SYS_ADMIN));
    if (!ok)
      missing += std::string(missing.empty() ? "" : " and ") + capability_name(cap);
  }
  return missing.empty() ? "" : "; this process lacks " + missing;
}

} // namespace xdpflow
