// The Internet checksum computed the plain way (RFC 1071): sum every 16-bit
// big-endian word of the data, fold the carries, complement. Deliberately
// independent of include/xdpflow/csum.h (incremental arithmetic on raw
// memory words), so that tests can check one against the other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace xdpflow::testing {

// Running one's complement sum over byte ranges, each taken as big-endian
// 16-bit words; an odd trailing byte is padded with zero (RFC 1071).
class InetSum {
public:
  InetSum &add(std::span<const std::uint8_t> bytes) {
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
      std::uint32_t hi = bytes[i];
      std::uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
      sum_ += (hi << 8) | lo;
    }
    return *this;
  }
  InetSum &add16(std::uint16_t host_order_word) {
    sum_ += host_order_word;
    return *this;
  }
  InetSum &add32(std::uint32_t host_order_word) {
    return add16(static_cast<std::uint16_t>(host_order_word >> 16))
        .add16(static_cast<std::uint16_t>(host_order_word));
  }
  // The checksum field value, host order: the complement of the folded sum.
  std::uint16_t checksum() const {
    std::uint64_t s = sum_;
    while (s >> 16)
      s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(~s);
  }

private:
  std::uint64_t sum_ = 0;
};

inline std::uint16_t inet_checksum(std::span<const std::uint8_t> bytes) {
  return InetSum().add(bytes).checksum();
}

} // namespace xdpflow::testing
