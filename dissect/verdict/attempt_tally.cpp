#include "dissect/verdict/attempt_tally.hpp"

#include <algorithm>

namespace synprobe {

void AttemptTally::add(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  const auto v = static_cast<std::size_t>(j.verdict);
  ++attempts_;
  ++by_verdict_[v];

  auto it = destinations_.find(r.attempt.server);
  if (it == destinations_.end() && destinations_.size() < max_destinations)
    it = destinations_.emplace(r.attempt.server, Tracked{}).first;
  if (it != destinations_.end()) {
    ++it->second.attempts;
    ++it->second.by_verdict[v];
  } else {
    ++untracked_attempts_;
  }

  if (j.verdict == Verdict::open) return;
  const RefuserKey key{j.actor, j.hop ? std::clamp(*j.hop, 0, 255) : -1, j.verdict};
  RefuserCount& c = refusers_[key];
  if (c.attempts == 0) {
    c.actor = j.actor;
    if (j.hop) c.hop = key.hop;
    c.verdict = j.verdict;
  }
  ++c.attempts;
  if (j.responder && std::find(c.responders.begin(), c.responders.end(), *j.responder) == c.responders.end()) {
    if (c.responders.size() < max_responders) c.responders.push_back(*j.responder);
    else c.more_responders = true;
  }
}

std::vector<DestinationCount> AttemptTally::top_destinations(std::size_t n) const {
  std::vector<DestinationCount> all;
  all.reserve(destinations_.size());
  for (const auto& [address, t] : destinations_) all.push_back(DestinationCount{address, t.attempts, t.by_verdict});
  const auto more = [](const DestinationCount& a, const DestinationCount& b) {
    if (a.attempts != b.attempts) return a.attempts > b.attempts;
    return a.address < b.address;
  };
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), more);
  all.resize(n);
  return all;
}

std::vector<RefuserCount> AttemptTally::refusers() const {
  std::vector<RefuserCount> all;
  all.reserve(refusers_.size());
  for (const auto& [key, c] : refusers_) all.push_back(c);
  std::sort(all.begin(), all.end(), [](const RefuserCount& a, const RefuserCount& b) {
    if (a.attempts != b.attempts) return a.attempts > b.attempts;
    if (a.actor != b.actor) return a.actor < b.actor;
    if (a.hop.value_or(-1) != b.hop.value_or(-1)) return a.hop.value_or(-1) < b.hop.value_or(-1);
    return a.verdict < b.verdict;
  });
  return all;
}

}  // namespace synprobe
