// TcLink against the real kernel: a pass-through tc program attached to a veth
// of a private namespace through tcx and through the clsact fallback; what
// `bpftool link` and `tc filter show` (the tools a user has) report while the
// link lives and after it is gone, and that other filters on the same hook
// survive both.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <bpf/bpf.h>

#include "common/root.h"
#include "kernel/tc_facts.h"
#include "kernel/tcx_link.h"
#include "test_netns.h"
#include "xf_tc_pass.skel.h"

namespace xdpflow::testing {
namespace {

std::string capture(const std::string &command) {
  std::unique_ptr<FILE, int (*)(FILE *)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe)
    return "popen failed: " + command;
  std::string out;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe.get()))
    out.append(buf.data(), n);
  return out;
}

void run(const std::string &command) {
  ASSERT_EQ(std::system((command + " >/dev/null").c_str()), 0) << command;
}

// Scoped environment variable (the clsact tests force the fallback).
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

private:
  const char *name_;
};

class TcLinkTest : public ::testing::Test {
protected:
  void SetUp() override {
    XF_REQUIRE_ROOT();
    devices_ = &enter_private_netns();
    skel_ = xf_tc_pass__open_and_load();
    ASSERT_NE(skel_, nullptr) << "loading tc_pass.bpf.o";
    prog_fd_ = bpf_program__fd(skel_->progs.xf_tc_pass);
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    ASSERT_EQ(bpf_obj_get_info_by_fd(prog_fd_, &info, &len), 0);
    prog_id_ = std::to_string(info.id);
    // Start from a clean hook: an earlier test of this process may have left
    // the clsact qdisc (TcLink never removes it, by design).
    std::system("tc qdisc del dev xfdp-lan clsact 2>/dev/null");
  }
  void TearDown() override {
    if (skel_)
      xf_tc_pass__destroy(skel_);
  }

  // The tcx links bpftool lists for our program ("prog <id>" on a link line).
  std::string tcx_links() { return capture("bpftool link show"); }
  std::string filters(const char *dir) {
    return capture(std::string("tc filter show dev xfdp-lan ") + dir);
  }

  const TestDevices *devices_ = nullptr;
  xf_tc_pass *skel_ = nullptr;
  int prog_fd_ = -1;
  std::string prog_id_;
};

// What tc_ingress_programs (used by status/flows to find the instance) says.
bool on_ingress(std::uint32_t ifindex, const std::string &id, TcLinkKind kind) {
  for (const auto &p : tc_ingress_programs(ifindex))
    if (std::to_string(p.prog_id) == id && p.kind == kind)
      return true;
  return false;
}

bool lists_prog(const std::string &text, const std::string &id) {
  return text.find("prog " + id + "\n") != std::string::npos ||
         text.find("prog " + id + " ") != std::string::npos ||
         text.find("id " + id + " ") != std::string::npos;
}

TEST_F(TcLinkTest, TcxOnBothDirectionsIsListedAndGoneAfterDestruction) {
  {
    TcLink ingress(prog_fd_, devices_->lan, TcDirection::Ingress);
    TcLink egress(prog_fd_, devices_->lan, TcDirection::Egress);
    EXPECT_STREQ(ingress.kind(), "tcx") << "this kernel (6.6+) has tcx";
    EXPECT_STREQ(egress.kind(), "tcx");
    std::string links = tcx_links();
    EXPECT_TRUE(lists_prog(links, prog_id_)) << links;
    EXPECT_TRUE(on_ingress(devices_->lan, prog_id_, TcLinkKind::Tcx));
    // No clsact filter was added on the way.
    EXPECT_EQ(filters("ingress").find("xf_tc_pass"), std::string::npos);
  }
  std::string links = tcx_links();
  EXPECT_FALSE(lists_prog(links, prog_id_)) << "tcx links still there after destruction:\n"
                                            << links;
}

TEST_F(TcLinkTest, TcxCoexistsWithAnotherTcxLinkAndClsactFilters) {
  run("tc qdisc add dev xfdp-lan clsact");
  run("tc filter add dev xfdp-lan ingress protocol all prio 7 u32 match u32 0 0 flowid 1:1");
  {
    TcLink first(prog_fd_, devices_->lan, TcDirection::Ingress);
    {
      // Another tool's tcx program on the same hook (the kernel refuses
      // the same program twice in one chain: a second load).
      xf_tc_pass *other = xf_tc_pass__open_and_load();
      ASSERT_NE(other, nullptr);
      {
        TcLink second(bpf_program__fd(other->progs.xf_tc_pass), devices_->lan,
                      TcDirection::Ingress);
        EXPECT_STREQ(second.kind(), "tcx");
      }
      xf_tc_pass__destroy(other);
    }
    EXPECT_TRUE(lists_prog(tcx_links(), prog_id_)) << "the first link went with the second";
  }
  EXPECT_NE(filters("ingress").find("u32"), std::string::npos) << "the u32 filter went with tcx";
}

