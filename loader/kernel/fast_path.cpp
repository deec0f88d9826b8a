#include "kernel/fast_path.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <climits>
#include <cstring>
#include <net/if.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "core/error.h"
#include "kernel/unique_fd.h"
#include "xf_fastpath.skel.h"

namespace xdpflow {
namespace {

// Whether the running kernel knows an enumerator (a BPF flag, say) by its
// name in the kernel's BTF: exact where a version number is not (backports).
bool kernel_has_enumerator(const char *name) {
  btf *vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux)
    return false;
  bool found = false;
  for (__u32 id = 1; id < btf__type_cnt(vmlinux) && !found; id++) {
    const btf_type *t = btf__type_by_id(vmlinux, id);
    if (!btf_is_enum(t))
      continue;
    const struct btf_enum *e = btf_enum(t);
    for (int i = 0; i < btf_vlen(t) && !found; i++)
      found = std::strcmp(btf__name_by_offset(vmlinux, e[i].name_off), name) == 0;
  }
  btf__free(vmlinux);
  return found;
}

} // namespace

FastPath::FastPath(const FastPathOptions &options) : max_flows_(options.max_flows) {
  if (max_flows_ == 0 || max_flows_ > (1u << 24))
    throw UsageError("--max-flows must be between 1 and 16777216, got " +
                     std::to_string(max_flows_));
  skel_ = xf_fastpath__open();
  if (!skel_)
    throw SysError(errno, "opening the embedded BPF object");
  // Without BPF_F_IPV6 (Linux < 6.16) the checksum helpers would leave a
  // CHECKSUM_COMPLETE IPv6 skb's csum wrong after address NAT: the TC hook
  // then refuses IPv6 address NAT (tc.h).
  if (!kernel_has_enumerator("BPF_F_IPV6"))
    skel_->rodata->xf_tc_l4_ipv6_flag = 0;
  // Both directions of max_flows connections, in either family's map.
  int err = bpf_map__set_max_entries(skel_->maps.xf_flows4, 2 * max_flows_);
  if (!err)
    err = bpf_map__set_max_entries(skel_->maps.xf_flows6, 2 * max_flows_);
  if (!err)
    err = xf_fastpath__load(skel_);
  if (err) {
    xf_fastpath__destroy(skel_);
    skel_ = nullptr;
    throw SysError(err, "loading the fast-path programs into the kernel (needs CAP_BPF and "
                        "CAP_NET_ADMIN; run as root or see xdpflow.service)");
  }
}

FastPath::~FastPath() {
  xf_fastpath__destroy(skel_);
}

int FastPath::prog_fd() const {
  return bpf_program__fd(skel_->progs.xdpflow);
}
int FastPath::tc_prog_fd() const {
  return bpf_program__fd(skel_->progs.xdpflow_tc);
}
FlowMaps FastPath::flow_maps() const {
  return FlowMaps{bpf_map__fd(skel_->maps.xf_flows4), bpf_map__fd(skel_->maps.xf_flows6)};
}
int FastPath::counters_fd() const {
  return bpf_map__fd(skel_->maps.xf_counters);
}
int FastPath::devmap_fd() const {
  return bpf_map__fd(skel_->maps.xf_devmap);
}
int FastPath::interfaces_fd() const {
  return bpf_map__fd(skel_->maps.xf_ifaces);
}
int FastPath::status_fd() const {
  return bpf_map__fd(skel_->maps.xf_status);
}

void FastPath::publish_clock(std::uint64_t now_ns) {
  __atomic_store_n(&skel_->bss->xf_clock_ns, now_ns, __ATOMIC_RELAXED);
}

