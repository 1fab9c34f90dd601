#pragma once
// Counts of judged attempts for a summary (`synprobe analyze --summary`): per verdict, per
// destination address and per refuser (actor, hop and verdict). Memory is bounded whatever
// the number of attempts: at most max_destinations addresses are counted one by one (the
// attempts toward any further address are counted together as untracked), and a refuser
// keeps at most max_responders addresses.

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

using VerdictCounts = std::array<std::uint64_t, verdict_count>;

struct DestinationCount {
  IpAddress address;
  std::uint64_t attempts = 0;
  VerdictCounts by_verdict{};
};

// Who refused: every attempt that was not open is counted under its actor, hop (none when
// unknown) and verdict, with the addresses that answered in that actor's name.
struct RefuserCount {
  Actor actor = Actor::unknown;
  std::optional<int> hop;
  Verdict verdict = Verdict::inconclusive;
  std::uint64_t attempts = 0;
  std::vector<IpAddress> responders;  // the first max_responders distinct ones
  bool more_responders = false;       // and some beyond them
};

class AttemptTally {
 public:
  static constexpr std::size_t max_destinations = 65'536;
  static constexpr std::size_t max_responders = 4;

  void add(const AttemptResult& r);

  [[nodiscard]] std::uint64_t attempts() const { return attempts_; }
  [[nodiscard]] const VerdictCounts& by_verdict() const { return by_verdict_; }
  // Destinations counted one by one, and the attempts toward those beyond the bound.
  [[nodiscard]] std::size_t destinations_tracked() const { return destinations_.size(); }
  [[nodiscard]] std::uint64_t untracked_attempts() const { return untracked_attempts_; }
  // The `n` destinations with the most attempts (ties: the lower address first).
  [[nodiscard]] std::vector<DestinationCount> top_destinations(std::size_t n) const;
  // Every refuser, the most attempts first (ties: actor, hop, verdict).
  [[nodiscard]] std::vector<RefuserCount> refusers() const;

 private:
  struct RefuserKey {
    Actor actor;
    int hop;  // -1: unknown
    Verdict verdict;
    bool operator==(const RefuserKey&) const = default;
  };
  struct RefuserKeyHash {
    std::size_t operator()(const RefuserKey& k) const noexcept {
      return (static_cast<std::size_t>(k.actor) << 16) ^ (static_cast<std::size_t>(k.hop + 1) << 4) ^
             static_cast<std::size_t>(k.verdict);
    }
  };
  struct Tracked {
    std::uint64_t attempts = 0;
    VerdictCounts by_verdict{};
  };

  std::uint64_t attempts_ = 0;
  VerdictCounts by_verdict_{};
  std::unordered_map<IpAddress, Tracked> destinations_;
  std::uint64_t untracked_attempts_ = 0;
  // Bounded by the keys: 4 actors, 256 hops and unknown, 7 verdicts.
  std::unordered_map<RefuserKey, RefuserCount, RefuserKeyHash> refusers_;
};

}  // namespace synprobe
