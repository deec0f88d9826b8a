// `xdpflow attach` settings and the config file that can hold them
// (/etc/xdpflow.conf, documented in xdpflow(8)). Flags given on the command
// line win over the file. Pure: the file's text is parsed, not the file.
//
// Format: one "key = value" per line, keys named like the long options;
// '#' starts a comment; booleans are yes/no/true/false/1/0.
//   interfaces = lan0 wan0
//   mode = auto
//   hook = auto
//   neutral-qdisc = sfq prio
//   max-flows = 262144
//   exclude-mark = 0x10/0x10
//   idle-timeout = 300
//   verbose = 0
//   replace = no
//   pin = /sys/fs/bpf/xdpflow
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hook_choice.h"
#include "core/xdp_mode.h"
#include "xdpflow/flow.h"

namespace xdpflow {

struct AttachSettings {
  std::vector<std::string> interfaces;
  XdpMode mode = XdpMode::Auto;
  HookPreference hook = HookPreference::Auto;
  // Qdisc kinds the user declares neutral (not shaping) beside the built-in
  // ones (core/hook_choice.h is_neutral_qdisc).
  std::vector<std::string> neutral_qdiscs;
  std::uint32_t max_flows = XF_DEFAULT_MAX_FLOWS;
  std::uint32_t exclude_mark = 0, exclude_mask = 0;
  unsigned idle_timeout_sec = 300;
  int verbose = 0;
  bool replace = false;
  std::string pin_dir;     // empty: no pins
  int ct_rcvbuf_bytes = 0; // conntrack socket buffer, 0 = default (hidden --ct-rcvbuf)
};

// Applies every setting in `text` to `settings`. Throws UsageError naming
// "source:line" and what is wrong.
void apply_config_text(std::string_view text, std::string_view source, AttachSettings &settings);

// Applies one setting by its key (the long option's name without dashes).
// Throws UsageError("...") without location; apply_config_text adds it.
void apply_setting(std::string_view key, std::string_view value, AttachSettings &settings);

// "VALUE/MASK" or "VALUE" (mask all ones); decimal or 0x hex.
struct MarkMask {
  std::uint32_t value = 0, mask = 0;
};
MarkMask parse_mark_mask(std::string_view text);

// Strict unsigned parse (decimal or 0x hex) within [min, max]; what names
// the setting in the error message.
std::uint64_t parse_unsigned(std::string_view text, std::string_view what, std::uint64_t min,
                             std::uint64_t max);

} // namespace xdpflow
