// One measurement as one line of text: tab-separated key=value fields
// (values may contain spaces, not tabs or newlines). The measuring
// subcommands print them; `xfbench report` reads them back. Pure code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xfbench {

class ResultLine {
public:
  ResultLine &set(std::string key, std::string value);
  ResultLine &set(std::string key, double value);
  std::optional<std::string> get(std::string_view key) const;
  // Throws std::runtime_error naming the key when missing or not a number.
  std::string text(std::string_view key) const;
  double number(std::string_view key) const;
  std::string to_string() const;
  // nullopt for blank lines and lines without any key=value field.
  static std::optional<ResultLine> parse(std::string_view line);

private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

} // namespace xfbench
