#include "core/idle_flows.h"

namespace xdpflow {

namespace {
constexpr std::size_t min_slots = 64;
}

const IdleFlows::Record *IdleFlows::find(std::uint64_t hash) const {
  if (slots_.empty() || hash == 0)
    return nullptr;
  for (std::size_t i = slot_of(hash);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].hash == hash)
      return &slots_[i];
    if (slots_[i].hash == 0)
      return nullptr;
  }
}

void IdleFlows::put(const Record &r) {
  if (r.hash == 0)
    return;
  if (4 * (size_ + 1) > 3 * slots_.size()) // at most 3/4 full
    rehash(slots_.empty() ? min_slots : 2 * slots_.size());
  for (std::size_t i = slot_of(r.hash);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].hash == r.hash) {
      slots_[i] = r;
      return;
    }
    if (slots_[i].hash == 0) {
      slots_[i] = r;
      size_++;
      return;
    }
  }
}

bool IdleFlows::erase(std::uint64_t hash) {
  if (slots_.empty() || hash == 0)
    return false;
  std::size_t mask = slots_.size() - 1;
  std::size_t i = slot_of(hash);
  while (slots_[i].hash != hash) {
    if (slots_[i].hash == 0)
      return false;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: pull later members of the probe run into the
  // hole, so lookups never need tombstones.
  for (std::size_t j = (i + 1) & mask; slots_[j].hash != 0; j = (j + 1) & mask) {
    std::size_t home = slot_of(slots_[j].hash);
    // Movable when its home is not in the (cyclic) range (i, j].
    bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!in_range) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Record{};
  size_--;
  if (slots_.size() > min_slots && 8 * size_ < slots_.size())
    rehash(slots_.size() / 2); // give memory back after a mass departure
  return true;
}

void IdleFlows::erase_if(const std::function<bool(const Record &)> &drop) {
  std::vector<Record> kept;
  for (const auto &r : slots_)
    if (r.hash && !drop(r))
      kept.push_back(r);
  if (kept.size() == size_)
    return;
  std::size_t slots = min_slots;
  while (slots < 2 * kept.size())
    slots *= 2;
  slots_.clear();
  size_ = 0;
  if (kept.empty()) {
    slots_.shrink_to_fit();
    return;
  }
  rehash(slots);
  for (const auto &r : kept)
    put(r);
}

void IdleFlows::rehash(std::size_t slots) {
  std::vector<Record> old;
  old.swap(slots_);
  slots_.assign(slots, Record{});
  size_ = 0;
  for (const auto &r : old)
    if (r.hash)
      put(r);
}

} // namespace xdpflow
