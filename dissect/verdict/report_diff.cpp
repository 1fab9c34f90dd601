#include "dissect/verdict/report_diff.hpp"

#include <fmt/format.h>

#include <map>

namespace synprobe {
namespace {

TargetState state_of(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  TargetState s{j.verdict, j.actor, j.hop, j.responder, std::nullopt, j.confidence};
  if (j.icmp) s.icmp = j.icmp->name;
  return s;
}

// Keyed and ordered by (address, port) so that output is stable.
std::map<std::pair<IpAddress, std::uint16_t>, std::pair<std::string, TargetState>> index(const AnalysisReport& r) {
  std::map<std::pair<IpAddress, std::uint16_t>, std::pair<std::string, TargetState>> out;
  for (const AttemptResult& a : r.attempts)
    out[{a.attempt.server, a.attempt.server_port}] = {endpoint_text(a.attempt.server, a.attempt.server_port), state_of(a)};
  return out;
}

}  // namespace

std::vector<TargetDiff> diff_reports(const AnalysisReport& before, const AnalysisReport& after) {
  const auto b = index(before);
  const auto a = index(after);
  std::vector<TargetDiff> out;
  for (const auto& [key, value] : b) {
    TargetDiff d{value.first, value.second, std::nullopt};
    if (const auto it = a.find(key); it != a.end()) d.after = it->second.second;
    out.push_back(d);
  }
  for (const auto& [key, value] : a)
    if (!b.count(key)) out.push_back(TargetDiff{value.first, std::nullopt, value.second});
  return out;
}

std::string describe(const TargetState& s) {
  std::string out(verdict_name(s.verdict));
  if (s.icmp) out += fmt::format(" ({})", *s.icmp);
  if (s.verdict != Verdict::open && s.hop) out += fmt::format(" at hop {}", *s.hop);
  if (s.verdict != Verdict::open && s.responder && s.actor != Actor::host)
    out += fmt::format(" ({})", s.responder->to_string());
  return out;
}

}  // namespace synprobe
