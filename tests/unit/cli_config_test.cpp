// Config file parsing and attach settings (core/config.h).
#include <gtest/gtest.h>

#include "core/config.h"
#include "core/error.h"

namespace xdpflow {
namespace {

TEST(CliConfig, ParsesEveryKeyWithCommentsAndBlanks) {
  AttachSettings s;
  apply_config_text("# gateway\n"
                    "interfaces = lan0 wan0, wan1\n"
                    "\n"
                    "mode = generic   # veth test\n"
                    "max-flows = 0x1000\n"
                    "exclude-mark = 0x10/0xf0\n"
                    "idle-timeout = 60\n"
                    "verbose = 2\n"
                    "replace = yes\n"
                    "pin = /sys/fs/bpf/xdpflow\n",
                    "/etc/xdpflow.conf", s);
  EXPECT_EQ(s.interfaces, (std::vector<std::string>{"lan0", "wan0", "wan1"}));
  EXPECT_EQ(s.mode, XdpMode::Generic);
  EXPECT_EQ(s.max_flows, 4096u);
  EXPECT_EQ(s.exclude_mark, 0x10u);
  EXPECT_EQ(s.exclude_mask, 0xf0u);
  EXPECT_EQ(s.idle_timeout_sec, 60u);
  EXPECT_EQ(s.verbose, 2);
  EXPECT_TRUE(s.replace);
  EXPECT_EQ(s.pin_dir, "/sys/fs/bpf/xdpflow");
}

TEST(CliConfig, HookAndNeutralQdiscs) {
  AttachSettings s;
  EXPECT_EQ(s.hook, HookPreference::Auto);
  apply_config_text("hook = tc\nneutral-qdisc = sfq, prio\n", "f", s);
  EXPECT_EQ(s.hook, HookPreference::Tc);
  EXPECT_EQ(s.neutral_qdiscs, (std::vector<std::string>{"sfq", "prio"}));
  try {
    apply_config_text("hook = ebpf\n", "my.conf", s);
    FAIL() << "no error";
  } catch (const UsageError &e) {
    EXPECT_STREQ(e.what(), "my.conf:1: hook must be auto, xdp or tc, got 'ebpf'");
  }
}

TEST(CliConfig, DefaultsWhenEmpty) {
  AttachSettings s;
  apply_config_text("", "x", s);
  EXPECT_TRUE(s.interfaces.empty());
  EXPECT_EQ(s.mode, XdpMode::Auto);
  EXPECT_EQ(s.max_flows, XF_DEFAULT_MAX_FLOWS);
  EXPECT_EQ(s.exclude_mask, 0u);
  EXPECT_FALSE(s.replace);
}

TEST(CliConfig, ErrorsNameFileLineAndProblem) {
  AttachSettings s;
  try {
    apply_config_text("mode = auto\nmode = turbo\n", "my.conf", s);
    FAIL() << "no error";
  } catch (const UsageError &e) {
    EXPECT_STREQ(e.what(), "my.conf:2: mode must be auto, hw, native or generic, got 'turbo'");
  }
  EXPECT_THROW(apply_config_text("bogus = 1\n", "f", s), UsageError);
  EXPECT_THROW(apply_config_text("just words\n", "f", s), UsageError);
  EXPECT_THROW(apply_config_text("max-flows = 0\n", "f", s), UsageError);
  EXPECT_THROW(apply_config_text("max-flows = 12abc\n", "f", s), UsageError);
  EXPECT_THROW(apply_config_text("replace = maybe\n", "f", s), UsageError);
  EXPECT_THROW(apply_config_text("pin = relative/dir\n", "f", s), UsageError);
}

TEST(CliConfig, MarkMask) {
  auto mm = parse_mark_mask("0x10");
  EXPECT_EQ(mm.value, 0x10u);
  EXPECT_EQ(mm.mask, 0xffffffffu);
  mm = parse_mark_mask("5/7");
  EXPECT_EQ(mm.value, 5u);
  EXPECT_EQ(mm.mask, 7u);
  EXPECT_THROW(parse_mark_mask("0x10/0x0f"), UsageError); // bits outside the mask
  EXPECT_THROW(parse_mark_mask("0x1ffffffff"), UsageError);
  EXPECT_THROW(parse_mark_mask("/1"), UsageError);
}

} // namespace
} // namespace xdpflow
