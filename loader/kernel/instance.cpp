#include "kernel/instance.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <linux/if_link.h>
#include <map>
#include <net/if.h>

#include "core/error.h"
#include "core/observed_egress.h"
#include "kernel/bpf_flow_table.h"
#include "kernel/netdev_features.h"

namespace xdpflow {

namespace {

[[noreturn]] void throw_open_error(int err, const std::string &what) {
  if (err == EPERM || err == EACCES)
    throw RuntimeError(what + ": permission denied; reading a running xdpflow needs "
                              "CAP_SYS_ADMIN (run as root)");
  throw SysError(err, what);
}

std::string prog_name_of(std::uint32_t prog_id) {
  int fd = bpf_prog_get_fd_by_id(prog_id);
  if (fd < 0) {
    if (errno == ENOENT)
      return {};
    throw_open_error(errno, "opening XDP program id " + std::to_string(prog_id));
  }
  UniqueFd owned(fd);
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len))
    throw SysError(errno, "reading XDP program id " + std::to_string(prog_id));
  return info.name;
}

std::uint64_t monotonic_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000ull + std::uint64_t(ts.tv_nsec);
}

} // namespace

std::string ifname_of(std::uint32_t ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex && if_indextoname(ifindex, name))
    return name;
  return "if" + std::to_string(ifindex);
}

std::vector<XdpAttachment> xdp_attachments_of(std::uint32_t ifindex, const std::string &ifname) {
  std::vector<XdpAttachment> out;
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  if (bpf_xdp_query(static_cast<int>(ifindex), 0, &q))
    return out; // interface vanished meanwhile
  const std::pair<__u32, XdpMode> modes[] = {{q.hw_prog_id, XdpMode::Hw},
                                             {q.drv_prog_id, XdpMode::Native},
                                             {q.skb_prog_id, XdpMode::Generic}};
  for (const auto &[id, mode] : modes)
    if (id)
      out.push_back({ifindex, ifname, mode, id, prog_name_of(id)});
  return out;
}

std::vector<XdpAttachment> list_xdp_attachments() {
  std::vector<XdpAttachment> out;
  struct if_nameindex *list = if_nameindex();
  if (!list)
    throw SysError(errno, "listing the interfaces of this network namespace");
  try {
    for (struct if_nameindex *i = list; i->if_index; i++) {
      auto some = xdp_attachments_of(i->if_index, i->if_name);
      out.insert(out.end(), some.begin(), some.end());
    }
  } catch (...) {
    if_freenameindex(list);
    throw;
  }
  if_freenameindex(list);
  return out;
}

std::optional<UniqueFd> find_xdp_link(std::uint32_t prog_id, std::uint32_t ifindex) {
  __u32 id = 0;
  while (bpf_link_get_next_id(id, &id) == 0) {
    int fd = bpf_link_get_fd_by_id(id);
    if (fd < 0)
      continue; // gone meanwhile
    UniqueFd link(fd);
    bpf_link_info info{};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len))
      continue;
    if (info.type == BPF_LINK_TYPE_XDP && info.prog_id == prog_id && info.xdp.ifindex == ifindex)
      return link;
  }
  return std::nullopt;
}

