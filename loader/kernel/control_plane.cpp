#include "kernel/control_plane.h"

#include <chrono>
#include <thread>

#include "kernel/fast_path.h"

namespace xdpflow {

struct ControlPlane::Impl {
  ControlPlaneConfig config;
  FastPath &fast_path;
};

ControlPlane::ControlPlane(const ControlPlaneConfig &config, FastPath &fast_path)
    : impl_(new Impl{config, fast_path}) {}

ControlPlane::~ControlPlane() {
  delete impl_;
}

// Stub until the conntrack listener lands: keeps the contract (on_synced once,
// returns within 200 ms of stop).
void ControlPlane::run(const std::atomic<bool> &stop, const std::function<void()> &on_synced) {
  if (on_synced)
    on_synced();
  while (!stop.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

} // namespace xdpflow
