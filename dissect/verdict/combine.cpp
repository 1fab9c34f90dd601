#include "dissect/verdict/combine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace synprobe {
namespace {

bool is_silence(Verdict v) { return v == Verdict::dropped || v == Verdict::inconclusive; }

// Appends one probe's SYNs and answers to the merged attempt, re-basing the answers'
// transmission numbers so that they still point at their own SYN.
void merge_into(Attempt& merged, const Attempt& probe) {
  const std::size_t base = merged.transmissions.size();
  for (const SynTransmission& t : probe.transmissions)
    if (merged.transmissions.size() < Attempt::max_transmissions) merged.transmissions.push_back(t);
  for (Answer answer : probe.answers) {
    answer.transmission = std::min(base + answer.transmission, merged.transmissions.size() - 1);
    if (merged.answers.size() < Attempt::max_answers) merged.answers.push_back(answer);
    else ++merged.answers_not_kept;
  }
  merged.syn_count += probe.syn_count;
  merged.first_seen = std::min(merged.first_seen, probe.first_seen);
  merged.last_seen = std::max(merged.last_seen, probe.last_seen);
  merged.unmatched_resets += probe.unmatched_resets;
  merged.unmatched_syn_acks += probe.unmatched_syn_acks;
  merged.syn_acks_out_of_time += probe.syn_acks_out_of_time;
  merged.answered_for_earlier += probe.answered_for_earlier;
  merged.teardown_resets += probe.teardown_resets;
  merged.answers_not_kept += probe.answers_not_kept;
  merged.handshake_completed = merged.handshake_completed || probe.handshake_completed;
  merged.client_reset_after_syn_ack = merged.client_reset_after_syn_ack || probe.client_reset_after_syn_ack;
  if (!merged.first_unmatched_reset) merged.first_unmatched_reset = probe.first_unmatched_reset;
}

// The probes that drew nothing, when every probe that drew anything drew an ICMP
// unreachable: what ICMP rate limiting gives (Linux: a burst of 5 or 6, then one error a
// second toward one source; the late SYN a second on exists to draw it), not a second
// opinion. Silence never contradicts an error quoting our own SYN. Empty otherwise.
std::vector<std::size_t> rate_limited_silence(const std::vector<AttemptResult>& probes) {
  std::vector<std::size_t> silent;
  bool errors = false;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Verdict v = probes[i].judgement.verdict;
    if (is_silence(v)) silent.push_back(i);
    else if (v == Verdict::icmp_unreachable) errors = true;
    else return {};
  }
  return errors ? silent : std::vector<std::size_t>{};
}

}  // namespace

