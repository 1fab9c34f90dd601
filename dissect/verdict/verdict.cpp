#include "dissect/verdict/verdict.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "dissect/decode/icmp_names.hpp"
#include "dissect/infer/attempt_tracker.hpp"
#include "dissect/infer/signatures.hpp"
#include "dissect/infer/syn_schedule.hpp"
#include "dissect/verdict/reasoning.hpp"
#include "dissect/verdict/request_verdict.hpp"

namespace synprobe {

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::open: return "open";
    case Verdict::refused_by_host: return "refused-by-host";
    case Verdict::refused_by_middlebox: return "refused-by-middlebox";
    case Verdict::injected_reset: return "injected-reset";
    case Verdict::icmp_unreachable: return "icmp-unreachable";
    case Verdict::dropped: return "dropped";
    case Verdict::inconclusive: return "inconclusive";
  }
  return "inconclusive";
}

std::string_view stage_name(Stage s) { return s == Stage::request ? "request" : "syn"; }

std::optional<Stage> stage_from_name(std::string_view name) {
  if (name == "syn") return Stage::syn;
  if (name == "request") return Stage::request;
  return std::nullopt;
}

std::string_view cause_name(Cause c) {
  switch (c) {
    case Cause::none: return "";
    case Cause::no_host_at_address: return "no-host-at-address";
    case Cause::closed_without_response: return "closed-without-response";
  }
  return "";
}

std::optional<Cause> cause_from_name(std::string_view name) {
  if (name == "no-host-at-address") return Cause::no_host_at_address;
  if (name == "closed-without-response") return Cause::closed_without_response;
  return std::nullopt;
}

std::string_view actor_name(Actor a) {
  switch (a) {
    case Actor::host: return "host";
    case Actor::middlebox: return "middlebox";
    case Actor::router: return "router";
    case Actor::unknown: return "unknown";
  }
  return "unknown";
}

