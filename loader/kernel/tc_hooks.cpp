#include "kernel/tc_hooks.h"

#include "core/error.h"

namespace xdpflow {

namespace {

std::string describe(const TcFacts &f, const std::vector<std::string> &neutral) {
  std::string shaper = shaping_qdisc(f, neutral);
  std::string out = shaper.empty() ? "egress not shaped" : "egress shaped (" + shaper + ")";
  out += f.ingress_ifb.empty() ? ", ingress not redirected"
                               : ", ingress redirected to " + f.ingress_ifb;
  return out;
}

} // namespace

TcHooks::TcHooks(int tc_prog_fd, std::vector<Interface> interfaces,
                 std::vector<std::string> neutral, Logger log)
    : prog_fd_(tc_prog_fd), neutral_(std::move(neutral)), log_(std::move(log)) {
  states_.reserve(interfaces.size());
  for (const auto &i : interfaces)
    add(i);
}

void TcHooks::add(const Interface &i) {
  State s;
  s.ifindex = i.ifindex;
  s.hooked.name = i.name;
  s.hooked.hook = i.hook;
  s.hooked.receives_xdp_redirect = i.receives_xdp_redirect;
  TcFacts facts = read_tc_facts(s.ifindex);
  if (!shaping_qdisc(facts, neutral_).empty() || !facts.ingress_ifb.empty())
    log_(s.hooked.name + ": " + describe(facts, neutral_));
  apply(s, std::move(facts));
  states_.push_back(std::move(s));
}

void TcHooks::remove(std::uint32_t ifindex) {
  for (auto it = states_.begin(); it != states_.end(); ++it)
    if (it->ifindex == ifindex) {
      states_.erase(it);
      return;
    }
}

// Facts first, then the ingress program follows them: detached before an
// ifb redirect can be bypassed, attached once it is gone.
void TcHooks::apply(State &s, TcFacts facts) {
  s.hooked.tc = std::move(facts);
  bool want = s.hooked.tc.ingress_ifb.empty();
  if (!want && s.ingress) {
    s.ingress.reset();
    log_(s.hooked.name + ": TC program removed from the ingress: it redirects to " +
         s.hooked.tc.ingress_ifb + ", whose shaper must see those packets");
  } else if (want && !s.ingress) {
    try {
      s.ingress.emplace(prog_fd_, s.ifindex, TcDirection::Ingress);
    } catch (const SysError &e) {
      throw SysError(e.err(), s.hooked.name + ": attaching the TC program to the ingress (" +
                                  e.what() + ")");
    }
  }
  s.hooked.tc_beside_xdp = s.ingress.has_value();
}

bool TcHooks::refresh() {
  if (!watch_.drain())
    return false;
  bool changed = false;
  for (auto &s : states_) {
    TcFacts facts;
    try {
      facts = read_tc_facts(s.ifindex);
    } catch (const SysError &e) {
      if (e.err() == ENODEV)
        continue; // removed: the control plane's link handling reports it
      throw;
    }
    if (facts == s.hooked.tc)
      continue;
    changed = true;
    log_(s.hooked.name + ": tc changed: " + describe(facts, neutral_));
    apply(s, std::move(facts));
  }
  return changed;
}

TcHooks::State *TcHooks::find(std::uint32_t ifindex) {
  for (auto &s : states_)
    if (s.ifindex == ifindex)
      return &s;
  return nullptr;
}

DirectionDecision TcHooks::decide(std::uint32_t in_ifindex, std::uint32_t out_ifindex) {
  State *in = find(in_ifindex), *out = find(out_ifindex);
  if (!in || !out)
    return {DirectionHook::Kernel, "not an attached interface"};
  return choose_direction(in->hooked, out->hooked, neutral_);
}

const char *TcHooks::ingress_kind(std::uint32_t ifindex) const {
  for (const auto &s : states_)
    if (s.ifindex == ifindex)
      return s.ingress ? s.ingress->kind() : nullptr;
  return nullptr;
}

} // namespace xdpflow
