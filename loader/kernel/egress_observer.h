// The egress observer's BPF side (bpf/observer.bpf.c, skeleton xf_observer):
// loads it, attaches its two tc programs to each interface through TcLink
// (tcx where the kernel has it, owned by this process like the XDP links),
// keeps the watch list, and hands the ring buffer's records to a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "core/observed_egress.h"
#include "kernel/tcx_link.h"

struct xf_observer; // generated skeleton (xf_observer.skel.h)
struct ring_buffer;

namespace xdpflow {

class EgressObserver : public ObservationWatcher {
public:
  // Opens and loads the object; throws SysError with the reason.
  EgressObserver();
  ~EgressObserver() override;
  EgressObserver(const EgressObserver &) = delete;
  EgressObserver &operator=(const EgressObserver &) = delete;

  // Observes what leaves (and arrives on) ifindex. Throws SysError.
  void attach(std::uint32_t ifindex);
  void detach(std::uint32_t ifindex);
  // "tcx" or "clsact" for an attached interface.
  const char *link_kind(std::uint32_t ifindex) const;

  bool watch(const xf_obs_key &key) override;
  void unwatch(const xf_obs_key &key) override;

  // The ring buffer, for poll().
  int events_fd() const;
  // Hands every queued record to on_event; returns how many.
  std::size_t consume(const std::function<void(const xf_obs_event &)> &on_event);

  int egress_prog_fd() const;
  int ingress_prog_fd() const;
  int watch_fd() const;
  int status_fd() const;
  int pending_fd() const;

private:
  static int on_sample(void *ctx, void *data, std::size_t size);

  ::xf_observer *skel_ = nullptr;
  ::ring_buffer *ring_ = nullptr;
  std::map<std::uint32_t, std::vector<TcLink>> links_;
  const std::function<void(const xf_obs_event &)> *on_event_ = nullptr;
};

} // namespace xdpflow
