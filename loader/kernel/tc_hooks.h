// The TC side of the attached interfaces while xdpflow runs: the xdpflow_tc
// program on each interface's ingress, the tc facts (qdiscs, ifb redirects)
// of every interface followed through RTNLGRP_TC, and the per-direction
// decision FlowSync asks for (core/hook_choice.h DirectionPolicy).
//
// The TC program sits on every ingress, beside XDP too: a direction whose
// egress gets shaped is then forwarded from TC (XF_FLOW_TC_ONLY) as soon as
// the control plane rewrites its entry, without attaching anything on the
// way. What it costs: packets XDP passes (misses, first packets) are parsed
// and looked up a second time on the kernel path. Not measured here (the
// benchmark rig is the lead's); hits forwarded by XDP never reach it.
//
// Except on an ingress that redirects to an ifb (ingress shaping): a tcx
// program runs before the ifb's filter, so it leaves, and every direction
// arriving there stays on the kernel path (its XDP passes them: TC_ONLY).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/hook_choice.h"
#include "kernel/tc_facts.h"
#include "kernel/tcx_link.h"

namespace xdpflow {

class TcHooks : public DirectionPolicy {
public:
  struct Interface {
    std::string name;
    std::uint32_t ifindex = 0;
    Hook hook = Hook::Xdp;
    bool receives_xdp_redirect = true;
  };
  using Logger = std::function<void(const std::string &)>;

  // Reads every interface's tc facts and attaches tc_prog_fd to the ingress
  // of each (but those redirected to an ifb). Throws SysError / RuntimeError
  // naming the interface; links already made are released.
  TcHooks(int tc_prog_fd, std::vector<Interface> interfaces, std::vector<std::string> neutral,
          Logger log);

  // Readable when tc changed somewhere in the namespace.
  int fd() const { return watch_.fd(); }
  // Drains the watch; when something changed, re-reads the facts and moves
  // the ingress programs accordingly. True when any interface's facts
  // changed (the caller re-places every connection: decisions may differ).
  bool refresh();

  // An interface attached or detached while running (a bridge port that came
  // or left). add throws as the constructor does.
  void add(const Interface &i);
  void remove(std::uint32_t ifindex);

  DirectionDecision decide(std::uint32_t in_ifindex, std::uint32_t out_ifindex) override;

  // The ingress link of an interface ("tcx"/"clsact"), or nullptr when none.
  const char *ingress_kind(std::uint32_t ifindex) const;

private:
  struct State {
    HookedInterface hooked;
    std::uint32_t ifindex = 0;
    std::optional<TcLink> ingress;
  };
  void apply(State &s, TcFacts facts);
  State *find(std::uint32_t ifindex);

  int prog_fd_;
  std::vector<std::string> neutral_;
  Logger log_;
  TcChangeWatch watch_;
  std::vector<State> states_;
};

} // namespace xdpflow