namespace {

// Weights of the signals that tell the host's own answer from a middlebox's forgery when
// no decisive signal speaks. A TTL that disagrees with the host's is the strongest single
// tell; IP-ID and timing corroborate. Confidence grows with the margin between the sides.
constexpr double weight_ttl_mismatch = 0.5;
constexpr double weight_ttl_match = 0.4;
constexpr double weight_ip_id_break = 0.2;
constexpr double weight_ip_id_fit = 0.1;
constexpr double weight_rtt_match = 0.15;
constexpr double prior_host_without_baseline = 0.1;  // most resets come from the host itself
constexpr double max_confidence = 0.97;
// Below this, round-trip times are a LAN's microseconds: equal timing tells nothing.
constexpr double min_telling_rtt_ms = 1.0;

// A decisive signal decides the side by itself (docs/verdicts.md, "The scoring model").
constexpr double decisive_confidence = 0.9;
constexpr double decisive_confidence_without_baseline = 0.75;
constexpr double decisive_penalty_per_opposing = 0.1;  // each strong signal the other way
constexpr double decisive_floor = 0.6;

struct Scores {
  double host = 0;
  double middlebox = 0;
  std::optional<Signal> decisive;  // a signal only a nearer device explains
  bool baseline = false;           // the host's own packets were there to compare with
  bool ttl_imitates_host = false;  // the answer's TTL equals the host's (forged, if decisive)
  bool ip_id_fits_host = false;
};

double confidence_from(const Scores& s) {
  return std::clamp(0.5 + std::abs(s.host - s.middlebox) / 2, 0.5, max_confidence);
}

// A decisive verdict's confidence: what the decisive signal gives, less what still
// speaks for the host.
double decisive_confidence_of(const Scores& s) {
  double c = s.baseline ? decisive_confidence : decisive_confidence_without_baseline;
  if (s.ttl_imitates_host) c -= decisive_penalty_per_opposing;
  if (s.ip_id_fits_host) c -= decisive_penalty_per_opposing;
  return std::max(c, decisive_floor);
}


// The TTL, IP-ID and timing of an answer that claims the destination's address,
// weighed against what the destination's own packets show.
Scores weigh_against_host(const Answer& answer, const char* what, const JudgeContext& ctx,
                          Reasoning& r) {
  Scores s;
  const std::optional<HopCount> usual = ctx.server ? ctx.server->usual_hop() : std::nullopt;
  if (!usual) {
    r.add(Signal::no_baseline, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The capture holds no other packet from {} to compare the {} with ({})."),
                         answer.from.to_string(), what, ttl_text(answer.ttl));
    });
    s.host += prior_host_without_baseline;
    if (answer.ttl.initial == 255) {
      s.decisive = Signal::network_gear_ttl;
      r.add(Signal::network_gear_ttl, [&]() -> std::string {
        return fmt::format(
            FMT_COMPILE("The {} starts at TTL 255 ({}): routers and firewalls do; Linux, BSD and macOS hosts start "
                        "at 64 and Windows at 128. Only a Solaris/illumos host or a device's own stack would "
                        "answer so: the confidence says that."),
            what, ttl_text(answer.ttl));
      });
    }
  } else {
    s.baseline = true;
    const std::string host_text =
        fmt::format(FMT_COMPILE("the host's own packets ({}) arrive with initial {}, hop {}"),
                    ctx.server->packets(), usual->initial, usual->hop);
    const bool hop_varies = ctx.server->hop_varies();
    if (hop_varies)
      r.add(Signal::baseline_hop_varies, [&]() -> std::string {
        return "The host's own packets arrive from more than one hop; the most common is used.";
      });
    if (answer.ttl.initial != usual->initial) {
      s.middlebox += weight_ttl_mismatch;
      // A stack starts every packet at one initial TTL: another class is another device.
      if (!hop_varies) s.decisive = answer.ttl.initial == 255 ? Signal::network_gear_ttl : Signal::ttl_initial_differs;
      r.add(Signal::ttl_initial_differs, [&]() -> std::string {
        return fmt::format(
            FMT_COMPILE("The {} has {}; {}{}."), what, ttl_text(answer.ttl), host_text,
            hop_varies ? "" : ": one stack starts all its packets at one TTL, so another device sent it");
      });
      if (s.decisive == Signal::network_gear_ttl)
        r.add(Signal::network_gear_ttl, [&]() -> std::string {
          return fmt::format(
              FMT_COMPILE("The {} starts at TTL 255, as routers and firewalls do; the host's packets do not."), what);
        });
    } else if (answer.ttl.hop != usual->hop) {
      s.middlebox += weight_ttl_mismatch;
      r.add(Signal::ttl_hop_differs, [&]() -> std::string {
        return fmt::format(FMT_COMPILE("The {} has {} ({} hop{} {}); {}."), what, ttl_text(answer.ttl),
                           std::abs(usual->hop - answer.ttl.hop), std::abs(usual->hop - answer.ttl.hop) == 1 ? "" : "s",
                           answer.ttl.hop < usual->hop ? "early" : "late", host_text);
      });
    } else {
      s.host += weight_ttl_match;
      s.ttl_imitates_host = true;
      r.add(Signal::ttl_matches_host, [&]() -> std::string {
        return fmt::format(FMT_COMPILE("The {} has {}, as {}."), what, ttl_text(answer.ttl), host_text);
      });
    }

    // IP-IDs compare only like with like: a host numbers its ICMP errors (not DF) apart
    // from its TCP replies (Linux: 0 on DF replies), so only TCP answers are weighed here.
    if (answer.has_ip_id && answer.kind != AnswerKind::icmp_error) {
      const IpIdSampler& syn_acks = ctx.server->syn_ack_ip_ids();
      const IpIdSampler& all = ctx.server->ip_ids();
      if (syn_acks.size() > 0 && syn_acks.all_zero()) {
        if (answer.ip_id == 0) {
          s.host += weight_ip_id_fit;
          s.ip_id_fits_host = true;
          r.add(Signal::ip_id_consistent, [&]() -> std::string {
            return fmt::format(FMT_COMPILE("The {} has IP-ID 0, like the host's SYN/ACKs."), what);
          });
        } else {
          s.middlebox += weight_ip_id_break;
          r.add(Signal::ip_id_breaks_pattern, [&]() -> std::string {
            return fmt::format(FMT_COMPILE("The {} has IP-ID {}; the host's SYN/ACKs carry IP-ID 0."), what,
                               answer.ip_id);
          });
        }
      } else if (const IpIdBehaviour b = all.classify();
                 b == IpIdBehaviour::global_counter || b == IpIdBehaviour::constant) {
        const auto before = all.latest_before(answer.ts);
        const bool fits = before && (b == IpIdBehaviour::constant ? answer.ip_id == *before
                                                                  : follows_counter(*before, answer.ip_id));
        if (before && fits) {
          s.host += weight_ip_id_fit;
          s.ip_id_fits_host = true;
          r.add(Signal::ip_id_consistent, [&]() -> std::string {
            return fmt::format(FMT_COMPILE("The {} has IP-ID {}, which fits the host's {} IP-ID (last seen {})."), what,
                               answer.ip_id, ip_id_behaviour_name(b), *before);
          });
        } else if (before) {
          s.middlebox += weight_ip_id_break;
          r.add(Signal::ip_id_breaks_pattern, [&]() -> std::string {
            return fmt::format(FMT_COMPILE("The {} has IP-ID {}; the host's IP-ID is a {} that stood at {}."), what,
                               answer.ip_id, ip_id_behaviour_name(b), *before);
          });
        }
      }
    }
  }

  if (ctx.server_syn_ack_rtt_ms && !answer.reordered) {
    const double host_rtt = *ctx.server_syn_ack_rtt_ms;
    const double margin = jitter_margin_ms(host_rtt, ctx.server_syn_ack_slowest_ms, ctx.server_syn_acks_timed);
    if (answer.rtt_ms < host_rtt - margin) {
      // Physics: the host's answer crosses the same path as its SYN/ACK, and a stack
      // answers a SYN with a RST no slower than with a SYN/ACK.
      s.middlebox += weight_ttl_mismatch;
      if (!s.decisive) s.decisive = Signal::early_reset;
      r.add(Signal::early_reset, [&]() -> std::string {
        return fmt::format(
            FMT_COMPILE(
                "The {} came {:.3f} ms after the SYN; the host's fastest SYN/ACK took {:.3f} ms, and no jitter "
                "beyond {:.3f} ms fits the capture: the host cannot answer in {:.0f} % of its own fastest round "
                "trip, so a nearer device did."),
            what, answer.rtt_ms, host_rtt, margin, 100 * answer.rtt_ms / host_rtt);
      });
    } else if (host_rtt >= min_telling_rtt_ms && std::abs(answer.rtt_ms - host_rtt) <= 0.25 * host_rtt) {
      s.host += weight_rtt_match;
      r.add(Signal::rtt_matches_host, [&]() -> std::string {
        return fmt::format(FMT_COMPILE("The {} came {:.3f} ms after the SYN, like the host's SYN/ACKs ({:.3f} ms)."),
                           what, answer.rtt_ms, host_rtt);
      });
    }
  }
  return s;
}

std::string describe_tcp_answer(const Answer& a, const Attempt& attempt) {
  return fmt::format(FMT_COMPILE("{} from {}{} {:.3f} ms after the SYN: {}, window {}{}."),
                     tcp_flags_text(a.tcp_flags), a.from.to_string(),
                     a.from == attempt.server ? " (the destination's address)" : "", a.rtt_ms,
                     ttl_text(a.ttl), a.window,
                     a.has_ip_id ? fmt::format(FMT_COMPILE(", IP-ID {}"), a.ip_id) : std::string{});
}

IcmpSummary summarize_icmp(const Attempt& attempt, const Answer& a) {
  return IcmpSummary{a.icmp_type, a.icmp_code,
                     std::string(icmp_name(attempt.family(), a.icmp_type, a.icmp_code))};
}

void set_middlebox(Judgement& j, const JudgeContext& ctx, int hop, Reasoning& r) {
  j.actor = Actor::middlebox;
  j.hop = hop;
  j.responder = address_of_hop(ctx, hop);
  if (j.responder)
    r.add(Signal::hop_address_known, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("A time-exceeded error in the capture shows hop {} is {}."), hop,
                         j.responder->to_string());
    });
}

