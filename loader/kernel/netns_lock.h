// "xdpflow already runs in this network namespace": an exclusive open-file
// lock (F_OFD_SETLK) on /run/xdpflow/netns-<inode>.lock, keyed by the inode
// of the network namespace (/proc/self/ns/net). /run is shared by every
// `ip netns exec`, so each namespace has exactly one lock file whoever looks.
// The kernel drops the lock with the process (even after kill -9), so a
// leftover file is never a stale lock. Only root (or the service's own user,
// when it owns the directory) can create or even open the file: the
// directory and the file are checked to belong to root or to us and to be
// writable by nobody else, and the file is 0600 so no other user can take a
// read lock on it. (The abstract unix socket @xdpflow used before had no
// permissions: any local user could bind it and keep xdpflow from starting.)
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

#include "kernel/unique_fd.h"

namespace xdpflow {

// Where the lock files live; the service's RuntimeDirectory=xdpflow.
inline constexpr char kRunDir[] = "/run/xdpflow";

class NetnsLock {
public:
  // Takes the lock; throws RuntimeError naming the holder's pid when another
  // xdpflow holds it, or naming the file and its owner when it is not ours
  // to trust.
  NetnsLock();
  ~NetnsLock();
  NetnsLock(const NetnsLock &) = delete;
  NetnsLock &operator=(const NetnsLock &) = delete;

  // The pid holding the lock in this netns (0 when the holder has not written
  // it yet), or nullopt when nobody does. Never takes the lock itself.
  static std::optional<pid_t> holder();

  // The lock file of the current network namespace.
  static std::string path();

private:
  UniqueFd fd_;
  std::string path_;
};

} // namespace xdpflow
