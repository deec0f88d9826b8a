#include "result_line.h"

#include <cstdio>
#include <stdexcept>

namespace xfbench {

ResultLine &ResultLine::set(std::string key, std::string value) {
  for (char &c : value)
    if (c == '\t' || c == '\n')
      c = ' ';
  for (auto &[k, v] : fields_)
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  fields_.emplace_back(std::move(key), std::move(value));
  return *this;
}

ResultLine &ResultLine::set(std::string key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", value);
  return set(std::move(key), std::string(buf));
}

std::optional<std::string> ResultLine::get(std::string_view key) const {
  for (const auto &[k, v] : fields_)
    if (k == key)
      return v;
  return std::nullopt;
}

std::string ResultLine::text(std::string_view key) const {
  auto v = get(key);
  if (!v)
    throw std::runtime_error("result line without '" + std::string(key) + "': " + to_string());
  return *v;
}

double ResultLine::number(std::string_view key) const {
  std::string v = text(key);
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw std::runtime_error("result field " + std::string(key) + "=" + v + " is not a number");
  return d;
}

std::string ResultLine::to_string() const {
  std::string out;
  for (const auto &[k, v] : fields_) {
    if (!out.empty())
      out += '\t';
    out += k + "=" + v;
  }
  return out;
}

std::optional<ResultLine> ResultLine::parse(std::string_view line) {
  ResultLine r;
  while (!line.empty()) {
    std::size_t tab = line.find('\t');
    std::string_view field = line.substr(0, tab);
    std::size_t eq = field.find('=');
    if (eq != std::string_view::npos && eq > 0)
      r.fields_.emplace_back(std::string(field.substr(0, eq)), std::string(field.substr(eq + 1)));
    if (tab == std::string_view::npos)
      break;
    line.remove_prefix(tab + 1);
  }
  if (r.fields_.empty())
    return std::nullopt;
  return r;
}

} // namespace xfbench
