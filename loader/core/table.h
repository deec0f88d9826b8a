// Aligned text tables and human-readable numbers for the CLI's human output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xdpflow {

class TextTable {
public:
  enum class Align { Left, Right };
  struct Column {
    std::string header;
    Align align = Align::Left;
  };
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<std::string> cells);
  // Header line plus one line per row, columns separated by two spaces, no
  // trailing blanks. Without header when show_header is false.
  std::string render(bool show_header = true) const;
  // Width of each column, for callers that print rows one at a time.
  std::vector<std::size_t> widths() const;
  std::string render_row(const std::vector<std::string> &cells,
                         const std::vector<std::size_t> &widths) const;
  std::vector<std::string> header_cells() const;

private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// 1234567 -> "1.23M", 999 -> "999" (SI, for packet rates and counts).
std::string human_count(double n);
// Bytes: 1536 -> "1.5KiB" (IEC).
std::string human_bytes(double n);
// Seconds: 59 -> "59s", 3725 -> "1h02m", 90061 -> "1d01h".
std::string human_duration(std::uint64_t seconds);

} // namespace xdpflow