// A RST and a SYN/ACK for the same SYN: one of them was forged by a device on the path.
void judge_race(const Attempt& a, const Answer& reset, const Answer& syn_ack,
                const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  j.verdict = Verdict::injected_reset;
  j.rule = Rule::reset_races_syn_ack;
  j.rtt_ms = reset.rtt_ms;
  r.add(Signal::reset_and_syn_ack, [&]() -> std::string {
    return fmt::format(FMT_COMPILE("Both a RST ({}, {:.3f} ms) and a SYN/ACK ({}, {:.3f} ms) answered the SYN."),
                       ttl_text(reset.ttl), reset.rtt_ms, ttl_text(syn_ack.ttl), syn_ack.rtt_ms);
  });
  const bool ttl_differs = reset.ttl.hop != syn_ack.ttl.hop || reset.ttl.initial != syn_ack.ttl.initial;
  if (ttl_differs)
    r.add(Signal::ttl_hop_differs, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The RST comes from hop {}, the SYN/ACK from hop {}."), reset.ttl.hop,
                         syn_ack.ttl.hop);
    });
  if (reset.rtt_ms + 1.0 < syn_ack.rtt_ms && reset.rtt_ms < 0.5 * syn_ack.rtt_ms)
    r.add(Signal::early_reset, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The RST came {:.3f} ms before the host's SYN/ACK."),
                         syn_ack.rtt_ms - reset.rtt_ms);
    });
  j.confidence = ttl_differs ? 0.9 : 0.75;
  set_middlebox(j, ctx, reset.ttl.hop, r);
  (void)a;
}

// The hop whose fastest time-exceeded took about as long as `rtt_ms`, from the capture's
// own hop map: where a device that imitates the host's TTL really sits.
std::optional<HopAddress> hop_by_rtt(const JudgeContext& ctx, double rtt_ms, int below_hop) {
  std::optional<HopAddress> best;
  for (const HopAddress& h : ctx.hop_addresses) {
    if (!h.rtt_ms || h.hop >= below_hop) continue;
    const double diff = std::abs(*h.rtt_ms - rtt_ms);
    if (diff > std::max(min_telling_rtt_ms, 0.25 * *h.rtt_ms)) continue;
    if (!best || diff < std::abs(*best->rtt_ms - rtt_ms)) best = h;
  }
  return best;
}

// A refusal that a decisive signal gives to a nearer device: at the hop its TTL names,
// unless the TTL imitates the host's; then at the hop whose round trip it takes, or
// somewhere before the host.
void place_nearer_device(const Answer& answer, const Scores& s, const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  const std::optional<HopCount> usual = ctx.server ? ctx.server->usual_hop() : std::nullopt;
  const int host_hop = usual ? usual->hop : 0;  // 0: the host never spoke
  if (!s.ttl_imitates_host) {
    set_middlebox(j, ctx, answer.ttl.hop, r);
    return;
  }
  j.actor = Actor::middlebox;
  r.add(Signal::ttl_forged, [&]() -> std::string {
    return fmt::format(FMT_COMPILE("The answer carries the host's TTL ({}), yet the {} says a nearer device sent it: a "
                                   "firewall that rewrites its RSTs' TTL to the server's."),
                       ttl_text(answer.ttl), signal_name(*s.decisive));
  });
  if (const auto hop = hop_by_rtt(ctx, answer.rtt_ms, host_hop > 0 ? host_hop : INT32_MAX)) {
    r.add(Signal::rtt_matches_hop, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("Its {:.3f} ms round trip is that of hop {} ({}, {:.3f} ms in the capture's time-exceeded "
                      "errors)."),
          answer.rtt_ms, hop->hop, hop->address.to_string(), *hop->rtt_ms);
    });
    set_middlebox(j, ctx, hop->hop, r);
    return;
  }
  j.hop.reset();
  j.responder.reset();
  if (host_hop > 1) j.hop_range = std::make_pair(1, host_hop - 1);
  r.settle_by([&]() -> std::string {
    return "TTL-limited probes from the capture point (`synprobe trace` or `traceroute -T`) to place the device "
           "that imitates the host's TTL";
  });
}

// What settles a RST judged without the host's own packets to compare it with.
constexpr std::string_view settle_by_baseline =
    "an open port of the same host in the same capture: its SYN/ACK gives the host's own TTL and round trip to "
    "compare the RST with";

void judge_reset(const Attempt& a, const std::vector<const Answer*>& resets,
                 const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  const Answer& first = *resets.front();
  j.rtt_ms = first.reordered ? std::nullopt : std::optional<double>(first.rtt_ms);
  r.add(Signal::reset, [&]() -> std::string { return describe_tcp_answer(first, a); });
  if (!(first.tcp_flags & tcp_flag::ack))
    r.add(Signal::reset_without_ack, [&]() -> std::string {
      return "The RST has no ACK flag: a stack answers a SYN with RST/ACK, and a client in SYN-SENT "
             "ignores a bare RST: a device forged it.";
    });
  const Scores s = weigh_against_host(first, "RST", ctx, r);
  if (!(first.tcp_flags & tcp_flag::ack)) {
    // No stack answers a SYN with a bare RST (RFC 9293 3.10.7.1: the reply to a segment
    // without ACK carries ACK), so a device forged it; the client ignores it anyway.
    j.verdict = Verdict::injected_reset;
    j.rule = Rule::bare_reset;
    j.confidence = 0.8;
    set_middlebox(j, ctx, first.ttl.hop, r);
    return;
  }
  if (s.decisive) {
    j.verdict = Verdict::refused_by_middlebox;
    j.rule = Rule::reset_decisive_nearer;
    j.confidence = decisive_confidence_of(s);
    if (s.host > prior_host_without_baseline)
      r.add(Signal::signals_disagree, [&]() -> std::string {
        return fmt::format(
            FMT_COMPILE("{} says a nearer device; {} speak{} for the host. The decisive signal wins; the "
                        "confidence ({:.2f}) is lower for the rest."),
            signal_name(*s.decisive),
            s.ttl_imitates_host && s.ip_id_fits_host ? "its TTL and IP-ID"
            : s.ttl_imitates_host                    ? "its TTL"
                                                     : "its IP-ID or timing",
            s.ttl_imitates_host && s.ip_id_fits_host ? "" : "s", j.confidence);
      });
    if (!s.baseline) r.settle_by([&]() -> std::string { return std::string(settle_by_baseline); });
    place_nearer_device(first, s, ctx, r);
    return;
  }
  j.rule = Rule::reset_weighed;
  if (s.middlebox > s.host) {
    j.verdict = Verdict::refused_by_middlebox;
    set_middlebox(j, ctx, first.ttl.hop, r);
  } else {
    j.verdict = Verdict::refused_by_host;
    j.actor = Actor::host;
    j.responder = a.server;
    j.hop = first.ttl.hop;
  }
  j.confidence = confidence_from(s);
  if (!s.baseline) r.settle_by([&]() -> std::string { return std::string(settle_by_baseline); });
  if (j.confidence < 0.75)
    r.settle_by([&]() -> std::string {
      return fmt::format(FMT_COMPILE("`synprobe probe {}` from the capture point: TTL-limited SYNs tell the host's RST "
                                     "from a firewall's"),
                         endpoint_text(a.server, a.server_port));
    });
}

