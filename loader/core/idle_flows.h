// Connections that left the flow table for idleness and are watched for
// renewed activity, kept as compactly as possible: a home gateway has many
// long-lived idle TCP connections. One 16-byte slot each (hash of the
// original tuple, conntrack id, expected conntrack expiry) in an
// open-addressing table (linear probing) at most 3/4 full, shrunk below
// 1/8: 21 to 43 bytes per idle connection while it grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace xdpflow {

class IdleFlows {
public:
  struct Record {
    std::uint64_t hash = 0;        // tuple_hash(original tuple), never 0; 0 = empty slot
    std::uint32_t ct_id = 0;       // conntrack id, 0 = unknown
    std::uint32_t expires_sec = 0; // CLOCK_MONOTONIC s after which conntrack's timeout
                                   // can only have been pushed back by packets it saw
  };

  // The record for hash, or nullptr. Valid until the next put/erase.
  const Record *find(std::uint64_t hash) const;
  // Inserts or replaces (by hash).
  void put(const Record &r);
  bool erase(std::uint64_t hash);
  // Erases every record for which drop(record) is true.
  void erase_if(const std::function<bool(const Record &)> &drop);

  std::size_t size() const { return size_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(Record); }

private:
  std::size_t slot_of(std::uint64_t hash) const { return hash & (slots_.size() - 1); }
  void rehash(std::size_t slots);

  std::vector<Record> slots_; // power of two, or empty
  std::size_t size_ = 0;
};

} // namespace xdpflow
