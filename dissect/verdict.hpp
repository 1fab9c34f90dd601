#pragma once
// The verdict engine: from an attempt, its answers and the baselines, decide
// who refused the connection, at which hop, how surely, and why.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "attempt.hpp"
#include "evidence.hpp"
#include "host_profile.hpp"
#include "trace_model.hpp"

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

struct Judgement {
  Verdict verdict = Verdict::inconclusive;
  Actor actor = Actor::unknown;
  std::optional<IpAddress> responder;
  std::optional<int> hop;
  std::optional<std::pair<int, int>> hop_range;  // when only a range of hops is known
  std::optional<IcmpSummary> icmp;
  double confidence = 0;
  std::optional<double> rtt_ms;
  std::vector<Evidence> evidence;
};

// Addresses that time-exceeded errors revealed for hops toward one destination.
struct HopAddress {
  int hop = 0;
  IpAddress address;
};

// Everything outside the attempt that the engine may weigh.
struct JudgeContext {
  const HostProfile* server = nullptr;       // the destination's baseline, if it ever spoke
  std::optional<double> server_syn_ack_rtt_ms;  // fastest SYN/ACK of the destination elsewhere
  bool client_receives_packets = true;       // the capture holds packets sent to the client
  Timestamp capture_end;
  std::vector<HopAddress> hop_addresses;     // toward this destination
};

// A capture that ends sooner than this after an unanswered, unretransmitted SYN cannot
// tell a drop from an answer still on its way.
inline constexpr double min_silence_seconds = 1.0;

[[nodiscard]] Judgement judge(const Attempt& attempt, const JudgeContext& context);

}  // namespace synprobe
