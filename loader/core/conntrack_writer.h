// Where the control plane's conntrack changes go (BE_LIBERAL for offloaded
// TCP, timeout refreshes from keepalive): an interface so the pure logic in
// core/ queues updates without a socket and unit tests record them. The real
// one is kernel/ct_netlink.h's NetlinkConntrackWriter.
#pragma once

#include "core/ct_message.h"

namespace xdpflow {

class ConntrackWriter {
public:
  virtual ~ConntrackWriter() = default;
  // Queued; the caller flushes in batches.
  virtual void update(const CtUpdate &update) = 0;
};

} // namespace xdpflow
