#include "kernel/map_pins.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstdint>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/error.h"
#include "kernel/fast_path.h"

namespace xdpflow {

namespace {
// BPF_FS_MAGIC; f_type is a 32-bit int on 32-bit targets, where this
// value does not fit a long: compared as the 32 bits it is.
constexpr std::uint32_t kBpfFsMagic = 0xcafe4a11u;
} // namespace

const std::vector<std::string> &MapPins::names() {
  static const std::vector<std::string> n = {"xf_flows4", "xf_flows6", "xf_counters", "xf_devmap",
                                             "xf_status"};
  return n;
}

MapPins::MapPins(const FastPath &fp, const std::string &dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw SysError(errno, "creating the pin directory " + dir);
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0)
    throw SysError(errno, "checking the pin directory " + dir);
  if (static_cast<std::uint32_t>(fs.f_type) != kBpfFsMagic)
    throw RuntimeError("--pin " + dir + " is not on a BPF filesystem (mount -t bpf bpf " +
                       "/sys/fs/bpf, then use a directory below it)");
  const int fds[] = {fp.flow_maps().v4, fp.flow_maps().v6, fp.counters_fd(), fp.devmap_fd(),
                     fp.status_fd()};
  for (std::size_t i = 0; i < names().size(); i++) {
    std::string path = dir + "/" + names()[i];
    if (bpf_obj_pin(fds[i], path.c_str()) != 0) {
      int err = errno;
      for (const auto &p : paths_)
        unlink(p.c_str());
      throw SysError(err, "pinning " + path +
                              (err == EEXIST
                                   ? " (left by an earlier run? xdpflow detach --pin " + dir + ")"
                                   : std::string()));
    }
    paths_.push_back(path);
  }
}

MapPins::~MapPins() {
  for (const auto &p : paths_)
    unlink(p.c_str());
}

std::vector<std::string> MapPins::remove_from(const std::string &dir) {
  std::vector<std::string> removed;
  for (const auto &n : names()) {
    std::string path = dir + "/" + n;
    if (unlink(path.c_str()) == 0)
      removed.push_back(path);
    else if (errno != ENOENT)
      throw SysError(errno, "removing the pin " + path);
  }
  return removed;
}

} // namespace xdpflow
