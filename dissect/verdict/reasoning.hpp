#pragma once
// What every stage's rules share while they reason: the judgement being built with its
// evidence and next steps, and the words for a TTL and a hop's address.

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

#include "dissect/verdict/verdict.hpp"

namespace synprobe {

// Sentences are written only when someone will read them (JudgeContext::details): each
// is passed as a function that writes it. Formatting them was most of the cost of judging,
// and a text listing without -v, or a summary, shows the signals' names only.
class Reasoning {
 public:
  // A judgement gives a handful of signals: one allocation instead of growing 1, 2, 4, 8.
  explicit Reasoning(bool details = true) : details_(details) { judgement_.evidence.reserve(8); }
  template <typename WriteDetail>
  void add(Signal s, WriteDetail&& write) {
    judgement_.evidence.push_back({s, details_ ? std::string(write()) : std::string()});
  }
  template <typename WriteStep>
  void settle_by(WriteStep&& write) {
    if (!details_) return;
    std::string what = write();
    if (std::find(judgement_.to_settle.begin(), judgement_.to_settle.end(), what) == judgement_.to_settle.end())
      judgement_.to_settle.push_back(std::move(what));
  }
  [[nodiscard]] bool details() const { return details_; }
  Judgement& judgement() { return judgement_; }

 private:
  bool details_;
  Judgement judgement_;
};

inline std::string ttl_text(const HopEstimate& e) {
  return fmt::format(FMT_COMPILE("TTL {} (initial {}, so hop {})"), e.observed, e.initial, e.hop);
}

// The address that a time-exceeded error in the capture showed for `hop`, if any.
inline std::optional<IpAddress> address_of_hop(const JudgeContext& ctx, int hop) {
  for (const HopAddress& h : ctx.hop_addresses)
    if (h.hop == hop) return h.address;
  return std::nullopt;
}

}  // namespace synprobe
