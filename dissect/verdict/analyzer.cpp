#include "dissect/verdict/analyzer.hpp"

#include <algorithm>

#include "dissect/decode/icmp_names.hpp"

namespace synprobe {
namespace {

// Folds one answer into the destination's record: its fastest SYN/ACK, and the hop
// addresses that time-exceeded errors to TTL-limited SYNs revealed.
void fold_answer(const Attempt& a, const Answer& answer, HostTable& hosts, Timestamp now) {
  if (answer.kind == AnswerKind::syn_ack && !answer.reordered) {
    HostRecord& record = hosts.touch(a.server, now);
    std::optional<double>& fastest = record.fastest_syn_ack_ms;
    if (!fastest || answer.rtt_ms < *fastest) fastest = answer.rtt_ms;
    std::optional<double>& slowest = record.slowest_syn_ack_ms;
    if (!slowest || answer.rtt_ms > *slowest) slowest = answer.rtt_ms;
    ++record.syn_acks_timed;
  } else if (answer.kind == AnswerKind::icmp_error && is_time_exceeded(a.family(), answer.icmp_type)) {
    // A SYN sent with a small TTL (a traceroute -T, a synprobe trace) names the router at
    // that many hops from the capture point, and times it.
    const int hop = a.transmissions[answer.transmission].ttl;
    if (hop >= 64) return;  // an ordinary TTL that still expired: a loop, not a hop
    std::vector<HopAddress>& hops = hosts.touch(a.server, now).hops;
    const auto it = std::find_if(hops.begin(), hops.end(), [&](const HopAddress& h) { return h.hop == hop; });
    const std::optional<double> rtt = answer.reordered ? std::nullopt : std::optional<double>(answer.rtt_ms);
    if (it == hops.end()) hops.push_back(HopAddress{hop, answer.from, rtt});
    else if (rtt && (!it->rtt_ms || *rtt < *it->rtt_ms)) it->rtt_ms = rtt;
  }
}

bool is_syn_only(const DecodedPacket& p) {
  return p.transport == Transport::tcp && p.tcp.has(tcp_flag::syn) && !p.tcp.has(tcp_flag::ack) &&
         !p.tcp.has(tcp_flag::rst);
}

// How often (in capture time) streaming looks for settled attempts: settling takes
// seconds, so checking every packet would only cost time.
constexpr std::int64_t release_check_interval_ns = 100'000'000;

// A timestamp this far past the clock is a jump to be confirmed: beyond the window in
// which any answer is matched, so believing it a packet late costs nothing.
constexpr std::int64_t clock_jump_ns = AttemptTracker::retransmission_window_ns;

}  // namespace

void Analyzer::add(const DecodedPacket& p) {
  if (!p.has_ip) return;
  if (!first_ || p.ts < *first_) first_ = p.ts;
  if (!last_ || p.ts > *last_) last_ = p.ts;
  advance_clock(p.ts);
  note_endpoints(p);

  // Every packet a host sends is its baseline, except RSTs and ICMP errors: those are what
  // middleboxes forge in the host's name, and what the baseline must judge.
  const bool is_reset = p.transport == Transport::tcp && p.tcp.has(tcp_flag::rst);
  const bool is_icmp_error = p.transport == Transport::icmp && p.icmp.is_error;
  if (!is_reset && !is_icmp_error) {
    const bool is_syn_ack = p.transport == Transport::tcp && p.tcp.has(tcp_flag::syn) &&
                            p.tcp.has(tcp_flag::ack);
    const std::uint32_t flow = p.transport == Transport::tcp
                                   ? (std::uint32_t{p.tcp.sport} << 16 | p.tcp.dport)
                                   : 0;
    hosts_.touch(p.ip.src, p.ts).profile.observe(p.ip, p.ts, is_syn_ack, flow);
  }
  if (const Attempt* answered = tracker_.on_packet(p)) note_answer(*answered, p.ts);
  if (!sink_) return;
  // Memory: a capture denser in attempts than the bound within their settling time.
  while (tracker_.held() > max_held_attempts) {
    ++judged_early_;
    release_oldest(true);
  }
  if (p.ts.ns >= next_release_check_ns_) {
    next_release_check_ns_ = p.ts.ns + release_check_interval_ns;
    release_settled(*clock_);
  }
}

// Follows the packets' time, but a timestamp more than clock_jump_ns ahead moves the
// clock only once the next packet lands near it too: a lone outlier would otherwise
// settle every waiting attempt at once (and its answers, still to come, would be lost).
void Analyzer::advance_clock(Timestamp ts) {
  if (!clock_) {
    clock_ = ts;
    return;
  }
  if (jump_ && ts.ns >= jump_->ns - AttemptTracker::reorder_window_ns) {
    clock_ = std::max(ts, *jump_);
    jump_.reset();
    return;
  }
  jump_.reset();
  if (ts.ns - clock_->ns > clock_jump_ns) jump_ = ts;
  else if (ts > *clock_) clock_ = ts;
}

// Keeps receivers_ and, until the question is settled, whether some attempt's client is
// one of them. Each address is looked up once when first seen, not once per packet.
void Analyzer::note_endpoints(const DecodedPacket& p) {
  // Streaming needs receivers_ only for that question, and never asks finish().
  if (sink_ && sees_answers_) return;
  // Consecutive packets mostly share their addresses: skip the table when they repeat.
  if (!last_receiver_ || *last_receiver_ != p.ip.dst) {
    if (receivers_.insert(p.ip.dst).second && !sees_answers_ && clients_.count(p.ip.dst) > 0)
      sees_answers_ = true;
    last_receiver_ = p.ip.dst;
  }
  if (!sees_answers_ && is_syn_only(p) && clients_.insert(p.ip.src).second && receivers_.count(p.ip.src) > 0)
    sees_answers_ = true;
  if (sees_answers_) {
    if (!clients_.empty()) clients_ = {};
    // Streaming asks nothing more of the receivers: let them go (one address per
    // destination the capture showed so far).
    if (sink_ && !receivers_.empty()) receivers_ = {};
  }
}

JudgeContext Analyzer::context_for(const Attempt& a, bool capture_sees_answers) const {
  JudgeContext ctx;
  if (const HostRecord* server = hosts_.find(a.server)) {
    if (server->profile.packets() > 0) ctx.server = &server->profile;
    // This attempt's own SYN/ACK may be the fastest: then it is the host's anyway.
    ctx.server_syn_ack_rtt_ms = server->fastest_syn_ack_ms;
    ctx.server_syn_ack_slowest_ms = server->slowest_syn_ack_ms;
    ctx.server_syn_acks_timed = server->syn_acks_timed;
    ctx.hop_addresses = server->hops;
  }
  ctx.client_receives_packets = both_directions_ || capture_sees_answers;
  ctx.details = details_;
  ctx.capture_end = clock_.value_or(a.last_seen);
  if (listen_end_ && *listen_end_ > ctx.capture_end) ctx.capture_end = *listen_end_;
  return ctx;
}

namespace {

// Judges r.attempt and copies the destination's baseline beside the verdict.
void fill_result(AttemptResult& r, const JudgeContext& ctx) {
  r.judgement = judge(r.attempt, ctx);
  if (ctx.server) {
    r.host_hop = ctx.server->usual_hop();
    r.host_packets = ctx.server->packets();
    r.host_ip_id = ctx.server->ip_ids().classify();
  }
  r.host_syn_ack_rtt_ms = ctx.server_syn_ack_rtt_ms;
}

}  // namespace

std::vector<AttemptResult> Analyzer::finish() const {
  const std::deque<Attempt>& attempts = tracker_.attempts();
  // A capture shows the answering direction when any client of any attempt receives
  // something in it. Decided for the whole capture, not per client: a dual-stack client
  // whose IPv6 SYNs all vanish is a black hole to report, not a one-way capture.
  const bool capture_sees_answers = std::any_of(attempts.begin(), attempts.end(),
                                      [&](const Attempt& a) { return receivers_.count(a.client) > 0; });

  std::vector<AttemptResult> results;
  results.reserve(attempts.size());
  for (const Attempt& a : attempts) {
    const JudgeContext ctx = context_for(a, capture_sees_answers);
    AttemptResult r;
    r.attempt = a;
    fill_result(r, ctx);
    results.push_back(std::move(r));
  }
  return results;
}

void Analyzer::note_answer(const Attempt& a, Timestamp now) {
  fold_answer(a, a.answers.back(), hosts_, now);
}

void Analyzer::release_settled(Timestamp now) {
  while (const Attempt* a = tracker_.oldest()) {
    if (!AttemptTracker::settled(*a, now)) return;
    // Silence means "dropped" only if the capture shows the answering direction at all:
    // an unanswered attempt waits until it does (or until the end of the capture).
    if (a->answers.empty() && !both_directions_ && !sees_answers_) return;
    release_oldest();
  }
}

void Analyzer::release_oldest(bool before_settled) {
  AttemptResult r;
  r.attempt = tracker_.release_oldest(before_settled);
  fill_result(r, context_for(r.attempt, sees_answers_));
  sink_(std::move(r));
}

void Analyzer::flush() {
  while (tracker_.oldest()) release_oldest();
}

}  // namespace synprobe
