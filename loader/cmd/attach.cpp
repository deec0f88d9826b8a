// xdpflow attach IFACE...: load the fast path, attach it to every interface
// through bpf_links owned by this process, run the control plane in the
// foreground until SIGINT/SIGTERM, then detach. Every resource is RAII, so
// no error path (nor a crash) leaves a program attached.
#include <algorithm>
#include <atomic>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <linux/capability.h>
#include <map>
#include <memory>
#include <net/if.h>
#include <optional>
#include <set>
#include <unistd.h>

#include "cmd/commands.h"
#include "core/attach_plan.h"
#include "core/config.h"
#include "core/error.h"
#include "kernel/capabilities.h"
#include "kernel/control_plane.h"
#include "kernel/fast_path.h"
#include "kernel/instance.h"
#include "kernel/link_watch.h"
#include "kernel/map_pins.h"
#include "kernel/netdev_features.h"
#include "kernel/netns_lock.h"
#include "kernel/sd_notify.h"
#include "kernel/tc_facts.h"
#include "kernel/tc_hooks.h"
#include "kernel/xdp_link.h"

namespace xdpflow::cmd {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

// No SA_RESTART: blocking calls in the control plane return EINTR promptly.
void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct AttachFlags {
  std::vector<std::string> interfaces;
  std::string mode, hook, config, exclude_mark, pin;
  std::vector<std::string> neutral_qdiscs;
  std::uint32_t max_flows = 0;
  unsigned idle_timeout = 0;
  int ct_rcvbuf = 0;
  int verbose = 0;
  bool replace = false;
};

std::string read_config_file(const std::string &path) {
  // stdio rather than ifstream: a directory opens fine and only the read
  // fails (EISDIR), which ifstream would turn into an empty config.
  std::FILE *f = std::fopen(path.c_str(), "r");
  if (!f)
    throw UsageError("cannot read the config file " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err)
    throw UsageError("cannot read the config file " + path + ": " + std::strerror(err));
  return text;
}

// Config file first, then every flag given on the command line on top.
AttachSettings settings_from(const AttachFlags &f, const CLI::App &sub) {
  AttachSettings s;
  if (!f.config.empty())
    apply_config_text(read_config_file(f.config), f.config, s);
  auto given = [&](const char *name) { return sub.get_option(name)->count() > 0; };
  if (!f.interfaces.empty())
    s.interfaces = f.interfaces;
  if (given("--mode"))
    apply_setting("mode", f.mode, s);
  if (given("--hook"))
    apply_setting("hook", f.hook, s);
  if (given("--neutral-qdisc"))
    s.neutral_qdiscs = f.neutral_qdiscs;
  if (given("--max-flows"))
    s.max_flows = f.max_flows;
  if (given("--exclude-mark"))
    apply_setting("exclude-mark", f.exclude_mark, s);
  if (given("--idle-timeout"))
    s.idle_timeout_sec = f.idle_timeout;
  if (given("-v"))
    s.verbose = f.verbose;
  if (f.replace)
    s.replace = true;
  if (given("--ct-rcvbuf"))
    s.ct_rcvbuf_bytes = f.ct_rcvbuf;
  if (given("--pin"))
    apply_setting("pin", f.pin, s);
  if (s.interfaces.empty())
    throw UsageError("attach needs at least one interface, e.g. xdpflow attach lan0 wan0 "
                     "(or interfaces = ... in the config file)");
  return s;
}

struct Interface {
  std::string name;
  std::uint32_t ifindex;
  std::uint32_t mac_of; // whose MAC frames for the gateway carry (core/attach_plan.h)
  InterfaceHook hook;   // chosen once, at attach (core/hook_choice.h)
};

// The devices to hook (core/attach_plan.h), with its notes and warnings said.
AttachPlan make_plan(const std::vector<std::string> &names, const LinkTable &links) {
  AttachPlan plan = plan_targets(names, links);
  for (const auto &t : plan.targets)
    if (!t.via.empty())
      std::printf("%s: %s\n", t.name.c_str(), t.via.c_str());
  for (const auto &n : plan.notes)
    std::printf("note: %s\n", n.c_str());
  for (const auto &w : plan.warnings)
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  return plan;
}

std::string describe_attachment(const XdpAttachment &a) {
  return "program '" + a.prog_name + "' id " + std::to_string(a.prog_id) + ", " +
         std::string(describe(a.mode));
}

// Programs already on the interfaces: refused, or (--replace) returned so
// they can be detached right before our link takes their place. On an
// interface of the TC hook another tool's XDP program may stay (it runs
// first, TC sees what it passes); an old xdpflow's may not: it would go on
// forwarding its stale entries.
std::vector<XdpAttachment> check_existing(const std::vector<Interface> &ifaces, bool replace) {
  std::vector<XdpAttachment> to_replace;
  for (const auto &i : ifaces) {
    for (const auto &a : xdp_attachments_of(i.ifindex, i.name)) {
      bool ours = a.prog_name == kProgName;
      if (!ours && i.hook.hook == Hook::Tc)
        continue;
      if (!replace)
        throw RuntimeError(
            i.name + " already has an XDP program attached (" + describe_attachment(a) + "); " +
            (ours ? "an earlier xdpflow left it: remove it with 'xdpflow detach " + i.name + "'"
                  : "remove it with 'ip link set dev " + i.name + " xdp off'") +
            ", or attach with --replace");
      if (find_xdp_link(a.prog_id, i.ifindex))
        throw RuntimeError(i.name + ": cannot replace " + describe_attachment(a) +
                           ": it is held by a bpf_link of another process; stop that process");
      to_replace.push_back(a);
    }
  }
  return to_replace;
}

void detach_legacy(const XdpAttachment &a) {
  int fd = bpf_prog_get_fd_by_id(a.prog_id);
  if (fd < 0)
    return; // gone meanwhile
  UniqueFd prog(fd);
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);
  if (bpf_xdp_detach(static_cast<int>(a.ifindex), xdp_mode_flag(a.mode), &opts))
    throw SysError(errno, a.ifname + ": detaching the program to replace (" +
                              describe_attachment(a) + ")");
  std::printf("%s: --replace: detached %s\n", a.ifname.c_str(), describe_attachment(a).c_str());
}