void FastPath::add_interface(std::uint32_t ifindex, const MacAddress &mac) {
  const std::string what = "ifindex " + std::to_string(ifindex);
  std::uint32_t slot = ifindex % XF_IFACE_SLOTS;
  xf_iface entry{};
  if (bpf_map_lookup_elem(interfaces_fd(), &slot, &entry))
    throw SysError(errno, "reading slot " + std::to_string(slot) + " of xf_ifaces for " + what);
  if (entry.ifindex != 0 && entry.ifindex != ifindex)
    throw RuntimeError("cannot attach " + what + ": attached ifindex " +
                       std::to_string(entry.ifindex) +
                       " uses the same slot of the interface "
                       "table (ifindexes equal modulo " +
                       std::to_string(XF_IFACE_SLOTS) + "); detach it first");
  entry = xf_iface{};
  entry.ifindex = ifindex;
  std::memcpy(entry.mac, mac.data(), sizeof entry.mac);
  bpf_devmap_val val{};
  val.ifindex = ifindex;
  if (bpf_map_update_elem(devmap_fd(), &ifindex, &val, BPF_ANY))
    throw SysError(errno, "adding " + what + " to the devmap");
  if (bpf_map_update_elem(interfaces_fd(), &slot, &entry, BPF_ANY))
    throw SysError(errno, "adding " + what + " to xf_ifaces");
}

void FastPath::remove_interface(std::uint32_t ifindex) {
  const std::string what = "ifindex " + std::to_string(ifindex);
  std::uint32_t slot = ifindex % XF_IFACE_SLOTS;
  xf_iface entry{};
  if (bpf_map_lookup_elem(interfaces_fd(), &slot, &entry) == 0 && entry.ifindex == ifindex) {
    entry = xf_iface{};
    if (bpf_map_update_elem(interfaces_fd(), &slot, &entry, BPF_ANY))
      throw SysError(errno, "removing " + what + " from xf_ifaces");
  }
  if (bpf_map_delete_elem(devmap_fd(), &ifindex) && errno != ENOENT)
    throw SysError(errno, "removing " + what + " from the devmap");
}

void FastPath::add_egress(std::uint32_t ifindex) {
  add_interface(ifindex, routed_mac(ifindex));
}

std::array<xf_counters, XF_HOOK_COUNT> read_hook_counters(int counters_fd) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0)
    throw SysError(-cpus, "counting possible CPUs");
  std::array<xf_counters, XF_HOOK_COUNT> out{};
  std::vector<xf_counters> per_cpu(static_cast<std::size_t>(cpus));
  for (std::uint32_t hook = 0; hook < XF_HOOK_COUNT; hook++) {
    if (bpf_map_lookup_elem(counters_fd, &hook, per_cpu.data()))
      throw SysError(errno, "reading entry " + std::to_string(hook) + " of the xf_counters map");
    for (const xf_counters &c : per_cpu)
      xf_counters_add(&out[hook], &c);
  }
  return out;
}

MacAddress interface_mac(std::uint32_t ifindex) {
  char name[IF_NAMESIZE] = {};
  if (!if_indextoname(ifindex, name))
    throw SysError(errno, "looking up the name of ifindex " + std::to_string(ifindex));
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock)
    throw SysError(errno, "opening a socket to read the MAC of " + std::string(name));
  ifreq req{};
  std::memcpy(req.ifr_name, name, sizeof req.ifr_name); // both IFNAMSIZ, NUL-terminated
  if (ioctl(sock.get(), SIOCGIFHWADDR, &req))
    throw SysError(errno, "reading the MAC of " + std::string(name));
  MacAddress mac{};
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

MacAddress routed_mac(std::uint32_t ifindex) {
  char name[IF_NAMESIZE] = {};
  if (!if_indextoname(ifindex, name))
    throw SysError(errno, "looking up the name of ifindex " + std::to_string(ifindex));
  // A bridge port has brport/bridge, a link to its bridge's directory. sysfs
  // shows the namespace it was mounted in: the caller's, under systemd as
  // under `ip netns exec` (which mounts it anew).
  char target[PATH_MAX] = {};
  std::string link = std::string("/sys/class/net/") + name + "/brport/bridge";
  ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0)
    return interface_mac(ifindex);
  std::string bridge = std::string(target, static_cast<std::size_t>(n));
  bridge = bridge.substr(bridge.find_last_of('/') + 1);
  unsigned bridge_index = if_nametoindex(bridge.c_str());
  if (bridge_index == 0)
    throw SysError(errno, "looking up the bridge " + bridge + " of " + name);
  return interface_mac(bridge_index);
}

} // namespace xdpflow
