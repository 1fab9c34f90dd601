#include "dissect/verdict/address_cause.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace synprobe {
namespace {

bool proves_no_host(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  return j.verdict == Verdict::icmp_unreachable && j.cause == Cause::no_host_at_address && j.rtt_ms && j.responder;
}

// Whether `silent`'s first SYN left while `proof`'s neighbour resolution could still be the
// one it met: within the error's delay before the proof's first SYN or after its error.
bool within_resolution(const AttemptResult& silent, const AttemptResult& proof) {
  const double hold_s = *proof.judgement.rtt_ms / 1000;
  const double since_s = silent.attempt.first_seen.seconds_since(proof.attempt.first_seen);
  return since_s >= -hold_s && since_s <= 2 * hold_s;
}

// A silent attempt whose own trace located its drop at another hop died elsewhere.
bool trace_agrees(const AttemptResult& silent, const AttemptResult& proof) {
  return !silent.judgement.hop || silent.judgement.hop == proof.judgement.hop;
}

void take_cause(AttemptResult& silent, const AttemptResult& proof) {
  Judgement& j = silent.judgement;
  const Judgement& p = proof.judgement;
  j.actor = Actor::router;
  j.responder = p.responder;
  j.hop = p.hop;
  j.hop_range.reset();
  j.cause = Cause::no_host_at_address;
  j.rule = Rule::address_no_neighbour;
  j.confidence = std::min({j.confidence, p.confidence, 0.75});
  j.evidence.push_back(
      {Signal::address_no_host,
       fmt::format("Port {} of {} drew {}'s host-unreachable {:.1f} s after its SYN: no device lives at the address. "
                   "This port's SYNs left within that resolution and drew nothing: the router queues few packets "
                   "per unresolved neighbour and rate-limits its errors. Not a firewall's drop.",
                   proof.attempt.server_port, proof.attempt.server.to_string(), p.responder->to_string(),
                   *p.rtt_ms / 1000)});
  j.to_settle.clear();
  j.to_settle.push_back(fmt::format("the DNS record that gave {} (is it current?), and whether the host is up",
                                    silent.attempt.server.to_string()));
}

}  // namespace

void share_no_host_cause(std::vector<AttemptResult>& results) {
  for (AttemptResult& silent : results) {
    if (silent.judgement.verdict != Verdict::dropped) continue;
    const auto proof = std::find_if(results.begin(), results.end(), [&](const AttemptResult& p) {
      return proves_no_host(p) && p.attempt.server == silent.attempt.server && within_resolution(silent, p) &&
             trace_agrees(silent, p);
    });
    if (proof != results.end()) take_cause(silent, *proof);
  }
}

}  // namespace synprobe
