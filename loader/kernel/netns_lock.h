// "xdpflow already runs in this network namespace": an abstract unix socket
// (@xdpflow) is scoped to the network namespace, vanishes with its process
// (even after kill -9, so no stale lock files), and tells who holds it
// (SO_PEERCRED). Instances in different namespaces never see each other's.
#pragma once

#include <atomic>
#include <optional>
#include <sys/types.h>
#include <thread>

#include "kernel/unique_fd.h"

namespace xdpflow {

class NetnsLock {
public:
  // Takes the lock; throws RuntimeError naming the holder's pid when another
  // xdpflow holds it.
  NetnsLock();
  ~NetnsLock();
  NetnsLock(const NetnsLock &) = delete;
  NetnsLock &operator=(const NetnsLock &) = delete;

  // The pid holding the lock in this netns, or nullopt when nobody does.
  static std::optional<pid_t> holder();

private:
  UniqueFd fd_;
  std::thread acceptor_; // answers holder() probes so its backlog never fills
  std::atomic<bool> stopping_{false};
};

} // namespace xdpflow