// Several RSTs that disagree on their sender (TTL or IP-ID): at least one is forged.
bool resets_disagree(const std::vector<const Answer*>& resets) {
  for (const Answer* other : resets) {
    const Answer& first = *resets.front();
    if (other->ttl.observed != first.ttl.observed) return true;
    if (other->has_ip_id && first.has_ip_id && other->ip_id != first.ip_id &&
        !follows_counter(first.ip_id, other->ip_id))
      return true;
  }
  return false;
}

void judge_reset_burst(const std::vector<const Answer*>& resets, const JudgeContext& ctx,
                       Reasoning& r) {
  Judgement& j = r.judgement();
  j.verdict = Verdict::injected_reset;
  j.rule = Rule::reset_burst;
  const Answer* nearest = *std::min_element(resets.begin(), resets.end(), [](const Answer* x, const Answer* y) {
    return x->ttl.hop < y->ttl.hop;
  });
  std::string list;
  for (const Answer* reset : resets)
    list += fmt::format(FMT_COMPILE("{}{} at {:.3f} ms"), list.empty() ? "" : "; ", ttl_text(reset->ttl), reset->rtt_ms);
  r.add(Signal::reset_burst, [&]() -> std::string {
    return fmt::format(FMT_COMPILE("{} RSTs from different senders answered the SYN: {}."), resets.size(), list);
  });
  j.rtt_ms = nearest->rtt_ms;
  j.confidence = 0.8;
  set_middlebox(j, ctx, nearest->ttl.hop, r);
}

// How long a router may take to answer before the time is its own, not the path's: a
// router that resolves a neighbour sends its next solicitation no sooner than a second
// later (RFC 4861 RETRANS_TIMER; RFC 1122 2.3.2.1 limits ARP to one a second), so an
// error that much later than the path's round trip was held for a resolution that failed.
constexpr double neighbour_hold_ms = 1000;

bool is_neighbour_error(IpFamily family, const Answer& icmp) {
  return family == IpFamily::v4 ? icmp.icmp_type == 3 && icmp.icmp_code == 1   // host unreachable
                                : icmp.icmp_type == 1 && icmp.icmp_code == 3;  // address unreachable
}

// The router's round trip when nothing holds the packet: its fastest time-exceeded in the
// capture (the hop map).
std::optional<double> router_round_trip_ms(const Answer& icmp, const JudgeContext& ctx) {
  std::optional<double> fastest;
  for (const HopAddress& h : ctx.hop_addresses)
    if (h.address == icmp.from && h.rtt_ms) fastest = std::min(fastest.value_or(*h.rtt_ms), *h.rtt_ms);
  return fastest;
}

// Whether a host/address-unreachable from a router is a neighbour resolution that failed:
// it came at least neighbour_hold_ms later than the router's own round trip; with no round
// trip in the capture, the errors themselves show the hold: several, for SYNs sent a second
// or more apart, released together, or one that came after the client's next SYN.
// Returns how the hold shows, as a clause of the evidence.
std::optional<std::string> neighbour_hold(const Attempt& a, const Answer& icmp, const JudgeContext& ctx) {
  if (!is_neighbour_error(a.family(), icmp) || icmp.rtt_ms < neighbour_hold_ms) return std::nullopt;
  if (const std::optional<double> path = router_round_trip_ms(icmp, ctx)) {
    if (icmp.rtt_ms - *path < neighbour_hold_ms) return std::nullopt;
    return fmt::format(FMT_COMPILE("{:.1f} s more than the router's own round trip ({:.3f} ms, from its time-exceeded)"),
                       (icmp.rtt_ms - *path) / 1000, *path);
  }
  const SynTransmission& sent = a.transmissions[icmp.transmission];
  for (const Answer& other : a.answers) {
    if (&other == &icmp || other.kind != AnswerKind::icmp_error || !is_neighbour_error(a.family(), other)) continue;
    const double apart_ms = std::abs(a.transmissions[other.transmission].ts.ms_since(sent.ts));
    const double together_ms = std::abs(other.ts.ms_since(icmp.ts));
    if (apart_ms >= neighbour_hold_ms && together_ms < apart_ms / 10)
      return fmt::format(FMT_COMPILE("and its errors for SYNs sent {:.1f} s apart came {:.3f} ms apart"), apart_ms / 1000,
                         together_ms);
  }
  if (icmp.transmission + 1 < a.transmissions.size() && a.transmissions[icmp.transmission + 1].ts < icmp.ts)
    return std::string("after the client had already sent its next SYN: longer than any path it retransmits on");
  return std::nullopt;
}

