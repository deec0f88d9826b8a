// When to hand freed heap memory back to the system (malloc_trim): the
// allocator keeps what a burst of waiting connections used (an
// invalidation with every connection waiting, a million found at start)
// after they were offloaded and their records freed, so the loader's RSS
// would stay at the burst's peak. Trimming walks the heap, so only after
// the records held fell well below their peak since the last trim.
#pragma once

#include <algorithm>
#include <cstddef>

namespace xdpflow {

class MemoryGiveBack {
public:
  explicit MemoryGiveBack(std::size_t min_drop = 4096) : min_drop_(min_drop) {}
  // held: the records kept now (any unit of roughly constant size). True
  // when the caller should trim now.
  bool after(std::size_t held) {
    peak_ = std::max(peak_, held);
    if (peak_ < held + min_drop_)
      return false;
    peak_ = held;
    return true;
  }

private:
  std::size_t min_drop_;
  std::size_t peak_ = 0;
};

} // namespace xdpflow
