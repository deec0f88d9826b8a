#include "kernel/instance.h"

#include "kernel/fast_path.h"
#include "kernel/link_watch.h"

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
#include "kernel/fast_path.h"
#include "kernel/netdev_features.h"
#include "kernel/tc_facts.h"

namespace xdpflow {

namespace {

[[noreturn]] void throw_open_error(int err, const std::string &what) {
  if (err == EPERM || err == EACCES)
    throw RuntimeError(what + ": permission denied; reading a running xdpflow needs "
                              "CAP_SYS_ADMIN (run as root)");
  throw SysError(err, what);
}

std::uint64_t monotonic_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000ull + std::uint64_t(ts.tv_nsec);
}

} // namespace

std::string prog_name_of(std::uint32_t prog_id) {
  int fd = bpf_prog_get_fd_by_id(prog_id);
  if (fd < 0) {
    if (errno == ENOENT)
      return {};
    throw_open_error(errno, "opening BPF program id " + std::to_string(prog_id));
  }
  UniqueFd owned(fd);
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len))
    throw SysError(errno, "reading BPF program id " + std::to_string(prog_id));
  return info.name;
}

std::vector<std::pair<std::uint32_t, std::string>> list_interfaces() {
  std::vector<std::pair<std::uint32_t, std::string>> out;
  struct if_nameindex *list = if_nameindex();
  if (!list)
    throw SysError(errno, "listing the interfaces of this network namespace");
  for (struct if_nameindex *i = list; i->if_index; i++)
    out.emplace_back(i->if_index, i->if_name);
  if_freenameindex(list);
  return out;
}

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
  for (const auto &[ifindex, name] : list_interfaces()) {
    auto some = xdp_attachments_of(ifindex, name);
    out.insert(out.end(), some.begin(), some.end());
  }
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

namespace {

// What one program of ours is attached to.
struct Attachments {
  std::vector<XdpAttachment> xdp;
  std::vector<std::pair<std::uint32_t, TcLinkKind>> tc; // ingress ifindex, link kind
};

// Our programs in this netns: XDP programs named xdpflow, TC ingress
// programs named xdpflow_tc (an all-veth gateway has only those).
std::map<std::uint32_t, Attachments> our_programs() {
  std::map<std::uint32_t, Attachments> by_prog;
  for (const auto &[ifindex, name] : list_interfaces()) {
    for (auto &a : xdp_attachments_of(ifindex, name))
      if (a.prog_name == kProgName)
        by_prog[a.prog_id].xdp.push_back(a);
    std::vector<TcIngressProgram> tc;
    try {
      tc = tc_ingress_programs(ifindex);
    } catch (const SysError &e) {
      throw_open_error(e.err(), e.what());
    }
    for (const auto &p : tc)
      if (prog_name_of(p.prog_id) == kTcProgName)
        by_prog[p.prog_id].tc.emplace_back(ifindex, p.kind);
  }
  return by_prog;
}

// Why an interface runs the hook it runs: the reason `auto` gives, when auto
// would choose it; otherwise it was forced.
std::string hook_reason(const AttachedInterface &i) {
  auto automatic = choose_interface_hook(HookPreference::Auto, {i.driver, i.features});
  if (automatic.hook == i.hook)
    return automatic.reason;
  return "--hook " + std::string(to_string(i.hook));
}

} // namespace

// Opens the maps of one of our programs into inst; returns the xf_status
// map's id (both programs of an instance share it).
std::uint32_t RunningInstance::open_maps(std::uint32_t prog_id) {
  int pfd = bpf_prog_get_fd_by_id(prog_id);
  if (pfd < 0)
    throw_open_error(errno, "opening BPF program id " + std::to_string(prog_id));
  UniqueFd prog(pfd);
  __u32 map_ids[16] = {};
  bpf_prog_info info{};
  info.nr_map_ids = 16;
  info.map_ids = reinterpret_cast<std::uintptr_t>(map_ids);
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(pfd, &info, &len))
    throw SysError(errno, "reading the maps of BPF program id " + std::to_string(prog_id));
  std::uint32_t status_id = 0;
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
      flows4_ = std::move(map);
      capacity_ = minfo.max_entries / 2;
    } else if (name == "xf_flows6") {
      flows6_ = std::move(map);
    } else if (name == "xf_counters") {
      counters_ = std::move(map);
    } else if (name == "xf_devmap") {
      devmap_ = std::move(map);
    } else if (name == "xf_status") {
      status_ = std::move(map);
      status_id = minfo.id;
    } else if (name == "xf_obs_status") {
      obs_status_ = std::move(map);
    } else if (name == "xf_obs_pending") {
      obs_pending_ = std::move(map);
    }
  }
  // The devmap is the XDP program's: the TC program redirects by ifindex.
  if (!flows4_ || !flows6_ || !counters_ || !status_)
    throw RuntimeError("BPF program id " + std::to_string(prog_id) +
                       " is named like xdpflow's but lacks its maps: a different build or "
                       "another tool's program; remove it with: xdpflow detach --all");
  return status_id;
}