void judge_unreachable(const Attempt& a, const Answer& icmp, const JudgeContext& ctx,
                       Reasoning& r) {
  Judgement& j = r.judgement();
  j.icmp = summarize_icmp(a, icmp);
  j.rtt_ms = icmp.rtt_ms;
  const bool size_error = is_size_error(a.family(), icmp.icmp_type, icmp.icmp_code);
  const bool unreachable = is_destination_unreachable(a.family(), icmp.icmp_type) && !size_error;
  j.verdict = unreachable ? Verdict::icmp_unreachable : Verdict::inconclusive;
  j.rule = Rule::icmp_other;
  r.add(Signal::icmp_error, [&]() -> std::string {
    return fmt::format(FMT_COMPILE("ICMP{} {} (type {}, code {}) from {} {:.3f} ms after the SYN: {}."),
                       a.family() == IpFamily::v6 ? "v6" : "", j.icmp->name, icmp.icmp_type, icmp.icmp_code,
                       icmp.from.to_string(), icmp.rtt_ms, ttl_text(icmp.ttl));
  });
  if (icmp.quoted_ttl) {
    const std::uint8_t sent = a.transmissions[icmp.transmission].ttl;
    r.add(Signal::quoted_ttl, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("The quoted SYN still had TTL {} when the sender judged it (sent with {}: decremented {} "
                      "time{} on the way, a forwarding sender's own decrement included)."),
          *icmp.quoted_ttl, sent, sent - *icmp.quoted_ttl, sent - *icmp.quoted_ttl == 1 ? "" : "s");
    });
  }
  j.hop = icmp.ttl.hop;
  if (icmp.from == a.server) {
    const Scores s = weigh_against_host(icmp, "ICMP error", ctx, r);
    if (s.middlebox > s.host) {
      r.add(Signal::icmp_spoofs_host, [&]() -> std::string {
        return "The ICMP error carries the destination's address but does not come from the host.";
      });
      if (unreachable) j.rule = Rule::icmp_spoofs_host;
      if (s.decisive) place_nearer_device(icmp, s, ctx, r);
      else set_middlebox(j, ctx, icmp.ttl.hop, r);
      j.confidence = !unreachable ? 0 : s.decisive ? decisive_confidence_of(s) : confidence_from(s);
      return;
    }
    if (unreachable) j.rule = Rule::icmp_from_host;
    j.actor = Actor::host;
    r.add(Signal::icmp_from_host, [&]() -> std::string { return "The destination itself sent the ICMP error."; });
  } else {
    if (unreachable) j.rule = Rule::icmp_from_router;
    j.actor = Actor::router;
    r.add(Signal::icmp_from_router, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("{} is not the destination: a device on the path sent the error."),
                         icmp.from.to_string());
    });
    if (const std::optional<std::string> held = unreachable ? neighbour_hold(a, icmp, ctx) : std::nullopt) {
      j.cause = Cause::no_host_at_address;
      j.rule = Rule::icmp_no_neighbour;
      r.add(Signal::neighbour_unresolved, [&]() -> std::string {
        return fmt::format(
            FMT_COMPILE("The error came {:.1f} s after the SYN it quotes, {}: {} held the SYN while it looked for "
                        "{} on its own network (ARP / Neighbour Discovery) and no device answered. Nobody lives at "
                        "this address: a stale DNS record, or a host that is down."),
            icmp.rtt_ms / 1000, *held, icmp.from.to_string(), a.server.to_string());
      });
      r.settle_by([&]() -> std::string {
        return fmt::format(FMT_COMPILE("the DNS record that gave {} (is it current?), and whether the host is up"),
                           a.server.to_string());
      });
    }
  }
  j.responder = icmp.from;
  j.confidence = unreachable ? 0.9 : 0;
}

void judge_expired(const Attempt& a, const Answer& icmp, Reasoning& r) {
  Judgement& j = r.judgement();
  j.icmp = summarize_icmp(a, icmp);
  j.rtt_ms = icmp.rtt_ms;
  j.actor = Actor::router;
  j.responder = icmp.from;
  const std::uint8_t sent = a.transmissions[icmp.transmission].ttl;
  // A SYN sent with a small TTL is a TTL-limited probe that did what it was meant to;
  // a SYN sent with a normal TTL that still expires met a routing loop.
  if (sent <= max_probe_ttl) {
    j.verdict = Verdict::inconclusive;
    j.rule = Rule::ttl_limited_expiry;
    j.hop = sent;
    j.confidence = 0;
    r.add(Signal::ttl_expired, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The SYN was sent with TTL {} and expired at {} (hop {}): a TTL-limited probe "
                                     "that never reached the destination."),
                         sent, icmp.from.to_string(), sent);
    });
  } else {
    j.verdict = Verdict::icmp_unreachable;
    j.rule = Rule::routing_loop;
    j.hop = icmp.ttl.hop;
    j.confidence = 0.7;
    r.add(Signal::ttl_expired, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The SYN was sent with TTL {} and still expired at {} ({}): a routing loop."),
                         sent, icmp.from.to_string(), ttl_text(icmp.ttl));
    });
  }
}

// The SYN swept with rising TTLs (traceroute -T, tracebox, pathspider): the last hop
// that answered time-exceeded, when transmissions with larger TTLs, up to a normal one
// (> 32, which no sweep's probe needs), got nothing while the capture went on.
struct SweepEnd {
  const Answer* last_expiry = nullptr;
  std::uint8_t last_ttl = 0;
  bool normal_retransmitted = false;
};

std::optional<SweepEnd> silent_sweep_end(const Attempt& a, const std::vector<const Answer*>& expiries,
                                         const JudgeContext& ctx) {
  SweepEnd end;
  for (const Answer* e : expiries) {
    const std::uint8_t sent = a.transmissions[e->transmission].ttl;
    if (sent > max_probe_ttl) return std::nullopt;  // a normal SYN that expired: a loop, judged as such
    if (sent >= end.last_ttl) end = {e, sent, false};
  }
  std::vector<bool> answered(a.transmissions.size(), false);
  for (const Answer& x : a.answers) answered[x.transmission] = true;
  for (std::size_t t = 0; t < a.transmissions.size(); ++t)
    if (a.transmissions[t].ttl > end.last_ttl && answered[t]) return std::nullopt;
  end.normal_retransmitted = a.normal_ttl_syns > 1;
  if (a.normal_ttl_syns == 0 || ctx.capture_end.seconds_since(a.last_seen) < min_silence_seconds)
    return std::nullopt;
  return end;
}

