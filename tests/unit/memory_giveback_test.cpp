// MemoryGiveBack: trim only after the records held fell well below their
// peak since the last trim.
#include <gtest/gtest.h>

#include "core/memory_giveback.h"

namespace xdpflow {
namespace {

TEST(MemoryGiveBack, TrimsOnceAfterABurstLeft) {
  MemoryGiveBack g(100);
  EXPECT_FALSE(g.after(0));
  EXPECT_FALSE(g.after(1000)); // the burst: waiting connections
  EXPECT_FALSE(g.after(950));  // a few placed: not worth a heap walk
  EXPECT_TRUE(g.after(10));    // most placed: give it back
  EXPECT_FALSE(g.after(10)) << "once, not on every call";
  EXPECT_FALSE(g.after(0)) << "a drop smaller than the threshold since the trim";
  EXPECT_FALSE(g.after(500));
  EXPECT_TRUE(g.after(300)) << "the next burst's drop counts from its own peak";
}

} // namespace
} // namespace xdpflow
