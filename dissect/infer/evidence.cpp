#include "dissect/infer/evidence.hpp"

#include <array>

namespace synprobe {
namespace {

constexpr std::array signals{
    SignalInfo{Signal::syn_ack, "syn-ack", "A SYN/ACK acknowledged the SYN (ack = ISN+1)."},
    SignalInfo{Signal::handshake_completed, "handshake-completed",
               "The client acknowledged the SYN/ACK: the three-way handshake completed."},
    SignalInfo{Signal::reset, "reset", "A RST acknowledged the SYN (ack = ISN+1)."},
    SignalInfo{Signal::reset_without_ack, "reset-without-ack",
               "A RST without the ACK flag arrived for the flow; stacks answer a SYN with RST/ACK, "
               "and a client in SYN-SENT ignores a bare RST."},
    SignalInfo{Signal::ttl_matches_host, "ttl-matches-host",
               "The answer's initial TTL and hop equal those of the host's own packets."},
    SignalInfo{Signal::ttl_hop_differs, "ttl-hop-differs",
               "The answer arrives from another hop than the host's own packets."},
    SignalInfo{Signal::ttl_initial_differs, "ttl-initial-differs",
               "The answer's initial TTL class (32/64/128/255) differs from the host's."},
    SignalInfo{Signal::no_baseline, "no-baseline",
               "The capture holds no other packet of the host to compare the answer with."},
    SignalInfo{Signal::baseline_hop_varies, "baseline-hop-varies",
               "The host's own packets arrive from more than one hop (path change or balancing)."},
    SignalInfo{Signal::ip_id_consistent, "ip-id-consistent",
               "The answer's IP-ID fits the host's IP-ID behaviour."},
    SignalInfo{Signal::ip_id_breaks_pattern, "ip-id-breaks-pattern",
               "The answer's IP-ID does not fit the host's IP-ID behaviour."},
    SignalInfo{Signal::rtt_matches_host, "rtt-matches-host",
               "The answer took about as long as the host's SYN/ACKs."},
    SignalInfo{Signal::early_reset, "early-reset",
               "The RST arrived much sooner than the host's SYN/ACKs do: a nearer device sent it."},
    SignalInfo{Signal::reset_burst, "reset-burst",
               "Several RSTs answered the SYN from senders with different TTLs or IP-IDs."},
    SignalInfo{Signal::reset_and_syn_ack, "reset-and-syn-ack",
               "Both a RST and a SYN/ACK answered the SYN: a device raced the host."},
    SignalInfo{Signal::conflicting_answers, "conflicting-answers",
               "Different kinds of answer came back for the same SYN."},
    SignalInfo{Signal::icmp_error, "icmp-error", "An ICMP error quoting the SYN came back."},
    SignalInfo{Signal::icmp_from_host, "icmp-from-host",
               "The ICMP error was sent by the destination itself."},
    SignalInfo{Signal::icmp_from_router, "icmp-from-router",
               "The ICMP error was sent by another device on the path."},
    SignalInfo{Signal::icmp_spoofs_host, "icmp-spoofs-host",
               "The ICMP error carries the destination's address but arrives from another hop."},
    SignalInfo{Signal::quoted_ttl, "quoted-ttl",
               "The TTL the SYN still had when the ICMP sender saw it (quoted in the error)."},
    SignalInfo{Signal::ttl_expired, "ttl-expired",
               "A time-exceeded error: the SYN's TTL ran out before the destination."},
    SignalInfo{Signal::hop_address_known, "hop-address-known",
               "A time-exceeded error in the capture names the address of that hop."},
    SignalInfo{Signal::no_answer, "no-answer", "Nothing answered the SYN."},
    SignalInfo{Signal::syn_retransmitted, "syn-retransmitted",
               "The client sent the SYN more than once without an answer."},
    SignalInfo{Signal::one_direction_capture, "one-direction-capture",
               "The capture holds no packet sent to the client: answers may exist but were not captured."},
    SignalInfo{Signal::capture_ended_early, "capture-ended-early",
               "The capture stopped before an answer was due."},
    SignalInfo{Signal::unmatched_reset, "unmatched-reset",
               "A RST for the flow whose ack is not ISN+1 (a blind spoof or stale state): not an answer."},
    SignalInfo{Signal::unmatched_syn_ack, "unmatched-syn-ack",
               "A SYN/ACK for the flow whose ack is not ISN+1: not an answer."},
    SignalInfo{Signal::client_reset, "client-reset",
               "The client reset the SYN/ACK itself (expected when probing with raw sockets)."},
    SignalInfo{Signal::teardown_reset, "teardown-reset",
               "The server reset the connection after the handshake: not an answer to the SYN."},
    SignalInfo{Signal::probes_disagree, "probes-disagree",
               "Repeated probes of one target drew different verdicts (loss, balancing, or a racing device)."},
    SignalInfo{Signal::reset_before_host, "reset-before-host",
               "TTL-limited SYNs (or copies of the request) draw RSTs at a TTL too small to reach the host: a device in the path refuses."},
    SignalInfo{Signal::ttl_forged, "ttl-forged",
               "The RST arrives with the host's TTL, but TTL-limited SYNs (or copies of the request) show it comes from a nearer hop."},
    SignalInfo{Signal::rtt_matches_hop, "rtt-matches-hop",
               "The refusal takes the round-trip time of a hop on the path, not the host's."},
    SignalInfo{Signal::on_path_injector, "on-path-injector",
               "One TTL drew both a time-exceeded and a RST: a device there sees the SYN (or the request) and races a forged RST."},
    SignalInfo{Signal::icmp_sender_hop, "icmp-sender-hop",
               "The ICMP error's sender answers time-exceeded at this hop of the trace."},
    SignalInfo{Signal::dropped_after_hop, "dropped-after-hop",
               "TTL-limited SYNs (or copies of the request) are answered up to a hop and never beyond: the drop is after it."},
    SignalInfo{Signal::control_path_continues, "control-path-continues",
               "SYNs to a control port on the same path are answered beyond that hop: the silence is port-specific."},
    SignalInfo{Signal::silent_hop, "silent-hop", "A hop never answered time-exceeded (shown as *)."},
    SignalInfo{Signal::icmp_rate_limit_suspected, "icmp-rate-limit-suspected",
               "Answers come and go at a hop: ICMP rate limiting rather than policy may explain the silence."},
    SignalInfo{Signal::path_rewrites, "path-rewrites",
               "The SYN quoted by a router differs from the one sent (MSS, options, DSCP/ECN, IP-ID, NAT): a middlebox rewrote it."},
    SignalInfo{Signal::trace_reached_host, "trace-reached-host",
               "TTL-limited SYNs (or copies of the request) reached the host itself: its hop is known from the trace."},
    SignalInfo{Signal::signature, "signature",
               "The refusal matches a known refuser's packet shape (the table in dissect/infer/signatures.cpp)."},
    SignalInfo{Signal::trace_shared, "trace-shared",
               "Located by the trace of another target of the same host whose answer was the same (same kind, "
               "sender, hop and code): once 4 targets from one source address were traced, the routers' ICMP "
               "budgets go to answers not yet traced."},
    SignalInfo{Signal::not_traced, "not-traced",
               "No TTL-limited SYNs for this target: the run's trace budget (--trace-budget; traces go in waves of "
               "8 per source address through routers that ration ICMP) or the packet cap did not reach it; the "
               "detail gives the command that locates it."},
    SignalInfo{Signal::network_gear_ttl, "network-gear-ttl",
               "Decisive: the answer in the host's name starts at TTL 255, which routers and firewalls use and "
               "general host stacks (Linux, BSD, macOS 64; Windows 128) never do, while the host's own packets, if "
               "any, start lower. Solaris/illumos hosts (255) are the known exception, stated in the confidence."},
    SignalInfo{Signal::client_proves_syn_ack, "client-proves-syn-ack",
               "Decisive: with no SYN/ACK in the capture, the client still acknowledged the server, sent data or "
               "a FIN on the SYN's sequence: a stack leaves SYN-SENT only on an acceptable SYN/ACK, so one reached it."},
    SignalInfo{Signal::retransmission_schedule, "retransmission-schedule",
               "The client's SYN retransmissions and the stack whose schedule they fit: a client retransmits only "
               "while nothing acceptable (a SYN/ACK, a RST, on Linux an ICMP error) has reached it."},
    SignalInfo{Signal::reordered_answer, "reordered-answer",
               "The answer was written up to 1 s before the SYN it acknowledges (a capture merged from several "
               "queues or interfaces): matched, with its round-trip time unknown."},
    SignalInfo{Signal::signals_disagree, "signals-disagree",
               "A decisive signal and a strong one point different ways: the verdict follows the decisive one, "
               "with a lower confidence, and names both."},
    SignalInfo{Signal::tunnelled, "tunnelled",
               "The SYN travelled inside a tunnel (IP-in-IP, 6in4, 4in6, GRE, VXLAN): the verdict is on the inner "
               "connection, hops counted on the inner header."},
    SignalInfo{Signal::reassembled, "reassembled",
               "The SYN arrived in IP fragments; they were reassembled as far as its TCP header."},
    SignalInfo{Signal::fast_open, "fast-open",
               "The SYN carried data (TCP Fast Open): a SYN/ACK may acknowledge the data too."},
    SignalInfo{Signal::client_acts_unproven, "client-acts-unproven",
               "With no answer in the capture, the client still sent a FIN or data on ISN+1 with an ACK field of 0, "
               "which no stack waiting in SYN-SENT sends: not proof of a SYN/ACK (a crafted segment), but not the "
               "silence of a drop either."},
    SignalInfo{Signal::ttl_sweep_silent, "ttl-sweep-silent",
               "The SYN was sent with rising TTLs (a traceroute -T or tracebox sweep in the capture): routers "
               "answered time-exceeded up to a hop, and the transmissions with larger TTLs, up to the normal one, "
               "got nothing: the SYNs die after that hop."},
    SignalInfo{Signal::answered_for_earlier, "answered-for-earlier",
               "After this SYN the host sent, on the same 4-tuple, a SYN/ACK acknowledging an earlier attempt's "
               "ISN: it still holds that connection and answers in its terms (RFC 9293 3.10.7.4, RFC 5961's "
               "challenge ACK). The host is alive and the port answers, but this SYN got no answer of its own."},
    SignalInfo{Signal::neighbour_unresolved, "neighbour-unresolved",
               "A router's host-unreachable (ICMPv6 address-unreachable) came at least a second later than the "
               "path explains: the router held the SYN while it resolved the address on its own network (ARP, "
               "Neighbour Discovery: 3 tries a second apart on Linux and by RFC 4861) and no device answered. "
               "Nobody lives at the address: a stale DNS record or a host that is down (JSON cause "
               "no-host-at-address)."},
    SignalInfo{Signal::address_no_host, "address-no-host",
               "This port got no answer of its own, but another port of the same address, probed within the same "
               "neighbour resolution, drew the router's late host-unreachable: the router has no device at the "
               "address, whatever the port. It stays silent for some SYNs because it queues only a few packets per "
               "unresolved neighbour and rate-limits its ICMP errors (Linux: a burst of 6, then one a second per "
               "destination)."},
    SignalInfo{Signal::request_sent, "request-sent",
               "After the handshake the client sent its request: its first data, with what it asked for (a TLS "
               "ClientHello's server name, an HTTP request's Host), its size and its TTL. An application firewall "
               "matches on this, so it is the refusal's trigger (JSON trigger)."},
    SignalInfo{Signal::request_answered, "request-answered",
               "The server's side sent data after the request, before any RST: the request was answered."},
    SignalInfo{Signal::request_acknowledged, "request-acknowledged",
               "The server's TCP acknowledged the request's bytes and sent nothing more before the capture or the "
               "client ended: the request reached a TCP endpoint, which has not answered."},
    SignalInfo{Signal::request_reset, "request-reset",
               "A RST ended the established connection after the handshake, before any answer to the request: "
               "weighed against the connection's own SYN/ACK and packets (TTL, IP-ID, timing) to tell the "
               "server's reset from a device's."},
    SignalInfo{Signal::request_closed, "request-closed",
               "The server's side closed the connection with a FIN after the handshake, before any answer to the "
               "request (a proxy with no backend, a server refusing what was asked)."},
    SignalInfo{Signal::request_unanswered, "request-unanswered",
               "The client sent its request again and again and the server never acknowledged it, though its "
               "SYN/ACK crossed the same path: something dropped the request after the handshake had passed."},
    SignalInfo{Signal::reset_races_reply, "reset-races-reply",
               "A RST in the server's name came first, then the server's own answer to the request: an on-path "
               "device injected the RST (it sees the request but cannot stop it)."},
    SignalInfo{Signal::request_icmp_error, "request-icmp-error",
               "An ICMP destination-unreachable quoting the request (not the SYN) came back."},
    SignalInfo{Signal::ip_id_follows_flow, "ip-id-follows-flow",
               "The answer's IP-ID continues the counter of the server's own packets on this connection: the same "
               "stack sent it."},
};

// The table lists the signals in the enum's order, so a row's index is its value.
constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < signals.size(); ++i)
    if (static_cast<std::size_t>(signals[i].signal) != i) return false;
  return true;
}
static_assert(in_enum_order(), "the signal table lists the signals in the enum's order");

}  // namespace

std::span<const SignalInfo> signal_table() { return signals; }

std::string_view signal_name(Signal s) {
  const auto i = static_cast<std::size_t>(s);
  return i < signals.size() ? signals[i].name : "unknown";
}

}  // namespace synprobe

namespace synprobe {

std::optional<Signal> signal_from_name(std::string_view name) {
  for (const SignalInfo& info : signal_table())
    if (info.name == name) return info.signal;
  return std::nullopt;
}

}  // namespace synprobe
