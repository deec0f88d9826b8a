// The benchmark's traffic generator, without live-frames test runs (which
// this kernel refuses): an AF_PACKET socket with PACKET_QDISC_BYPASS sends
// batches of complete 64-byte UDP frames (sendmmsg) into a relay veth whose
// peer's XDP program redirects them out of the client veth, so the gateway
// receives XDP frames as from a NIC, not skbs that veth would copy first
// (scripts/bench "the rig"). Flow i's addresses and ports: bench_proto.h.
#pragma once

#include <cstdint>
#include <vector>

#include "core/flow_key.h"
#include "netns.h"

namespace xfbench {

struct PacketGenOptions {
  std::uint32_t ifindex = 0; // the relay veth the frames are sent into
  Mac src_mac{}, dst_mac{};  // as they must reach the gateway
  xdpflow::IpAddr src, dst;  // flow 0
  std::uint32_t flows = 1;
  std::uint32_t first_flow = 0; // sends flows first_flow .. first_flow + flows - 1
  // Every miss_every-th frame goes to XFB_MISS_DPORT, a port no flow entry
  // has (mixed traffic: the kernel path forwards those); 0 = none.
  std::uint32_t miss_every = 0;
  // Flows in a scattered order (flow i sent as the (i * a large prime mod
  // flows)-th): packets of a gateway's many connections arrive in no
  // relation to the order their entries were written, so consecutive
  // packets must not find their entries side by side in memory.
  bool scattered = true;
};

class PacketGen {
public:
  // Opens the socket in the calling thread's namespace; throws SysError.
  explicit PacketGen(const PacketGenOptions &options);
  ~PacketGen();
  PacketGen(const PacketGen &) = delete;
  PacketGen &operator=(const PacketGen &) = delete;

  // Builds and sends one batch; returns the frames the kernel took (a full
  // device queue takes fewer: not an error, the relay drops the rest).
  std::uint32_t send_batch();
  std::uint64_t sent() const { return sent_; }

  static constexpr std::uint32_t batch = 64;

private:
  void build(std::uint8_t *frame, std::uint32_t flow, bool miss) const;
  std::uint32_t flow_at(std::uint64_t seq) const; // relative to first_flow

  PacketGenOptions options_;
  int fd_ = -1;
  std::uint64_t seq_ = 0, sent_ = 0;
  std::vector<std::uint8_t> frames_;
};

} // namespace xfbench
