#include "dissect/verdict/request_verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "dissect/decode/icmp_names.hpp"
#include "dissect/infer/ip_id.hpp"

namespace synprobe {
namespace {

// The same weights as the SYN stage's (verdict.cpp): a TTL that disagrees with the
// server's is the strongest single tell; IP-ID and timing corroborate.
constexpr double weight_ttl_mismatch = 0.5;
constexpr double weight_ttl_match = 0.4;
constexpr double weight_ip_id_break = 0.2;
constexpr double weight_ip_id_fit = 0.1;
constexpr double weight_rtt_fits = 0.15;
constexpr double max_confidence = 0.97;
constexpr double decisive_confidence = 0.9;
constexpr double decisive_penalty_per_opposing = 0.1;
constexpr double decisive_floor = 0.6;
// Below this, round trips are a LAN's microseconds: a reply's timing tells nothing.
constexpr double min_telling_rtt_ms = 1.0;

// What the server's own packets on this connection look like.
struct FlowBaseline {
  HopEstimate ttl;                           // of its SYN/ACK (or the host's usual, without one)
  std::optional<double> rtt_ms;              // the fastest round trip known for the server
  std::optional<double> slowest_ms;          // and the slowest: their spread is the jitter
  std::uint32_t samples = 0;
  int hop = 0;
};

std::optional<FlowBaseline> baseline_of(const Attempt& a, const JudgeContext& ctx) {
  FlowBaseline b;
  const Answer* syn_ack = a.first_answer(AnswerKind::syn_ack);
  if (syn_ack) {
    b.ttl = syn_ack->ttl;
  } else if (const std::optional<HopCount> usual = ctx.server ? ctx.server->usual_hop() : std::nullopt) {
    b.ttl = HopEstimate{0, usual->initial, usual->hop};
  } else {
    return std::nullopt;
  }
  b.hop = b.ttl.hop;
  b.rtt_ms = ctx.server_syn_ack_rtt_ms;
  b.slowest_ms = ctx.server_syn_ack_slowest_ms;
  b.samples = ctx.server_syn_acks_timed;
  if (syn_ack && !syn_ack->reordered && (!b.rtt_ms || syn_ack->rtt_ms < *b.rtt_ms)) {
    b.rtt_ms = syn_ack->rtt_ms;
    b.samples = std::max<std::uint32_t>(b.samples, 1);
  }
  return b;
}

struct Scores {
  double host = 0;
  double middlebox = 0;
  std::optional<Signal> decisive;
  bool ttl_imitates_host = false;
  bool ip_id_fits_host = false;
};

// The newest IP-ID the server's own stack gave a packet of this connection before `reply`.
std::optional<std::uint16_t> flow_ip_id_before(const Attempt& a, const RequestStage& s, const Answer& reply) {
  std::optional<std::uint16_t> id;
  if (const Answer* syn_ack = a.first_answer(AnswerKind::syn_ack); syn_ack && syn_ack->has_ip_id && syn_ack->ip_id != 0)
    id = syn_ack->ip_id;
  for (const Answer& r : s.replies) {
    if (&r == &reply || r.ts > reply.ts) break;
    if (r.kind == AnswerKind::segment && r.has_ip_id && r.ip_id != 0) id = r.ip_id;
  }
  return id;
}

// A reply in the server's name (RST or FIN) weighed against the connection's own packets.
Scores weigh_reply(const Attempt& a, const RequestStage& s, const Answer& reply, const FlowBaseline& base,
                   std::string_view what, Reasoning& r) {
  Scores sc;
  const std::string server_text = fmt::format("the server's SYN/ACK on this connection has {}", ttl_text(base.ttl));
  if (reply.ttl.initial != base.ttl.initial) {
    sc.middlebox += weight_ttl_mismatch;
    sc.decisive = reply.ttl.initial == 255 ? Signal::network_gear_ttl : Signal::ttl_initial_differs;
    r.add(Signal::ttl_initial_differs, [&]() -> std::string {
      return fmt::format("The {} has {}; {}: one stack starts all its packets at one TTL, so another device sent it.",
                         what, ttl_text(reply.ttl), server_text);
    });
  } else if (reply.ttl.hop != base.ttl.hop) {
    sc.middlebox += weight_ttl_mismatch;
    const int d = std::abs(base.ttl.hop - reply.ttl.hop);
    r.add(Signal::ttl_hop_differs, [&]() -> std::string {
      return fmt::format("The {} has {} ({} hop{} {}); {}.", what, ttl_text(reply.ttl), d, d == 1 ? "" : "s",
                         reply.ttl.hop < base.ttl.hop ? "early" : "late", server_text);
    });
  } else {
    sc.host += weight_ttl_match;
    sc.ttl_imitates_host = true;
    r.add(Signal::ttl_matches_host, [&]() -> std::string {
      return fmt::format("The {} has {}, as {}.", what, ttl_text(reply.ttl), server_text);
    });
  }

  // A stack numbers the packets of one connection from one counter (Linux: per socket),
  // so the server's own RST or FIN continues it; a device's does not.
  if (reply.has_ip_id) {
    if (const std::optional<std::uint16_t> before = flow_ip_id_before(a, s, reply)) {
      if (follows_counter(*before, reply.ip_id)) {
        sc.host += weight_ip_id_fit;
        sc.ip_id_fits_host = true;
        r.add(Signal::ip_id_follows_flow, [&]() -> std::string {
          return fmt::format("The {} has IP-ID {}, which continues the server's on this connection (last {}).", what,
                             reply.ip_id, *before);
        });
      } else {
        sc.middlebox += weight_ip_id_break;
        r.add(Signal::ip_id_breaks_pattern, [&]() -> std::string {
          return fmt::format("The {} has IP-ID {}; the server's packets on this connection stood at {}.", what,
                             reply.ip_id, *before);
        });
      }
    }
  }

  // Physics: the server answers the request no sooner than one round trip after it left.
  // Timed from its only transmission: after a retransmission the round trip is ambiguous.
  if (base.rtt_ms && !reply.reordered && reply.transmission == 0 && s.request) {
    const double margin = jitter_margin_ms(*base.rtt_ms, base.slowest_ms, base.samples);
    if (reply.rtt_ms < *base.rtt_ms - margin) {
      sc.middlebox += weight_ttl_mismatch;
      if (!sc.decisive) sc.decisive = Signal::early_reset;
      r.add(Signal::early_reset, [&]() -> std::string {
        return fmt::format(
            "The {} came {:.3f} ms after the request; the server's fastest round trip is {:.3f} ms and no "
            "jitter beyond {:.3f} ms fits the capture: the server cannot answer in {:.0f} % of it, so a "
            "nearer device did.",
            what, reply.rtt_ms, *base.rtt_ms, margin, 100 * reply.rtt_ms / *base.rtt_ms);
      });
    } else if (*base.rtt_ms >= min_telling_rtt_ms && reply.rtt_ms <= 4 * *base.rtt_ms + margin) {
      sc.host += weight_rtt_fits;
      r.add(Signal::rtt_matches_host, [&]() -> std::string {
        return fmt::format(
            "The {} came {:.3f} ms after the request: no sooner than the server's round trip ({:.3f} ms).", what,
            reply.rtt_ms, *base.rtt_ms);
      });
    }
  }
  return sc;
}

double decisive_confidence_of(const Scores& s) {
  double c = decisive_confidence;
  if (s.ttl_imitates_host) c -= decisive_penalty_per_opposing;
  if (s.ip_id_fits_host) c -= decisive_penalty_per_opposing;
  return std::max(c, decisive_floor);
}

void set_device(Judgement& j, const JudgeContext& ctx, int hop, Reasoning& r) {
  j.actor = Actor::middlebox;
  j.hop = hop;
  j.responder = address_of_hop(ctx, hop);
  if (j.responder)
    r.add(Signal::hop_address_known, [&]() -> std::string {
      return fmt::format("A time-exceeded error in the capture shows hop {} is {}.", hop, j.responder->to_string());
    });
}

void set_server(Judgement& j, const Attempt& a, const FlowBaseline& base) {
  j.actor = Actor::host;
  j.responder = a.server;
  j.hop = base.hop;
  j.hop_range.reset();
}

// A RST or FIN in the server's name before any answer: the server's, or a device's.
void judge_closing_reply(const Attempt& a, const RequestStage& s, const Answer& reply, const FlowBaseline& base,
                         const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  const bool reset = reply.kind == AnswerKind::reset;
  const std::string_view what = reset ? "RST" : "FIN";
  j.rtt_ms = reply.reordered ? std::nullopt : std::optional<double>(reply.rtt_ms);
  j.icmp.reset();
  const Scores sc = weigh_reply(a, s, reply, base, what, r);
  if (sc.decisive) {
    j.verdict = Verdict::refused_by_middlebox;
    j.rule = Rule::request_reset_nearer;
    j.confidence = decisive_confidence_of(sc);
    if (sc.ttl_imitates_host) {
      // Its TTL is the server's, yet it came too soon: somewhere before the server.
      j.actor = Actor::middlebox;
      j.hop.reset();
      j.responder.reset();
      if (base.hop > 1) j.hop_range = std::make_pair(1, base.hop - 1);
      r.add(Signal::ttl_forged, [&]() -> std::string {
        return fmt::format(
            "The {} carries the server's TTL ({}), yet the {} says a nearer device "
            "sent it: a firewall that rewrites its TTL to the server's.",
            what, ttl_text(reply.ttl), signal_name(*sc.decisive));
      });
    } else {
      set_device(j, ctx, reply.ttl.hop, r);
    }
    return;
  }
  j.rule = reset ? Rule::request_reset_weighed : Rule::request_closed;
  j.confidence = std::clamp(0.5 + std::abs(sc.host - sc.middlebox) / 2, 0.5, max_confidence);
  if (sc.middlebox > sc.host) {
    j.verdict = Verdict::refused_by_middlebox;
    set_device(j, ctx, reply.ttl.hop, r);
  } else {
    j.verdict = Verdict::refused_by_host;
    set_server(j, a, base);
    if (!reset) j.cause = Cause::closed_without_response;
  }
  if (!reset && j.verdict == Verdict::refused_by_middlebox) j.rule = Rule::request_closed;
}

// RSTs that disagree on their sender: at least one was forged.
bool replies_disagree(const std::vector<const Answer*>& resets) {
  const Answer& first = *resets.front();
  return std::any_of(resets.begin(), resets.end(), [&](const Answer* other) {
    return other->ttl.observed != first.ttl.observed ||
           (other->has_ip_id && first.has_ip_id && other->ip_id != first.ip_id && !follows_counter(first.ip_id, other->ip_id));
  });
}

std::string describe_request(const ClientRequest& q, const RequestStage& s) {
  const std::string asked = q.trigger ? (q.protocol == RequestProtocol::tls ? "a TLS ClientHello naming " + *q.trigger
                                                                         : "an HTTP request for Host " + *q.trigger)
                            : q.protocol == RequestProtocol::tls  ? std::string("a TLS ClientHello with no server name")
                            : q.protocol == RequestProtocol::http ? std::string("an HTTP request with no Host")
                                                                  : std::string("data");
  return fmt::format("{:.3f} ms after the handshake the client sent its request: {} ({} byte{} in its first segment, "
                     "TTL {}{}).",
                     q.sent.ms_since(s.opened), asked, q.length, q.length == 1 ? "" : "s", q.ttl,
                     q.transmissions > 1 ? fmt::format(", sent {} times", q.transmissions) : std::string{});
}

std::string describe_reply(const Answer& reply, const Attempt& a) {
  return fmt::format("{} from {} {:.3f} ms after the {}: {}, window {}{}{}.", tcp_flags_text(reply.tcp_flags),
                     reply.from.to_string(), reply.rtt_ms,
                     a.request_stage && a.request_stage->request ? "request" : "handshake", ttl_text(reply.ttl),
                     reply.window, reply.has_ip_id ? fmt::format(", IP-ID {}", reply.ip_id) : std::string{},
                     reply.payload > 0 ? fmt::format(", {} bytes of data", reply.payload) : std::string{});
}

void judge_icmp_reply(const Attempt& a, const Answer& icmp, const JudgeContext& ctx, Reasoning& r) {
  Judgement& j = r.judgement();
  j.verdict = Verdict::icmp_unreachable;
  j.rule = Rule::request_icmp;
  j.confidence = 0.85;
  j.icmp = IcmpSummary{icmp.icmp_type, icmp.icmp_code, std::string(icmp_name(a.family(), icmp.icmp_type, icmp.icmp_code))};
  j.responder = icmp.from;
  j.rtt_ms = icmp.reordered ? std::nullopt : std::optional<double>(icmp.rtt_ms);
  j.actor = icmp.from == a.server ? Actor::host : Actor::router;
  j.hop = icmp.ttl.hop;
  r.add(Signal::request_icmp_error, [&]() -> std::string {
    return fmt::format("ICMP {} from {} ({}) quoted the request {:.3f} ms after it left.", j.icmp->name,
                       icmp.from.to_string(), ttl_text(icmp.ttl), icmp.rtt_ms);
  });
  (void)ctx;
}

}  // namespace

void judge_request_stage(const Attempt& a, const JudgeContext& ctx, Reasoning& r) {
  if (!a.request_stage) return;
  const RequestStage& s = *a.request_stage;
  Judgement& j = r.judgement();
  if (s.request) {
    j.trigger = s.request->trigger;
    r.add(Signal::request_sent, [&]() -> std::string { return describe_request(*s.request, s); });
  }
  // What the server's side sent before the client itself closed: after that, a RST or
  // FIN is the end of a connection the client gave up, not a refusal. Replies are taken in
  // capture order, and a reply that acknowledges the request's bytes follows it whatever
  // its timestamp (a capture merged from two queues may write it first).
  const auto after_request = [&](const Answer& reply) {
    if (!s.request) return false;
    const ClientRequest& q = *s.request;
    return reply.ts >= q.sent || ((reply.tcp_flags & tcp_flag::ack) && reply.ack - q.seq - 1u < (1u << 30));
  };
  std::vector<const Answer*> resets, closes, data, icmp;
  const Answer* ack = nullptr;
  std::size_t first_reset = SIZE_MAX, first_data = SIZE_MAX, first_close = SIZE_MAX;
  for (std::size_t i = 0; i < s.replies.size(); ++i) {
    const Answer& reply = s.replies[i];
    // (A client whose connection a RST already killed answers what comes next with RSTs of
    // its own: that is no close of its choosing.)
    if (s.client_closed && reply.ts > *s.client_closed && resets.empty()) break;
    if (reply.kind == AnswerKind::reset) {
      if (resets.empty()) first_reset = i;
      resets.push_back(&reply);
    } else if (reply.kind == AnswerKind::icmp_error) {
      if (is_refusal(a.family(), reply.icmp_type, reply.icmp_code)) icmp.push_back(&reply);
    } else if (reply.payload > 0) {
      if (!after_request(reply)) continue;  // a banner before the request
      if (data.empty()) first_data = i;
      data.push_back(&reply);
    } else if (reply.tcp_flags & tcp_flag::fin) {
      if (closes.empty()) first_close = i;
      closes.push_back(&reply);
    } else if (!ack && after_request(reply)) {
      ack = &reply;
    }
  }
  const std::optional<FlowBaseline> base = baseline_of(a, ctx);
  // A server that sent data before the client's request (a banner, a download the client
  // only acknowledges, an interactive session it opened) has answered on the connection: a
  // RST or FIN after that ends a connection that worked. What refuses after a handshake
  // reads the client's first bytes and stops the server's first: TLS and HTTP requests come
  // before any byte of the server's.
  if (s.server_spoke_first) return;

  if (!data.empty() && first_data < first_reset) {
    if (first_close < first_data) return;  // a FIN, then data: not what a refusal looks like
    j.stage = Stage::request;
    j.rule = Rule::request_answered;
    j.confidence = 0.99;
    r.add(Signal::request_answered, [&]() -> std::string { return describe_reply(*data.front(), a); });
    return;
  }
  if (!resets.empty() && first_reset < first_close && base) {
    j.stage = Stage::request;
    r.add(Signal::request_reset, [&]() -> std::string { return describe_reply(*resets.front(), a); });
    if (!data.empty() && s.request) {
      // The server's answer came after the RST: the RST was not its own.
      const Answer& reply = *data.front();
      j.verdict = Verdict::injected_reset;
      j.rule = Rule::request_reset_races_reply;
      const Answer& rst = *resets.front();
      const bool ttl_differs = rst.ttl.hop != reply.ttl.hop || rst.ttl.initial != reply.ttl.initial;
      r.add(Signal::reset_races_reply, [&]() -> std::string {
        return fmt::format(
            "{:.3f} ms after the RST ({}) the server's answer arrived ({}, {} bytes): the server never "
            "reset the connection, a device on the path did, racing it.",
            reply.ts.ms_since(rst.ts), ttl_text(rst.ttl), ttl_text(reply.ttl), reply.payload);
      });
      if (ttl_differs)
        r.add(Signal::ttl_hop_differs, [&]() -> std::string {
          return fmt::format("The RST comes from hop {}, the server's answer from hop {}.", rst.ttl.hop, reply.ttl.hop);
        });
      j.confidence = ttl_differs ? 0.9 : 0.75;
      j.rtt_ms = rst.reordered ? std::nullopt : std::optional<double>(rst.rtt_ms);
      set_device(j, ctx, rst.ttl.hop, r);
      return;
    }
    if (resets.size() > 1 && replies_disagree(resets)) {
      j.verdict = Verdict::injected_reset;
      j.rule = Rule::request_reset_burst;
      j.confidence = 0.8;
      const Answer* nearest = *std::min_element(resets.begin(), resets.end(),
                                                [](const Answer* x, const Answer* y) { return x->ttl.hop < y->ttl.hop; });
      r.add(Signal::reset_burst, [&]() -> std::string {
        return fmt::format("{} RSTs from different senders ended the connection; the nearest has {}.", resets.size(),
                           ttl_text(nearest->ttl));
      });
      j.rtt_ms = nearest->rtt_ms;
      set_device(j, ctx, nearest->ttl.hop, r);
      return;
    }
    judge_closing_reply(a, s, *resets.front(), *base, ctx, r);
    return;
  }
  if (!closes.empty() && base) {
    j.stage = Stage::request;
    r.add(Signal::request_closed, [&]() -> std::string { return describe_reply(*closes.front(), a); });
    judge_closing_reply(a, s, *closes.front(), *base, ctx, r);
    return;
  }
  if (!icmp.empty()) {
    j.stage = Stage::request;
    judge_icmp_reply(a, *icmp.front(), ctx, r);
    return;
  }
  if (!s.request) return;
  const ClientRequest& q = *s.request;
  if (ack) {
    j.stage = Stage::request;
    j.rule = Rule::request_acknowledged;
    j.confidence = 0.8;
    if (s.continued) {
      r.add(Signal::request_acknowledged, [&]() -> std::string {
        return fmt::format(
            "The server's TCP acknowledged the request {:.3f} ms after it left (ack {}) and the client went on "
            "sending: the exchange worked, so what ends the connection later is not a refusal.",
            ack->rtt_ms, ack->ack);
      });
      return;
    }
    r.add(Signal::request_acknowledged, [&]() -> std::string {
      return fmt::format(
          "The server's TCP acknowledged the request {:.3f} ms after it left (ack {}), and sent nothing more "
          "in the {:.3f} s the capture followed.",
          ack->rtt_ms, ack->ack, ctx.capture_end.seconds_since(q.sent));
    });
    r.settle_by([&]() -> std::string {
      return "a longer capture: the request reached the server's TCP but had no answer yet";
    });
    return;
  }
  // Silence after the request: only a retransmission proves the client waited for an ACK
  // that never came, and the SYN/ACK proves the path back works.
  if (q.transmissions >= 2 && (ctx.client_receives_packets || a.first_answer(AnswerKind::syn_ack))) {
    j.stage = Stage::request;
    j.verdict = Verdict::dropped;
    j.rule = Rule::request_dropped;
    j.actor = Actor::unknown;
    j.responder.reset();
    j.hop.reset();
    j.rtt_ms.reset();
    j.confidence = q.transmissions >= 4 ? 0.9 : q.transmissions == 3 ? 0.8 : 0.7;
    r.add(Signal::request_unanswered, [&]() -> std::string {
      return fmt::format(
          "The client sent its request {} times over {:.3f} s; nothing of the server's side acknowledged it, "
          "though its SYN/ACK had crossed the same path.",
          q.transmissions, q.last_sent.seconds_since(q.sent));
    });
    r.settle_by([&]() -> std::string {
      return "the same request sent again with rising TTLs from the capture point (CenTrace's method), to find the "
             "hop after which it dies";
    });
  }
}

}  // namespace synprobe