std::uint32_t prog_id_of(int prog_fd) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
    throw SysError(errno, "reading our program's id");
  return info.id;
}

// The devices attached while running, and how one comes and goes: a port
// joining a followed bridge gets what the start gave every device (XDP or
// TC, the fast path's interface, the observer); one leaving loses it, and
// its connections leave the table.
class AttachedPorts {
public:
  AttachedPorts(FastPath &fp, const AttachSettings &s, std::vector<XdpLink> links)
      : fp_(fp), s_(s) {
    for (auto &l : links) {
      std::uint32_t ifindex = l.ifindex();
      links_.emplace(ifindex, std::move(l));
    }
  }

  void follow(TcHooks &tc, ControlPlane &cp, AttachPlan plan, LinkTable links) {
    tc_ = &tc;
    cp_ = &cp;
    plan_ = std::move(plan);
    links_table_ = std::move(links);
    if (plan_.followed.empty())
      return;
    cp.watch(watch_.fd(), [this] {
      if (watch_.drain(links_table_))
        replan();
    });
    // Subscribed now: a port that joined since the plan was made is caught
    // by reading the links once more.
    links_table_ = read_link_table();
    replan();
  }

private:
  void replan() {
    AttachPlan now = plan_targets(s_.interfaces, links_table_, /*running=*/true);
    auto diff = plan_difference(plan_, now);
    for (const auto &t : diff.removed)
      remove(t);
    for (const auto &t : diff.added)
      if (!add(t)) // stays out of the plan: tried again on the next link change
        now.targets.erase(
            std::find_if(now.targets.begin(), now.targets.end(),
                         [&](const AttachTarget &x) { return x.ifindex == t.ifindex; }));
    plan_ = std::move(now);
  }

  bool add(const AttachTarget &t) {
    auto log = [](const std::string &line) { std::printf("%s\n", line.c_str()); };
    try {
      auto hook = choose_interface_hook(s_.hook, read_driver_facts(t.name, t.ifindex));
      if (hook.hook == Hook::Xdp)
        links_.emplace(t.ifindex, attach_xdp(fp_.prog_fd(), t.name, t.ifindex, s_.mode,
                                             query_xdp_features(t.ifindex), log));
      fp_.add_interface(t.ifindex, interface_mac(t.mac_of));
      bool redirect = can_be_redirect_target(query_xdp_features(t.ifindex));
      tc_->add({t.name, t.ifindex, hook.hook, redirect});
      cp_->add_interface({t.ifindex, t.name, true});
      std::printf("%s: %s, joined while running: attached (%s hook)\n", t.name.c_str(),
                  t.via.c_str(), std::string(to_string(hook.hook)).c_str());
      return true;
    } catch (const std::exception &e) {
      undo(t.ifindex);
      std::printf("%s: %s, joined while running, but could not be attached (%s); its "
                  "connections stay on the kernel path\n",
                  t.name.c_str(), t.via.c_str(), e.what());
      return false;
    }
  }

  void remove(const AttachTarget &t) {
    cp_->remove_interface(t.ifindex);
    undo(t.ifindex);
    std::printf("%s: left (%s): detached, its connections left the table\n", t.name.c_str(),
                t.via.empty() ? "removed" : ("was " + t.via).c_str());
  }

