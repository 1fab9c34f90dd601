#include "narrative.hpp"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <bitset>
#include <initializer_list>

#include "dissect/decode/icmp_names.hpp"
#include "dissect/decode/words.hpp"
#include "dissect/verdict/trace_model.hpp"

namespace synprobe {
namespace {

std::string at_hop(const Judgement& j) {
  if (j.hop && j.responder) return fmt::format(FMT_COMPILE("hop {} ({})"), *j.hop, j.responder->to_string());
  if (j.hop) return fmt::format(FMT_COMPILE("hop {}"), *j.hop);
  if (j.hop_range) return fmt::format(FMT_COMPILE("a hop between {} and {}"), j.hop_range->first, j.hop_range->second);
  return "an unknown hop";
}

// The request stage's reply that decided the verdict: its first RST, FIN or ICMP error.
const Answer* deciding_reply(const AttemptResult& r) {
  const Attempt& a = r.attempt;
  if (!a.request_stage) return nullptr;
  for (const Answer& x : a.request_stage->replies)
    if (x.kind == AnswerKind::reset || x.kind == AnswerKind::icmp_error || (x.tcp_flags & tcp_flag::fin && x.payload == 0))
      return &x;
  return nullptr;
}

const Answer* deciding_answer(const AttemptResult& r) {
  const Attempt& a = r.attempt;
  if (r.judgement.stage == Stage::request) return r.judgement.verdict == Verdict::open ? nullptr : deciding_reply(r);
  switch (r.judgement.verdict) {
    case Verdict::open: return a.first_answer(AnswerKind::syn_ack);
    case Verdict::refused_by_host:
    case Verdict::refused_by_middlebox:
    case Verdict::injected_reset:
      return a.first_answer(AnswerKind::reset) ? a.first_answer(AnswerKind::reset) : a.first_answer(AnswerKind::icmp_error);
    case Verdict::icmp_unreachable: return a.first_answer(AnswerKind::icmp_error);
    case Verdict::dropped:
    case Verdict::inconclusive: return nullptr;
  }
  return nullptr;
}

}  // namespace

std::string target_text(const Attempt& a) { return endpoint_text(a.server, a.server_port) + "/tcp"; }

std::string trigger_text(const Attempt& a) {
  if (!a.request_stage || !a.request_stage->request) return {};
  const ClientRequest& q = *a.request_stage->request;
  if (q.trigger) return fmt::format("{} {}", q.protocol == RequestProtocol::tls ? "TLS server name" : "HTTP Host", *q.trigger);
  if (q.protocol == RequestProtocol::tls) return "a TLS ClientHello with no server name";
  if (q.protocol == RequestProtocol::http) return "an HTTP request with no Host";
  return {};
}

namespace {

// " (TLS server name x)", or nothing when the request named nothing.
std::string about_trigger(const Attempt& a) {
  const std::string t = trigger_text(a);
  return t.empty() ? t : " (" + t + ")";
}

// The request stage's finding, in plain words.
std::string request_finding(const AttemptResult& r, const std::string& conn, const std::string& where) {
  const Attempt& a = r.attempt;
  const Judgement& j = r.judgement;
  const std::string request = "the request" + about_trigger(a);
  const Answer* x = deciding_reply(r);
  const std::string what = x && x->kind == AnswerKind::reset ? "a TCP reset" : "a FIN";
  switch (j.verdict) {
    case Verdict::open:
      return fmt::format("{} are accepted and {} {}.", conn, request,
                         j.rule == Rule::request_acknowledged ? "reaches the server's TCP (acknowledged, no answer yet)"
                                                              : "is answered by the server");
    case Verdict::refused_by_host:
      return fmt::format("{} are refused by the server itself ({}, hop {}) after the handshake: once it reads {} it "
                         "sends {} whose TTL matches its own packets on the connection, instead of an answer. The "
                         "network passes the connection; the service (or its proxy) refuses it.",
                         conn, a.server.to_string(), j.hop.value_or(0), request, what);
    case Verdict::refused_by_middlebox:
      return fmt::format("{} are refused by the device at {}, not by the server: the handshake passes, then the device "
                         "resets them once it sees {}; its {} carries the server's address but not the server's {}.",
                         conn, where, request, x && x->kind == AnswerKind::reset ? "reset" : "FIN",
                         r.judgement.hop_range ? "timing" : "distance");
    case Verdict::injected_reset:
      return fmt::format("{} are reset by a device at {} that sees {} and forges a TCP reset in the server's name; the "
                         "server's own answer arrives after it.",
                         conn, where, request);
    case Verdict::icmp_unreachable:
      return fmt::format("{} pass the handshake, then the {} at {} answers {} with ICMP {}.", conn,
                         j.actor == Actor::host ? "server" : "router", where, request, j.icmp ? j.icmp->name : "unreachable");
    case Verdict::dropped:
      return fmt::format("{} pass the handshake, but {} is dropped silently: the client sent it {} times and nothing "
                         "acknowledged it, though the server's SYN/ACK came back on the same path.",
                         conn, request, a.request_stage && a.request_stage->request ? a.request_stage->request->transmissions : 0);
    case Verdict::inconclusive: break;
  }
  return {};
}

// What to ask for when the request stage refused: the application rule, not a port rule.
std::string request_step(const AttemptResult& r) {
  const Attempt& a = r.attempt;
  const Judgement& j = r.judgement;
  const std::string trigger = trigger_text(a);
  const std::string matching = trigger.empty() ? "this traffic" : "connections with " + trigger;
  switch (j.verdict) {
    case Verdict::refused_by_middlebox:
    case Verdict::injected_reset:
      return fmt::format("Ask the team that runs the device at {}: an application, URL or TLS-inspection rule there "
                         "resets {} to {}. The port is open (the handshake passes): ask for that application/URL rule "
                         "to be changed, not for a port rule.",
                         at_hop(j), matching, target_text(a));
    case Verdict::dropped:
      return fmt::format("An application-aware device after the handshake drops {} to {} silently. Ask the firewall "
                         "teams on the path for the application/URL rule that matches it (the port is open); TTL-limited "
                         "copies of the request locate the device.",
                         matching, target_text(a));
    case Verdict::refused_by_host:
      return fmt::format("Ask the owner of {}: the service or reverse proxy on port {} accepts and then {} {} (no healthy "
                         "backend, no virtual host, or a policy of its own). The network delivers the request.",
                         a.server.to_string(), a.server_port, j.cause == Cause::closed_without_response ? "closes" : "resets",
                         matching);
    case Verdict::icmp_unreachable:
      return fmt::format("Ask the team that runs the router at {}: it refuses the connection's data to {} with ICMP {} "
                         "although it passed the handshake.",
                         at_hop(j), target_text(a), j.icmp ? j.icmp->name : "unreachable");
    default: break;
  }
  return {};
}

}  // namespace

std::string who_text(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  switch (j.verdict) {
    case Verdict::open: return "open: the server accepts";
    case Verdict::refused_by_host: return fmt::format(FMT_COMPILE("refused by the server itself (hop {})"), j.hop.value_or(0));
    case Verdict::refused_by_middlebox: return "refused by the device at " + at_hop(j);
    case Verdict::injected_reset: return "reset forged by a device at " + at_hop(j);
    case Verdict::icmp_unreachable:
      return fmt::format(FMT_COMPILE("ICMP {} from {} at {}"), j.icmp ? j.icmp->name : "error",
                         j.actor == Actor::host ? "the server" : "a router", at_hop(j));
    case Verdict::dropped:
      return j.hop ? fmt::format(FMT_COMPILE("dropped after {}"), at_hop(j)) : std::string("dropped silently (where: unknown)");
    case Verdict::inconclusive: return "inconclusive";
  }
  return "inconclusive";
}

std::string control_text(const AttemptResult& r, const std::vector<AttemptResult>& all) {
  const Attempt& a = r.attempt;
  if (r.judgement.stage != Stage::request || r.judgement.verdict == Verdict::open) return {};
  const std::optional<std::string>& refused = r.judgement.trigger;
  for (const AttemptResult& other : all) {
    const Attempt& o = other.attempt;
    if (o.server != a.server || o.server_port != a.server_port || other.judgement.verdict != Verdict::open ||
        other.judgement.stage != Stage::request || other.judgement.rule != Rule::request_answered ||
        other.judgement.trigger == refused)
      continue;
    const std::string named = trigger_text(o);
    return fmt::format("The control: the same server and port answered {} (attempt {}, from {}), so the refusal "
                       "follows what the request named, not the address or the port.",
                       named.empty() ? std::string("a request that named something else") : "the request for " + named,
                       o.id, o.client.to_string());
  }
  return {};
}

std::string finding(const AttemptResult& r) {
  const Attempt& a = r.attempt;
  const Judgement& j = r.judgement;
  const std::string conn = fmt::format(FMT_COMPILE("Connections from {} to {}"), a.client.to_string(), target_text(a));
  const Answer* x = deciding_answer(r);
  const std::optional<int> host_hop = r.host_hop ? std::optional<int>(r.host_hop->hop) : std::nullopt;
  if (j.stage == Stage::request) return request_finding(r, conn, at_hop(j));
  switch (j.verdict) {
    case Verdict::open:
      return fmt::format(FMT_COMPILE("{} are accepted: the server answered the SYN with a SYN/ACK{}. The network does not refuse "
                         "this connection."),
                         conn, j.hop ? fmt::format(FMT_COMPILE(" from hop {}"), *j.hop) : "");
    case Verdict::refused_by_host:
      // Without the server's own packets there is nothing to match: say what the reset
      // shows and what it cannot, rather than a comparison that was never made.
      if (!host_hop)
        return fmt::format(FMT_COMPILE("{} appear to be refused by the server itself ({}, hop {}): the TCP reset carries its "
                           "address and a host's initial TTL, but the capture holds no other packet of the server, "
                           "so it cannot tell the server's reset from a firewall's at that distance."),
                           conn, a.server.to_string(), j.hop.value_or(0));
      return fmt::format(FMT_COMPILE("{} are refused by the server itself ({}, hop {}): it answers the SYN with a TCP reset whose "
                         "TTL{} match its own packets. Nothing on the network path refuses them."),
                         conn, a.server.to_string(), j.hop.value_or(0),
                         r.host_syn_ack_rtt_ms ? ", IP-ID and timing" : " and IP-ID");
    case Verdict::refused_by_middlebox: {
      std::string why = "it answers the SYN with a TCP reset in the server's name";
      if (x && host_hop && j.hop && *host_hop > *j.hop)
        why += fmt::format(FMT_COMPILE(" that arrives {} hop{} early"), *host_hop - *j.hop, *host_hop - *j.hop == 1 ? "" : "s");
      if (x && r.host_syn_ack_rtt_ms && *r.host_syn_ack_rtt_ms > x->rtt_ms + 0.5)
        why += fmt::format(FMT_COMPILE(" and {:.1f} ms sooner than the server's own replies"), *r.host_syn_ack_rtt_ms - x->rtt_ms);
      return fmt::format(FMT_COMPILE("{} are refused by the device at {}, not by the server: {}."), conn, at_hop(j), why);
    }
    case Verdict::injected_reset:
      return fmt::format(FMT_COMPILE("{} are reset by a device at {} that forges a TCP reset in the server's name{}."), conn,
                         at_hop(j),
                         a.has_answer(AnswerKind::syn_ack) ? ", racing the server's own SYN/ACK" : "");
    case Verdict::icmp_unreachable:
      if (j.actor == Actor::host)
        return fmt::format(FMT_COMPILE("{} are refused by the server itself ({}): it answers the SYN with ICMP {}."), conn,
                           a.server.to_string(), j.icmp ? j.icmp->name : "unreachable");
      if (j.cause == Cause::no_host_at_address)
        return fmt::format(FMT_COMPILE("{} are refused by the router at {}: it looked for {} on its own network for {:.1f} s "
                           "and no device answered there (ICMP {}). Nobody lives at this address any more: the DNS "
                           "record is likely stale, or the host is down."),
                           conn, at_hop(j), a.server.to_string(), j.rtt_ms.value_or(0) / 1000,
                           j.icmp ? j.icmp->name : "unreachable");
      return fmt::format(FMT_COMPILE("{} are refused by the {} at {}: it answers the SYN with ICMP {} (type {}, code {})."), conn,
                         j.actor == Actor::router ? "router" : "device", at_hop(j),
                         j.icmp ? j.icmp->name : "unreachable", j.icmp ? j.icmp->type : 0, j.icmp ? j.icmp->code : 0);
    case Verdict::dropped:
      if (j.hop)
        return fmt::format(FMT_COMPILE("SYNs from {} to {} are dropped silently after {}: routers answer up to that hop and "
                           "nothing beyond it{}."),
                           a.client.to_string(), target_text(a), at_hop(j),
                           host_hop ? fmt::format(FMT_COMPILE(" (the server is at hop {})"), *host_hop) : "");
      return fmt::format(FMT_COMPILE("SYNs from {} to {} get no answer at all ({} SYN{}): something drops them silently."),
                         a.client.to_string(), target_text(a), a.syn_count, a.syn_count == 1 ? "" : "s");
    case Verdict::inconclusive:
      return fmt::format(FMT_COMPILE("The evidence does not support a verdict on {} to {}: {}"), a.client.to_string(),
                         target_text(a), j.evidence.empty() ? "no evidence." : j.evidence.front().detail);
  }
  return {};
}

namespace {

// What would settle a verdict the capture could not make sure of, as one sentence.
std::string settle_text(const Judgement& j) {
  std::string out;
  for (const std::string& step : j.to_settle) out += (out.empty() ? "" : "; ") + step;
  return out.empty() ? out : "To settle it: " + out + ".";
}

// What to ask for, by the verdict alone.
std::string verdict_step(const AttemptResult& r) {
  const Attempt& a = r.attempt;
  const Judgement& j = r.judgement;
  const std::string target = target_text(a);
  if (j.stage == Stage::request && j.verdict != Verdict::open) return request_step(r);
  switch (j.verdict) {
    case Verdict::open:
      return "Nothing to change on the network: the server accepts connections on this port. If the application "
             "still fails, look above TCP (TLS, the application's own logs).";
    case Verdict::refused_by_host:
      return fmt::format(FMT_COMPILE("Ask the owner of {}: either no service listens on port {} (check `ss -ltn`), or the host's "
                         "own firewall rejects it with a reset. The network delivered the SYN."),
                         a.server.to_string(), a.server_port);
    case Verdict::refused_by_middlebox:
      return fmt::format(FMT_COMPILE("Ask the team that runs the device at {}: a rule there rejects TCP to {} with a reset. The "
                         "server never sees the SYN."),
                         at_hop(j), target);
    case Verdict::injected_reset:
      return fmt::format(FMT_COMPILE("A device at {} sees the traffic and forges resets (an IPS, DPI or filtering box). Ask its "
                         "owner which policy fires on {}."),
                         at_hop(j), target);
    case Verdict::icmp_unreachable: {
      const std::string name = j.icmp ? j.icmp->name : "unreachable";
      if (j.actor == Actor::host)
        return fmt::format(FMT_COMPILE("The server itself refuses: its firewall rejects port {} with ICMP {}{}. Ask its owner."),
                           a.server_port, name,
                           name == "port-unreachable" ? " (or, unusually, its stack reports the port closed this way)" : "");
      if (j.cause == Cause::no_host_at_address)
        return fmt::format(FMT_COMPILE("Ask the owner of the DNS name whether {} is still its address (a stale record or cache "
                           "points here), and the server team whether the host is up. No firewall refuses this: the "
                           "router at {} finds no device at the address."),
                           a.server.to_string(), at_hop(j));
      if (name.find("prohibited") != std::string::npos || name == "source-policy-failed" || name == "reject-route")
        return fmt::format(FMT_COMPILE("Ask the team that runs the router at {}: an ACL or firewall rule there rejects TCP to {} "
                           "({})."),
                           at_hop(j), target, name);
      return fmt::format(FMT_COMPILE("The router at {} cannot deliver to {} ({}): a routing or neighbour problem there, or a "
                         "reject rule using that code. Ask its team."),
                         at_hop(j), a.server.to_string(), name);
    }
    case Verdict::dropped:
      if (j.hop)
        return fmt::format(FMT_COMPILE("A rule between hop {} and hop {} drops TCP to {} silently (DROP, not REJECT). Ask the "
                           "teams of those two devices."),
                           *j.hop, *j.hop + 1, target);
      return fmt::format(FMT_COMPILE("Something drops the SYNs silently. Run `synprobe trace {}` from the client to find the hop."),
                         endpoint_text(a.server, a.server_port));
    case Verdict::inconclusive:
      return "Capture both directions, closer to the client and for longer, or probe live with `synprobe probe`.";
  }
  return {};
}

}  // namespace

std::string next_step(const AttemptResult& r) {
  const std::string step = verdict_step(r);
  const Judgement& j = r.judgement;
  if (j.to_settle.empty() || (j.verdict != Verdict::inconclusive && j.confidence >= 0.75)) return step;
  if (j.verdict == Verdict::inconclusive) return settle_text(j);
  return step + " " + settle_text(j);
}

std::string hop_answers_text(const TraceHop& h, bool with_changes) {
  std::string out;
  for (const HopAnswer a : h.answers) out += (out.empty() ? "" : " ") + std::string(hop_answer_name(a));
  if (h.icmp) out += " (" + h.icmp->name + ")";
  if (with_changes)
    for (const PathChange& c : h.changes) out += "; changed " + describe(c);
  return out;
}

bool names_hop(const Judgement& j, const TraceHop& h) {
  return j.hop && *j.hop == h.hop && j.verdict != Verdict::open;
}

std::vector<PacketRow> packet_rows(const AttemptResult& r) {
  const Attempt& a = r.attempt;
  std::vector<std::pair<Timestamp, PacketRow>> rows;
  for (const SynTransmission& t : a.transmissions) {
    PacketRow row{time_of_day(t.ts), "→", "SYN", a.client.to_string(), std::to_string(t.ttl),
                  t.has_ip_id ? std::to_string(t.ip_id) : "-", fmt::format(FMT_COMPILE("seq {}"), a.isn)};
    rows.emplace_back(t.ts, row);
  }
  for (const Answer& x : a.answers) {
    PacketRow row;
    row.time = time_of_day(x.ts);
    row.direction = "←";
    row.packet = x.kind == AnswerKind::icmp_error
                     ? fmt::format(FMT_COMPILE("ICMP {}"), icmp_name(a.family(), x.icmp_type, x.icmp_code))
                     : tcp_flags_text(x.tcp_flags);
    row.from = x.from.to_string();
    row.ttl = fmt::format(FMT_COMPILE("{} (hop {} of {})"), x.ttl.observed, x.ttl.hop, x.ttl.initial);
    row.ip_id = x.has_ip_id ? std::to_string(x.ip_id) : "-";
    row.seq_ack = x.kind == AnswerKind::icmp_error
                      ? (x.quoted_ttl ? fmt::format(FMT_COMPILE("quotes our SYN (TTL {} left)"), *x.quoted_ttl) : "quotes our SYN")
                      : fmt::format(FMT_COMPILE("seq {} ack {}"), x.seq, x.ack);
    rows.emplace_back(x.ts, row);
  }
  if (a.request_stage && a.request_stage->request) {
    const ClientRequest& q = *a.request_stage->request;
    const std::string t = trigger_text(a);
    rows.emplace_back(q.sent, PacketRow{time_of_day(q.sent), "→", "request", a.client.to_string(), std::to_string(q.ttl), "-",
                                        fmt::format("seq {}, {} bytes{}{}", q.seq, q.length, t.empty() ? "" : ", ", t)});
  }
  if (a.request_stage)
    for (const Answer& x : a.request_stage->replies) {
      const bool icmp = x.kind == AnswerKind::icmp_error;
      rows.emplace_back(x.ts, PacketRow{time_of_day(x.ts), "←",
                                        icmp ? fmt::format("ICMP {}", icmp_name(a.family(), x.icmp_type, x.icmp_code))
                                             : tcp_flags_text(x.tcp_flags),
                                        x.from.to_string(), fmt::format("{} (hop {} of {})", x.ttl.observed, x.ttl.hop, x.ttl.initial),
                                        x.has_ip_id ? std::to_string(x.ip_id) : "-",
                                        icmp ? std::string("quotes the request")
                                             : fmt::format("seq {} ack {}{}", x.seq, x.ack,
                                                           x.payload ? fmt::format(", {} bytes", x.payload) : std::string{})});
    }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& l, const auto& r2) { return l.first < r2.first; });
  std::vector<PacketRow> out;
  for (auto& [ts, row] : rows) out.push_back(std::move(row));
  return out;
}

