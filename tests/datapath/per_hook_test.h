// Base of the data-path tests that run once per hook (parameter: enum
// xf_hook): a fresh fast path in the private test namespace, its LAN, WAN
// and DMZ devices attached with the fixtures' gateway MACs.
#pragma once

#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <memory>
#include <string>

#include "common/root.h"
#include "fixtures.h"
#include "kernel/fast_path.h"
#include "test_netns.h"
#include "xdp_runner.h"

namespace xdpflow::testing {

class PerHookTest : public ::testing::TestWithParam<std::uint32_t> {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    dev_ = &enter_private_netns();
    fp_ = std::make_unique<FastPath>(FastPathOptions{.max_flows = 64});
    fp_->add_interface(dev_->lan, kGwLanMac);
    fp_->add_interface(dev_->wan, kGwWanMac);
    fp_->add_interface(dev_->dmz, kGwDmzMac);
  }

  bool tc() const { return GetParam() == XF_HOOK_TC; }
  // One run of the hook's program on `frame` arriving on `ingress`.
  XdpRun run(const Bytes &frame, std::uint32_t ingress) const {
    return tc() ? tc_test_run(fp_->tc_prog_fd(), frame, ingress)
                : xdp_test_run(fp_->prog_fd(), frame, ingress);
  }
  // XDP_REDIRECT, or TC_ACT_REDIRECT (7) for the tc program.
  std::uint32_t redirect_verdict() const { return tc() ? 7u : std::uint32_t{XDP_REDIRECT}; }

  const TestDevices *dev_ = nullptr;
  std::unique_ptr<FastPath> fp_;
};

inline std::string hook_param_name(const ::testing::TestParamInfo<std::uint32_t> &info) {
  return info.param == XF_HOOK_TC ? "tc" : "xdp";
}

} // namespace xdpflow::testing
