#pragma once
// The verdict rules as data: every way judge() can reach a verdict, with its name (the
// JSON "rule" value), the verdict it gives, the confidence it gives, and when it applies.
// docs/verdicts.md is checked against this table by the test suite, as docs/signals.md
// is against the signal table.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace synprobe {

enum class Rule : std::uint8_t {
  syn_ack_acknowledged,
  syn_ack,
  client_proves_syn_ack,
  reset_races_syn_ack,
  icmp_races_syn_ack,
  bare_reset,
  reset_burst,
  reset_and_icmp,
  reset_decisive_nearer,
  reset_weighed,
  icmp_from_router,
  icmp_no_neighbour,
  icmp_from_host,
  icmp_spoofs_host,
  icmp_other,
  ttl_limited_expiry,
  routing_loop,
  silence,
  silence_one_direction_retransmitted,
  silence_one_direction,
  silence_capture_ended,
  silence_client_acted,
  answered_for_earlier,
  ttl_sweep_dropped,
  address_no_neighbour,
  request_answered,
  request_reset_races_reply,
  request_reset_burst,
  request_reset_nearer,
  request_reset_weighed,
  request_closed,
  request_icmp,
  request_dropped,
  request_acknowledged,
  trace_located,
};

struct RuleInfo {
  Rule rule;
  std::string_view name;        // "reset-decisive-nearer"
  std::string_view verdicts;    // the verdict value(s) it gives, as in JSON
  std::string_view confidence;  // what it gives, and what lowers it
  std::string_view when;        // the condition, in words
};

[[nodiscard]] std::span<const RuleInfo> rule_table();
[[nodiscard]] std::string_view rule_name(Rule r);
[[nodiscard]] std::optional<Rule> rule_from_name(std::string_view name);

}  // namespace synprobe
