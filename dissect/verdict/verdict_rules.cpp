#include "dissect/verdict/verdict_rules.hpp"

#include <array>

namespace synprobe {
namespace {

// In the order judge() tries them: the first that applies decides.
constexpr std::array rules{
    RuleInfo{Rule::syn_ack_acknowledged, "syn-ack-acknowledged", "open", "0.99",
             "a SYN/ACK acknowledged the SYN (ack = ISN+1, up to ISN+1+data for Fast Open) and the client "
             "acknowledged it"},
    RuleInfo{Rule::syn_ack, "syn-ack", "open", "0.95", "a SYN/ACK acknowledged the SYN; no client ACK in the capture"},
    RuleInfo{Rule::client_proves_syn_ack, "client-proves-syn-ack", "open",
             "0.9 (ACK, data, FIN or RST/ACK on the SYN's sequence); 0.6 for a bare RST",
             "no SYN/ACK in the capture, no refusal, but the client acted as only a SYN/ACK lets it"},
    RuleInfo{Rule::reset_races_syn_ack, "reset-races-syn-ack", "injected-reset",
             "0.9 when the two differ in TTL, else 0.75", "a RST and a SYN/ACK both answered the SYN"},
    RuleInfo{Rule::icmp_races_syn_ack, "icmp-races-syn-ack", "injected-reset", "0.6",
             "one transmission of the SYN drew both a SYN/ACK and an ICMP unreachable"},
    RuleInfo{Rule::bare_reset, "bare-reset", "injected-reset", "0.8",
             "a RST without ACK answered the SYN: no stack answers so (RFC 9293 3.10.7.1)"},
    RuleInfo{Rule::reset_burst, "reset-burst", "injected-reset", "0.8",
             "several RSTs that disagree on TTL or IP-ID answered the SYN"},
    RuleInfo{Rule::reset_and_icmp, "reset-and-icmp", "injected-reset", "0.6",
             "the SYN drew both a RST and an ICMP unreachable"},
    RuleInfo{Rule::reset_decisive_nearer, "reset-decisive-nearer", "refused-by-middlebox",
             "0.9 with a baseline, 0.75 without; 0.1 less for each strong signal the other way (the host's "
             "TTL imitated, its IP-ID fitting), never below 0.6",
             "a decisive signal says a nearer device sent the RST: it came sooner than the host's fastest own "
             "answer by more than the jitter margin (early-reset), its initial TTL class is not the host's "
             "(ttl-initial-differs), or it starts at 255 (network-gear-ttl)"},
    RuleInfo{Rule::reset_weighed, "reset-weighed", "refused-by-host refused-by-middlebox",
             "0.5 + |host - middlebox| / 2, at most 0.97",
             "no decisive signal: the weights of TTL hop, IP-ID and timing against the host's baseline decide"},
    RuleInfo{Rule::icmp_from_router, "icmp-from-router", "icmp-unreachable", "0.9",
             "an ICMP destination-unreachable quoting the SYN, from another address than the destination"},
    RuleInfo{Rule::icmp_no_neighbour, "icmp-no-neighbour", "icmp-unreachable", "0.9",
             "a router's host-unreachable (ICMPv6 address-unreachable) came at least 1 s later than the path "
             "explains: its neighbour resolution failed, no device at the address (cause no-host-at-address)"},
    RuleInfo{Rule::icmp_from_host, "icmp-from-host", "icmp-unreachable", "0.9",
             "an ICMP destination-unreachable from the destination's address that fits the host's baseline"},
    RuleInfo{Rule::icmp_spoofs_host, "icmp-spoofs-host", "icmp-unreachable", "as reset-decisive-nearer or reset-weighed",
             "an ICMP unreachable in the destination's name that the baseline places nearer (actor middlebox)"},
    RuleInfo{Rule::icmp_other, "icmp-other", "inconclusive", "0",
             "only another ICMP error quoted the SYN (too big, parameter problem, redirect…)"},
    RuleInfo{Rule::ttl_limited_expiry, "ttl-limited-expiry", "inconclusive", "0",
             "time exceeded for a SYN sent with TTL at most 32: a TTL-limited probe that did its job"},
    RuleInfo{Rule::routing_loop, "routing-loop", "icmp-unreachable", "0.7",
             "time exceeded for a SYN sent with an ordinary TTL"},
    RuleInfo{Rule::silence, "silence", "dropped",
             "0.65 / 0.8 / 0.9 for 1 / 2 / 3+ SYNs; 0.5 with unmatched RSTs for the flow",
             "no answer, and the capture shows packets sent to the client"},
    RuleInfo{Rule::silence_one_direction_retransmitted, "silence-one-direction-retransmitted", "dropped",
             "0.6; 0.7 when the SYN is a Linux stack's (which stops retrying on an ICMP error)",
             "the capture holds no packet sent to the client, but the client retransmitted its SYN and never "
             "acted as after a SYN/ACK: nothing acceptable reached it"},
    RuleInfo{Rule::silence_one_direction, "silence-one-direction", "inconclusive", "0",
             "the capture holds no packet sent to the client and the client sent its SYN once"},
    RuleInfo{Rule::silence_capture_ended, "silence-capture-ended", "inconclusive", "0",
             "the capture ends less than a second after the first of its unanswered SYNs"},
    RuleInfo{Rule::silence_client_acted, "silence-client-acted", "inconclusive", "0",
             "no answer, but the client sent a FIN or data on ISN+1 with an ACK field of 0: not silence, not proof"},
    RuleInfo{Rule::answered_for_earlier, "answered-for-earlier", "inconclusive", "0",
             "no answer of its own, but the host answered on the same 4-tuple in an earlier attempt's terms (it "
             "holds that connection): not silence, and no verdict on this SYN"},
    RuleInfo{Rule::ttl_sweep_dropped, "ttl-sweep-dropped", "dropped",
             "0.7; 0.8 when the normal-TTL SYN was retransmitted",
             "the SYN was swept with rising TTLs: time-exceeded up to hop h, nothing to the larger TTLs up to the "
             "normal one: dropped after hop h (hop_range [h, h+1])"},
    RuleInfo{Rule::address_no_neighbour, "address-no-neighbour", "dropped", "0.75 at most",
             "no answer of its own, but another port of the same address drew icmp-no-neighbour within the same "
             "resolution: the router at that hop has no device at the address (cause no-host-at-address, actor "
             "router, that router's hop and address; applied across a live run's attempts)"},
    // The request stage: tried, in this order, only when the rules above found the SYN
    // answered (open). Their verdicts carry stage "request".
    RuleInfo{Rule::request_answered, "request-answered", "open", "0.99",
             "the server's side sent data after the client's request, before any RST"},
    RuleInfo{Rule::request_reset_races_reply, "request-reset-races-reply", "injected-reset",
             "0.9 when the RST's TTL differs from the server's, else 0.75",
             "a RST in the server's name came after the request, and then the server's own answer to it: an on-path "
             "device raced the server (it sees the request but does not stop it)"},
    RuleInfo{Rule::request_reset_burst, "request-reset-burst", "injected-reset", "0.8",
             "several RSTs that disagree on TTL or IP-ID ended the connection after the handshake"},
    RuleInfo{Rule::request_reset_nearer, "request-reset-nearer", "refused-by-middlebox",
             "as reset-decisive-nearer (0.9 less 0.1 for each strong signal the other way, never below 0.6)",
             "a RST (or FIN) after the handshake that a decisive signal gives to a nearer device: it came sooner "
             "after the request than the server's round trip allows (early-reset), or its initial TTL class is not "
             "that of the server's packets on the same connection (ttl-initial-differs, network-gear-ttl)"},
    RuleInfo{Rule::request_reset_weighed, "request-reset-weighed", "refused-by-host refused-by-middlebox",
             "0.5 + |host - middlebox| / 2, at most 0.97",
             "a RST after the handshake with no decisive signal: its TTL hop against the connection's SYN/ACK, its "
             "IP-ID against the server's packets on the connection, and its timing decide"},
    RuleInfo{Rule::request_closed, "request-closed", "refused-by-host refused-by-middlebox",
             "as request-reset-nearer or request-reset-weighed",
             "the server's side closed the connection with a FIN after the handshake, before any answer; weighed as "
             "a RST is (cause closed-without-response when the server sent it)"},
    RuleInfo{Rule::request_icmp, "request-icmp", "icmp-unreachable", "0.85",
             "an ICMP destination-unreachable quoted the request: the router (or the host) that sent it refused "
             "the connection's data"},
    RuleInfo{Rule::request_dropped, "request-dropped", "dropped",
             "0.7 / 0.8 / 0.9 for 2 / 3 / 4+ transmissions of the request",
             "the client sent its request more than once and the server's side never acknowledged it, nor sent "
             "anything, though the SYN/ACK crossed the same path: dropped after the handshake"},
    RuleInfo{Rule::request_acknowledged, "request-acknowledged", "open", "0.8",
             "the server's TCP acknowledged the request and sent nothing more before the capture or the client "
             "ended: the request reached a TCP endpoint that has not answered yet"},
    RuleInfo{Rule::trace_located, "trace-located", "any",
             "as the trace's evidence says (docs/probing.md)",
             "live runs: TTL-limited SYNs moved or located the verdict (dissect/trace/trace.cpp)"},
};

}  // namespace

std::span<const RuleInfo> rule_table() { return rules; }

std::string_view rule_name(Rule r) {
  for (const RuleInfo& info : rules)
    if (info.rule == r) return info.name;
  return "unknown";
}

std::optional<Rule> rule_from_name(std::string_view name) {
  for (const RuleInfo& info : rules)
    if (info.name == name) return info.rule;
  return std::nullopt;
}

}  // namespace synprobe