void judge_sweep_drop(const Attempt& a, const SweepEnd& end, Reasoning& r) {
  Judgement& j = r.judgement();
  j.verdict = Verdict::dropped;
  j.rule = Rule::ttl_sweep_dropped;
  j.hop = end.last_ttl;
  j.hop_range = std::pair<int, int>{end.last_ttl, end.last_ttl + 1};
  j.responder = end.last_expiry->from;
  j.confidence = end.normal_retransmitted ? 0.8 : 0.7;
  r.add(Signal::ttl_sweep_silent, [&]() -> std::string {
    return fmt::format(
        FMT_COMPILE("The SYN was sent {} times with rising TTLs: time-exceeded came back up to TTL {} ({}), and "
                    "nothing for the larger TTLs up to the normal one: the SYNs die after hop {}."),
        a.transmissions.size(), end.last_ttl, end.last_expiry->from.to_string(), end.last_ttl);
  });
}

void note_schedule(const Attempt& a, Reasoning& r) {
  const std::optional<SynSchedule> schedule = syn_schedule(a);
  if (!schedule) return;
  const std::string_view stack = client_stack(a);
  r.add(Signal::retransmission_schedule, [&]() -> std::string {
    return fmt::format(
        FMT_COMPILE("The client retransmitted its SYN after {}{}{}{}."), schedule->gaps,
        schedule->fits.empty() ? "" : ": ", schedule->fits,
        stack.empty() ? "" : fmt::format(FMT_COMPILE("; the SYN's TTL and options are a {} stack's"), stack));
  });
}

// No answer in the capture. Whether that is a drop depends on what the capture can show:
// with both directions, silence is silence; with the client's side only, the client's own
// retransmissions say that nothing acceptable reached it.
void judge_silence(const Attempt& a, const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  const double waited = ctx.capture_end.seconds_since(a.last_seen);
  if (a.answered_for_earlier > 0) {
    j.verdict = Verdict::inconclusive;
    j.rule = Rule::answered_for_earlier;
    r.add(Signal::answered_for_earlier, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("After this SYN the host sent {} SYN/ACK{} on the same 4-tuple acknowledging an earlier "
                      "attempt's ISN: it still holds that connection and answers the new SYN in its terms, so "
                      "this SYN got no answer of its own."),
          a.answered_for_earlier, a.answered_for_earlier == 1 ? "" : "s");
    });
    r.settle_by([&]() -> std::string { return "a new attempt from another source port (a fresh 4-tuple)"; });
    return;
  }
  if (a.client_unproven_act) {
    j.verdict = Verdict::inconclusive;
    j.rule = Rule::silence_client_acted;
    r.add(Signal::client_acts_unproven, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("No answer in the capture, but {:.3f} s after its SYN the client sent a FIN or data on "
                      "ISN+1 with an ACK field of 0: a stack waiting in SYN-SENT would retransmit instead, and an "
                      "ACK of 0 proves no SYN/ACK (a crafted or replayed segment)."),
          a.client_unproven_act->seconds_since(a.first_seen));
    });
    r.settle_by([&]() -> std::string { return "a capture of both directions at the client"; });
    return;
  }
  if (!ctx.client_receives_packets) {
    r.add(Signal::one_direction_capture, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("The capture holds no packet sent to {}: it shows one direction only, so any answer went "
                      "unseen{}."),
          a.client.to_string(), a.syn_count > 1 ? ", but the client's own acts did not" : "");
    });
    r.settle_by([&]() -> std::string { return "a capture of both directions (at the client, or `tcpdump -i any`)"; });
    if (a.syn_count < 2) {
      j.verdict = Verdict::inconclusive;
      j.rule = Rule::silence_one_direction;
      return;
    }
    // A SYN/ACK would have drawn the client's ACK and a RST would have ended its retries,
    // and this capture sees everything the client sends: neither reached it.
    j.verdict = Verdict::dropped;
    j.rule = Rule::silence_one_direction_retransmitted;
    r.add(Signal::syn_retransmitted, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("The client sent the SYN {} times over {:.3f} s and never acted as after a SYN/ACK (no ACK, "
                      "no data) nor stopped as after a RST."),
          a.syn_count, a.last_seen.seconds_since(a.first_seen));
    });
    note_schedule(a, r);
    // Linux ends connect() on any ICMP unreachable in SYN-SENT (tcp_v4_err); stacks that
    // take them as soft errors keep retrying, so an unseen ICMP error cannot be ruled out.
    const bool stops_on_icmp = client_stack(a) == "Linux";
    j.confidence = stops_on_icmp ? 0.7 : 0.6;
    r.settle_by([&]() -> std::string {
      return fmt::format(FMT_COMPILE("`synprobe trace {}` from the capture point, to find where the SYNs die"),
                         endpoint_text(a.server, a.server_port));
    });
    return;
  }
  // Silence means something once the client has waited as long as a retransmission
  // timeout (1 s, RFC 6298) since its first SYN; two SYNs 1 ms apart are a duplicate, not a
  // retransmission, and prove no wait.
  const double watched = ctx.capture_end.seconds_since(a.first_seen);
  if (watched < min_silence_seconds) {
    j.verdict = Verdict::inconclusive;
    j.rule = Rule::silence_capture_ended;
    r.add(Signal::capture_ended_early, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The capture ends {:.3f} s after the {}SYN: too soon to call it a drop."), watched,
                         a.syn_count == 1 ? "only " : "first ");
    });
    r.settle_by([&]() -> std::string {
      return "a capture that goes on at least 3 s after the SYN (a client retransmits by then)";
    });
    return;
  }
  j.verdict = Verdict::dropped;
  j.rule = Rule::silence;
  r.add(Signal::no_answer, [&]() -> std::string {
    return fmt::format(FMT_COMPILE("No answer to {} SYN{} over {:.3f} s (capture continues {:.3f} s after the last)."),
                       a.syn_count, a.syn_count == 1 ? "" : "s", ctx.capture_end.seconds_since(a.first_seen), waited);
  });
  if (a.syn_count > 1) {
    r.add(Signal::syn_retransmitted,
          [&]() -> std::string { return fmt::format(FMT_COMPILE("The client sent the SYN {} times."), a.syn_count); });
    note_schedule(a, r);
  }
  j.confidence = a.syn_count >= 3 ? 0.9 : a.syn_count == 2 ? 0.8 : 0.65;
  if (a.unmatched_resets > 0) j.confidence = 0.5;
  r.settle_by([&]() -> std::string {
    return fmt::format(
        FMT_COMPILE("`synprobe trace {}` from the capture point, to find the hop after which the SYNs die"),
        endpoint_text(a.server, a.server_port));
  });
}

