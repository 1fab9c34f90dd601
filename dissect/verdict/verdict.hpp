#pragma once
// The verdict engine: from an attempt, its answers and the baselines, decide
// who refused the connection, at which hop, how surely, and why.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dissect/infer/attempt.hpp"
#include "dissect/infer/evidence.hpp"
#include "dissect/infer/host_profile.hpp"
#include "dissect/verdict/trace_model.hpp"
#include "dissect/verdict/verdict_rules.hpp"

namespace synprobe {

// JSON "verdict" values (a contract: see docs/json.md).
enum class Verdict : std::uint8_t {
  open,
  refused_by_host,
  refused_by_middlebox,
  injected_reset,
  icmp_unreachable,
  dropped,
  inconclusive,
};
inline constexpr std::size_t verdict_count = 7;
[[nodiscard]] std::string_view verdict_name(Verdict v);

// JSON "actor" values.
enum class Actor : std::uint8_t { host, middlebox, router, unknown };
[[nodiscard]] std::string_view actor_name(Actor a);

// The cause behind a verdict, where the packets show one. A contract: JSON "cause".
enum class Cause : std::uint8_t {
  none,
  // A router answered host-unreachable (ICMPv6 address-unreachable) only after holding the
  // SYN for seconds: it resolved the address on its own network (ARP, Neighbour Discovery)
  // and no device answered. Nobody lives at this address: a stale DNS record, or a host down.
  no_host_at_address,
  // The server's side closed the connection (a FIN) after the request without answering
  // it: a proxy with no backend, a server that refuses what was asked (nginx's 444).
  closed_without_response,
};
[[nodiscard]] std::string_view cause_name(Cause c);  // "" for none
[[nodiscard]] std::optional<Cause> cause_from_name(std::string_view name);

// At which stage the attempt was decided (JSON "stage", a contract): the SYN's answer, or
// what followed the request after the handshake (docs/verdicts.md, "The request stage").
enum class Stage : std::uint8_t { syn, request };
[[nodiscard]] std::string_view stage_name(Stage s);
[[nodiscard]] std::optional<Stage> stage_from_name(std::string_view name);

struct Judgement {
  Verdict verdict = Verdict::inconclusive;
  Stage stage = Stage::syn;
  // What the request asked for, when the client sent one: the TLS server name or the HTTP
  // Host (JSON "trigger"). Said whatever the stage: it is what a firewall matches on.
  std::optional<std::string> trigger;
  Rule rule = Rule::silence;  // which entry of the rule table decided (docs/verdicts.md)
  Actor actor = Actor::unknown;
  std::optional<IpAddress> responder;
  std::optional<int> hop;
  std::optional<std::pair<int, int>> hop_range;  // when only a range of hops is known
  std::optional<IcmpSummary> icmp;
  double confidence = 0;
  std::optional<double> rtt_ms;
  std::vector<Evidence> evidence;
  // When the capture cannot decide: what to capture or run next, in words.
  std::vector<std::string> to_settle;
  // Why the refuser refused, when the packets say more than the verdict (JSON "cause").
  Cause cause = Cause::none;
};

// Addresses that time-exceeded errors revealed for hops toward one destination.
struct HopAddress {
  int hop = 0;
  IpAddress address;
  std::optional<double> rtt_ms;  // its fastest time-exceeded, from the capture point
};

// Everything outside the attempt that the engine may weigh.
struct JudgeContext {
  const HostProfile* server = nullptr;       // the destination's baseline, if it ever spoke
  std::optional<double> server_syn_ack_rtt_ms;  // fastest SYN/ACK of the destination elsewhere
  std::optional<double> server_syn_ack_slowest_ms;  // and its slowest: their spread is the jitter
  std::uint32_t server_syn_acks_timed = 0;        // how many SYN/ACKs those come from
  bool client_receives_packets = true;       // the capture holds packets sent to the client
  Timestamp capture_end;
  std::vector<HopAddress> hop_addresses;     // toward this destination
  // Write each evidence's sentence and the steps to settle it. Off when the output shows
  // only the verdict line or counts: the signals, rule and verdict are the same.
  bool details = true;
};

// A capture that ends sooner than this after an unanswered, unretransmitted SYN cannot
// tell a drop from an answer still on its way.
inline constexpr double min_silence_seconds = 1.0;

// How much sooner than the host's fastest SYN/ACK an answer must come before no path
// jitter can explain it: the larger of 1 ms (NIC interrupt moderation and capture
// timestamps move packets by up to a few hundred µs), the spread the host's own SYN/ACKs
// showed in this capture, and a share of the fastest round trip for the queueing that a
// few samples cannot rule out: half of it when one SYN/ACK was timed (it may have queued
// as long as it travelled), a quarter from two on (the fastest of several is near the
// path's floor).
[[nodiscard]] double jitter_margin_ms(double fastest_ms, std::optional<double> slowest_ms, std::uint32_t samples);

[[nodiscard]] Judgement judge(const Attempt& attempt, const JudgeContext& context);

}  // namespace synprobe
