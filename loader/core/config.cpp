#include "core/config.h"

#include <charconv>

#include "core/error.h"

namespace xdpflow {

namespace {

std::string_view trim(std::string_view s) {
  const char *ws = " \t\r";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool parse_bool(std::string_view v, std::string_view what) {
  if (v == "yes" || v == "true" || v == "1" || v == "on")
    return true;
  if (v == "no" || v == "false" || v == "0" || v == "off")
    return false;
  throw UsageError(std::string(what) + " must be yes or no, got '" + std::string(v) + "'");
}

std::vector<std::string> split_words(std::string_view v) {
  std::vector<std::string> out;
  std::string word;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == ',') {
      if (!word.empty())
        out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty())
    out.push_back(std::move(word));
  return out;
}

} // namespace

std::uint64_t parse_unsigned(std::string_view text, std::string_view what, std::uint64_t min,
                             std::uint64_t max) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size())
    throw UsageError(std::string(what) + " must be a number, got '" + std::string(text) + "'");
  if (n < min || n > max)
    throw UsageError(std::string(what) + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", got " + std::string(text));
  return n;
}

MarkMask parse_mark_mask(std::string_view text) {
  MarkMask mm;
  auto slash = text.find('/');
  mm.value = static_cast<std::uint32_t>(
      parse_unsigned(text.substr(0, slash), "the exclude mark", 0, 0xffffffffu));
  mm.mask = slash == std::string_view::npos
                ? 0xffffffffu
                : static_cast<std::uint32_t>(
                      parse_unsigned(text.substr(slash + 1), "the exclude mask", 0, 0xffffffffu));
  if (mm.value & ~mm.mask)
    throw UsageError("exclude mark " + std::string(text) +
                     " has bits outside its mask: no conntrack mark could match it");
  return mm;
}

void apply_setting(std::string_view key, std::string_view value, AttachSettings &s) {
  if (key == "interfaces") {
    s.interfaces = split_words(value);
  } else if (key == "mode") {
    auto mode = parse_xdp_mode(value);
    if (!mode)
      throw UsageError("mode must be auto, hw, native or generic, got '" + std::string(value) +
                       "'");
    s.mode = *mode;
  } else if (key == "hook") {
    auto hook = parse_hook_preference(value);
    if (!hook)
      throw UsageError("hook must be auto, xdp or tc, got '" + std::string(value) + "'");
    s.hook = *hook;
  } else if (key == "neutral-qdisc") {
    s.neutral_qdiscs = split_words(value);
  } else if (key == "max-flows") {
    s.max_flows = static_cast<std::uint32_t>(parse_unsigned(value, "max-flows", 1, 1u << 24));
  } else if (key == "exclude-mark") {
    auto mm = parse_mark_mask(value);
    s.exclude_mark = mm.value;
    s.exclude_mask = mm.mask;
  } else if (key == "idle-timeout") {
    s.idle_timeout_sec = static_cast<unsigned>(parse_unsigned(value, "idle-timeout", 1, 86400));
  } else if (key == "verbose") {
    s.verbose = static_cast<int>(parse_unsigned(value, "verbose", 0, 3));
  } else if (key == "replace") {
    s.replace = parse_bool(value, "replace");
  } else if (key == "pin") {
    if (!value.empty() && value[0] != '/')
      throw UsageError("pin must be an absolute directory on a bpffs, got '" + std::string(value) +
                       "'");
    s.pin_dir = std::string(value);
  } else {
    throw UsageError(
        "unknown setting '" + std::string(key) +
        "' (known: interfaces, mode, hook, neutral-qdisc, max-flows, exclude-mark, idle-timeout, "
        "verbose, replace, pin)");
  }
}

void apply_config_text(std::string_view text, std::string_view source, AttachSettings &settings) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    line_no++;
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty())
      continue;
    std::string where = std::string(source) + ":" + std::to_string(line_no) + ": ";
    // Never echo control characters (a binary file, terminal escapes) back.
    for (unsigned char c : line)
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        throw UsageError(where + "not a text line (control character " + std::to_string(c) +
                         "); is this the right file?");
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
      throw UsageError(where + "expected 'key = value', got '" + std::string(line) + "'");
    try {
      apply_setting(trim(line.substr(0, eq)), trim(line.substr(eq + 1)), settings);
    } catch (const UsageError &e) {
      throw UsageError(where + e.what());
    }
  }
}

} // namespace xdpflow