  // Whatever add() made, in reverse; nothing throws (the device may be gone).
  void undo(std::uint32_t ifindex) {
    tc_->remove(ifindex);
    try {
      fp_.remove_interface(ifindex);
    } catch (const SysError &) {
    }
    links_.erase(ifindex);
  }

  FastPath &fp_;
  const AttachSettings &s_;
  std::map<std::uint32_t, XdpLink> links_; // destroyed before the fast path: detach, then unload
  TcHooks *tc_ = nullptr;
  ControlPlane *cp_ = nullptr;
  AttachPlan plan_;
  LinkTable links_table_;
  LinkWatch watch_;
};

void run_attach(const AttachSettings &s) {
  LinkTable link_table = read_link_table();
  AttachPlan plan = make_plan(s.interfaces, link_table);
  std::vector<Interface> ifaces;
  for (const auto &t : plan.targets)
    ifaces.push_back({t.name, t.ifindex, t.mac_of, {}});
  NetnsLock lock;
  for (auto &i : ifaces)
    i.hook = choose_interface_hook(s.hook, read_driver_facts(i.name, i.ifindex));
  auto to_replace = check_existing(ifaces, s.replace);

  std::optional<FastPath> fast_path;
  try {
    fast_path.emplace(FastPathOptions{s.max_flows});
  } catch (const SysError &e) {
    if (e.err() == EPERM || e.err() == EACCES) // EACCES: the verifier without CAP_PERFMON
      throw RuntimeError("permission denied loading the XDP program: xdpflow attach needs "
                         "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON" +
                         missing_capabilities_note({CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON}) +
                         " (run as root or through xdpflow.service)");
    throw;
  }
  FastPath &fp = *fast_path;
  std::uint32_t prog_id = prog_id_of(fp.prog_fd());
  // The program never touches xf_status, so the kernel would not list it in
  // the program's map ids; binding it makes `status` find it by program.
  if (bpf_prog_bind_map(fp.prog_fd(), fp.status_fd(), nullptr))
    throw SysError(errno, "binding the xf_status map to the XDP program");

  // The TC program finds the instance's maps through its own map ids too
  // (status/flows on an all-TC gateway), xf_status included.
  if (bpf_prog_bind_map(fp.tc_prog_fd(), fp.status_fd(), nullptr))
    throw SysError(errno, "binding the xf_status map to the TC program");

  ControlPlaneConfig cfg;
  cfg.exclude_mark = s.exclude_mark;
  cfg.exclude_mask = s.exclude_mask;
  cfg.idle_timeout_sec = s.idle_timeout_sec;
  cfg.verbose = s.verbose;
  cfg.ct_rcvbuf_bytes = s.ct_rcvbuf_bytes;
  auto log = [](const std::string &line) { std::printf("%s\n", line.c_str()); };
  std::vector<XdpLink> links; // destroyed before fast_path: detach, then unload
  std::vector<TcHooks::Interface> hooked;
  for (const auto &i : ifaces) {
    for (const auto &a : to_replace)
      if (a.ifindex == i.ifindex)
        detach_legacy(a);
    const InterfaceHook &choice = i.hook;
    if (choice.hook == Hook::Xdp) {
      links.push_back(
          attach_xdp(fp.prog_fd(), i.name, i.ifindex, s.mode, query_xdp_features(i.ifindex), log));
      std::printf("%s: xdp hook: %s\n", i.name.c_str(), choice.reason.c_str());
      std::printf("%s: attached in %s (program id %u)\n", i.name.c_str(),
                  std::string(describe(links.back().mode())).c_str(), prog_id);
    } else {
      std::printf("%s: tc hook: %s\n", i.name.c_str(), choice.reason.c_str());
    }
    hooked.push_back({i.name, i.ifindex, choice.hook, true});
    try {
      fp.add_interface(i.ifindex, interface_mac(i.mac_of));
    } catch (const SysError &e) {
      throw SysError(e.err(),
                     i.name + ": adding it to the fast path's interfaces (" + e.what() + ")");
    }
    // Every attached interface is an egress: the TC program redirects to any
    // device; XDP only to those that take redirected frames (below).
    cfg.interfaces.push_back({i.ifindex, i.name, true});
  }
  // XDP redirect targets, read once everything is attached: a veth accepts
  // redirected frames (ndo-xmit) only while its peer has XDP or GRO, so
  // attaching both ends of a pair changes the answer. Directions from an XDP
  // ingress towards the others are forwarded by the TC program instead.
  bool any_xdp = !links.empty();
  for (auto &h : hooked) {
    h.receives_xdp_redirect = can_be_redirect_target(query_xdp_features(h.ifindex));
    if (any_xdp && !h.receives_xdp_redirect)
      std::printf("%s: the driver cannot receive XDP redirects (no ndo-xmit); flows leaving "
                  "through %s are forwarded by the TC program\n",
                  h.name.c_str(), h.name.c_str());
  }
  TcHooks tc_hooks(fp.tc_prog_fd(), hooked, s.neutral_qdiscs, log);
  for (const auto &h : hooked) {
    const char *kind = tc_hooks.ingress_kind(h.ifindex);
    std::printf("%s: TC program on the ingress: %s\n", h.name.c_str(),
                kind ? kind
                     : "none (redirected to an ifb: its directions stay on the kernel path)");
  }
  std::unique_ptr<MapPins> pins;
  if (!s.pin_dir.empty())
    pins = std::make_unique<MapPins>(fp, s.pin_dir);

  install_stop_signals();
  std::string names;
  for (const auto &i : ifaces)
    names += (names.empty() ? "" : ", ") + i.name;
  AttachedPorts ports(fp, s, std::move(links));
  ControlPlane control_plane(cfg, fp);
  control_plane.follow_tc(tc_hooks);
  ports.follow(tc_hooks, control_plane, plan, std::move(link_table));
  control_plane.run(g_stop, [&] {
    std::printf("xdpflow running on %s (pid %d); SIGINT or SIGTERM detaches\n", names.c_str(),
                getpid());
    sd_notify_state("READY=1\nSTATUS=offloading on " + names +
                    "\nMAINPID=" + std::to_string(getpid()));
  });
  sd_notify_state("STOPPING=1");
  pins.reset();
  std::printf("xdpflow stopped: detached from %s\n", names.c_str());
}

} // namespace

