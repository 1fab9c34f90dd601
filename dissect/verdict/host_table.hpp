#pragma once
// Every address's baseline in one table: what the address sent itself (HostProfile), and
// what answers to attempts toward it showed (its fastest SYN/ACK, the routers on the way).
//
// Streaming analysis must run in constant memory however long the capture is, so the
// table can be bounded: when it is full, the quarter of its addresses used least recently
// (in capture time) is forgotten at once. Forgetting in batches keeps the cost per packet
// constant (one O(n) pass per n/4 new addresses); a host forgotten loses its baseline, and
// an attempt toward it is judged as if the host had not spoken before (`forgotten()` says
// how many were, and the report shows it). Unbounded by default: a live run keeps every
// attempt anyway, and its few hosts must all keep their baselines.
//
// Every packet updates its sender's record, and on a busy link the records outgrow the CPU
// caches: waiting for them was a quarter of `analyze`'s time on a 10 GiB capture. So the
// table is open-addressed (a flat array of small slots pointing into a flat array of
// records) and can be asked ahead of time: prefetch_slot() for a packet two ahead,
// prefetch_record() for the next one, then touch() finds both in cache.

#include <cstdint>
#include <optional>
#include <vector>

#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/timestamp.hpp"
#include "dissect/infer/host_profile.hpp"
#include "dissect/verdict/verdict.hpp"

namespace synprobe {

struct HostRecord {
  Timestamp last_used;                      // the newest packet that touched the record
  HostProfile profile;                      // packets() == 0 until the address sends one
  std::optional<double> fastest_syn_ack_ms; // fastest SYN/ACK answering an attempt toward it
  std::optional<double> slowest_syn_ack_ms; // and the slowest
  std::uint32_t syn_acks_timed = 0;         // how many SYN/ACKs those two come from
  std::vector<HopAddress> hops;             // routers that answered TTL-limited SYNs toward it
};

class HostTable {
 public:
  static constexpr std::size_t unbounded = SIZE_MAX;
  // What streaming analysis holds at most: ≈ 700 bytes an address, ≈ 23 MB in all.
  static constexpr std::size_t streaming_capacity = std::size_t{1} << 15;

  HostTable();

  // At least 4: a batch of forgetting must leave room. A bounded table reserves its
  // records up front (untouched memory costs nothing), so they never move.
  void set_capacity(std::size_t capacity);

  // The address's record, created if new; marks it used at `now`. The reference is valid
  // until the next call that creates a record.
  HostRecord& touch(const IpAddress& address, Timestamp now);
  [[nodiscard]] const HostRecord* find(const IpAddress& address) const;

  // Hints, harmless when wrong: the slot where `address` would be; its record, once the
  // slot is in cache.
  void prefetch_slot(const IpAddress& address) const {
    __builtin_prefetch(&slots_[address.hash() & mask_]);
  }
  void prefetch_record(const IpAddress& address) const;

  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::uint64_t forgotten() const { return forgotten_; }

 private:
  // A slot names its record by index, and keeps 32 bits of the address's hash so that a
  // probe rarely reads a record that is not the one asked for. tag 0: empty.
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t entry = 0;
  };
  struct Entry {
    IpAddress address;
    HostRecord record;
  };
  static std::uint32_t tag_of(std::size_t hash) { return static_cast<std::uint32_t>(hash >> 32) | 1u; }

  [[nodiscard]] std::optional<std::uint32_t> find_entry(const IpAddress& address, std::size_t hash) const;
  std::uint32_t insert(const IpAddress& address, std::size_t hash);
  void place(std::uint32_t entry, std::size_t hash);
  void rebuild_slots(std::size_t slot_count);
  void forget_least_recent();

  std::vector<Slot> slots_;     // a power of two, at most half full
  std::size_t mask_ = 0;
  std::vector<Entry> entries_;  // in order of creation, holes closed when forgetting
  std::size_t capacity_ = unbounded;
  std::uint64_t forgotten_ = 0;
  // Packets mostly go back and forth between two hosts: the last two entries touched are
  // remembered, and the slots are searched only for a third.
  struct Recent {
    IpAddress address;
    std::uint32_t entry = UINT32_MAX;
  };
  Recent recent_[2]{};
  std::size_t next_recent_ = 0;
};

}  // namespace synprobe
