// Network namespaces for the benchmark: the runner is one process that
// drives all three namespaces of the rig. A thread can move between network
// namespaces (setns), and what it creates there (sockets, XDP links, devmap
// entries, test runs bound to an ifindex) stays bound to the namespace it was
// created in, so the runner enters a namespace just long enough to set
// something up.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace xfbench {

using Mac = std::array<std::uint8_t, 6>;

// Moves the calling thread into /run/netns/NAME (as `ip netns add` makes
// it) and back to where it was on destruction.
class NetnsScope {
public:
  explicit NetnsScope(const std::string &name);
  ~NetnsScope();
  NetnsScope(const NetnsScope &) = delete;
  NetnsScope &operator=(const NetnsScope &) = delete;

private:
  int saved_fd_ = -1;
};

// In the calling thread's current namespace; throw with the name on failure.
std::uint32_t ifindex_of(const std::string &ifname);
Mac mac_of(const std::string &ifname);

} // namespace xfbench
