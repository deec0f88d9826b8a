// The C++ view of the structs in include/xdpflow/flow.h: size of each struct,
// offset and size of each member, as this compiler lays them out for this
// target. The BTF check (btf_layout_test.cpp) compares it with the BPF
// object's BTF, which lists every member the program's compiler saw: a member
// missing here fails that check, so this table cannot silently fall behind.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

struct MemberLayout {
  std::string name;
  std::size_t offset, size;
};
struct StructLayout {
  std::string name;
  std::size_t size;
  std::vector<MemberLayout> members;
  bool loader_only = false; // not used by the BPF program (absent from its BTF)
};

std::vector<StructLayout> cxx_layout();

// One line per struct ("struct NAME SIZE") then per member ("member NAME
// OFFSET SIZE"), so a view taken on another target (under qemu) can be
// compared on the build host.
std::string layout_text(const std::vector<StructLayout> &layout);
std::vector<StructLayout> parse_layout_text(const std::string &text);