// No SYN/ACK in the capture, yet the client acted as only a SYN/ACK lets it.
void judge_client_proof(const Attempt& a, const ClientAct& act, const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  j.verdict = Verdict::open;
  j.rule = Rule::client_proves_syn_ack;
  j.actor = Actor::host;
  j.responder = a.server;
  if (const std::optional<HopCount> usual = ctx.server ? ctx.server->usual_hop() : std::nullopt) j.hop = usual->hop;
  const double after_ms = act.ts.ms_since(a.transmissions.back().ts);
  const std::string_view what = act.kind == ClientActKind::ack       ? "acknowledged the server"
                                : act.kind == ClientActKind::data    ? "sent data"
                                : act.kind == ClientActKind::fin     ? "sent a FIN"
                                : act.kind == ClientActKind::reset_ack ? "reset the connection with RST/ACK"
                                                                       : "reset the connection (bare RST)";
  r.add(Signal::client_proves_syn_ack, [&]() -> std::string {
    return fmt::format(
        FMT_COMPILE("The capture holds no SYN/ACK, but {:.3f} ms after its last SYN the client {} on sequence "
                    "ISN+1{}: {}"),
        after_ms, what,
        act.kind == ClientActKind::reset ? "" : fmt::format(FMT_COMPILE(" (ack {}, the server's ISN + 1)"), act.ack),
        act.kind == ClientActKind::reset ? "some stacks reset a connection they give up on, so this is weak proof."
                                         : "a stack leaves SYN-SENT only on an acceptable SYN/ACK, so one reached it.");
  });
  j.confidence = act.kind == ClientActKind::reset ? 0.6 : 0.9;
  if (!ctx.client_receives_packets)
    r.add(Signal::one_direction_capture, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The capture holds no packet sent to {}: the SYN/ACK went unseen."),
                         a.client.to_string());
    });
}

// Facts about how the SYN reached the capture, said whatever the verdict.
void note_transport_facts(const Attempt& a, Reasoning& r) {
  if (a.syn_tunnel != TunnelKind::none)
    r.add(Signal::tunnelled, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("The SYN was captured inside a tunnel ({}); the verdict is on the inner connection."),
          tunnel_name(a.syn_tunnel));
    });
  if (a.syn_reassembled)
    r.add(Signal::reassembled,
          [&]() -> std::string { return "The SYN arrived in IP fragments, reassembled here to read its TCP header."; });
  if (a.syn_payload > 0)
    r.add(Signal::fast_open, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The SYN carried {} byte{} of data (TCP Fast Open)."), a.syn_payload,
                         a.syn_payload == 1 ? "" : "s");
    });
  for (const Answer& answer : a.answers)
    if (answer.reordered) {
      r.add(Signal::reordered_answer, [&]() -> std::string {
        return fmt::format(
            FMT_COMPILE("A {} was written {:.3f} ms before the SYN it acknowledges (a capture merged from several "
                        "queues or interfaces): matched, its round trip unknown."),
            answer.kind == AnswerKind::syn_ack ? "SYN/ACK"
            : answer.kind == AnswerKind::reset ? "RST"
                                               : "ICMP error",
            a.first_seen.ms_since(answer.ts));
      });
      break;
    }
}

// Names the packet shape of the answer that decided the verdict (a RST or ICMP error).
void note_signature(const Answer* deciding, Reasoning& r) {
  if (!deciding) return;
  const RefusalSignature* s = match_signature(*deciding);
  if (!s) return;
  r.add(Signal::signature, [&]() -> std::string {
    return fmt::format(FMT_COMPILE("The {} matches signature '{}' (table v{}): {}; its TTL places the sender at hop {} "
                                   "(initial {})."),
                       deciding->kind == AnswerKind::reset ? "RST" : "ICMP error", s->name, signature_table_version,
                       s->description, deciding->ttl.hop, deciding->ttl.initial);
  });
}

void note_side_facts(const Attempt& a, Reasoning& r) {
  if (a.unmatched_resets > 0 && a.first_unmatched_reset)
    r.add(Signal::unmatched_reset, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("{} RST{} for this flow acknowledged {} instead of ISN+1 = {} (first: {}): "
                                     "not an answer to this SYN."),
                         a.unmatched_resets, a.unmatched_resets == 1 ? "" : "s", a.first_unmatched_reset->ack,
                         a.isn + 1u, ttl_text(a.first_unmatched_reset->ttl));
    });
  if (a.unmatched_syn_acks > 0)
    r.add(Signal::unmatched_syn_ack, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("{} SYN/ACK{} for this flow did not acknowledge ISN+1."), a.unmatched_syn_acks,
                         a.unmatched_syn_acks == 1 ? "" : "s");
    });
  if (a.syn_acks_out_of_time > 0)
    r.add(Signal::unmatched_syn_ack, [&]() -> std::string {
      return fmt::format(
          FMT_COMPILE("{} SYN/ACK{} for this flow acknowledged ISN+1 but carried a time outside the {} s "
                      "answer window: the capture's clock is broken there, so no round trip comes of {}."),
          a.syn_acks_out_of_time, a.syn_acks_out_of_time == 1 ? "" : "s",
          AttemptTracker::retransmission_window_ns / 1'000'000'000, a.syn_acks_out_of_time == 1 ? "it" : "them");
    });
  if (a.client_reset_after_syn_ack)
    r.add(Signal::client_reset, [&]() -> std::string {
      return "The client reset the SYN/ACK itself, as a kernel does for a SYN it did not send "
             "(raw-socket probing).";
    });
  if (a.teardown_resets > 0)
    r.add(Signal::teardown_reset, [&]() -> std::string {
      return fmt::format(FMT_COMPILE("The server reset the established connection later ({} RST{}); not an answer "
                                     "to the SYN."),
                         a.teardown_resets, a.teardown_resets == 1 ? "" : "s");
    });
}

}  // namespace

