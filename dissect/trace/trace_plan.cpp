#include "dissect/trace/trace_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "dissect/trace/router_budget.hpp"
#include "dissect/trace/send_policy.hpp"
#include "dissect/verdict/combine.hpp"

namespace synprobe {
namespace {

bool has(const Judgement& j, Signal s) {
  return std::any_of(j.evidence.begin(), j.evidence.end(), [&](const Evidence& e) { return e.signal == s; });
}

// A refusal judged the host's that its own probes doubt: a RST sooner than the host
// answers (a forger copies the host's TTL, not its distance), or probes with different
// verdicts. The doubt is about its own flow.
bool host_refusal_doubted(const Judgement& j) {
  return j.actor == Actor::host && (has(j, Signal::early_reset) || has(j, Signal::probes_disagree));
}

}  // namespace

bool plainly_the_hosts(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  if (j.verdict == Verdict::open) return true;
  // Where timing can tell (the host is a millisecond or more away), the refusal must also
  // take the host's time: a forger near the host copies its TTL but not its distance. A
  // RST with no SYN/ACK of the host to time it against (no open control port answered:
  // none open, or its answer lost) is not cleared by its TTL alone: the trace settles it.
  if (j.verdict == Verdict::refused_by_host && !r.host_syn_ack_rtt_ms) return false;
  const bool timing_tells = r.host_syn_ack_rtt_ms && *r.host_syn_ack_rtt_ms >= 1.0;
  const bool fits = (has(j, Signal::ttl_matches_host) || (j.verdict == Verdict::icmp_unreachable && j.actor == Actor::host)) &&
                    !has(j, Signal::early_reset) && !has(j, Signal::ip_id_breaks_pattern) &&
                    !has(j, Signal::no_baseline) && !has(j, Signal::icmp_spoofs_host) &&
                    (!timing_tells || has(j, Signal::rtt_matches_host) || j.verdict == Verdict::icmp_unreachable);
  return (j.verdict == Verdict::refused_by_host || j.verdict == Verdict::icmp_unreachable) && j.actor == Actor::host && fits;
}

double overdue_after_s(std::optional<double> fastest_answer_s, double timeout_s) {
  if (!fastest_answer_s) return timeout_s / 2;
  return std::clamp(4 * *fastest_answer_s, 0.25, std::max(0.25, timeout_s / 2));
}

std::string answer_shape(const Judgement& j) {
  return fmt::format("{}|{}|{}|{}|{}{}", static_cast<int>(j.verdict), static_cast<int>(j.actor),
                     j.responder ? j.responder->to_string() : "-", j.hop.value_or(-1),
                     j.icmp ? fmt::format("{}/{}", j.icmp->type, j.icmp->code) : "-",
                     host_refusal_doubted(j) ? "|doubted" : "");
}

bool may_share_trace(bool answered, const Judgement& j) { return answered && !host_refusal_doubted(j); }

bool needs_own_trace_unbaselined(const AttemptResult& r) {
  return r.judgement.verdict == Verdict::refused_by_host && r.judgement.actor == Actor::host && !r.host_syn_ack_rtt_ms;
}

TraceChoice choose_trace(bool may_share, bool same_answer_traced, const TraceSlots& slots) {
  if (may_share && same_answer_traced && slots.started >= max_traces_per_source / 2) return TraceChoice::share;
  if (!slots.budget_left) return TraceChoice::not_traced;
  if (slots.unmetered || slots.in_flight < max_traces_per_source) return TraceChoice::own_trace;
  return TraceChoice::wait;
}

bool trace_may_start(Timestamp now, Timestamp deadline, Timestamp verdicts_due, double span_s, std::size_t in_flight,
                     std::size_t waiting, bool unmetered) {
  if (now >= deadline) return false;
  if (unmetered) return true;
  const double pace_s = 1.0 / RouterBudgets::refill_per_second;
  if (after(now, span_s + static_cast<double>(in_flight) * pace_s) <= verdicts_due) return true;
  return static_cast<double>(waiting) * pace_s <= deadline.seconds_since(now);
}

double trace_span_s(double wait_s) { return icmp_budget_refill_s + 2 * wait_s; }

double trace_budget_for(std::size_t targets) {
  const double pace_s = 1.0 / RouterBudgets::refill_per_second;
  return std::max(default_trace_budget_s, std::ceil(static_cast<double>(targets) * pace_s + default_trace_budget_s));
}

std::string locate_rest_command(const std::map<IpAddress, std::vector<std::uint16_t>>& untraced, double budget_s,
                                std::uint32_t max_packets) {
  std::string command = "synprobe trace";
  for (const auto& [host, unsorted] : untraced) {
    std::vector<std::uint16_t> ports = unsorted;
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    std::string list;
    for (std::size_t i = 0; i < ports.size();) {
      std::size_t j = i;
      while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) ++j;
      list += (list.empty() ? "" : ",") + (j == i ? std::to_string(ports[i]) : fmt::format("{}-{}", ports[i], ports[j]));
      i = j + 1;
    }
    command += host.is_v4() ? fmt::format(" {}:{}", host.to_string(), list) : fmt::format(" [{}]:{}", host.to_string(), list);
  }
  command += fmt::format(" --trace-budget {:g}", budget_s);
  if (max_packets > SendLimits{}.max_packets) command += fmt::format(" --max-packets {}", max_packets);
  return command;
}

