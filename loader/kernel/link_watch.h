// The namespace's links as core/attach_plan.h needs them: read once
// (RTM_GETLINK dump, /proc/net/pppoe) and followed (RTNLGRP_LINK), and the
// kernel's own reason when it refuses an XDP program on a device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attach_plan.h"
#include "kernel/netlink_socket.h"

namespace xdpflow {

// Every link of this network namespace. Throws SysError.
LinkTable read_link_table();

// RTNLGRP_LINK, for poll() while attached.
class LinkWatch {
public:
  LinkWatch();
  int fd() const { return events_.fd(); }
  // Applies every queued link message to `table`; true when any arrived
  // (after an overrun the table is read again whole). Throws SysError.
  bool drain(LinkTable &table);

private:
  NetlinkSocket events_;
  std::vector<std::uint8_t> buf_;
};

// Why the kernel refuses an XDP program on ifindex in a mode (the mode's
// XDP_FLAGS_* bit), in its own words: the netlink extended ack, which a
// bpf_link attach does not return. Asked through RTM_SETLINK with
// XDP_FLAGS_REPLACE and prog_fd as the expected program, which is attached
// nowhere through netlink: the request fails in every case and changes
// nothing, but the kernel runs its checks (upper devices first) and says
// which one failed. "" when it gives no text, or when the only check that
// failed is the probe's own (the driver's checks come after it).
std::string xdp_refusal_reason(std::uint32_t ifindex, std::uint32_t mode_flag, int prog_fd);

} // namespace xdpflow
