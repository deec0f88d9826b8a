#include "test_netns.h"

#include <cerrno>
#include <cstdlib>
#include <net/if.h>
#include <sched.h>
#include <string>

#include "core/error.h"

namespace xdpflow::testing {
namespace {

void run(const std::string &command) {
  int status = std::system((command + " >/dev/null").c_str());
  if (status != 0)
    throw RuntimeError("test namespace set-up failed (status " + std::to_string(status) +
                       "): " + command);
}

std::uint32_t ifindex_of(const char *name) {
  unsigned int index = if_nametoindex(name);
  if (index == 0)
    throw SysError(errno, std::string("looking up test device ") + name);
  return index;
}

TestDevices create() {
  // Only this process (single-threaded at this point) and its children see
  // the new namespace; nothing is created in the caller's namespace.
  if (unshare(CLONE_NEWNET) != 0)
    throw SysError(errno, "unshare(CLONE_NEWNET) for the data-path test namespace");
  run("ip link set lo up");
  run("ip link add xfdp-lan type veth peer name xfdp-wan");
  run("ip link add xfdp-dmz type veth peer name xfdp-spare");
  for (const char *dev : {"xfdp-lan", "xfdp-wan", "xfdp-dmz", "xfdp-spare"})
    run(std::string("ip link set ") + dev + " up");
  return TestDevices{ifindex_of("xfdp-lan"), ifindex_of("xfdp-wan"), ifindex_of("xfdp-dmz"),
                     ifindex_of("xfdp-spare")};
}

} // namespace

const TestDevices &enter_private_netns() {
  static const TestDevices devices = create();
  return devices;
}

} // namespace xdpflow::testing
