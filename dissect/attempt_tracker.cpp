#include "attempt_tracker.hpp"

#include <algorithm>

namespace synprobe {
namespace {

bool is_syn_only(const TcpHeader& t) {
  return t.has(tcp_flag::syn) && !t.has(tcp_flag::ack) && !t.has(tcp_flag::rst);
}

// Whether `seq` lies in the server's own sequence space after its SYN/ACK: a RST there is
// the server tearing down an established connection, not an answer to the SYN.
bool in_server_sequence_space(const Attempt& a, std::uint32_t seq) {
  for (const Answer& answer : a.answers) {
    if (answer.kind != AnswerKind::syn_ack) continue;
    const std::uint32_t offset = seq - (answer.seq + 1);  // modulo 2^32
    if (offset < (1u << 30)) return true;
  }
  return false;
}

}  // namespace

template <typename F>
std::uint32_t AttemptTracker::find_in_flow(std::uint32_t newest, F&& f) const {
  // Attempts before head_ were released: the chain ends there.
  for (std::uint32_t i = newest; i != none && i >= head_; i = previous_in_flow_[i - base_])
    if (f(at(i))) return i;
  return none;
}

std::uint32_t AttemptTracker::newest_of(const FlowKey& key) const {
  const auto it = newest_by_flow_.find(key);
  return it == newest_by_flow_.end() ? none : it->second;
}

const Attempt* AttemptTracker::on_packet(const DecodedPacket& p) {
  if (!p.has_ip) return nullptr;
  answered_ = none;
  if (p.transport == Transport::tcp) {
    if (is_syn_only(p.tcp)) {
      on_syn(p);
      return nullptr;
    }
    // Most segments belong to established flows and need no look-up at all: only RSTs and
    // SYN/ACKs can answer an attempt, and a client's segment matters only while some
    // attempt waits for the client's side of its handshake.
    if (p.tcp.has(tcp_flag::rst) || p.tcp.has(tcp_flag::syn)) {
      const std::uint32_t as_server = newest_of(FlowKey{p.ip.dst, p.ip.src, p.tcp.dport, p.tcp.sport});
      if (as_server != none) on_server_segment(p, as_server);
    }
    if (awaiting_client_ > 0) {
      const std::uint32_t as_client = newest_of(FlowKey{p.ip.src, p.ip.dst, p.tcp.sport, p.tcp.dport});
      if (as_client != none) on_client_segment(p, as_client);
    }
  } else if (p.transport == Transport::icmp && p.icmp.is_error && p.icmp.has_quote &&
             p.icmp.quote.has_tcp) {
    on_icmp_error(p);
  }
  return answered_ == none ? nullptr : &at(answered_);
}

void AttemptTracker::on_syn(const DecodedPacket& p) {
  const FlowKey key{p.ip.src, p.ip.dst, p.tcp.sport, p.tcp.dport};
  const std::uint32_t newest = newest_of(key);
  const std::uint32_t same = find_in_flow(newest, [&](const Attempt& a) {
    return a.isn == p.tcp.seq && p.ts.ns - a.last_seen.ns <= retransmission_window_ns;
  });
  const SynTransmission tx{p.ts, p.ip.ttl, p.ip.has_ip_id, p.ip.ip_id};
  if (same != none) {
    Attempt& a = at(same);
    ++a.syn_count;
    if (p.ts > a.last_seen) a.last_seen = p.ts;
    if (a.transmissions.size() < Attempt::max_transmissions) a.transmissions.push_back(tx);
    return;
  }
  Attempt a;
  a.id = std::uint64_t{base_} + attempts_.size() + 1;
  a.client = p.ip.src;
  a.server = p.ip.dst;
  a.client_port = p.tcp.sport;
  a.server_port = p.tcp.dport;
  a.isn = p.tcp.seq;
  a.syn_options = p.tcp.options;
  a.syn_tos = p.ip.tos;
  a.first_seen = a.last_seen = p.ts;
  a.syn_count = 1;
  a.transmissions.push_back(tx);
  const auto index = static_cast<std::uint32_t>(a.id - 1);
  attempts_.push_back(std::move(a));
  previous_in_flow_.push_back(newest);
  newest_by_flow_[key] = index;
}

Answer AttemptTracker::answer_from(const DecodedPacket& p, AnswerKind kind) {
  Answer a;
  a.kind = kind;
  a.ts = p.ts;
  a.from = p.ip.src;
  a.ttl = estimate_hop(p.ip.ttl);
  a.has_ip_id = p.ip.has_ip_id;
  a.ip_id = p.ip.ip_id;
  a.dont_fragment = p.ip.dont_fragment;
  a.tos = p.ip.tos;
  if (p.transport == Transport::tcp) {
    a.tcp_flags = p.tcp.flags;
    a.seq = p.tcp.seq;
    a.ack = p.tcp.ack;
    a.window = p.tcp.window;
    a.options = p.tcp.options;
  } else {
    a.icmp_type = p.icmp.type;
    a.icmp_code = p.icmp.code;
  }
  return a;
}

// Links the answer to the newest SYN transmission sent before it (for ICMP, the one
// whose IP-ID the router quoted, when it can tell) and times it from there.
void AttemptTracker::add_answer(std::uint32_t index, Answer answer) {
  Attempt& a = at(index);
  std::size_t chosen = 0;
  for (std::size_t i = 0; i < a.transmissions.size(); ++i)
    if (a.transmissions[i].ts <= answer.ts) chosen = i;
  answer.transmission = chosen;
  answer.rtt_ms = answer.ts.ms_since(a.transmissions[chosen].ts);
  if (a.answers.size() < Attempt::max_answers) {
    a.answers.push_back(answer);
    answered_ = index;
  } else {
    ++a.answers_not_kept;
  }
}

void AttemptTracker::on_server_segment(const DecodedPacket& p, std::uint32_t newest) {
  const TcpHeader& t = p.tcp;
  if (t.has(tcp_flag::rst)) {
    on_reset(p, newest);
    return;
  }
  if (t.has(tcp_flag::syn) && t.has(tcp_flag::ack)) {
    const std::uint32_t i =
        find_in_flow(newest, [&](const Attempt& a) { return t.ack == a.isn + 1; });
    if (i == none) {
      ++at(newest).unmatched_syn_acks;
      return;
    }
    if (!at(i).has_answer(AnswerKind::syn_ack)) ++awaiting_client_;
    add_answer(i, answer_from(p, AnswerKind::syn_ack));
  }
}

void AttemptTracker::on_reset(const DecodedPacket& p, std::uint32_t newest) {
  const TcpHeader& t = p.tcp;
  const bool has_ack = t.has(tcp_flag::ack);
  std::uint32_t i = has_ack ? find_in_flow(newest, [&](const Attempt& a) { return t.ack == a.isn + 1; })
                            : newest;
  // A RST in the server's own sequence space after the handshake is the server closing
  // the connection, whatever it acknowledges.
  const std::uint32_t established = i != none ? i : newest;
  Attempt& e = at(established);
  if (e.handshake_completed && in_server_sequence_space(e, t.seq)) {
    ++e.teardown_resets;
    return;
  }
  if (i == none) {
    Attempt& a = at(newest);
    ++a.unmatched_resets;
    if (!a.first_unmatched_reset) a.first_unmatched_reset = answer_from(p, AnswerKind::reset);
    return;
  }
  add_answer(i, answer_from(p, AnswerKind::reset));
}

void AttemptTracker::on_client_segment(const DecodedPacket& p, std::uint32_t newest) {
  const TcpHeader& t = p.tcp;
  const std::uint32_t i =
      find_in_flow(newest, [&](const Attempt& a) { return t.seq == a.isn + 1; });
  if (i == none) return;
  Attempt& a = at(i);
  if (!a.has_answer(AnswerKind::syn_ack)) return;
  const bool was_waiting = !a.handshake_completed && !a.client_reset_after_syn_ack;
  if (t.has(tcp_flag::rst)) {
    a.client_reset_after_syn_ack = true;
  } else if (t.has(tcp_flag::ack)) {
    a.handshake_completed = true;
  }
  if (was_waiting && (a.handshake_completed || a.client_reset_after_syn_ack) && awaiting_client_ > 0)
    --awaiting_client_;
}

void AttemptTracker::on_icmp_error(const DecodedPacket& p) {
  const QuotedPacket& q = p.icmp.quote;
  if (q.ip.protocol != ip_proto::tcp) return;
  const FlowKey key{q.ip.src, q.ip.dst, q.tcp.sport, q.tcp.dport};
  const std::uint32_t i =
      find_in_flow(newest_of(key), [&](const Attempt& a) { return a.isn == q.tcp.seq; });
  if (i == none) return;  // it quotes some other segment of the flow (data, an ACK…)
  Answer answer = answer_from(p, AnswerKind::icmp_error);
  answer.matched_by_seq = true;
  if (q.ip.ttl != 0 || q.quoted_bytes >= 20) answer.quoted_ttl = q.ip.ttl;
  answer.quote = q;
  add_answer(i, answer);
  Attempt& a = at(i);
  // Prefer the transmission whose IP-ID the router quoted (TTL-limited probes share an ISN).
  if (q.ip.has_ip_id && !a.answers.empty() && a.answers.back().ts == p.ts) {
    for (std::size_t t = 0; t < a.transmissions.size(); ++t) {
      if (a.transmissions[t].has_ip_id && a.transmissions[t].ip_id == q.ip.ip_id &&
          a.transmissions[t].ts <= p.ts) {
        a.answers.back().transmission = t;
        a.answers.back().rtt_ms = p.ts.ms_since(a.transmissions[t].ts);
      }
    }
  }
}

bool AttemptTracker::settled(const Attempt& a, Timestamp now) {
  const bool refused_or_open = a.has_answer(AnswerKind::syn_ack) || a.has_answer(AnswerKind::reset);
  Timestamp last = a.last_seen;
  if (!a.answers.empty() && a.answers.back().ts > last) last = a.answers.back().ts;
  const std::int64_t quiet = now.ns - last.ns;
  if (refused_or_open) return quiet > answered_quiet_ns;
  // Unanswered, or answered by ICMP errors (soft errors keep the client retrying): the
  // client backs off exponentially, so its next SYN comes about (last - first) + its
  // initial timeout after the last one. Twice that plus 10 s, and never more than the
  // retransmission window.
  const std::int64_t span = a.last_seen.ns - a.first_seen.ns;
  const std::int64_t wait = std::min(retransmission_window_ns, 2 * span + answered_quiet_ns);
  return quiet > wait;
}

const Attempt* AttemptTracker::oldest() const {
  return head_ - base_ < attempts_.size() ? &at(head_) : nullptr;
}

Attempt AttemptTracker::release_oldest() {
  Attempt& a = at(head_);
  const FlowKey key{a.client, a.server, a.client_port, a.server_port};
  if (const auto it = newest_by_flow_.find(key); it != newest_by_flow_.end() && it->second == head_)
    newest_by_flow_.erase(it);
  if (a.has_answer(AnswerKind::syn_ack) && !a.handshake_completed && !a.client_reset_after_syn_ack &&
      awaiting_client_ > 0)
    --awaiting_client_;
  Attempt released = std::move(a);
  a = Attempt{};  // a moved-from vector may keep its buffer
  ++head_;
  drop_released();
  return released;
}

// Erases released husks from the front once they are half the table: amortised O(1).
void AttemptTracker::drop_released() {
  const std::size_t released = head_ - base_;
  if (released < 1024 || released < attempts_.size() / 2) return;
  const auto n = static_cast<std::ptrdiff_t>(released);
  attempts_.erase(attempts_.begin(), attempts_.begin() + n);
  previous_in_flow_.erase(previous_in_flow_.begin(), previous_in_flow_.begin() + n);
  base_ = head_;
}

}  // namespace synprobe
