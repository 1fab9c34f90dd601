#include "dissect/trace/request_trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "dissect/decode/icmp_names.hpp"

namespace synprobe {
namespace {

struct CopyAnswer {
  HopAnswer kind = HopAnswer::none;
  bool reset_too = false;
  std::optional<IpAddress> from;  // the time-exceeded's sender
  std::optional<double> rtt_ms;
  std::optional<IcmpSummary> icmp;
};

// What one TTL-limited copy drew: a time-exceeded quoting it, a RST, the server's own
// answer (data or its ACK of the request), an unreachable, or nothing.
CopyAnswer answer_of(const Attempt& a) {
  CopyAnswer c;
  const RequestStage& s = *a.request_stage;
  for (const Answer& x : s.replies) {
    if (x.kind == AnswerKind::icmp_error && is_time_exceeded(a.family(), x.icmp_type)) {
      if (c.kind != HopAnswer::time_exceeded) c.rtt_ms = x.rtt_ms;
      c.reset_too = c.reset_too || c.kind == HopAnswer::reset;
      c.kind = HopAnswer::time_exceeded;
      c.from = x.from;
    } else if (x.kind == AnswerKind::icmp_error && is_refusal(a.family(), x.icmp_type, x.icmp_code)) {
      if (c.kind == HopAnswer::none) {
        c.kind = HopAnswer::unreachable;
        c.from = x.from;
        c.rtt_ms = x.rtt_ms;
        c.icmp = IcmpSummary{x.icmp_type, x.icmp_code, std::string(icmp_name(a.family(), x.icmp_type, x.icmp_code))};
      }
    } else if (x.kind == AnswerKind::reset) {
      if (c.kind == HopAnswer::time_exceeded) c.reset_too = true;
      else if (c.kind == HopAnswer::none || c.kind == HopAnswer::data) {
        c.kind = HopAnswer::reset;
        c.rtt_ms = x.rtt_ms;
      }
    } else if (x.kind == AnswerKind::segment && c.kind == HopAnswer::none) {
      c.kind = HopAnswer::data;  // the server's TCP got the copy: it reached the host
      c.rtt_ms = x.rtt_ms;
    }
  }
  return c;
}

// The rank of an answer when a TTL's copies disagree: a router's word first.
int rank(HopAnswer a) {
  switch (a) {
    case HopAnswer::time_exceeded: return 5;
    case HopAnswer::unreachable: return 4;
    case HopAnswer::reset: return 3;
    case HopAnswer::data: return 2;
    case HopAnswer::syn_ack: return 2;
    case HopAnswer::other_icmp: return 1;
    case HopAnswer::none: return 0;
  }
  return 0;
}

const TraceHop* hop_at(const Trace& t, int ttl) {
  for (const TraceHop& h : t.hops)
    if (h.hop == ttl) return &h;
  return nullptr;
}

bool drew(const TraceHop& h, HopAnswer a) { return std::find(h.answers.begin(), h.answers.end(), a) != h.answers.end(); }

}  // namespace

Trace build_request_trace(const std::vector<const Attempt*>& sweep) {
  std::map<int, std::vector<CopyAnswer>> by_ttl;
  for (const Attempt* a : sweep)
    if (a->request_stage && a->request_stage->request) by_ttl[a->request_stage->request->ttl].push_back(answer_of(*a));
  Trace trace;
  for (const auto& [ttl, copies] : by_ttl) {
    TraceHop h;
    h.hop = ttl;
    std::map<HopAnswer, int> votes;
    std::map<IpAddress, int> senders;
    for (const CopyAnswer& c : copies) {
      h.answers.push_back(c.kind);
      ++votes[c.kind];
      h.reset_too = h.reset_too || c.reset_too;
      if (c.from && c.kind == HopAnswer::time_exceeded) ++senders[*c.from];
      if (c.icmp && !h.icmp) h.icmp = c.icmp;
    }
    h.majority = std::max_element(votes.begin(), votes.end(), [](const auto& x, const auto& y) {
                   return x.second != y.second ? x.second < y.second : rank(x.first) < rank(y.first);
                 })->first;
    if (!senders.empty()) {
      h.address = std::max_element(senders.begin(), senders.end(), [](const auto& x, const auto& y) {
                    return x.second < y.second;
                  })->first;
      for (const auto& [address, n] : senders) h.addresses.push_back(address);
    }
    std::vector<double> rtts;
    for (const CopyAnswer& c : copies)
      if (c.kind == h.majority && c.rtt_ms) rtts.push_back(*c.rtt_ms);
    if (!rtts.empty()) {
      std::sort(rtts.begin(), rtts.end());
      h.rtt_ms = rtts[rtts.size() / 2];
    }
    trace.probes_per_hop = std::max<int>(trace.probes_per_hop, static_cast<int>(copies.size()));
    trace.hops.push_back(std::move(h));
  }
  return trace;
}

void locate_request(AttemptResult& r, const Trace& trace) {
  Judgement& j = r.judgement;
  if (trace.hops.empty() || j.stage != Stage::request) return;
  auto add = [&](Signal s, std::string detail) { j.evidence.push_back({s, std::move(detail)}); };
  const TraceHop* first_reset = nullptr;
  const TraceHop* first_data = nullptr;
  const TraceHop* last_expired = nullptr;
  for (const TraceHop& h : trace.hops) {
    if (!first_reset && (drew(h, HopAnswer::reset) || h.reset_too)) first_reset = &h;
    if (!first_data && drew(h, HopAnswer::data)) first_data = &h;
    if (drew(h, HopAnswer::time_exceeded) && (!first_reset || h.hop <= first_reset->hop)) last_expired = &h;
  }
  const auto name_of = [](const TraceHop* h) {
    return h && h->address ? fmt::format("hop {} ({})", h->hop, h->address->to_string())
                           : fmt::format("hop {}", h ? h->hop : 0);
  };
  // A RST weighed as the server's that copies draw before they can reach the server (at a
  // TTL below its hop) came from a device that imitates it.
  const bool host_imitated = j.verdict == Verdict::refused_by_host && j.hop && first_reset &&
                             first_reset->hop < *j.hop && !first_reset->reset_too;
  if (host_imitated) {
    j.verdict = Verdict::refused_by_middlebox;
    j.actor = Actor::middlebox;
    j.cause = Cause::none;
  }
  const bool refused_by_reset = j.verdict == Verdict::refused_by_middlebox || j.verdict == Verdict::injected_reset;

  if (refused_by_reset && first_reset && (!first_data || first_reset->hop < first_data->hop)) {
    if (first_reset->reset_too) {
      // One TTL drew both: the copy died at that router, yet something there saw it.
      j.hop = first_reset->hop;
      j.responder = first_reset->address;
      j.hop_range.reset();
      add(Signal::on_path_injector,
          fmt::format("The request copy sent with TTL {} drew both a time-exceeded from {} and a RST: a device at "
                      "that hop sees the request as it passes and answers it, whether or not it goes on.",
                      first_reset->hop, first_reset->address ? first_reset->address->to_string() : "that hop"));
    } else {
      // A router sends time-exceeded before its forwarding rules see the packet (Linux:
      // ip_forward checks the TTL before the FORWARD hook), so the device that resets the
      // copies from TTL t on is the one that answered time-exceeded at t - 1, or sits on
      // the link just after it.
      const TraceHop* before = hop_at(trace, first_reset->hop - 1);
      const int hop = first_reset->hop - 1;
      add(Signal::reset_before_host,
          fmt::format("Request copies draw a RST from TTL {} on, and time-exceeded up to TTL {}{}: the device that "
                      "resets is {} or the link just after it{}.",
                      first_reset->hop, hop, before && before->address ? " from " + before->address->to_string() : "",
                      name_of(before ? before : nullptr),
                      first_data ? fmt::format("; copies with TTL {} still reached the server", first_data->hop) : ""));
      if (j.hop && *j.hop != hop)
        add(Signal::ttl_forged,
            fmt::format("The RST's own TTL says hop {}; the copies place the device at hop {}: its TTL is not what "
                        "its sender started with.",
                        *j.hop, hop));
      if (hop >= 1) {
        j.hop = hop;
        j.responder = before ? before->address : std::nullopt;
        j.hop_range.reset();
      }
    }
    if (j.responder) add(Signal::hop_address_known, fmt::format("Hop {} is {}.", *j.hop, j.responder->to_string()));
    j.rule = Rule::trace_located;
    j.confidence = std::max(j.confidence, 0.95);
    return;
  }
  if (j.verdict == Verdict::dropped && last_expired && !first_reset && (!first_data || first_data->hop > last_expired->hop + 1)) {
    j.hop = last_expired->hop;
    j.responder = last_expired->address;
    j.hop_range = std::make_pair(last_expired->hop, last_expired->hop + 1);
    add(Signal::dropped_after_hop,
        fmt::format("Request copies draw time-exceeded up to {} and nothing beyond it: the request dies after that "
                    "hop, at it or on the link to the next.",
                    name_of(last_expired)));
    j.rule = Rule::trace_located;
    j.confidence = std::max(j.confidence, 0.9);
    return;
  }
  if (j.verdict == Verdict::refused_by_host && first_reset && !first_data)
    add(Signal::trace_reached_host,
        fmt::format("Request copies with TTL {} and more reached the server and drew its RST{}: nothing on the way "
                    "refuses them.",
                    first_reset->hop, last_expired ? ", after time-exceeded up to " + name_of(last_expired) : ""));
  else if (first_data)
    add(Signal::trace_reached_host,
        fmt::format("Request copies with TTL {} and more reached the server itself (its TCP answered them){}.",
                    first_data->hop, last_expired ? ", after time-exceeded up to " + name_of(last_expired) : ""));
}

}  // namespace synprobe
