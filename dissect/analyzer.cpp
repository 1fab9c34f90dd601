#include "analyzer.hpp"

#include <algorithm>

#include "icmp_names.hpp"

namespace synprobe {

void Analyzer::add(const DecodedPacket& p) {
  if (!p.has_ip) return;
  if (!first_ || p.ts < *first_) first_ = p.ts;
  if (!last_ || p.ts > *last_) last_ = p.ts;
  // Consecutive packets mostly share their addresses: skip the table when they repeat.
  if (!last_receiver_ || *last_receiver_ != p.ip.dst) {
    receivers_.insert(p.ip.dst);
    last_receiver_ = p.ip.dst;
  }

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
    if (!last_sender_ || last_sender_address_ != p.ip.src) {
      last_sender_ = &hosts_[p.ip.src];  // node-based map: the pointer survives rehashing
      last_sender_address_ = p.ip.src;
    }
    last_sender_->observe(p.ip, p.ts, is_syn_ack, flow);
  }
  tracker_.on_packet(p);
}

JudgeContext Analyzer::context_for(const Attempt& a, bool capture_sees_answers) const {
  JudgeContext ctx;
  if (const auto it = hosts_.find(a.server); it != hosts_.end()) ctx.server = &it->second;
  ctx.client_receives_packets = both_directions_ || capture_sees_answers;
  ctx.capture_end = last_.value_or(a.last_seen);
  if (listen_end_ && *listen_end_ > ctx.capture_end) ctx.capture_end = *listen_end_;
  return ctx;
}

std::vector<AttemptResult> Analyzer::finish() const {
  const std::vector<Attempt>& attempts = tracker_.attempts();

  // Per destination: the fastest SYN/ACK anywhere in the capture, and the hop addresses
  // that time-exceeded errors to TTL-limited SYNs revealed.
  std::unordered_map<IpAddress, double> fastest_syn_ack;
  std::unordered_map<IpAddress, std::vector<HopAddress>> hops;
  for (const Attempt& a : attempts) {
    for (const Answer& answer : a.answers) {
      if (answer.kind == AnswerKind::syn_ack) {
        auto [it, inserted] = fastest_syn_ack.try_emplace(a.server, answer.rtt_ms);
        if (!inserted && answer.rtt_ms < it->second) it->second = answer.rtt_ms;
      } else if (answer.kind == AnswerKind::icmp_error &&
                 is_time_exceeded(a.family(), answer.icmp_type)) {
        const int hop = a.transmissions[answer.transmission].ttl;
        auto& list = hops[a.server];
        bool known = false;
        for (const HopAddress& h : list) known = known || h.hop == hop;
        if (!known) list.push_back(HopAddress{hop, answer.from});
      }
    }
  }

  // A capture shows the answering direction when any client of any attempt receives
  // something in it. Decided for the whole capture, not per client: a dual-stack client
  // whose IPv6 SYNs all vanish is a black hole to report, not a one-way capture.
  const bool capture_sees_answers = std::any_of(attempts.begin(), attempts.end(),
                                      [&](const Attempt& a) { return receivers_.count(a.client) > 0; });

  std::vector<AttemptResult> results;
  results.reserve(attempts.size());
  for (const Attempt& a : attempts) {
    JudgeContext ctx = context_for(a, capture_sees_answers);
    // The destination's RTT baseline must come from other SYN/ACKs than this attempt's own
    // answers only when this attempt has none; when it has one, it is the host's anyway.
    if (const auto it = fastest_syn_ack.find(a.server); it != fastest_syn_ack.end())
      ctx.server_syn_ack_rtt_ms = it->second;
    if (const auto it = hops.find(a.server); it != hops.end()) ctx.hop_addresses = it->second;

    AttemptResult r;
    r.attempt = a;
    r.judgement = judge(a, ctx);
    if (ctx.server) {
      r.host_hop = ctx.server->usual_hop();
      r.host_packets = ctx.server->packets();
      r.host_ip_id = ctx.server->ip_ids().classify();
    }
    r.host_syn_ack_rtt_ms = ctx.server_syn_ack_rtt_ms;
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace synprobe
