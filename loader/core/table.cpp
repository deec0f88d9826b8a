#include "core/table.h"

#include <algorithm>
#include <cstdio>

namespace xdpflow {

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::vector<std::string> TextTable::header_cells() const {
  std::vector<std::string> out;
  for (const auto &c : columns_)
    out.push_back(c.header);
  return out;
}

std::vector<std::size_t> TextTable::widths() const {
  std::vector<std::size_t> w;
  for (const auto &c : columns_)
    w.push_back(c.header.size());
  for (const auto &row : rows_)
    for (std::size_t i = 0; i < row.size(); i++)
      w[i] = std::max(w[i], row[i].size());
  return w;
}

std::string TextTable::render_row(const std::vector<std::string> &cells,
                                  const std::vector<std::size_t> &widths) const {
  std::string line;
  for (std::size_t i = 0; i < columns_.size(); i++) {
    const std::string cell = i < cells.size() ? cells[i] : std::string();
    std::size_t pad = widths[i] > cell.size() ? widths[i] - cell.size() : 0;
    if (i > 0)
      line += "  ";
    if (columns_[i].align == Align::Right)
      line.append(pad, ' ');
    line += cell;
    if (columns_[i].align == Align::Left)
      line.append(pad, ' ');
  }
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  return line + "\n";
}

std::string TextTable::render(bool show_header) const {
  auto w = widths();
  std::string out;
  if (show_header)
    out += render_row(header_cells(), w);
  for (const auto &row : rows_)
    out += render_row(row, w);
  return out;
}

namespace {
std::string scaled(double n, double base, const char *const *units, int count) {
  int u = 0;
  while (n >= base && u < count - 1) {
    n /= base;
    u++;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f%s", n, units[0]);
  else
    std::snprintf(buf, sizeof buf, n < 10 ? "%.2f%s" : n < 100 ? "%.1f%s" : "%.0f%s", n, units[u]);
  return buf;
}
} // namespace

std::string human_count(double n) {
  static const char *const units[] = {"", "k", "M", "G", "T"};
  return scaled(n, 1000.0, units, 5);
}

std::string human_bytes(double n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  return scaled(n, 1024.0, units, 5);
}

std::string human_duration(std::uint64_t s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%llud%02lluh", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s % 86400 / 3600));
  return buf;
}

} // namespace xdpflow
