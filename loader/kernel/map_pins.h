// Optional pins of the running instance's maps (attach --pin DIR) for
// operators who inspect them with bpftool. Only maps are pinned, never the
// link: a pinned link would keep the program attached after the control
// plane died. Removed on a clean exit; `xdpflow detach --pin DIR` removes
// what a crash left.
#pragma once

#include <string>
#include <vector>

namespace xdpflow {

class FastPath;

class MapPins {
public:
  MapPins(const FastPath &fast_path, const std::string &dir); // throws SysError
  ~MapPins();
  MapPins(const MapPins &) = delete;
  MapPins &operator=(const MapPins &) = delete;

  // The names pinned under DIR.
  static const std::vector<std::string> &names();
  // Removes xdpflow's pins from dir; returns the paths removed.
  static std::vector<std::string> remove_from(const std::string &dir);

private:
  std::vector<std::string> paths_;
};

} // namespace xdpflow
