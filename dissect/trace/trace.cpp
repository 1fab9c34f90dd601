#include "dissect/trace/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "dissect/decode/icmp_names.hpp"

namespace synprobe {

namespace {

// RTTs within this ratio (or 0.5 ms) of each other are "the same distance".
constexpr double rtt_tolerance = 0.3;

struct ProbeAnswer {
  HopAnswer kind = HopAnswer::none;
  const Answer* answer = nullptr;
  bool also_reset = false;
};

// The one answer that speaks for a TTL-limited probe: a time-exceeded wins (it names the
// hop), then an unreachable, a RST, a SYN/ACK.
ProbeAnswer classify(const Attempt& a) {
  ProbeAnswer best;
  auto rank = [](HopAnswer k) {
    switch (k) {
      case HopAnswer::time_exceeded: return 5;
      case HopAnswer::unreachable: return 4;
      case HopAnswer::reset: return 3;
      case HopAnswer::syn_ack: return 2;
      case HopAnswer::other_icmp: return 1;
      case HopAnswer::data: return 2;  // only in request sweeps (request_trace.cpp)
      case HopAnswer::none: return 0;
    }
    return 0;
  };
  for (const Answer& x : a.answers) {
    HopAnswer k = HopAnswer::none;
    switch (x.kind) {
      case AnswerKind::syn_ack: k = HopAnswer::syn_ack; break;
      case AnswerKind::reset: k = HopAnswer::reset; best.also_reset = true; break;
      case AnswerKind::icmp_error:
        if (is_time_exceeded(a.family(), x.icmp_type) && x.icmp_code == 0) k = HopAnswer::time_exceeded;
        else if (is_refusal(a.family(), x.icmp_type, x.icmp_code))
          k = HopAnswer::unreachable;
        else k = HopAnswer::other_icmp;
        break;
      case AnswerKind::segment: break;  // request-stage replies only, never among a SYN's answers
    }
    if (rank(k) > rank(best.kind)) {
      best.kind = k;
      best.answer = &x;
    }
  }
  return best;
}

bool same_distance(double a, double b) { return std::abs(a - b) <= std::max(0.5, rtt_tolerance * std::max(a, b)); }

const TraceHop* hop_at(const Trace& t, int hop) {
  for (const TraceHop& h : t.hops)
    if (h.hop == hop) return &h;
  return nullptr;
}

std::string hop_name(const Trace& t, int hop) {
  const TraceHop* h = hop_at(t, hop);
  return h && h->address ? fmt::format("hop {} ({})", hop, h->address->to_string()) : fmt::format("hop {}", hop);
}

bool answered_time_exceeded(const TraceHop& h) {
  return std::find(h.answers.begin(), h.answers.end(), HopAnswer::time_exceeded) != h.answers.end();
}

// Whether a TTL-limited SYN went past `hop` and expired at a hop before `host_hop`: a
// device at `hop` that refuses what it forwards would have refused that SYN instead.
bool went_past_unrefused(const Trace& t, int hop, int host_hop) {
  return std::any_of(t.hops.begin(), t.hops.end(),
                     [&](const TraceHop& h) { return h.hop > hop && h.hop < host_hop && answered_time_exceeded(h); });
}

// The router at a hop: known when it answered time-exceeded there.
std::optional<IpAddress> address_at(const Trace& t, int hop) {
  const TraceHop* h = hop_at(t, hop);
  return h && answered_time_exceeded(*h) ? h->address : std::nullopt;
}

// The first TTL whose majority answer is `kind`.
std::optional<int> first_with(const Trace& t, HopAnswer kind) {
  for (const TraceHop& h : t.hops)
    if (h.majority == kind) return h.hop;
  return std::nullopt;
}

std::optional<int> last_time_exceeded(const Trace& t) {
  std::optional<int> last;
  for (const TraceHop& h : t.hops)
    if (h.majority == HopAnswer::time_exceeded) last = h.hop;
  return last;
}

// The largest TTL that drew any answer at all (0 when none did).
int last_answered_hop(const Trace& t) {
  int last = 0;
  for (const TraceHop& h : t.hops)
    if (h.majority != HopAnswer::none) last = h.hop;
  return last;
}

// The hop whose time-exceeded RTT is closest to `rtt`, if one is within tolerance.
std::optional<int> hop_by_rtt(const Trace& t, double rtt) {
  std::optional<int> best;
  double best_gap = 0;
  for (const TraceHop& h : t.hops) {
    if (h.majority != HopAnswer::time_exceeded || !h.rtt_ms) continue;
    const double gap = std::abs(*h.rtt_ms - rtt);
    if (same_distance(*h.rtt_ms, rtt) && (!best || gap < best_gap)) {
      best = h.hop;
      best_gap = gap;
    }
  }
  return best;
}

void add(Judgement& j, Signal s, std::string detail) { j.evidence.push_back({s, std::move(detail)}); }
void drop(Judgement& j, Signal s) {
  j.evidence.erase(std::remove_if(j.evidence.begin(), j.evidence.end(), [&](const Evidence& e) { return e.signal == s; }),
                   j.evidence.end());
}
// The trace's sentence takes the place of the capture's guess on the same signal.
void replace(Judgement& j, Signal s, std::string detail) {
  drop(j, s);
  add(j, s, std::move(detail));
}

void name_middlebox(Judgement& j, const Trace& t, int hop) {
  j.actor = Actor::middlebox;
  // This trace may lack the hop's time-exceeded (rate limited) while another trace of the
  // same path named it already: keep that address rather than forget it.
  const std::optional<IpAddress> known = j.hop == hop ? j.responder : std::nullopt;
  j.hop = hop;
  j.hop_range.reset();
  j.rule = Rule::trace_located;
  j.responder = address_at(t, hop);
  if (!j.responder) j.responder = known;
}

// A RST in the host's name: find where it really comes from.
// A filter stops the SYN. A RST from hop k while the trace shows SYNs going on past hop k
// and expiring at a later router: nothing stopped the SYN there, so its RSTs are raced by
// a device that sees it pass. Hop k is where the RST comes from: for a middlebox's RST its
// own TTL says so (even when every RST to the trace's SYNs was lost), else the first TTL
// that draws one.
bool located_as_injector(Judgement& j, const Answer& reset, const Trace& t, std::optional<int> first_reset) {
  struct Origin {
    int hop;
    std::string how;
    double confidence;
  };
  std::vector<Origin> origins;
  if (j.verdict == Verdict::refused_by_middlebox) origins.push_back({reset.ttl.hop, "its TTL", 0.8});
  if (first_reset)
    origins.push_back({*first_reset, fmt::format("TTL-limited SYNs draw it from TTL {}", *first_reset), 0.85});
  for (const Origin& o : origins)
    for (const TraceHop& h : t.hops) {
      if (h.hop <= o.hop || !answered_time_exceeded(h)) continue;
      j.verdict = Verdict::injected_reset;
      add(j, Signal::on_path_injector,
          fmt::format("The RST comes from hop {} ({}), yet TTL {} went on past that hop and expired at {}: nothing "
                      "stopped the SYN there, so a device at hop {} sees it pass and races a forged RST.",
                      o.hop, o.how, h.hop, hop_name(t, h.hop), o.hop));
      name_middlebox(j, t, o.hop);
      j.confidence = std::max(j.confidence, o.confidence);
      return true;
    }
  return false;
}

// Without any packet of the host's own, its distance is unknown but bounded: a SYN that
// expired at a router never reached it, so the host is at least one hop past the last TTL
// that drew time-exceeded. A RST whose TTL places its sender nearer than that, and whose
// round trip is that nearer hop's, comes from a device there that refuses what it forwards
// (the lab's port 90 with every SYN/ACK and echo reply of the host lost took the RST's
// TTL for the host's distance). Both measures are asked for: the RST's TTL counts the
// return path and the trace the forward one, which may differ by a hop; the round trip
// does not depend on that.
bool nearer_than_host_can_be(Judgement& j, const Answer& reset, const Trace& t, std::optional<int> rtt_hop) {
  const std::optional<int> expired = last_time_exceeded(t);
  if (!expired || reset.ttl.hop > *expired || rtt_hop != reset.ttl.hop || j.verdict != Verdict::refused_by_host)
    return false;
  add(j, Signal::reset_before_host,
      fmt::format("No packet of the host's own tells its distance, but TTL {} expired at {}: the host is at hop {} "
                  "or farther. The RST arrives as if from hop {} (TTL {}) and takes as long as {} does: a device "
                  "there sent it, refusing what it forwards.",
                  *expired, hop_name(t, *expired), *expired + 1, reset.ttl.hop, reset.ttl.observed,
                  hop_name(t, reset.ttl.hop)));
  j.verdict = Verdict::refused_by_middlebox;
  name_middlebox(j, t, reset.ttl.hop);
  j.confidence = std::max(j.confidence, 0.85);
  return true;
}

void locate_reset(Judgement& j, const Attempt& a, const Trace& t, const LocateContext& ctx) {
  const Answer* reset = a.first_answer(AnswerKind::reset);
  const std::optional<int> first_reset = first_with(t, HopAnswer::reset);
  if (!reset || located_as_injector(j, *reset, t, first_reset) || !first_reset) return;
  const int host_hop = ctx.host_hop.value_or(reset->ttl.hop);
  const int device_hop = *first_reset - 1;  // a forwarding filter acts on what it forwards

  // RTT: which hop of the path takes as long as the RST does?
  const std::optional<int> rtt_hop = hop_by_rtt(t, reset->rtt_ms);
  const bool rtt_like_host = ctx.host_rtt_ms && same_distance(*ctx.host_rtt_ms, reset->rtt_ms);
  if (rtt_hop && !rtt_like_host)
    add(j, Signal::rtt_matches_hop,
        fmt::format("The RST takes {:.3f} ms, like {} ({:.3f} ms){}.", reset->rtt_ms, hop_name(t, *rtt_hop),
                    *hop_at(t, *rtt_hop)->rtt_ms,
                    ctx.host_rtt_ms ? fmt::format(", not like the host ({:.3f} ms)", *ctx.host_rtt_ms) : std::string{}));

  if (!ctx.host_hop && nearer_than_host_can_be(j, *reset, t, rtt_hop)) return;
  if (*first_reset < host_hop && device_hop >= 1) {
    // Refused before the SYN could reach the host: a device in the path, at the hop that
    // still answers time-exceeded just before the RSTs start.
    const TraceHop* before = hop_at(t, device_hop);
    add(j, Signal::reset_before_host,
        fmt::format("TTL-limited SYNs draw RSTs from TTL {} on, while the host is at hop {}: the SYN never reaches "
                    "it. The device at hop {} {}.",
                    *first_reset, host_hop, device_hop,
                    before && answered_time_exceeded(*before)
                        ? fmt::format("({}) answers time-exceeded at TTL {} and refuses what it would forward",
                                      before->address ? before->address->to_string() : "?", device_hop)
                        : std::string("refuses what it would forward")));
    if (ctx.host_hop && reset->ttl.hop == *ctx.host_hop)
      replace(j, Signal::ttl_forged,
          fmt::format("The RST arrives with TTL {} as if from hop {}, the host's distance, but it is sent from hop {}: "
                      "the device forges its TTL.",
                      reset->ttl.observed, reset->ttl.hop, device_hop));
    j.verdict = Verdict::refused_by_middlebox;
    name_middlebox(j, t, device_hop);
    j.confidence = std::max(j.confidence, rtt_hop == device_hop ? 0.95 : 0.9);
    return;
  }
  // The RSTs start at the host's own distance: the host, or a filter on the last router.
  // The RST's own TTL and its RTT tell them apart.
  if (j.verdict == Verdict::refused_by_middlebox && reset->ttl.hop < host_hop) {
    name_middlebox(j, t, reset->ttl.hop);
    if (rtt_hop == reset->ttl.hop) j.confidence = std::max(j.confidence, 0.9);
    return;
  }
  // Not when the trace contradicts it: a SYN that went past that hop unrefused (one CI run
  // saw a host's RST delayed to hop 2's round trip by the machine's load, hop 3 answering).
  if (rtt_hop && !rtt_like_host && *rtt_hop < host_hop && !went_past_unrefused(t, *rtt_hop, host_hop)) {
    j.verdict = Verdict::refused_by_middlebox;
    replace(j, Signal::ttl_forged,
        fmt::format("The RST arrives as if from hop {}, but its round-trip time places it at hop {}.", reset->ttl.hop,
                    *rtt_hop));
    name_middlebox(j, t, *rtt_hop);
    // Timing alone against the TTL and the trace, which both say host: jitter can do
    // this, so it is a lead, not a finding.
    j.confidence = 0.55;
    return;
  }
  // The capture alone gave the RST to a nearer device by its timing, but the RSTs start
  // at the host's own distance with the host's TTL and the trace went past every nearer
  // hop unrefused: the trace measures where the RST comes from, the timing only infers it.
  if (j.rule == Rule::reset_decisive_nearer && reset->ttl.hop == host_hop && *first_reset == host_hop) {
    replace(j, Signal::signals_disagree,
            fmt::format("The RST came sooner than the host's SYN/ACKs, but TTL-limited SYNs draw RSTs only from TTL {} "
                        "(the host's distance) and every nearer TTL expired unrefused: the trace says the host sent "
                        "it. Only a transparent device at the host's own hop would fit both.",
                        *first_reset));
    drop(j, Signal::ttl_forged);
    j.verdict = Verdict::refused_by_host;
    j.rule = Rule::trace_located;
    j.actor = Actor::host;
    j.responder = a.server;
    j.hop = host_hop;
    j.hop_range.reset();
    j.confidence = 0.6;
  }
}

// The first TTL that draws a forged RST is where the device sees the SYN. But with one
// probe a TTL (its repeats spared on a known path) one lost RST moves that TTL up a hop:
// when the RST's own TTL and its round trip both place the sender at an earlier hop that
// answers time-exceeded, that hop is the device's.
std::optional<int> earlier_injector_hop(const Attempt& a, const Trace& t, int first_reset_ttl) {
  const Answer* reset = a.first_answer(AnswerKind::reset);
  if (!reset) return std::nullopt;
  const std::optional<int> by_rtt = hop_by_rtt(t, reset->rtt_ms);
  if (!by_rtt || *by_rtt >= first_reset_ttl || *by_rtt != reset->ttl.hop) return std::nullopt;
  const TraceHop* h = hop_at(t, *by_rtt);
  return h && answered_time_exceeded(*h) ? by_rtt : std::nullopt;
}

void locate_injection(Judgement& j, const Attempt& a, const Trace& t) {
  for (const TraceHop& h : t.hops) {
    if (!h.reset_too) continue;
    if (const auto earlier = earlier_injector_hop(a, t, h.hop)) {
      add(j, Signal::on_path_injector,
          fmt::format("RSTs start at TTL {}, but the RST's TTL and its round trip both place its sender at hop {} "
                      "({}), whose time-exceeded came back: the device there races a forged RST (the RSTs to "
                      "TTL {}'s probes were lost).",
                      h.hop, *earlier, hop_name(t, *earlier), *earlier));
      name_middlebox(j, t, *earlier);
      j.confidence = std::max(j.confidence, 0.8);
    } else if (answered_time_exceeded(h)) {
      add(j, Signal::on_path_injector,
          fmt::format("TTL {} drew both a time-exceeded from {} and a RST: an on-path device at hop {} sees the SYN "
                      "and races a forged RST.",
                      h.hop, h.address ? h.address->to_string() : std::string("the router"), h.hop));
      name_middlebox(j, t, h.hop);
      j.confidence = std::max(j.confidence, 0.9);
    } else {
      // No time-exceeded came back for this TTL (rate limited or lost), but the first TTL
      // that draws the forged RST is still where the device sees the SYN.
      add(j, Signal::on_path_injector,
          fmt::format("RSTs start at TTL {} although the SYN also reached the host: a device at hop {} sees the SYN "
                      "and races a forged RST (that hop's own address did not answer).",
                      h.hop, h.hop));
      name_middlebox(j, t, h.hop);
    }
    return;
  }
}

void locate_icmp(Judgement& j, const Trace& t) {
  if (!j.responder) return;
  for (const TraceHop& h : t.hops) {
    if (h.majority == HopAnswer::time_exceeded && h.address == j.responder) {
      add(j, Signal::icmp_sender_hop,
          fmt::format("{} answers time-exceeded at TTL {}: it is hop {} of the path.", j.responder->to_string(), h.hop,
                      h.hop));
      j.hop = h.hop;
      return;
    }
  }
}

void locate_drop(Judgement& j, const Trace& t, const LocateContext& ctx) {
  const std::optional<int> last = last_time_exceeded(t);
  if (!last) return;
  const TraceHop* h = hop_at(t, *last);
  if (!h) return;
  j.hop = *last;
  j.responder = h->address;
  j.hop_range = std::make_pair(*last, *last + 1);
  add(j, Signal::dropped_after_hop,
      fmt::format("TTL-limited SYNs are answered up to {} and never beyond: the SYN is dropped after hop {}{}.",
                  hop_name(t, *last), *last,
                  ctx.host_hop && *ctx.host_hop == *last + 1 ? fmt::format(", at the host (hop {}) or just before it", *last + 1)
                                                            : fmt::format(", before hop {}", *last + 1)));
  if (ctx.control) {
    // Hops that stay silent for the control port too are not evidence of the drop: the
    // drop lies between the last hop answering here and the next hop answering anywhere.
    std::optional<int> next_answering;
    for (const TraceHop& c : ctx.control->hops)
      if (c.hop > *last && c.majority != HopAnswer::none) {
        next_answering = c.hop;
        break;
      }
    if (next_answering && *next_answering > *last + 1) {
      j.hop_range = std::make_pair(*last, *next_answering);
      add(j, Signal::silent_hop,
          fmt::format("Hop{} {} answer{} no probe, to this port or to the control port: the drop is somewhere between "
                      "hop {} and hop {}.",
                      *next_answering - *last > 2 ? "s" : "",
                      *next_answering - *last > 2 ? fmt::format("{}-{}", *last + 1, *next_answering - 1)
                                                  : std::to_string(*last + 1),
                      *next_answering - *last > 2 ? "" : "s", *last, *next_answering));
      j.confidence = std::min(j.confidence, 0.7);
      return;
    }
    // The first silent hop went silent for the control port too, some of the time: its
    // router was not answering then (rate limit, loss), so our silence there proves nothing:
    // the SYN may have been dropped after it as well.
    const TraceHop* next = hop_at(*ctx.control, *last + 1);
    if (next && next->majority == HopAnswer::time_exceeded &&
        std::find(next->answers.begin(), next->answers.end(), HopAnswer::none) != next->answers.end()) {
      j.hop_range = std::make_pair(*last, *last + 2);
      add(j, Signal::icmp_rate_limit_suspected,
          fmt::format("Hop {} left some of the control port's probes unanswered too: it was not always answering, so "
                      "this port's silence there does not prove the drop is before it (hops {}-{}).",
                      *last + 1, *last, *last + 2));
      j.confidence = std::min(j.confidence, 0.55);
      return;
    }
    const std::optional<int> control_last = last_time_exceeded(*ctx.control);
    const bool control_reaches_host = first_with(*ctx.control, HopAnswer::syn_ack).has_value() ||
                                      first_with(*ctx.control, HopAnswer::reset).has_value();
    if ((control_last && *control_last > *last) || control_reaches_host) {
      add(j, Signal::control_path_continues,
          fmt::format("SYNs to a control port on the same path are answered beyond hop {}: the silence is specific to "
                      "this port — a filter, not a broken path.",
                      *last));
      j.confidence = std::max(j.confidence, 0.9);
    }
  }
}

}  // namespace

Trace build_trace(const std::vector<AttemptResult>& probes) {
  std::map<int, std::vector<std::pair<const Attempt*, ProbeAnswer>>> by_ttl;
  for (const AttemptResult& r : probes) {
    if (r.attempt.transmissions.empty()) continue;
    by_ttl[r.attempt.transmissions.front().ttl].push_back({&r.attempt, classify(r.attempt)});
  }
  Trace trace;
  for (auto& [ttl, list] : by_ttl) {
    TraceHop hop;
    hop.hop = ttl;
    std::array<int, 6> votes{};
    for (const auto& [attempt, pa] : list) {
      hop.answers.push_back(pa.kind);
      ++votes[static_cast<std::size_t>(pa.kind)];
      hop.reset_too = hop.reset_too || pa.also_reset;
    }
    // Majority of answered probes; silence only when nothing answered.
    std::size_t best = 0;
    for (std::size_t k = 1; k < votes.size(); ++k)
      if (votes[k] > 0 && (best == 0 || votes[k] > votes[best])) best = k;
    hop.majority = static_cast<HopAnswer>(best);
    // The hop's address is the router that answered time-exceeded there, when one did: it
    // is the only answer that speaks with the hop's own address (a RST in the host's name,
    // even the majority, must not name the hop). Otherwise the majority answer's sender.
    std::map<IpAddress, int> senders;
    for (const auto& [attempt, pa] : list)
      if (pa.answer && pa.kind == HopAnswer::time_exceeded) ++senders[pa.answer->from];
    if (senders.empty())
      for (const auto& [attempt, pa] : list)
        if (pa.answer && pa.kind == hop.majority) ++senders[pa.answer->from];
    for (const auto& [sender, votes_of] : senders) hop.addresses.push_back(sender);
    if (!senders.empty())
      hop.address = std::max_element(senders.begin(), senders.end(),
                                     [](const auto& x, const auto& y) { return x.second < y.second; })->first;
    std::vector<double> rtts;
    for (const auto& [attempt, pa] : list) {
      if (pa.kind != hop.majority || !pa.answer) continue;
      rtts.push_back(pa.answer->rtt_ms);
      if (pa.answer->kind == AnswerKind::icmp_error && hop.majority == HopAnswer::unreachable && !hop.icmp)
        hop.icmp = IcmpSummary{pa.answer->icmp_type, pa.answer->icmp_code,
                               std::string(icmp_name(attempt->family(), pa.answer->icmp_type, pa.answer->icmp_code))};
      if (pa.answer->quote && hop.changes.empty())
        hop.changes = compare_quote(*attempt, attempt->transmissions[pa.answer->transmission], *pa.answer->quote);
    }
    // The fastest answer: queueing and jitter only ever add delay, so the minimum is the
    // hop's distance (a median of two or three samples follows one delayed answer).
    if (!rtts.empty()) hop.rtt_ms = *std::min_element(rtts.begin(), rtts.end());
    trace.probes_per_hop = std::max(trace.probes_per_hop, static_cast<int>(list.size()));
    trace.hops.push_back(std::move(hop));
  }
  return trace;
}

void locate(Judgement& j, const Attempt& attempt, const Trace& t, const LocateContext& ctx) {
  if (t.hops.empty()) return;

  // What the trace shows whatever the verdict: silent hops, flapping hops, rewriting hops.
  const std::optional<int> reached = first_with(t, HopAnswer::syn_ack);
  std::string silent;
  for (const TraceHop& h : t.hops) {
    if (reached && h.hop > *reached) break;
    const auto answered = std::count_if(h.answers.begin(), h.answers.end(), [](HopAnswer a) { return a != HopAnswer::none; });
    if (answered == 0 && h.hop < last_answered_hop(t))
      silent += (silent.empty() ? "" : ", ") + std::to_string(h.hop);
    if (answered > 0 && static_cast<std::size_t>(answered) < h.answers.size() && h.majority == HopAnswer::time_exceeded)
      add(j, Signal::icmp_rate_limit_suspected,
          fmt::format("Hop {} answered {} of {} probes: ICMP rate limiting or loss, not policy.", h.hop, answered,
                      h.answers.size()));
    if (!h.changes.empty()) {
      std::string list;
      for (const PathChange& c : h.changes) list += (list.empty() ? "" : "; ") + describe(c);
      add(j, Signal::path_rewrites,
          fmt::format("The SYN quoted by {} differs from the one sent: {} — a middlebox before hop {} rewrote it.",
                      hop_name(t, h.hop), list, h.hop));
    }
  }
  const bool any_time_exceeded = std::any_of(t.hops.begin(), t.hops.end(), [](const TraceHop& h) {
    return std::find(h.answers.begin(), h.answers.end(), HopAnswer::time_exceeded) != h.answers.end();
  });
  const bool any_silence = std::any_of(t.hops.begin(), t.hops.end(), [](const TraceHop& h) {
    return std::find(h.answers.begin(), h.answers.end(), HopAnswer::none) != h.answers.end();
  });
  if (!any_time_exceeded && any_silence && t.hops.size() > 1)
    add(j, Signal::icmp_rate_limit_suspected,
        "No hop answered time-exceeded at all: the routers' ICMP is rate limited or filtered, so the trace cannot "
        "place the refusal.");
  if (!silent.empty() && any_time_exceeded)
    add(j, Signal::silent_hop, fmt::format("Hop{} {} never answered, even when probed again after a pause: a router "
                                           "that does not send time-exceeded (or a rate limit that never relents).",
                                           silent.find(',') == std::string::npos ? "" : "s", silent));

  // A refusal whose own TTL-limited SYNs also drew the host's SYN/ACK: the port is open at
  // the host, so the RSTs were forged by a device that races it (the first answer was lost).
  if (j.verdict == Verdict::refused_by_host || j.verdict == Verdict::refused_by_middlebox) {
    const auto syn_ack = std::find_if(t.hops.begin(), t.hops.end(), [](const TraceHop& h) {
      return std::find(h.answers.begin(), h.answers.end(), HopAnswer::syn_ack) != h.answers.end();
    });
    const std::optional<int> first_reset = first_with(t, HopAnswer::reset);
    if (syn_ack != t.hops.end() && first_reset) {
      add(j, Signal::reset_and_syn_ack,
          fmt::format("TTL-limited SYNs drew the host's SYN/ACK (TTL {}) as well as RSTs from TTL {} on: the port is "
                      "open at the host and the RSTs race it.",
                      syn_ack->hop, *first_reset));
      j.verdict = Verdict::injected_reset;
      j.confidence = std::min(j.confidence, 0.8);
    }
  }

  switch (j.verdict) {
    case Verdict::refused_by_host:
    case Verdict::refused_by_middlebox: locate_reset(j, attempt, t, ctx); break;
    case Verdict::injected_reset: locate_injection(j, attempt, t); break;
    case Verdict::icmp_unreachable: locate_icmp(j, t); break;
    case Verdict::dropped: locate_drop(j, t, ctx); break;
    case Verdict::open:
    case Verdict::inconclusive: break;
  }
  // Said last, once the verdict is settled: a RST counts as the host's only when the verdict
  // says the host refused (a middlebox's RST carries the host's address too).
  for (const TraceHop& h : t.hops) {
    const bool hosts_reset = h.majority == HopAnswer::reset && j.verdict == Verdict::refused_by_host && j.hop == h.hop;
    if (h.majority != HopAnswer::syn_ack && !hosts_reset) continue;
    add(j, Signal::trace_reached_host,
        fmt::format("TTL-limited SYNs reach the host itself from TTL {} on ({}).", h.hop, hop_answer_name(h.majority)));
    break;
  }
  // Silence that ICMP rate limiting or loss may explain (answers that came and went) makes
  // "dropped" a lead: a lost unreachable or a suppressed time-exceeded looks the same.
  const bool rate_limited = std::any_of(j.evidence.begin(), j.evidence.end(), [](const Evidence& e) {
    return e.signal == Signal::icmp_rate_limit_suspected;
  });
  if (j.verdict == Verdict::dropped && rate_limited) j.confidence = std::min(j.confidence, 0.55);
}

}  // namespace synprobe