// The egress observer's ingress program must see packets before the fast
// path's TC program ends the chain (TC_ACT_OK) or redirects: First puts it at
// the head of the tcx chain, ahead of links attached before and after it.
TEST_F(TcLinkTest, FirstRunsAheadOfLinksAttachedBeforeAndAfterIt) {
  std::vector<xf_tc_pass *> skels;
  std::vector<std::string> ids;
  for (int i = 0; i < 2; i++) {
    skels.push_back(xf_tc_pass__open_and_load());
    ASSERT_NE(skels.back(), nullptr);
    bpf_prog_info info{};
    std::uint32_t len = sizeof(info);
    ASSERT_EQ(bpf_obj_get_info_by_fd(bpf_program__fd(skels.back()->progs.xf_tc_pass), &info, &len),
              0);
    ids.push_back(std::to_string(info.id));
  }
  {
    TcLink before(bpf_program__fd(skels[0]->progs.xf_tc_pass), devices_->lan, TcDirection::Ingress);
    TcLink first(prog_fd_, devices_->lan, TcDirection::Ingress, TcOrder::First);
    TcLink after(bpf_program__fd(skels[1]->progs.xf_tc_pass), devices_->lan, TcDirection::Ingress);
    std::vector<std::string> order;
    for (const auto &p : tc_ingress_programs(devices_->lan))
      order.push_back(std::to_string(p.prog_id));
    EXPECT_EQ(order, (std::vector<std::string>{prog_id_, ids[0], ids[1]}));
  }
  for (auto *s : skels)
    xf_tc_pass__destroy(s);
}

TEST_F(TcLinkTest, ClsactFallbackFiltersAreListedAndRemovedLeavingOthers) {
  ScopedEnv force("XDPFLOW_FORCE_CLSACT", "1");
  run("tc qdisc add dev xfdp-lan clsact");
  run("tc filter add dev xfdp-lan ingress protocol all prio 7 u32 match u32 0 0 flowid 1:1");
  {
    TcLink ingress(prog_fd_, devices_->lan, TcDirection::Ingress);
    TcLink egress(prog_fd_, devices_->lan, TcDirection::Egress);
    EXPECT_STREQ(ingress.kind(), "clsact");
    EXPECT_STREQ(egress.kind(), "clsact");
    std::string in = filters("ingress"), out = filters("egress");
    EXPECT_NE(in.find("xf_tc_pass"), std::string::npos) << in;
    EXPECT_NE(in.find("direct-action"), std::string::npos) << in;
    EXPECT_NE(out.find("xf_tc_pass"), std::string::npos) << out;
    EXPECT_NE(in.find("u32"), std::string::npos) << in;
    std::string net = capture("bpftool net show dev xfdp-lan");
    EXPECT_NE(net.find("xf_tc_pass"), std::string::npos) << net;
    EXPECT_TRUE(on_ingress(devices_->lan, prog_id_, TcLinkKind::Clsact));
  }
  EXPECT_FALSE(on_ingress(devices_->lan, prog_id_, TcLinkKind::Clsact));
  std::string in = filters("ingress"), out = filters("egress");
  EXPECT_EQ(in.find("xf_tc_pass"), std::string::npos) << in;
  EXPECT_EQ(out.find("xf_tc_pass"), std::string::npos) << out;
  EXPECT_NE(in.find("u32"), std::string::npos) << "another tool's filter was removed:\n" << in;
}

TEST_F(TcLinkTest, ClsactCreatesTheQdiscWhenMissingAndMovesOwnership) {
  ScopedEnv force("XDPFLOW_FORCE_CLSACT", "1");
  TcLink moved = [&] {
    TcLink link(prog_fd_, devices_->lan, TcDirection::Ingress);
    return link;
  }();
  EXPECT_NE(filters("ingress").find("xf_tc_pass"), std::string::npos)
      << "the moved-from link removed the filter";
  moved.release();
  EXPECT_EQ(filters("ingress").find("xf_tc_pass"), std::string::npos);
}

TEST_F(TcLinkTest, UnknownInterfaceFailsWithTheAttempt) {
  try {
    TcLink link(prog_fd_, 0x7fffff00u, TcDirection::Ingress);
    FAIL() << "attached to a missing interface";
  } catch (const std::exception &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("ifindex 2147483392"), std::string::npos) << what;
    EXPECT_NE(what.find("ingress"), std::string::npos) << what;
  }
}

} // namespace
} // namespace xdpflow::testing
