// An XDP program attached through a bpf_link owned by this process: when
// the runner exits, however it exits, the kernel detaches the program, so a
// benchmark never leaves XDP programs behind.
#pragma once

#include <cstdint>
#include <string>

namespace xfbench {

class XdpLink {
public:
  // Native (driver) mode, on ifindex of the calling thread's namespace.
  XdpLink(int prog_fd, std::uint32_t ifindex, const std::string &what);
  ~XdpLink();
  XdpLink(XdpLink &&other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  XdpLink(const XdpLink &) = delete;
  XdpLink &operator=(const XdpLink &) = delete;
  XdpLink &operator=(XdpLink &&) = delete;

private:
  int fd_ = -1;
};

} // namespace xfbench
