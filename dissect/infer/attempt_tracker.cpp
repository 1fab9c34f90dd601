#include "dissect/infer/attempt_tracker.hpp"

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

// The data a segment carries (a SYN's: TCP Fast Open), by the IP header's claim: a capture
// cut by its snap length still says how much the segment held.
std::uint32_t payload_of(const DecodedPacket& p) {
  const std::uint32_t headers = std::uint32_t{p.ip.header_length} + p.tcp.header_length;
  if (p.ip.total_length > headers) return p.ip.total_length - headers;
  return p.tcp.payload_length;
}

}  // namespace

template <typename F>
std::uint32_t AttemptTracker::find_in_flow(std::uint32_t newest, F&& f) const {
  // Attempts before head_ were released: the chain ends there.
  for (std::uint32_t i = newest; i != none && i >= head_; i = previous_in_flow_[i - base_])
    if (f(at(i))) return i;
  return none;
}

namespace {

bool in_flow(const Attempt& a, const FlowKey& key) {
  return a.client_port == key.client_port && a.server_port == key.server_port && a.client == key.client &&
         a.server == key.server;
}

}  // namespace

std::uint32_t AttemptTracker::newest_of(const FlowKey& key, std::uint64_t hash) const {
  return newest_by_flow_.find(hash, [&](std::uint32_t i) { return in_flow(at(i), key); });
}

const Attempt* AttemptTracker::on_packet(const DecodedPacket& p) {
  if (!p.has_ip) return nullptr;
  answered_ = none;
  if (p.transport == Transport::tcp) {
    if (is_syn_only(p.tcp)) {
      on_syn(p);
      return answered_ == none ? nullptr : &at(answered_);
    }
    // Most segments belong to established flows and need no look-up at all: only RSTs and
    // SYN/ACKs can answer an attempt, and a client's segment matters only while some
    // attempt of that client address and port waits for it.
    if (p.tcp.has(tcp_flag::rst) || p.tcp.has(tcp_flag::syn)) {
      const std::uint32_t as_server = newest_of(FlowKey{p.ip.dst, p.ip.src, p.tcp.dport, p.tcp.sport});
      if (as_server != none) on_server_segment(p, as_server);
      else if (p.tcp.has(tcp_flag::ack)) keep_early_answer(p);
    }
    if (client_watch_.may_watch(p.ip.src, p.tcp.sport)) {
      const std::uint32_t as_client = newest_of(FlowKey{p.ip.src, p.ip.dst, p.tcp.sport, p.tcp.dport});
      if (as_client != none) on_client_segment(p, as_client);
    }
    // The request stage: a handful of packets per connection, after its handshake.
    if (request_watch_.may_watch(p.ip.src, p.tcp.sport)) {
      const std::uint32_t as_client = newest_of(FlowKey{p.ip.src, p.ip.dst, p.tcp.sport, p.tcp.dport});
      if (as_client != none) on_request_client_segment(p, as_client);
    }
    if (request_watch_.may_watch(p.ip.dst, p.tcp.dport)) {
      const std::uint32_t as_server = newest_of(FlowKey{p.ip.dst, p.ip.src, p.tcp.dport, p.tcp.sport});
      if (as_server != none) on_request_server_segment(p, as_server);
    }
  } else if (p.transport == Transport::icmp && p.icmp.is_error && p.icmp.has_quote &&
             p.icmp.quote.has_tcp) {
    on_icmp_error(p);
  }
  return answered_ == none ? nullptr : &at(answered_);
}

bool AttemptTracker::within_answer_window(const Attempt& a, Timestamp ts) {
  return ts.ns - a.last_seen.ns <= retransmission_window_ns && a.first_seen.ns - ts.ns <= reorder_window_ns;
}

// A SYN/ACK or RST/ACK of a flow that has no attempt: kept a while, in case its SYN was
// written after it.
void AttemptTracker::keep_early_answer(const DecodedPacket& p) {
  const AnswerKind kind = p.tcp.has(tcp_flag::rst) ? AnswerKind::reset : AnswerKind::syn_ack;
  early_answers_[next_early_] =
      EarlyAnswer{FlowKey{p.ip.dst, p.ip.src, p.tcp.dport, p.tcp.sport}, answer_from(p, kind), true};
  next_early_ = (next_early_ + 1) % early_answers_kept;
  newest_early_ns_ = std::max(newest_early_ns_, p.ts.ns);
}

