// The auto attach plan and driver feature decoding (core/xdp_mode.h).
#include <cerrno>
#include <gtest/gtest.h>

#include "core/xdp_mode.h"

namespace xdpflow {
namespace {

TEST(CliXdpMode, ParsesAndNamesModes) {
  for (auto m : {XdpMode::Auto, XdpMode::Hw, XdpMode::Native, XdpMode::Generic})
    EXPECT_EQ(parse_xdp_mode(to_string(m)), m);
  EXPECT_FALSE(parse_xdp_mode("drv"));
  EXPECT_FALSE(parse_xdp_mode(""));
}

TEST(CliXdpMode, AutoOnVethSkipsHwWithReasonThenNativeThenGeneric) {
  std::uint64_t veth = XDP_FEATURE_BASIC | XDP_FEATURE_REDIRECT | XDP_FEATURE_NDO_XMIT |
                       XDP_FEATURE_RX_SG | XDP_FEATURE_NDO_XMIT_SG;
  auto plan = plan_attach(XdpMode::Auto, veth);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].mode, XdpMode::Hw);
  EXPECT_EQ(plan[0].skip_reason, "the driver reports no hw-offload");
  EXPECT_EQ(plan[1].mode, XdpMode::Native);
  EXPECT_TRUE(plan[1].skip_reason.empty());
  EXPECT_EQ(plan[2].mode, XdpMode::Generic);
}

TEST(CliXdpMode, AutoTriesHwWhereReportedAndSkipsNativeWithoutBasic) {
  auto plan = plan_attach(XdpMode::Auto, XDP_FEATURE_HW_OFFLOAD);
  EXPECT_TRUE(plan[0].skip_reason.empty());
  EXPECT_EQ(plan[1].skip_reason, "the driver has no native XDP support");
  EXPECT_TRUE(plan[2].skip_reason.empty());
}

TEST(CliXdpMode, UnknownFeaturesStillTryNative) {
  auto plan = plan_attach(XdpMode::Auto, std::nullopt);
  EXPECT_FALSE(plan[0].skip_reason.empty());
  EXPECT_TRUE(plan[1].skip_reason.empty());
  EXPECT_TRUE(can_be_redirect_target(std::nullopt));
}

TEST(CliXdpMode, ForcedModeIsOneStepAlwaysTried) {
  for (auto m : {XdpMode::Hw, XdpMode::Native, XdpMode::Generic}) {
    auto plan = plan_attach(m, 0);
    ASSERT_EQ(plan.size(), 1u);
    EXPECT_EQ(plan[0].mode, m);
    EXPECT_TRUE(plan[0].skip_reason.empty());
  }
}

TEST(CliXdpMode, FeatureNamesAndRedirectTarget) {
  EXPECT_EQ(xdp_feature_names(XDP_FEATURE_BASIC | XDP_FEATURE_NDO_XMIT | (1ull << 40)),
            (std::vector<std::string>{"basic", "ndo-xmit", "bit40"}));
  EXPECT_TRUE(xdp_feature_names(0).empty());
  EXPECT_FALSE(can_be_redirect_target(XDP_FEATURE_BASIC | XDP_FEATURE_REDIRECT));
  EXPECT_TRUE(can_be_redirect_target(XDP_FEATURE_NDO_XMIT));
}

TEST(CliXdpMode, ExplainsCommonErrnos) {
  EXPECT_NE(explain_attach_errno(XdpMode::Hw, EINVAL).find("Invalid argument"), std::string::npos);
  EXPECT_NE(explain_attach_errno(XdpMode::Native, EPERM).find("CAP_NET_ADMIN"), std::string::npos);
  EXPECT_NE(explain_attach_errno(XdpMode::Native, ERANGE).find("MTU too large"), std::string::npos);
  EXPECT_NE(explain_attach_errno(XdpMode::Generic, EBUSY).find("another XDP program"),
            std::string::npos);
}

} // namespace
} // namespace xdpflow
