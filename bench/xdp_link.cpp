#include "xdp_link.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <linux/if_link.h>
#include <unistd.h>

#include "core/error.h"

namespace xfbench {

XdpLink::XdpLink(int prog_fd, std::uint32_t ifindex, const std::string &what) {
  LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
  fd_ = bpf_link_create(prog_fd, static_cast<int>(ifindex), BPF_XDP, &opts);
  if (fd_ < 0)
    throw xdpflow::SysError(errno, "attaching " + what + " (native XDP) to ifindex " +
                                       std::to_string(ifindex));
}

XdpLink::~XdpLink() {
  if (fd_ >= 0)
    close(fd_);
}

} // namespace xfbench