std::string name_next_step(const NameFinding& f) {
  std::vector<std::string> stale, failing;
  for (const AddressOutcome& o : f.addresses) {
    if (o.cause == Cause::no_host_at_address) stale.push_back(o.address.to_string());
    else if (o.verdict != Verdict::open) failing.push_back(o.address.to_string());
  }
  std::string out;
  if (!stale.empty())
    out += fmt::format(FMT_COMPILE("Ask the owner of the DNS name {} to remove or correct {} (no device lives there any more), and "
                       "the server team whether that host was moved or is down. "),
                       f.name, and_list(stale));
  if (f.family_split == FamilySplit::ipv6_fails)
    out += fmt::format(FMT_COMPILE("IPv6 alone fails: ask for the IPv6 path to {} port {} to be opened like the IPv4 one (a rule "
                       "often exists for IPv4 only), or for the AAAA records to be withdrawn until it is. "),
                       f.name, f.port);
  else if (f.family_split == FamilySplit::ipv4_fails)
    out += fmt::format(FMT_COMPILE("IPv4 alone fails: ask for the IPv4 path to {} port {} to be opened like the IPv6 one. "), f.name,
                       f.port);
  else if (!failing.empty())
    out += fmt::format(FMT_COMPILE("For {}: see each attempt's own finding below for whom to ask. "), and_list(failing));
  if (out.empty()) out = "Nothing to ask for: every address accepts. ";
  out.pop_back();
  return out;
}

