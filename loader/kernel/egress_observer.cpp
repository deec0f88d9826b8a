#include "kernel/egress_observer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <string>

#include "core/error.h"
#include "xf_observer.skel.h"

namespace xdpflow {

EgressObserver::EgressObserver() {
  skel_ = xf_observer__open_and_load();
  if (!skel_)
    throw SysError(errno, "loading the egress observer's BPF object (tc programs; needs "
                          "CAP_BPF and CAP_NET_ADMIN)");
  ring_ = ring_buffer__new(bpf_map__fd(skel_->maps.xf_obs_events), &EgressObserver::on_sample, this,
                           nullptr);
  if (!ring_) {
    int err = errno;
    xf_observer__destroy(skel_);
    throw SysError(err, "opening the egress observer's ring buffer");
  }
}

EgressObserver::~EgressObserver() {
  links_.clear(); // detach before the programs go
  ring_buffer__free(ring_);
  xf_observer__destroy(skel_);
}

void EgressObserver::attach(std::uint32_t ifindex) {
  std::vector<TcLink> links;
  links.emplace_back(egress_prog_fd(), ifindex, TcDirection::Egress);
  // Ahead of the fast path's TC program, which ends the chain for the
  // packets it passes (TC_ACT_OK) and redirects the ones it forwards: the
  // ingress observation is of every packet as it arrived.
  links.emplace_back(ingress_prog_fd(), ifindex, TcDirection::Ingress, TcOrder::First);
  links_[ifindex] = std::move(links);
}

void EgressObserver::detach(std::uint32_t ifindex) {
  links_.erase(ifindex);
}

const char *EgressObserver::link_kind(std::uint32_t ifindex) const {
  auto it = links_.find(ifindex);
  return it == links_.end() || it->second.empty() ? "none" : it->second.front().kind();
}

bool EgressObserver::watch(const xf_obs_key &key) {
  xf_observation none{};
  // EEXIST: watched already (a record the loader forgot and re-asked for).
  // E2BIG: the watch list is full; the direction stays unobserved and its
  // connection on the kernel path, which is always correct, until the
  // caller tries again.
  if (!bpf_map_update_elem(watch_fd(), &key, &none, BPF_NOEXIST) || errno == EEXIST)
    return true;
  if (errno == E2BIG)
    return false;
  throw SysError(errno, "adding a connection to the observer's watch list");
}

void EgressObserver::unwatch(const xf_obs_key &key) {
  if (bpf_map_delete_elem(watch_fd(), &key) && errno != ENOENT)
    throw SysError(errno, "removing a connection from the observer's watch list");
}

int EgressObserver::events_fd() const {
  return ring_buffer__epoll_fd(ring_);
}

int EgressObserver::on_sample(void *ctx, void *data, std::size_t size) {
  auto *self = static_cast<EgressObserver *>(ctx);
  if (size >= sizeof(xf_obs_event) && self->on_event_)
    (*self->on_event_)(*static_cast<const xf_obs_event *>(data));
  return 0;
}

std::size_t EgressObserver::consume(const std::function<void(const xf_obs_event &)> &on_event) {
  on_event_ = &on_event;
  int n = ring_buffer__consume(ring_);
  on_event_ = nullptr;
  if (n < 0)
    throw SysError(-n, "reading the observer's ring buffer");
  return static_cast<std::size_t>(n);
}

int EgressObserver::egress_prog_fd() const {
  return bpf_program__fd(skel_->progs.xf_observe_egress);
}
int EgressObserver::ingress_prog_fd() const {
  return bpf_program__fd(skel_->progs.xf_observe_ingress);
}
int EgressObserver::watch_fd() const {
  return bpf_map__fd(skel_->maps.xf_obs_watch);
}
int EgressObserver::status_fd() const {
  return bpf_map__fd(skel_->maps.xf_obs_status);
}
int EgressObserver::pending_fd() const {
  return bpf_map__fd(skel_->maps.xf_obs_pending);
}

} // namespace xdpflow