// The new attempt `index` takes the early answers that acknowledge its SYN.
void AttemptTracker::match_early_answers(std::uint32_t index) {
  const Attempt& a = at(index);
  if (a.first_seen.ns > newest_early_ns_ + reorder_window_ns) return;  // all too old, or none
  const FlowKey key{a.client, a.server, a.client_port, a.server_port};
  for (EarlyAnswer& e : early_answers_) {
    if (!e.live || !(e.flow == key) || !a.acknowledged_by(e.answer.ack) || !within_answer_window(a, e.answer.ts))
      continue;
    e.live = false;
    add_answer(index, e.answer);  // a SYN/ACK's client ACK comes later and is watched for as usual
  }
}

void AttemptTracker::on_syn(const DecodedPacket& p) {
  const FlowKey key{p.ip.src, p.ip.dst, p.tcp.sport, p.tcp.dport};
  const std::uint64_t hash = FlowKeyHash{}(key);
  const std::uint32_t newest = newest_of(key, hash);
  const std::uint32_t same = find_in_flow(newest, [&](const Attempt& a) {
    return a.isn == p.tcp.seq && p.ts.ns - a.last_seen.ns <= retransmission_window_ns;
  });
  const SynTransmission tx{p.ts, p.ip.ttl, p.ip.has_ip_id, p.ip.ip_id, p.tcp.options.has_timestamps,
                           p.tcp.options.ts_value};
  if (same != none) {
    Attempt& a = at(same);
    ++a.syn_count;
    if (p.ip.ttl > max_probe_ttl) ++a.normal_ttl_syns;
    if (p.ts > a.last_seen) a.last_seen = p.ts;
    if (a.transmissions.size() < Attempt::max_transmissions) a.transmissions.push_back(tx);
    return;
  }
  if (!judged_early_by_flow_.empty()) {
    const std::uint32_t slot =
        judged_early_by_flow_.find(hash, [&](std::uint32_t s) { return judged_early_[s].flow_hash == hash; });
    if (slot != none) {
      JudgedEarly& e = judged_early_[slot];
      if (e.isn == p.tcp.seq && p.ts.ns - e.last_seen.ns <= retransmission_window_ns) {
        ++late_syns_;
        if (p.ts > e.last_seen) e.last_seen = p.ts;
        return;
      }
    }
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
  a.normal_ttl_syns = p.ip.ttl > max_probe_ttl ? 1 : 0;
  a.transmissions.push_back(tx);
  a.syn_payload = payload_of(p);
  a.syn_tunnel = p.tunnel;
  a.syn_reassembled = p.reassembled;
  client_watch_.watch(a.client, a.client_port);  // it waits_for_client() from its SYN on
  const auto index = static_cast<std::uint32_t>(a.id - 1);
  attempts_.push_back(std::move(a));
  previous_in_flow_.push_back(newest);
  newest_by_flow_.assign(hash, index, [&](std::uint32_t i) { return in_flow(at(i), key); });
  match_early_answers(index);
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

namespace {

// The newest transmission whose TCP timestamp is `tsval`, sent no later than `by` (a
// sender that does not advance its clock between retransmissions leaves them alike).
std::optional<std::size_t> transmission_with_tsval(const Attempt& a, std::uint32_t tsval, Timestamp by) {
  std::optional<std::size_t> found;
  for (std::size_t t = 0; t < a.transmissions.size(); ++t)
    if (a.transmissions[t].has_tsval && a.transmissions[t].tsval == tsval && a.transmissions[t].ts <= by) found = t;
  return found;
}

}  // namespace

// Links the answer to the SYN transmission it answers and times it from there: for a
// SYN/ACK the one whose timestamp it echoes (RFC 7323 3.2: the echo is of the segment
// that drew it, so a late answer to the first SYN is not timed from a retransmission,
// Karn's ambiguity), else the newest sent before it. ICMP errors refine it from their
// quotation (on_icmp_error).
void AttemptTracker::add_answer(std::uint32_t index, Answer answer) {
  Attempt& a = at(index);
  std::size_t chosen = 0;
  for (std::size_t i = 0; i < a.transmissions.size(); ++i)
    if (a.transmissions[i].ts <= answer.ts) chosen = i;
  if (answer.kind == AnswerKind::syn_ack && answer.options.has_timestamps)
    chosen = transmission_with_tsval(a, answer.options.ts_echo, answer.ts).value_or(chosen);
  answer.transmission = chosen;
  answer.reordered = answer.ts < a.transmissions[chosen].ts;
  answer.rtt_ms = answer.reordered ? 0 : answer.ts.ms_since(a.transmissions[chosen].ts);
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
    const std::uint32_t i = find_in_flow(
        newest, [&](const Attempt& a) { return a.acknowledged_by(t.ack) && within_answer_window(a, p.ts); });
    if (i == none) {
      Attempt& a = at(newest);
      ++(a.acknowledged_by(t.ack) ? a.syn_acks_out_of_time : a.unmatched_syn_acks);
      return;
    }
    if (i != newest && p.ts >= at(newest).first_seen) ++at(newest).answered_for_earlier;
    add_answer(i, answer_from(p, AnswerKind::syn_ack));
  }
}

void AttemptTracker::on_reset(const DecodedPacket& p, std::uint32_t newest) {
  const TcpHeader& t = p.tcp;
  const bool has_ack = t.has(tcp_flag::ack);
  std::uint32_t i = has_ack ? find_in_flow(newest, [&](const Attempt& a) {
                               return a.acknowledged_by(t.ack) && within_answer_window(a, p.ts);
                             })
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
  const std::uint32_t i = find_in_flow(newest, [&](const Attempt& a) { return a.follows_handshake(t.seq); });
  if (i == none) return;
  Attempt& a = at(i);
  if (!a.waits_for_client()) return;
  if (a.has_answer(AnswerKind::syn_ack)) {
    if (t.has(tcp_flag::rst)) a.client_reset_after_syn_ack = true;
    else if (t.has(tcp_flag::ack)) a.handshake_completed = true;
    if (!a.waits_for_client()) client_watch_.unwatch(a.client, a.client_port);
    if (a.handshake_completed) {
      open_request_stage(a, p.ts);
      if (payload_of(p) > 0 || t.has(tcp_flag::fin)) on_request_client_segment(p, i);  // data on the ACK
    }
    return;
  }
  // No SYN/ACK captured: the client's own segment says whether one reached it. Only an
  // ACK-bearing segment or a RST counts; anything else is not a synchronized state's.
  // An ACK field of 0 is what crafted segments carry, not a server's ISN + 1 (a 2^-32 chance).
  ClientAct act{p.ts, t.ack, ClientActKind::ack};
  const bool acknowledges = t.has(tcp_flag::ack) && t.ack != 0;
  if (t.has(tcp_flag::rst)) act.kind = acknowledges ? ClientActKind::reset_ack : ClientActKind::reset;
  else if (!acknowledges) {
    // A FIN or data with no acknowledgement: no stack in SYN-SENT sends it, and it proves
    // nothing of a SYN/ACK; kept so that the verdict does not call the flow silent.
    if ((t.has(tcp_flag::fin) || t.payload_length > 0) && !a.client_unproven_act) a.client_unproven_act = p.ts;
    return;
  }
  else if (t.has(tcp_flag::fin)) act.kind = ClientActKind::fin;
  else if (t.payload_length > 0) act.kind = ClientActKind::data;
  a.client_act = act;
  client_watch_.unwatch(a.client, a.client_port);
  // An ACK or data proves the handshake: what follows is the request stage.
  if (act.kind == ClientActKind::ack || act.kind == ClientActKind::data) {
    open_request_stage(a, p.ts);
    if (act.kind == ClientActKind::data) on_request_client_segment(p, i);
  }
}

void AttemptTracker::on_icmp_error(const DecodedPacket& p) {
  const QuotedPacket& q = p.icmp.quote;
  if (q.ip.protocol != ip_proto::tcp) return;
  const FlowKey key{q.ip.src, q.ip.dst, q.tcp.sport, q.tcp.dport};
  const std::uint32_t i = find_in_flow(
      newest_of(key), [&](const Attempt& a) { return a.isn == q.tcp.seq && within_answer_window(a, p.ts); });
  if (i == none) {
    // It quotes some other segment of the flow: perhaps a request being followed.
    if (const std::uint32_t newest = newest_of(key); newest != none) on_request_icmp_error(p, newest);
    return;
  }
  Answer answer = answer_from(p, AnswerKind::icmp_error);
  answer.matched_by_seq = true;
  if (q.ip.ttl != 0 || q.quoted_bytes >= 20) answer.quoted_ttl = q.ip.ttl;
  answer.quote = q;
  add_answer(i, answer);
  Attempt& a = at(i);
  if (a.answers.empty() || a.answers.back().ts != p.ts) return;
  // Prefer the transmission the router quoted (TTL-limited probes and retransmissions
  // share an ISN): by its IP-ID, else by its TCP timestamp when the quotation reaches the
  // options (ICMPv6 quotes up to 1232 bytes; IPv4 routers after RFC 1812 quote as much as fits).
  std::optional<std::size_t> quoted;
  for (std::size_t t = 0; q.ip.has_ip_id && t < a.transmissions.size(); ++t)
    if (a.transmissions[t].has_ip_id && a.transmissions[t].ip_id == q.ip.ip_id && a.transmissions[t].ts <= p.ts)
      quoted = t;
  if (!quoted && q.tcp.has_options && q.tcp.options.has_timestamps)
    quoted = transmission_with_tsval(a, q.tcp.options.ts_value, p.ts);
  if (!quoted) return;
  a.answers.back().transmission = *quoted;
  a.answers.back().rtt_ms = p.ts.ms_since(a.transmissions[*quoted].ts);
}

// ---------------------------------------------------------------- the request stage

void AttemptTracker::open_request_stage(Attempt& a, Timestamp ts) {
  if (a.request_stage) return;
  a.request_stage = RequestStage{};
  a.request_stage->opened = ts;
  request_watch_.watch(a.client, a.client_port);
}

void AttemptTracker::stop_following(Attempt& a) {
  if (!a.request_stage || !a.request_stage->following) return;
  a.request_stage->following = false;
  if (a.request_stage->request) {
    ClientRequest& r = *a.request_stage->request;
    r.head_done = true;
    r.head = {};
  }
  request_watch_.unwatch(a.client, a.client_port);
}

namespace {

// Reads the trigger from the stream's first bytes once enough of them are in.
void read_head(ClientRequest& r, Bytes captured, std::uint32_t claimed) {
  if (r.head_done) return;
  // Most requests name their trigger in their first segment: read it in place, and copy
  // bytes only when the head goes on in the next segment.
  const bool in_place = r.head.empty();
  if (!in_place)
    r.head.insert(r.head.end(), captured.begin(),
                  captured.begin() + static_cast<std::ptrdiff_t>(std::min(captured.size(), ClientRequest::max_head - r.head.size())));
  const RequestHead head = read_request_head(in_place ? captured.first(std::min(captured.size(), ClientRequest::max_head))
                                                      : Bytes(r.head.data(), r.head.size()));
  r.protocol = head.protocol;
  if (head.name) r.trigger = head.name;
  // A segment cut by the snap length leaves a gap: later bytes cannot be placed after it.
  if (!head.needs_more || r.head.size() >= ClientRequest::max_head || captured.size() >= ClientRequest::max_head ||
      captured.size() < claimed) {
    r.head_done = true;
    r.head = {};
  } else if (in_place) {
    r.head.assign(captured.begin(), captured.end());
  }
}

// Times a reply from the request's first transmission, and says how many more had left
// by then (in Answer::transmission): a reply after a retransmission may answer either
// (Karn's ambiguity), so its round trip is an upper bound only.
void time_reply(Answer& reply, const RequestStage& s) {
  const Timestamp from = s.request ? s.request->sent : s.opened;
  reply.reordered = reply.ts < from;
  reply.rtt_ms = reply.reordered ? 0 : reply.ts.ms_since(from);
  reply.transmission = s.request && s.request->last_sent <= reply.ts ? s.request->transmissions - 1 : 0;
}

}  // namespace

// The flow's attempt whose request stage is still followed at `ts`, if any; one whose
// window has passed stops being followed here.
Attempt* AttemptTracker::followed_in_flow(std::uint32_t newest, Timestamp ts) {
  const std::uint32_t i = find_in_flow(newest, [](const Attempt& a) { return a.request_stage && a.request_stage->following; });
  if (i == none) return nullptr;
  Attempt& a = at(i);
  if (ts.ns - a.request_stage->opened.ns > RequestStage::window_ns) {
    stop_following(a);
    return nullptr;
  }
  return &a;
}

void AttemptTracker::on_request_client_segment(const DecodedPacket& p, std::uint32_t newest) {
  Attempt* followed = followed_in_flow(newest, p.ts);
  if (!followed) return;
  Attempt& a = *followed;
  RequestStage& s = *a.request_stage;
  const TcpHeader& t = p.tcp;
  if ((t.has(tcp_flag::fin) || t.has(tcp_flag::rst)) && !s.client_closed) s.client_closed = p.ts;
  const std::uint32_t claimed = payload_of(p);
  if (claimed == 0 || t.has(tcp_flag::rst)) return;
  if (!s.request) {
    if (!a.follows_handshake(t.seq)) return;  // not the stream's first byte: its start was not captured
    ClientRequest r;
    r.sent = r.last_sent = p.ts;
    r.seq = t.seq;
    r.length = claimed;
    r.ttl = p.ip.ttl;
    s.request = std::move(r);
    read_head(*s.request, t.payload, claimed);
    return;
  }
  ClientRequest& r = *s.request;
  if (t.seq == r.seq) {
    ++r.transmissions;
    r.last_sent = p.ts;
    return;
  }
  if (!r.head_done && t.seq == r.seq + static_cast<std::uint32_t>(r.head.size())) read_head(r, t.payload, claimed);
  const bool beyond_first = t.seq - r.end() < (1u << 30);
  const bool first_acknowledged = std::any_of(s.replies.begin(), s.replies.end(), [&](const Answer& x) {
    return x.kind == AnswerKind::segment && x.ack - r.end() < (1u << 30);
  });
  if (beyond_first && first_acknowledged) {
    s.continued = true;
    stop_following(a);
  }
}

void AttemptTracker::on_request_server_segment(const DecodedPacket& p, std::uint32_t newest) {
  Attempt* followed = followed_in_flow(newest, p.ts);
  if (!followed) return;
  Attempt& a = *followed;
  RequestStage& s = *a.request_stage;
  const TcpHeader& t = p.tcp;
  if (t.has(tcp_flag::syn)) return;  // a retransmitted SYN/ACK: still the handshake
  const std::uint32_t claimed = payload_of(p);
  const bool data = claimed > 0;
  const bool closes = t.has(tcp_flag::rst) || t.has(tcp_flag::fin);
  // What it acknowledges of the client's stream: a capture that writes packets out of
  // order may hold the server's answer before the request it acknowledges.
  const bool acknowledges_data = t.has(tcp_flag::ack) && t.ack - (a.isn + 1u) - a.syn_payload - 1u < (1u << 30);
  const bool first_ack = acknowledges_data && std::none_of(s.replies.begin(), s.replies.end(), [](const Answer& r) {
    return r.kind == AnswerKind::segment;
  });
  if (!data && !closes && !first_ack) return;
  if (data && !s.request && !acknowledges_data) s.server_spoke_first = true;  // a banner (SMTP, SSH)
  Answer reply = answer_from(p, t.has(tcp_flag::rst) ? AnswerKind::reset : AnswerKind::segment);
  reply.payload = claimed;
  time_reply(reply, s);
  if (s.replies.size() < RequestStage::max_replies) s.replies.push_back(reply);
  else ++s.replies_not_kept;
  // The request's answer ends the stage unless something reset the flow first (a reset
  // racing the answer is what an on-path injector leaves); so does a full reply list.
  const bool reset_before = std::any_of(s.replies.begin(), s.replies.end(), [](const Answer& r) {
    return r.kind == AnswerKind::reset;
  });
  if ((data && s.request && acknowledges_data && !reset_before) || s.replies.size() >= RequestStage::max_replies)
    stop_following(a);
}

bool AttemptTracker::on_request_icmp_error(const DecodedPacket& p, std::uint32_t newest) {
  const QuotedPacket& q = p.icmp.quote;
  const std::uint32_t i = find_in_flow(newest, [&](const Attempt& a) {
    return a.request_stage && a.request_stage->following && a.request_stage->request &&
           q.tcp.seq - a.request_stage->request->seq < std::max(a.request_stage->request->length, 1u);
  });
  if (i == none) return false;
  RequestStage& s = *at(i).request_stage;
  Answer reply = answer_from(p, AnswerKind::icmp_error);
  reply.matched_by_seq = true;
  if (q.ip.ttl != 0 || q.quoted_bytes >= 20) reply.quoted_ttl = q.ip.ttl;
  reply.quote = q;
  time_reply(reply, s);
  if (s.replies.size() < RequestStage::max_replies) s.replies.push_back(reply);
  else ++s.replies_not_kept;
  return true;
}

bool AttemptTracker::settled(const Attempt& a, Timestamp now) {
  const bool refused_or_open = a.has_answer(AnswerKind::syn_ack) || a.has_answer(AnswerKind::reset);
  Timestamp last = a.last_seen;
  if (!a.answers.empty() && a.answers.back().ts > last) last = a.answers.back().ts;
  if (const RequestStage* s = a.request_stage ? &*a.request_stage : nullptr; s && s->following) {
    // Quiet counts from the stage's newest packet, and the stage ends with its window.
    if (now.ns - s->opened.ns > RequestStage::window_ns) return now.ns - s->opened.ns > RequestStage::window_ns + answered_quiet_ns;
    last = std::max({last, s->opened, s->request ? s->request->last_sent : s->opened,
                     s->replies.empty() ? s->opened : s->replies.back().ts, s->client_closed.value_or(s->opened)});
    return now.ns - last.ns > answered_quiet_ns;
  }
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

Attempt AttemptTracker::release_oldest(bool before_settled) {
  Attempt& a = at(head_);
  const FlowKey key{a.client, a.server, a.client_port, a.server_port};
  const std::uint64_t hash = FlowKeyHash{}(key);
  if (before_settled) remember_judged_early(hash, a);
  newest_by_flow_.erase(hash, [&](std::uint32_t i) { return i == head_; });
  if (a.waits_for_client()) client_watch_.unwatch(a.client, a.client_port);
  stop_following(a);
  Attempt released = std::move(a);
  a = Attempt{};  // a moved-from vector may keep its buffer
  ++head_;
  drop_released();
  return released;
}

void AttemptTracker::remember_judged_early(std::uint64_t flow_hash, const Attempt& a) {
  std::uint32_t slot = 0;
  if (judged_early_.size() < judged_early_kept) {
    slot = static_cast<std::uint32_t>(judged_early_.size());
    judged_early_.push_back(JudgedEarly{flow_hash, a.last_seen, a.isn});
  } else {
    slot = static_cast<std::uint32_t>(judged_early_next_);
    judged_early_next_ = (judged_early_next_ + 1) % judged_early_kept;
    // The oldest is forgotten, unless a newer attempt of its flow took its place since.
    JudgedEarly& oldest = judged_early_[slot];
    judged_early_by_flow_.erase(oldest.flow_hash, [&](std::uint32_t s) { return s == slot; });
    oldest = JudgedEarly{flow_hash, a.last_seen, a.isn};
  }
  judged_early_by_flow_.assign(flow_hash, slot, [&](std::uint32_t s) { return judged_early_[s].flow_hash == flow_hash; });
}

// Erases released husks from the front, a few at a time: popping a deque's front moves
// nothing, and frees their memory.
void AttemptTracker::drop_released() {
  const std::size_t released = head_ - base_;
  if (released < 64) return;
  const auto n = static_cast<std::ptrdiff_t>(released);
  attempts_.erase(attempts_.begin(), attempts_.begin() + n);
  previous_in_flow_.erase(previous_in_flow_.begin(), previous_in_flow_.begin() + n);
  base_ = head_;
}

}  // namespace synprobe