namespace {

// The names of those of `signals` the evidence holds, joined: "early-reset, ttl-hop-differs".
std::string present(const Judgement& j, std::initializer_list<Signal> signals) {
  // One pass over the evidence, then a bit test per signal asked for.
  std::bitset<256> given;
  for (const Evidence& e : j.evidence) given.set(static_cast<std::size_t>(e.signal));
  std::string names;
  for (const Signal s : signals) {
    if (!given.test(static_cast<std::size_t>(s))) continue;
    if (!names.empty()) names += ", ";
    names += signal_name(s);
  }
  return names;
}

std::string syns_text(std::uint32_t n) { return fmt::format(FMT_COMPILE("{} SYN{}"), n, n == 1 ? "" : "s"); }

// The verdict's own words, by the rule that decided it (docs/verdicts.md).
std::string rule_words(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  switch (j.rule) {
    case Rule::syn_ack_acknowledged: return "syn-ack, handshake completed";
    case Rule::syn_ack: return "syn-ack (the client's ACK not captured)";
    case Rule::client_proves_syn_ack: return "the client acted on a syn-ack the capture missed";
    case Rule::reset_races_syn_ack: return "a reset raced the host's syn-ack";
    case Rule::icmp_races_syn_ack: return "an ICMP unreachable raced the host's syn-ack";
    case Rule::bare_reset: return "a reset without ACK, which no stack sends for a SYN";
    case Rule::reset_burst: return "resets from several senders";
    case Rule::reset_and_icmp: return "both a reset and an ICMP unreachable";
    case Rule::reset_decisive_nearer: return "a reset from nearer than the host";
    case Rule::reset_weighed:
      return j.verdict == Verdict::refused_by_host ? "a reset, weighed as the host's" : "a reset, weighed as a nearer device's";
    case Rule::icmp_from_router: return "ICMP unreachable from a router on the path";
    case Rule::icmp_no_neighbour: return "a router's host-unreachable came seconds late: no device at the address";
    case Rule::icmp_from_host: return "ICMP unreachable from the destination itself";
    case Rule::icmp_spoofs_host: return "ICMP unreachable in the destination's name, from nearer";
    case Rule::icmp_other: return "only an ICMP error that refuses nothing";
    case Rule::ttl_limited_expiry: return "time exceeded for a TTL-limited probe";
    case Rule::routing_loop: return "time exceeded at an ordinary TTL: a routing loop";
    case Rule::silence: return fmt::format(FMT_COMPILE("no answer to {}"), syns_text(r.attempt.syn_count));
    case Rule::silence_one_direction_retransmitted:
      return fmt::format(FMT_COMPILE("one direction captured; the client sent {} and never acted on a syn-ack"),
                         syns_text(r.attempt.syn_count));
    case Rule::silence_one_direction: return "one direction captured, one SYN: an answer may be unseen";
    case Rule::silence_capture_ended: return "the capture ends less than 1 s after the SYN";
    case Rule::silence_client_acted: return "no answer, yet the client sent on ISN+1 with ACK 0";
    case Rule::answered_for_earlier: return "the host answered in an earlier connection's terms";
    case Rule::ttl_sweep_dropped: return "a TTL sweep is answered up to a hop and not beyond";
    case Rule::address_no_neighbour: return "no answer; another port of the address showed no device lives there";
    case Rule::request_answered: return "after the handshake, the server answered the request";
    case Rule::request_reset_races_reply: return "after the request, a reset raced the server's own answer";
    case Rule::request_reset_burst: return "after the request, resets from several senders";
    case Rule::request_reset_nearer: return "after the request, a reset from nearer than the server";
    case Rule::request_reset_weighed:
      return j.verdict == Verdict::refused_by_host ? "after the request, a reset weighed as the server's"
                                                   : "after the request, a reset weighed as a nearer device's";
    case Rule::request_closed:
      return j.verdict == Verdict::refused_by_host ? "after the request, the server closed without answering"
                                                   : "after the request, a FIN from nearer than the server";
    case Rule::request_icmp: return "after the handshake, an ICMP unreachable quoted the request";
    case Rule::request_dropped: return "after the handshake, the request was never acknowledged";
    case Rule::request_acknowledged: return "after the handshake, the request was acknowledged, not yet answered";
    case Rule::trace_located:
      return j.stage == Stage::request ? "TTL-limited copies of the request located it" : "TTL-limited SYNs located it";
  }
  return std::string(rule_name(j.rule));
}

}  // namespace

