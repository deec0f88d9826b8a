// The shared structs as the compiled BPF program sees them (the BTF clang
// wrote into the object) against the C++ view of include/xdpflow/flow.h
// (sizeof/offsetof as the loader's compiler lays them out): same size, same
// members, same offsets and sizes. Run for the object of this build's byte
// order and for the other one (bpfeb on a little-endian host), and by
// scripts/cross.sh for a cross target's object against that target's view
// taken under qemu (XDPFLOW_BTF_OBJECT, XDPFLOW_LAYOUT_VIEW).
#include <gtest/gtest.h>

#include <algorithm>
#include <bpf/btf.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "cxx_layout.h"

namespace {

// Mismatches between the object's BTF and a C++ view, one line each.
std::vector<std::string> compare(const btf *b, const std::vector<StructLayout> &view) {
  std::vector<std::string> bad;
  for (const auto &s : view) {
    int id = btf__find_by_name_kind(b, s.name.c_str(), BTF_KIND_STRUCT);
    if (id < 0) {
      if (!s.loader_only)
        bad.push_back(s.name + ": not in the object's BTF");
      continue;
    }
    const btf_type *t = btf__type_by_id(b, id);
    if (t->size != s.size)
      bad.push_back(s.name + ": size " + std::to_string(t->size) + " in BTF, " +
                    std::to_string(s.size) + " in C++");
    std::set<std::string> seen;
    std::size_t end = 0; // members are in declaration order: no gap allowed
    const btf_member *m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
      std::string name = btf__name_by_offset(b, m->name_off);
      seen.insert(name);
      std::string where = s.name + "." + name;
      if (btf_member_bitfield_size(t, i) != 0) {
        bad.push_back(where + ": a bitfield (layout is compiler-defined)");
        continue;
      }
      std::size_t off = btf_member_bit_offset(t, i) / 8;
      long long size = btf__resolve_size(b, m->type);
      if (off != end)
        bad.push_back(where + ": " + std::to_string(off - end) +
                      " bytes of implicit padding before it (flow.h pads explicitly)");
      end = off + static_cast<std::size_t>(size);
      auto it = std::find_if(s.members.begin(), s.members.end(),
                             [&](const MemberLayout &c) { return c.name == name; });
      if (it == s.members.end()) {
        bad.push_back(where + ": in BTF, missing from the C++ view (tests/layout/cxx_layout.cpp)");
        continue;
      }
      if (off != it->offset)
        bad.push_back(where + ": offset " + std::to_string(off) + " in BTF, " +
                      std::to_string(it->offset) + " in C++");
      if (size != static_cast<long long>(it->size))
        bad.push_back(where + ": size " + std::to_string(size) + " in BTF, " +
                      std::to_string(it->size) + " in C++");
    }
    if (btf_vlen(t) && end != t->size)
      bad.push_back(s.name + ": " + std::to_string(t->size - end) +
                    " bytes of implicit tail padding");
    for (const auto &c : s.members)
      if (!seen.count(c.name))
        bad.push_back(s.name + "." + c.name + ": in the C++ view, not in BTF");
  }
  return bad;
}

struct BtfFile {
  explicit BtfFile(const std::string &path) : b(btf__parse_elf(path.c_str(), nullptr)) {
    err = b ? 0 : errno;
  }
  ~BtfFile() { btf__free(b); }
  btf *b;
  int err;
};

std::vector<StructLayout> view() {
  const char *file = std::getenv("XDPFLOW_LAYOUT_VIEW");
  if (!file)
    return cxx_layout();
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto v = parse_layout_text(text.str());
  if (v.empty())
    ADD_FAILURE() << "no layout in " << file;
  return v;
}

void check_object(const std::string &path, btf_endianness want) {
  BtfFile f(path);
  ASSERT_NE(nullptr, f.b) << "reading the BTF of " << path << ": " << std::strerror(f.err);
  EXPECT_EQ(want, btf__endianness(f.b)) << path << " is not of the byte order this check is for";
  auto v = view();
  std::size_t in_btf = 0;
  for (const auto &s : v)
    in_btf += btf__find_by_name_kind(f.b, s.name.c_str(), BTF_KIND_STRUCT) >= 0;
  EXPECT_GE(in_btf, 9u) << "the program uses fewer shared structs than expected";
  for (const auto &line : compare(f.b, v))
    ADD_FAILURE() << path << ": " << line;
}

btf_endianness endian_of(const char *target) {
  return std::strcmp(target, "bpfeb") == 0 ? BTF_BIG_ENDIAN : BTF_LITTLE_ENDIAN;
}

TEST(BtfLayout, ObjectOfThisBuild) {
  const char *obj = std::getenv("XDPFLOW_BTF_OBJECT");
  const char *target = std::getenv("XDPFLOW_BTF_TARGET");
  check_object(obj ? obj : XF_BPF_OBJ, endian_of(target ? target : XF_BPF_TARGET));
}

TEST(BtfLayout, ObjectOfTheOtherByteOrder) {
  if (std::getenv("XDPFLOW_BTF_OBJECT"))
    GTEST_SKIP() << "checking one given object (XDPFLOW_BTF_OBJECT)";
  check_object(XF_BPF_OBJ_OTHER, endian_of(XF_BPF_TARGET_OTHER));
}

// The check itself finds a moved member, a wrong size and a member the view
// lacks (so a pass above means something).
TEST(BtfLayout, CheckFindsDifferences) {
  BtfFile f(XF_BPF_OBJ);
  ASSERT_NE(nullptr, f.b);
  auto v = cxx_layout();
  ASSERT_TRUE(compare(f.b, v).empty());
  for (auto &s : v) {
    if (s.name == "xf_flow_value") {
      for (auto &m : s.members)
        if (m.name == "flags")
          m.offset += 4;
      std::erase_if(s.members, [](const MemberLayout &m) { return m.name == "ct_id"; });
    }
    if (s.name == "xf_status")
      s.size += 8;
  }
  auto bad = compare(f.b, v);
  std::string all;
  for (const auto &l : bad)
    all += l + "\n";
  EXPECT_EQ(3u, bad.size()) << all;
  EXPECT_NE(std::string::npos, all.find("xf_flow_value.flags: offset 88 in BTF, 92 in C++")) << all;
  EXPECT_NE(std::string::npos, all.find("xf_flow_value.ct_id: in BTF, missing")) << all;
  EXPECT_NE(std::string::npos, all.find("xf_status: size 136 in BTF, 144 in C++")) << all;
}

TEST(BtfLayout, ViewSurvivesItsTextForm) {
  auto v = cxx_layout();
  EXPECT_EQ(layout_text(v), layout_text(parse_layout_text(layout_text(v))));
}

} // namespace
