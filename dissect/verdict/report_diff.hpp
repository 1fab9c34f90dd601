#pragma once
// Before and after: what changed per target between two results (any mode), so a
// requester can show that a firewall change did what was asked.

#include <optional>
#include <string>
#include <vector>

#include "dissect/verdict/report_model.hpp"

namespace synprobe {

// The state of one target in one result, in words and values.
struct TargetState {
  Verdict verdict = Verdict::inconclusive;
  Actor actor = Actor::unknown;
  std::optional<int> hop;
  std::optional<IpAddress> responder;
  std::optional<std::string> icmp;  // the ICMP name, when the verdict has one
  double confidence = 0;

  friend bool operator==(const TargetState& a, const TargetState& b) {
    return a.verdict == b.verdict && a.actor == b.actor && a.hop == b.hop && a.responder == b.responder &&
           a.icmp == b.icmp;
  }
};

struct TargetDiff {
  std::string target;  // "198.18.4.10:90" ([v6]:port)
  std::optional<TargetState> before;  // absent: only in the after file
  std::optional<TargetState> after;   // absent: only in the before file
  [[nodiscard]] bool changed() const { return !before || !after || !(*before == *after); }
};

// Targets are matched by destination address and port; when a result holds several
// attempts to one target (an analyze of a long capture), the last one counts.
[[nodiscard]] std::vector<TargetDiff> diff_reports(const AnalysisReport& before, const AnalysisReport& after);

// "icmp-unreachable (admin-prohibited) at hop 4 (198.18.3.2)".
[[nodiscard]] std::string describe(const TargetState& s);

}  // namespace synprobe
