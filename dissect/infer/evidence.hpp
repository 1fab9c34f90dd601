#pragma once
// The signals the verdict engine reasons with. One table names and describes
// each: the JSON "signal" values and docs/signals.md are checked against it.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace synprobe {

enum class Signal : std::uint8_t {
  syn_ack,               // a SYN/ACK acknowledged the SYN
  handshake_completed,   // the client acknowledged the SYN/ACK
  reset,                 // a RST acknowledged the SYN
  reset_without_ack,     // a RST without ACK arrived for the flow
  ttl_matches_host,      // the answer's hop and initial TTL equal the host's baseline
  ttl_hop_differs,       // the answer arrives from another hop than the host's packets
  ttl_initial_differs,   // the answer's initial TTL class differs from the host's
  no_baseline,           // no other packet of the host to compare with
  baseline_hop_varies,   // the host's own packets arrive from several hops
  ip_id_consistent,      // the answer's IP-ID fits the host's IP-ID behaviour
  ip_id_breaks_pattern,  // the answer's IP-ID does not fit it
  rtt_matches_host,      // the answer took as long as the host's SYN/ACKs
  early_reset,           // the RST arrived much sooner than the host's SYN/ACKs do
  reset_burst,           // several RSTs from different senders
  reset_and_syn_ack,     // a RST and a SYN/ACK both answered the SYN
  conflicting_answers,   // different kinds of answer to the same SYN
  icmp_error,            // an ICMP error quoting the SYN
  icmp_from_host,        // ... sent by the destination itself
  icmp_from_router,      // ... sent by another address on the path
  icmp_spoofs_host,      // ... carries the destination's address but arrives from another hop
  quoted_ttl,            // the TTL the SYN had when the ICMP sender saw it
  ttl_expired,           // time exceeded: the SYN's TTL ran out on the way
  hop_address_known,     // a time-exceeded message names the address of that hop
  no_answer,             // nothing answered the SYN
  syn_retransmitted,     // the client sent the SYN more than once
  one_direction_capture, // the capture holds no packet sent to the client
  capture_ended_early,   // the capture stopped before an answer was due
  unmatched_reset,       // a RST for the flow whose ack is not ISN+1 (blind or stale)
  unmatched_syn_ack,     // a SYN/ACK for the flow whose ack is not ISN+1
  client_reset,          // the client's own kernel reset the SYN/ACK (raw probing)
  teardown_reset,        // the server reset the connection after the handshake
  probes_disagree,       // repeated probes of one target drew different verdicts
  reset_before_host,     // TTL-limited SYNs draw RSTs at a TTL that has not reached the host
  ttl_forged,            // the RST imitates the host's TTL, but the trace places it nearer
  rtt_matches_hop,       // the refusal's round-trip time is that of a hop, not the host's
  on_path_injector,      // one TTL drew both a time-exceeded and a RST
  icmp_sender_hop,       // the ICMP error's sender appears at this hop in the trace
  dropped_after_hop,     // TTL-limited SYNs are answered up to a hop and never beyond
  control_path_continues,// probes to a control port are answered beyond that hop
  silent_hop,            // a hop never answered time-exceeded
  icmp_rate_limit_suspected, // answers come and go at one hop: ICMP rate limiting, not policy
  path_rewrites,         // the quoted SYN shows the path changed it (MSS, options, DSCP, NAT…)
  trace_reached_host,    // TTL-limited SYNs reached the host itself
  signature,             // the refusal matches a known refuser's packet shape
  trace_shared,          // located by the trace of another target of the host that got the same answer
  not_traced,            // no trace for this target (routers' ICMP budgets, packet cap)
  network_gear_ttl,      // decisive: an initial TTL of 255 on an answer in the host's name
  client_proves_syn_ack, // decisive: the client acted as only a SYN/ACK lets it (ACK, data, FIN)
  retransmission_schedule, // the client's SYN retransmissions, and the stack they fit
  reordered_answer,      // the answer was written before its SYN (multi-queue or merged capture)
  signals_disagree,      // decisive and strong signals point different ways
  tunnelled,             // the SYN travelled inside a tunnel (IP-in-IP, GRE, VXLAN)
  reassembled,           // the SYN arrived in IP fragments, reassembled to read its TCP header
  fast_open,             // the SYN carried data (TCP Fast Open)
  client_acts_unproven,  // the client sent on ISN+1 what no stack in SYN-SENT sends (ACK field 0)
  ttl_sweep_silent,      // a TTL-limited sweep: time-exceeded up to a hop, nothing beyond it
  answered_for_earlier,  // the host answered this SYN in an earlier connection's terms
  neighbour_unresolved,  // a router's host-unreachable came seconds late: no device at the address
  address_no_host,       // another port of the same address proved there is no device there
  // The request stage (after the handshake)
  request_sent,          // the client's first data after the handshake, and what it asked for
  request_answered,      // the server's side sent data after the request
  request_acknowledged,  // the server's TCP acknowledged the request, and sent nothing more
  request_reset,         // a RST on the established connection, before any answer
  request_closed,        // a FIN from the server's side, before any answer
  request_unanswered,    // the request was retransmitted and never acknowledged
  reset_races_reply,     // a RST came first, then the server's own answer to the request
  request_icmp_error,    // an ICMP error quoting the request
  ip_id_follows_flow,    // the answer's IP-ID continues the server's on this connection
};

struct SignalInfo {
  Signal signal;
  std::string_view name;
  std::string_view description;
};

[[nodiscard]] std::span<const SignalInfo> signal_table();
[[nodiscard]] std::string_view signal_name(Signal s);
[[nodiscard]] std::optional<Signal> signal_from_name(std::string_view name);

struct Evidence {
  Signal signal;
  std::string detail;  // one sentence with the observed and expected values
};

}  // namespace synprobe