RunningInstance RunningInstance::find() {
  // Group our attachments by program: one program per running instance.
  std::map<std::uint32_t, std::vector<XdpAttachment>> by_prog;
  for (auto &a : list_xdp_attachments())
    if (a.prog_name == kProgName)
      by_prog[a.prog_id].push_back(a);
  if (by_prog.empty())
    throw RuntimeError("xdpflow is not running in this network namespace (no interface has "
                       "the xdpflow XDP program attached); start it with: xdpflow attach IFACE...");

  std::optional<RunningInstance> fallback;
  for (auto &[prog_id, attachments] : by_prog) {
    RunningInstance inst;
    inst.prog_id_ = prog_id;
    int pfd = bpf_prog_get_fd_by_id(prog_id);
    if (pfd < 0)
      throw_open_error(errno, "opening XDP program id " + std::to_string(prog_id));
    UniqueFd prog(pfd);
    __u32 map_ids[16] = {};
    bpf_prog_info info{};
    info.nr_map_ids = 16;
    info.map_ids = reinterpret_cast<std::uintptr_t>(map_ids);
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(pfd, &info, &len))
      throw SysError(errno, "reading the maps of XDP program id " + std::to_string(prog_id));
    for (__u32 i = 0; i < std::min<__u32>(info.nr_map_ids, 16); i++) {
      int mfd = bpf_map_get_fd_by_id(map_ids[i]);
      if (mfd < 0)
        throw_open_error(errno, "opening map id " + std::to_string(map_ids[i]));
      UniqueFd map(mfd);
      bpf_map_info minfo{};
      __u32 mlen = sizeof(minfo);
      if (bpf_obj_get_info_by_fd(mfd, &minfo, &mlen))
        throw SysError(errno, "reading map id " + std::to_string(map_ids[i]));
      std::string name = minfo.name;
      if (name == "xf_flows4") {
        inst.flows4_ = std::move(map);
        inst.capacity_ = minfo.max_entries / 2;
      } else if (name == "xf_flows6") {
        inst.flows6_ = std::move(map);
      } else if (name == "xf_counters") {
        inst.counters_ = std::move(map);
      } else if (name == "xf_devmap") {
        inst.devmap_ = std::move(map);
      } else if (name == "xf_status") {
        inst.status_ = std::move(map);
      } else if (name == "xf_obs_status") {
        inst.obs_status_ = std::move(map);
      } else if (name == "xf_obs_pending") {
        inst.obs_pending_ = std::move(map);
      }
    }
    if (!inst.flows4_ || !inst.flows6_ || !inst.counters_ || !inst.devmap_ || !inst.status_)
      throw RuntimeError("XDP program id " + std::to_string(prog_id) +
                         " is named xdpflow but lacks its maps: a different build or another "
                         "tool's program; remove it with: xdpflow detach --all");
    for (const auto &a : attachments) {
      AttachedInterface iface;
      iface.name = a.ifname;
      iface.ifindex = a.ifindex;
      iface.mode = a.mode;
      iface.features = query_xdp_features(a.ifindex);
      iface.driver = driver_name(a.ifname);
      bpf_devmap_val val{};
      iface.redirect_target = bpf_map_lookup_elem(inst.devmap_.get(), &a.ifindex, &val) == 0;
      inst.interfaces_.push_back(std::move(iface));
    }
    StatusSnapshot st{};
    st.cp = inst.control_plane_status();
    st.now_ns = monotonic_ns(CLOCK_MONOTONIC);
    if (control_plane_alive(st))
      return inst;
    if (!fallback)
      fallback = std::move(inst);
  }
  return std::move(*fallback);
}

xf_status RunningInstance::control_plane_status() const {
  xf_status s{};
  __u32 zero = 0;
  if (bpf_map_lookup_elem(status_.get(), &zero, &s))
    throw SysError(errno, "reading the xf_status map");
  return s;
}

std::optional<xf_obs_status> RunningInstance::observer_status() const {
  if (!obs_status_)
    return std::nullopt;
  xf_obs_status s{};
  __u32 zero = 0;
  if (bpf_map_lookup_elem(obs_status_.get(), &zero, &s))
    throw SysError(errno, "reading the xf_obs_status map");
  return s;
}

std::vector<PendingConnection> RunningInstance::pending() const {
  std::vector<PendingConnection> out;
  if (!obs_pending_)
    return out;
  xf_obs_key key{}, next{};
  const void *prev = nullptr;
  while (!bpf_map_get_next_key(obs_pending_.get(), prev, &next)) {
    PendingConnection c;
    if (!bpf_map_lookup_elem(obs_pending_.get(), &next, &c.info)) {
      c.orig = tuple_of(next);
      out.push_back(c);
    }
    key = next;
    prev = &key;
  }
  return out;
}

std::vector<FlowEntry> RunningInstance::flow_entries() const {
  std::vector<FlowEntry> out;
  BpfFlowTable(FlowMaps{flows4_.get(), flows6_.get()})
      .for_each([&](const xf_flow_key &k, const xf_flow_value &v) {
        out.push_back({k, v});
      });
  return out;
}

StatsSnapshot RunningInstance::stats() const {
  StatsSnapshot s;
  s.interfaces = interfaces_;
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0)
    throw SysError(-cpus, "counting possible CPUs");
  std::vector<xf_counters> per_cpu(static_cast<std::size_t>(cpus));
  __u32 zero = 0;
  if (bpf_map_lookup_elem(counters_.get(), &zero, per_cpu.data()))
    throw SysError(errno, "reading the xf_counters map");
  s.totals = sum_counters(per_cpu);
  std::uint64_t originals = 0;
  BpfFlowTable(FlowMaps{flows4_.get(), flows6_.get()})
      .for_each([&](const xf_flow_key &, const xf_flow_value &v) {
        originals += v.action.direction == XF_DIR_ORIGINAL;
      });
  s.flows_offloaded = originals;
  s.flows_capacity = capacity_;
  s.rejected_full = control_plane_status().rejected_full;
  return s;
}

StatusSnapshot RunningInstance::status() const {
  StatusSnapshot s;
  s.prog_id = prog_id_;
  s.interfaces = interfaces_;
  auto st = stats();
  s.flows_offloaded = st.flows_offloaded;
  s.flows_capacity = st.flows_capacity;
  s.cp = control_plane_status();
  s.obs = observer_status();
  s.now_ns = monotonic_ns(CLOCK_MONOTONIC);
  return s;
}

} // namespace xdpflow