std::string reason_text(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  std::string signals;
  if (j.rule == Rule::reset_weighed || j.rule == Rule::icmp_spoofs_host || j.rule == Rule::request_reset_weighed ||
      j.rule == Rule::request_closed)
    signals = present(j, {Signal::ttl_matches_host, Signal::ttl_hop_differs, Signal::baseline_hop_varies,
                          Signal::ip_id_consistent, Signal::ip_id_follows_flow, Signal::ip_id_breaks_pattern,
                          Signal::rtt_matches_host, Signal::no_baseline});
  // The decisive signals (docs/verdicts.md), then what a trace measured.
  const std::string decisive =
      present(j, {Signal::early_reset, Signal::ttl_initial_differs, Signal::network_gear_ttl,
                  Signal::client_proves_syn_ack, Signal::reset_without_ack, Signal::neighbour_unresolved,
                  Signal::address_no_host, Signal::icmp_rate_limit_suspected,
                  Signal::reset_before_host, Signal::ttl_forged, Signal::rtt_matches_hop, Signal::on_path_injector,
                  Signal::icmp_sender_hop, Signal::dropped_after_hop, Signal::control_path_continues,
                  Signal::trace_reached_host, Signal::trace_shared, Signal::ttl_sweep_silent,
                  Signal::reset_races_reply, Signal::signals_disagree});
  if (!decisive.empty()) signals += (signals.empty() ? "" : ", ") + decisive;
  std::string text = rule_words(r);
  if (!signals.empty()) text += " (" + signals + ")";
  return text;
}

}  // namespace synprobe