Judgement judge(const Attempt& a, const JudgeContext& ctx) {
  // ICMP errors fall in three groups: refusals (destination unreachable, except "too big"),
  // expiries (the TTL ran out in transit), and the rest (redirects, size and parameter
  // problems, reassembly timeouts), which say the SYN went on or had another problem.
  std::vector<const Answer*> syn_acks, resets, unreachables, expiries, other_icmp;
  for (const Answer& answer : a.answers) {
    switch (answer.kind) {
      case AnswerKind::syn_ack: syn_acks.push_back(&answer); break;
      case AnswerKind::reset: resets.push_back(&answer); break;
      case AnswerKind::icmp_error:
        if (is_refusal(a.family(), answer.icmp_type, answer.icmp_code)) unreachables.push_back(&answer);
        else if (is_time_exceeded(a.family(), answer.icmp_type) && answer.icmp_code == 0) expiries.push_back(&answer);
        else other_icmp.push_back(&answer);
        break;
      case AnswerKind::segment: break;  // request-stage replies only (RequestStage)
    }
  }

  Reasoning r(ctx.details);
  Judgement& j = r.judgement();
  if (!syn_acks.empty()) {
    const Answer& syn_ack = *syn_acks.front();
    const auto same_transmission = std::find_if(unreachables.begin(), unreachables.end(),
        [&](const Answer* u) { return u->transmission == syn_ack.transmission; });
    if (!resets.empty()) {
      judge_race(a, *resets.front(), syn_ack, ctx, r);
    } else if (same_transmission != unreachables.end()) {
      judge_unreachable(a, **same_transmission, ctx, r);
      j.verdict = Verdict::injected_reset;
      j.rule = Rule::icmp_races_syn_ack;
      j.confidence = 0.6;
      r.add(Signal::conflicting_answers, [&]() -> std::string {
        return "The same SYN drew both a SYN/ACK and an ICMP error: one of them was not the host's.";
      });
    } else {
      j.verdict = Verdict::open;
      j.rule = a.handshake_completed ? Rule::syn_ack_acknowledged : Rule::syn_ack;
      j.actor = Actor::host;
      j.responder = a.server;
      j.hop = syn_ack.ttl.hop;
      if (!syn_ack.reordered) j.rtt_ms = syn_ack.rtt_ms;
      j.confidence = a.handshake_completed ? 0.99 : 0.95;
      r.add(Signal::syn_ack, [&]() -> std::string { return describe_tcp_answer(syn_ack, a); });
      if (a.handshake_completed)
        r.add(Signal::handshake_completed, [&]() -> std::string { return "The client acknowledged the SYN/ACK."; });
      if (!unreachables.empty())
        r.add(Signal::conflicting_answers, [&]() -> std::string {
          return fmt::format(FMT_COMPILE("An earlier transmission of the SYN drew ICMP {} from {}."),
                             summarize_icmp(a, *unreachables.front()).name, unreachables.front()->from.to_string());
        });
    }
  } else if (!resets.empty()) {
    if (resets.size() > 1 && resets_disagree(resets)) {
      judge_reset_burst(resets, ctx, r);
    } else if (!unreachables.empty()) {
      judge_reset(a, resets, ctx, r);
      j.verdict = Verdict::injected_reset;
      j.rule = Rule::reset_and_icmp;
      j.confidence = 0.6;
      r.add(Signal::conflicting_answers, [&]() -> std::string {
        return fmt::format(FMT_COMPILE("The SYN drew both a RST and ICMP {} from {}."),
                           summarize_icmp(a, *unreachables.front()).name, unreachables.front()->from.to_string());
      });
      set_middlebox(j, ctx, resets.front()->ttl.hop, r);
    } else {
      judge_reset(a, resets, ctx, r);
    }
  } else if (!unreachables.empty()) {
    judge_unreachable(a, *unreachables.front(), ctx, r);
  } else if (const auto sweep = !expiries.empty() ? silent_sweep_end(a, expiries, ctx) : std::nullopt) {
    judge_sweep_drop(a, *sweep, r);
  } else if (!expiries.empty()) {
    judge_expired(a, *expiries.back(), r);
  } else if (a.client_act) {
    judge_client_proof(a, *a.client_act, ctx, r);
  } else if (!other_icmp.empty()) {
    judge_unreachable(a, *other_icmp.front(), ctx, r);
  } else {
    judge_silence(a, ctx, r);
  }
  const Answer* deciding = !resets.empty()         ? resets.front()
                           : !unreachables.empty()   ? unreachables.front()
                           : syn_acks.empty() && !other_icmp.empty() ? other_icmp.front()
                                                                      : nullptr;
  if (j.verdict != Verdict::open) note_signature(deciding, r);
  // A connection the SYN opened may still have been refused once it carried its request.
  if (j.verdict == Verdict::open) judge_request_stage(a, ctx, r);
  note_side_facts(a, r);
  note_transport_facts(a, r);
  return std::move(r.judgement());
}

double jitter_margin_ms(double fastest_ms, std::optional<double> slowest_ms, std::uint32_t samples) {
  const double spread = slowest_ms ? *slowest_ms - fastest_ms : 0;
  const double queueing = (samples <= 1 ? 0.5 : 0.25) * fastest_ms;
  return std::max({min_telling_rtt_ms, queueing, spread});
}

}  // namespace synprobe