RunningInstance RunningInstance::find() {
  auto by_prog = our_programs();
  if (by_prog.empty())
    throw RuntimeError("xdpflow is not running in this network namespace (no interface has "
                       "the xdpflow XDP or TC program attached); start it with: xdpflow attach "
                       "IFACE...");

  // The XDP and TC programs of one instance share its maps: grouped by the
  // xf_status map. The XDP program's id names the instance when it has one.
  std::vector<std::pair<std::uint32_t, RunningInstance>> instances;
  for (auto &[prog_id, att] : by_prog) {
    RunningInstance probe;
    std::uint32_t status_id = probe.open_maps(prog_id);
    auto it = std::find_if(instances.begin(), instances.end(),
                           [&](const auto &e) { return e.first == status_id; });
    if (it == instances.end()) {
      instances.emplace_back(status_id, std::move(probe));
      it = std::prev(instances.end());
    } else {
      // Maps bound to only one of the two programs.
      for (auto member : {&RunningInstance::devmap_, &RunningInstance::obs_status_,
                          &RunningInstance::obs_pending_})
        if (!(it->second.*member) && (probe.*member))
          it->second.*member = std::move(probe.*member);
    }
    RunningInstance &inst = it->second;
    if (!att.xdp.empty() || !inst.prog_id_)
      inst.prog_id_ = prog_id;
    for (const auto &a : att.xdp) {
      AttachedInterface iface;
      iface.name = a.ifname;
      iface.ifindex = a.ifindex;
      iface.mode = a.mode;
      iface.hook = Hook::Xdp;
      inst.interfaces_.push_back(std::move(iface));
    }
    for (const auto &[ifindex, kind] : att.tc) {
      auto same = std::find_if(inst.interfaces_.begin(), inst.interfaces_.end(),
                               [&](const AttachedInterface &i) { return i.ifindex == ifindex; });
      if (same == inst.interfaces_.end()) {
        AttachedInterface iface;
        iface.name = ifname_of(ifindex);
        iface.ifindex = ifindex;
        iface.hook = Hook::Tc;
        same = inst.interfaces_.insert(inst.interfaces_.end(), std::move(iface));
      }
      same->tc_ingress = to_string(kind);
    }
  }
  std::optional<RunningInstance> fallback;
  for (auto &[status_id, inst] : instances) {
    std::sort(inst.interfaces_.begin(), inst.interfaces_.end(),
              [](const AttachedInterface &a, const AttachedInterface &b) {
                return a.ifindex < b.ifindex;
              });
    for (auto &iface : inst.interfaces_) {
      iface.features = query_xdp_features(iface.ifindex);
      iface.driver = driver_name(iface.name);
      // Whether XDP may redirect to it (every attached interface is in the
      // devmap; the driver decides whether it takes XDP frames).
      iface.redirect_target = can_be_redirect_target(iface.features);
      iface.hook_reason = hook_reason(iface);
    }
    StatusSnapshot st{};
    st.cp = inst.control_plane_status();
    st.now_ns = monotonic_ns(CLOCK_MONOTONIC);
    if (control_plane_alive(st))
      return std::move(inst);
    if (!fallback)
      fallback = std::move(inst);
  }
  return std::move(*fallback);
}

std::pair<bool, bool> RunningInstance::ingress_hooks(std::uint32_t ifindex) const {
  for (const auto &i : interfaces_)
    if (i.ifindex == ifindex)
      return {i.hook == Hook::Xdp, !i.tc_ingress.empty()};
  return {false, false};
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
  set_hook_counters(s, read_hook_counters(counters_.get()));
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
  s.table_bytes = FlowMaps{flows4_.get(), flows6_.get()}.kernel_bytes();
  s.cp = control_plane_status();
  s.obs = observer_status();
  std::vector<std::uint32_t> ifindexes;
  for (const auto &i : interfaces_)
    ifindexes.push_back(i.ifindex);
  s.bridges = bridges_of(ifindexes, read_link_table());
  s.now_ns = monotonic_ns(CLOCK_MONOTONIC);
  return s;
}

} // namespace xdpflow
