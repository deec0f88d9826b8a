// Root-only tests: skip with a clear message when not root, fail instead when
// XDPFLOW_REQUIRE_ROOT_TESTS=1 (CI), so they can never silently stop running.
#pragma once

#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <unistd.h>

namespace xdpflow::testing {

inline bool root_tests_required() {
  const char *v = std::getenv("XDPFLOW_REQUIRE_ROOT_TESTS");
  return v && std::strcmp(v, "1") == 0;
}

} // namespace xdpflow::testing

// Use as the first statement of a TEST body or SetUp().
#define XF_REQUIRE_ROOT()                                                                          \
  do {                                                                                             \
    if (geteuid() != 0) {                                                                          \
      if (::xdpflow::testing::root_tests_required())                                               \
        FAIL() << "needs root, and XDPFLOW_REQUIRE_ROOT_TESTS=1 forbids skipping";                 \
      GTEST_SKIP() << "needs root (CAP_BPF, CAP_NET_ADMIN): skipped; run as root";                 \
    }                                                                                              \
  } while (0)
