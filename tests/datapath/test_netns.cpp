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
  // The gateway's MACs of the fixtures (fixtures.h): the TC hook's
  // destination-MAC check is the kernel's own (pkt_type from the device).
  const char *macs[][2] = {{"xfdp-lan", "02:00:00:00:01:01"},
                           {"xfdp-wan", "02:00:00:00:02:01"},
                           {"xfdp-dmz", "02:00:00:00:03:01"},
                           {"xfdp-spare", "02:00:00:00:04:01"}};
  for (const auto &dev : macs)
    run(std::string("ip link set ") + dev[0] + " address " + dev[1] + " up");
  return TestDevices{ifindex_of("xfdp-lan"), ifindex_of("xfdp-wan"), ifindex_of("xfdp-dmz"),
                     ifindex_of("xfdp-spare")};
}

} // namespace

const TestDevices &enter_private_netns() {
  static const TestDevices devices = create();
  return devices;
}

} // namespace xdpflow::testing
