#include "dissect/trace/probe_group.hpp"

#include <algorithm>

namespace synprobe {

bool ProbeGroup::settled(Timestamp now, double wait_s) const {
  bool all_answered = true;
  Timestamp last_sent{}, last_answer{};
  double slowest_s = 0;
  for (const PlannedProbe* p : probes) {
    if (p->skipped) continue;
    if (!p->sent_at) return false;
    last_sent = std::max(last_sent, *p->sent_at);
    if (p->answered_at) {
      last_answer = std::max(last_answer, *p->answered_at);
      slowest_s = std::max(slowest_s, p->answered_at->seconds_since(*p->sent_at));
    }
    all_answered = all_answered && (p->answered_at || p->port == 0);
  }
  if (all_answered && now >= after(last_answer, std::min(wait_s, std::max(0.02, slowest_s)))) return true;
  return now >= after(last_sent, wait_s);
}

std::map<int, bool> ProbeGroup::answered_by_ttl() const {
  std::map<int, bool> answered;
  for (const PlannedProbe* p : probes)
    if (!p->skipped) answered[p->ttl] = answered[p->ttl] || p->answered_at;
  return answered;
}

std::set<int> ProbeGroup::answered_ttls() const {
  std::set<int> ttls;
  for (const PlannedProbe* p : probes)
    if (p->answered_at) ttls.insert(p->ttl);
  return ttls;
}

std::optional<double> ProbeGroup::slowest_answer_s(int ttl) const {
  std::optional<double> slowest;
  for (const PlannedProbe* p : probes)
    if (p->ttl == ttl && p->sent_at && p->answered_at)
      slowest = std::max(slowest.value_or(0.0), p->answered_at->seconds_since(*p->sent_at));
  return slowest;
}

bool FirstPhase::answered(const TargetKey& key) const {
  const auto it = by_target.find(key);
  return it != by_target.end() &&
         std::any_of(it->second.begin(), it->second.end(), [](const PlannedProbe* p) { return p->answered_at.has_value(); });
}

bool FirstPhase::silent_targets_waited(Timestamp now, double wait_s) const {
  for (const auto& [key, probes] : by_target) {
    if (answered(key)) continue;
    const std::optional<Timestamp> sent = first_sent(key);
    if (sent && now < after(*sent, wait_s)) return false;
  }
  return true;
}

std::optional<Timestamp> FirstPhase::first_sent(const TargetKey& key) const {
  const auto it = by_target.find(key);
  if (it == by_target.end()) return std::nullopt;
  std::optional<Timestamp> first;
  for (const PlannedProbe* p : it->second)
    if (p->sent_at && (!first || *p->sent_at < *first)) first = p->sent_at;
  return first;
}

std::optional<double> FirstPhase::fastest_answer_s(const IpAddress& host) const {
  const std::map<IpAddress, double> all = fastest_answers_s();
  const auto it = all.find(host);
  return it == all.end() ? std::nullopt : std::optional<double>(it->second);
}

std::map<IpAddress, double> FirstPhase::fastest_answers_s() const {
  std::map<IpAddress, double> fastest;
  for (const PlannedProbe* p : group.probes) {
    if (!p->sent_at || !p->answered_at) continue;
    const double rtt = p->answered_at->seconds_since(*p->sent_at);
    const auto [it, first] = fastest.try_emplace(p->destination, rtt);
    if (!first && rtt < it->second) it->second = rtt;
  }
  return fastest;
}

}  // namespace synprobe
