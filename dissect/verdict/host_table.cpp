#include "dissect/verdict/host_table.hpp"

#include <algorithm>

namespace synprobe {
namespace {

constexpr std::size_t initial_slots = 64;

// A power of two at least twice `entries`: linear probing stays short at half load.
std::size_t slots_for(std::size_t entries) {
  std::size_t n = initial_slots;
  while (n < 2 * entries) n *= 2;
  return n;
}

}  // namespace

HostTable::HostTable() { rebuild_slots(initial_slots); }

void HostTable::set_capacity(std::size_t capacity) {
  capacity_ = std::max<std::size_t>(capacity, 4);
  while (entries_.size() > capacity_) forget_least_recent();
  if (capacity_ != unbounded) {
    entries_.reserve(capacity_);
    rebuild_slots(slots_for(capacity_));
  }
}

HostRecord& HostTable::touch(const IpAddress& address, Timestamp now) {
  std::uint32_t entry = UINT32_MAX;
  for (const Recent& r : recent_)
    if (r.entry != UINT32_MAX && r.address == address) entry = r.entry;
  if (entry == UINT32_MAX) {
    const std::size_t hash = address.hash();
    const std::optional<std::uint32_t> found = find_entry(address, hash);
    entry = found ? *found : insert(address, hash);
    recent_[next_recent_] = Recent{address, entry};
    next_recent_ ^= 1;
  }
  HostRecord& record = entries_[entry].record;
  if (now > record.last_used) record.last_used = now;
  return record;
}

const HostRecord* HostTable::find(const IpAddress& address) const {
  const std::optional<std::uint32_t> entry = find_entry(address, address.hash());
  return entry ? &entries_[*entry].record : nullptr;
}

// Asks for the record of the first slot whose tag matches: the next touch() of `address`
// reads it (and, most of the time, nothing else): the record's first two lines, with the
// address, last_used, the hop counts and the IP-ID count. (Asking for the whole IP-ID ring
// too, where the packet writes one sample, measured no faster.)
void HostTable::prefetch_record(const IpAddress& address) const {
  const std::size_t hash = address.hash();
  const std::uint32_t tag = tag_of(hash);
  for (std::size_t i = hash & mask_; slots_[i].tag != 0; i = (i + 1) & mask_) {
    if (slots_[i].tag != tag) continue;
    const auto* bytes = reinterpret_cast<const char*>(&entries_[slots_[i].entry]);
    __builtin_prefetch(bytes);
    __builtin_prefetch(bytes + 64);
    return;
  }
}

std::optional<std::uint32_t> HostTable::find_entry(const IpAddress& address, std::size_t hash) const {
  const std::uint32_t tag = tag_of(hash);
  for (std::size_t i = hash & mask_; slots_[i].tag != 0; i = (i + 1) & mask_)
    if (slots_[i].tag == tag && entries_[slots_[i].entry].address == address) return slots_[i].entry;
  return std::nullopt;
}

std::uint32_t HostTable::insert(const IpAddress& address, std::size_t hash) {
  if (entries_.size() >= capacity_) forget_least_recent();
  if (2 * (entries_.size() + 1) > slots_.size()) rebuild_slots(slots_.size() * 2);
  const auto entry = static_cast<std::uint32_t>(entries_.size());
  entries_.push_back(Entry{address, HostRecord{}});
  place(entry, hash);
  return entry;
}

void HostTable::place(std::uint32_t entry, std::size_t hash) {
  std::size_t i = hash & mask_;
  while (slots_[i].tag != 0) i = (i + 1) & mask_;
  slots_[i] = Slot{tag_of(hash), entry};
}

void HostTable::rebuild_slots(std::size_t slot_count) {
  slots_.assign(slot_count, Slot{});
  mask_ = slot_count - 1;
  for (std::size_t e = 0; e < entries_.size(); ++e)
    place(static_cast<std::uint32_t>(e), entries_[e].address.hash());
}

// Forgets every entry used no later than the newest of the least recent quarter: ties at
// the cut go too, so one pass always makes room. The survivors keep their order.
void HostTable::forget_least_recent() {
  std::vector<std::int64_t> used;
  used.reserve(entries_.size());
  for (const Entry& e : entries_) used.push_back(e.record.last_used.ns);
  const auto cut = used.begin() + static_cast<std::ptrdiff_t>(used.size() / 4);
  std::nth_element(used.begin(), cut, used.end());
  const std::int64_t cut_off = *cut;
  const auto kept = std::remove_if(entries_.begin(), entries_.end(),
                                   [&](const Entry& e) { return e.record.last_used.ns <= cut_off; });
  forgotten_ += static_cast<std::uint64_t>(entries_.end() - kept);
  entries_.erase(kept, entries_.end());
  rebuild_slots(slots_.size());
  for (Recent& r : recent_) r = Recent{};
}

}  // namespace synprobe