AttemptResult combine_probes(const std::vector<AttemptResult>& probes) {
  std::array<std::size_t, verdict_count> votes{};
  for (const AttemptResult& p : probes) ++votes[static_cast<std::size_t>(p.judgement.verdict)];

  // The verdict most answered probes agree on; silence wins only when nothing answered.
  std::size_t winner = probes.size();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Verdict v = probes[i].judgement.verdict;
    if (is_silence(v)) continue;
    if (winner == probes.size() ||
        votes[static_cast<std::size_t>(v)] > votes[static_cast<std::size_t>(probes[winner].judgement.verdict)])
      winner = i;
  }
  const bool all_silent = winner == probes.size();
  if (all_silent) winner = 0;
  // A forged RST seen on any probe is the finding: a clean answer on another probe (its
  // RST lost, or the injector missed it) does not refute the device that forges them.
  for (std::size_t i = 0; i < probes.size(); ++i)
    if (probes[i].judgement.verdict == Verdict::injected_reset) {
      winner = i;
      break;
    }
  // Open on one SYN, reset by a device on the path on another (same flow, same path): the
  // port is open at the host, and the device forges RSTs — its RST and the host's SYN/ACK
  // each lost on one SYN, or the device missed one.
  const auto first_of = [&](Verdict v) {
    return static_cast<std::size_t>(std::find_if(probes.begin(), probes.end(), [&](const AttemptResult& p) {
                                       return p.judgement.verdict == v;
                                     }) - probes.begin());
  };
  const std::size_t opened = first_of(Verdict::open), forged = first_of(Verdict::refused_by_middlebox);
  const bool injection_across_probes = probes[winner].judgement.verdict != Verdict::injected_reset &&
                                       opened < probes.size() && forged < probes.size();
  if (injection_across_probes) winner = forged;

  AttemptResult result = probes[winner];
  Attempt merged = probes.front().attempt;
  merged.transmissions.clear();
  merged.answers.clear();
  merged.syn_count = 0;
  merged.unmatched_resets = merged.unmatched_syn_acks = merged.syn_acks_out_of_time = merged.answered_for_earlier = merged.teardown_resets = merged.answers_not_kept = 0;
  merged.first_unmatched_reset.reset();
  for (const AttemptResult& p : probes) merge_into(merged, p.attempt);
  result.attempt = merged;

  Judgement& j = result.judgement;
  // What made other probes doubt the host stays visible even when they reached the same
  // verdict: an early or off-TTL RST on one probe is evidence about the path.
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (i == winner) continue;
    for (const Evidence& e : probes[i].judgement.evidence) {
      const bool doubts_host = e.signal == Signal::early_reset || e.signal == Signal::ttl_hop_differs ||
                               e.signal == Signal::ttl_initial_differs || e.signal == Signal::ip_id_breaks_pattern ||
                               e.signal == Signal::reset_burst;
      const bool already = std::any_of(j.evidence.begin(), j.evidence.end(),
                                       [&](const Evidence& x) { return x.signal == e.signal; });
      if (doubts_host && !already) j.evidence.push_back({e.signal, fmt::format("Probe {}: {}", i + 1, e.detail)});
    }
  }
  const std::vector<std::size_t> rate_limited = rate_limited_silence(probes);
  if (!rate_limited.empty()) {
    std::string which;
    for (const std::size_t i : rate_limited) which += fmt::format("{}{}", which.empty() ? "" : ", ", i + 1);
    j.evidence.push_back(
        {Signal::icmp_rate_limit_suspected,
         fmt::format("Probe{} {} drew nothing while the other{} drew the ICMP error: routers and hosts send such errors "
                     "at most about once a second toward one source after a short burst (Linux), so silence beside "
                     "an error is its rate limit, not another answer.",
                     rate_limited.size() == 1 ? "" : "s", which, probes.size() - rate_limited.size() == 1 ? "" : "s")});
    j.confidence = std::min(j.confidence, 0.85);
  }
  const std::size_t agree = votes[static_cast<std::size_t>(j.verdict)] + rate_limited.size();
  if (all_silent && j.verdict == Verdict::dropped) {
    j.confidence = merged.syn_count >= 3 ? 0.9 : merged.syn_count == 2 ? 0.8 : 0.65;
    if (probes.size() > 1)
      j.evidence.push_back({Signal::no_answer, fmt::format("None of the {} probes drew an answer.", probes.size())});
  }
  if (agree < probes.size()) {
    std::string tally;
    for (std::size_t v = 0; v < verdict_count; ++v) {
      if (!votes[v]) continue;
      tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", votes[v], verdict_name(static_cast<Verdict>(v)));
    }
    j.evidence.push_back({Signal::probes_disagree,
                          fmt::format("The {} probes did not all agree: {}.", probes.size(), tally)});
    j.confidence *= static_cast<double>(agree) / static_cast<double>(probes.size());
  }
  if (injection_across_probes) {
    j.verdict = Verdict::injected_reset;
    j.actor = Actor::middlebox;
    j.evidence.push_back(
        {Signal::reset_and_syn_ack,
         fmt::format("Probe {} drew the host's SYN/ACK and probe {} a RST from {} on the same flow: the port is open "
                     "and a device on the path forges RSTs.",
                     opened + 1, forged + 1, j.hop ? fmt::format("hop {}", *j.hop) : std::string("the path"))});
    j.confidence = 0.75;
  }
  return result;
}

}  // namespace synprobe
