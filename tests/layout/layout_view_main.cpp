// xdpflow_layout_view: prints this target's C++ view of the shared structs
// (cxx_layout.h). A cross build runs it under qemu-user and hands the text to
// the host's BTF check (scripts/cross.sh), which compares it with the BTF of
// the BPF object built for that target's byte order.
#include <cstdio>

#include "cxx_layout.h"

int main() {
  std::fputs(layout_text(cxx_layout()).c_str(), stdout);
  return 0;
}