int trace_depth(const Judgement& j, const AttemptResult& r) {
  switch (j.verdict) {
    case Verdict::icmp_unreachable: return j.hop.value_or(64);
    // One past a RST's hop, the host's too: before the host's baseline is in, a filter's
    // RST can look like the host's, and a filter at hop k only shows itself at TTL k+1.
    case Verdict::refused_by_host:
    case Verdict::refused_by_middlebox:
    case Verdict::injected_reset: return j.hop ? *j.hop + 1 : 64;
    case Verdict::open: return r.host_hop ? r.host_hop->hop : j.hop.value_or(64);
    case Verdict::dropped:
    case Verdict::inconclusive: return r.host_hop ? r.host_hop->hop : 64;
  }
  return 64;
}

int sweep_depth(const AttemptResult& r, bool answered, int max_ttl) {
  const int depth = answered ? trace_depth(r.judgement, r) : (r.host_hop ? r.host_hop->hop : max_ttl);
  return std::clamp(depth, 1, max_ttl);
}

std::vector<int> ttl_range(int first, int last) {
  std::vector<int> ttls;
  for (int ttl = first; ttl <= last; ++ttl) ttls.push_back(ttl);
  return ttls;
}

double trace_wait_s(double slowest_answer_s, double timeout_s) {
  return slowest_answer_s <= 0 ? timeout_s : std::clamp(4 * slowest_answer_s, 0.3, timeout_s);
}

double late_answer_wait_s(double slowest_answer_s) {
  return neighbour_resolution_s +
         std::clamp(2 * slowest_answer_s, 0.2, late_answer_wait_max_s - neighbour_resolution_s);
}

bool needs_late_syn(bool answered, std::optional<Timestamp> first_sent, Timestamp now) {
  return !answered && first_sent && now >= after(*first_sent, icmp_budget_refill_s);
}

namespace {
// The deepest TTL of a trace's pass that drew an answer; 0 when none did.
int deepest_answered(const std::map<int, bool>& answered_by_ttl) {
  int deepest = 0;
  for (const auto& [ttl, any] : answered_by_ttl)
    if (any) deepest = ttl;
  return deepest;
}
}  // namespace

std::vector<int> ttls_to_reprobe(const std::map<int, bool>& answered_by_ttl, const std::set<int>& answered_elsewhere,
                                 std::optional<int> silent_from_hop) {
  const int last_answered = deepest_answered(answered_by_ttl);
  std::vector<int> silent;
  for (const auto& [ttl, any] : answered_by_ttl)
    if (!any && (ttl < last_answered || answered_elsewhere.count(ttl)) && !(silent_from_hop && ttl >= *silent_from_hop))
      silent.push_back(ttl);
  return silent;
}

int filtering_router_ttl(const std::map<int, bool>& answered_by_ttl, int ttl) {
  const int last_answered = deepest_answered(answered_by_ttl);
  return last_answered >= 1 && ttl == last_answered + 1 ? last_answered : 0;
}

double filtering_router_hold_s(double router_rtt_s) { return std::max(0.05, 4 * router_rtt_s); }

Timestamp reprobe_at(Timestamp trace_planned_at, Timestamp now) {
  return std::max(now, after(trace_planned_at, icmp_budget_refill_s));
}

bool witness_serves(Timestamp witness_at, Timestamp reprobe_time) {
  return std::abs(witness_at.seconds_since(reprobe_time)) <= 0.5;
}

AttemptResult rejudge_if_reached(const AttemptResult& dropped, const std::vector<AttemptResult>& trace) {
  std::vector<AttemptResult> answered{dropped};
  for (const AttemptResult& r : trace)
    if (r.judgement.verdict != Verdict::dropped && r.judgement.verdict != Verdict::inconclusive) answered.push_back(r);
  if (answered.size() == 1) return dropped;
  AttemptResult again = combine_probes(answered);
  again.judgement.evidence.push_back(
      {Signal::probes_disagree,
       fmt::format("The first SYN{} got no answer, but {} TTL-limited SYN{} reached far enough to be answered: the "
                   "silence was loss, not a drop; the verdict comes from the answered SYNs.",
                   dropped.attempt.syn_count == 1 ? "" : "s", answered.size() - 1, answered.size() == 2 ? "" : "s")});
  again.judgement.confidence = std::min(again.judgement.confidence, 0.75);
  return again;
}

}  // namespace synprobe