void register_attach(CLI::App &app) {
  auto flags = std::make_shared<AttachFlags>();
  CLI::App *sub = app.add_subcommand(
      "attach", "Attach the fast path to the interfaces and run the control plane in the "
                "foreground until SIGINT/SIGTERM, then detach");
  sub->add_option("interfaces", flags->interfaces,
                  "Interfaces carrying forwarded traffic (LAN and WAN alike)")
      ->type_name("IFACE");
  sub->add_option("--mode", flags->mode,
                  "XDP mode of the interfaces on the XDP hook: auto (hardware offload where the "
                  "driver reports it, then native, then generic), or force hw, native or generic")
      ->check(CLI::IsMember({"auto", "hw", "native", "generic"}))
      ->type_name("MODE")
      ->default_str("auto");
  sub->add_option("--hook", flags->hook,
                  "What forwards: auto (XDP on NICs with native XDP, TC on veth, tap and "
                  "drivers without native XDP), or force xdp or tc on every interface")
      ->check(CLI::IsMember({"auto", "xdp", "tc"}))
      ->type_name("HOOK")
      ->default_str("auto");
  sub->add_option("--neutral-qdisc", flags->neutral_qdiscs,
                  "Qdisc kinds that do not shape, beside noqueue, pfifo_fast, pfifo, mq, "
                  "fq_codel and fq (a shaped egress is forwarded through TC)")
      ->type_name("KIND")
      ->delimiter(',');
  sub->add_option("--max-flows", flags->max_flows,
                  "Connections the flow table holds, per address family")
      ->check(CLI::Range(1u, 1u << 24))
      ->type_name("N")
      ->default_str(std::to_string(XF_DEFAULT_MAX_FLOWS));
  sub->add_option("--config", flags->config,
                  "Config file with the same settings (key = value); flags win")
      ->type_name("FILE");
  sub->add_option("--exclude-mark", flags->exclude_mark,
                  "Keep connections whose conntrack mark matches VALUE/MASK on the kernel path")
      ->type_name("VALUE/MASK");
  sub->add_option("--idle-timeout", flags->idle_timeout,
                  "Remove flows without packets for this long")
      ->check(CLI::Range(1u, 86400u))
      ->type_name("SEC")
      ->default_str("300");
  sub->add_option("--pin", flags->pin,
                  "Also pin the maps under DIR on a bpffs (optional; nothing needs them)")
      ->type_name("DIR");
  // Hidden, for the event-storm test (tests/hardening): a tiny conntrack
  // receive buffer makes the kernel drop events (ENOBUFS) on purpose.
  sub->add_option("--ct-rcvbuf", flags->ct_rcvbuf, "Conntrack event socket buffer (testing)")
      ->check(CLI::Range(1, 1 << 30))
      ->group("");
  sub->add_flag("--replace", flags->replace,
                "Replace another XDP program attached to the interfaces");
  sub->add_flag("-v,--verbose", flags->verbose, "Log every flow decision (repeat for more)");
  sub->callback([flags, sub] { run_attach(settings_from(*flags, *sub)); });
}

} // namespace xdpflow::cmd
