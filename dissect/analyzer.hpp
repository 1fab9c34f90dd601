#pragma once
// The offline pipeline's core: fed decoded packets in capture order, it keeps
// the attempt table and the per-host baselines, and at the end judges every attempt.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "attempt_tracker.hpp"
#include "host_profile.hpp"
#include "trace_model.hpp"
#include "verdict.hpp"

namespace synprobe {

// What the reports show of one attempt: the attempt, its verdict, and the baseline used.
struct AttemptResult {
  Attempt attempt;
  Judgement judgement;
  std::optional<HopCount> host_hop;   // the destination's usual hop, when it spoke
  std::uint64_t host_packets = 0;     // how many of its packets formed that baseline
  IpIdBehaviour host_ip_id = IpIdBehaviour::unknown;
  std::optional<double> host_syn_ack_rtt_ms;
  Trace trace;                        // hop table of TTL-limited probes (live runs), else empty
};

class Analyzer {
 public:
  Analyzer() = default;
  Analyzer(const Analyzer&) = delete;  // it caches a pointer into its own host table
  Analyzer& operator=(const Analyzer&) = delete;
  Analyzer(Analyzer&&) = default;      // node-based tables keep their nodes on a move
  Analyzer& operator=(Analyzer&&) = default;

  // Feed every packet that has an IP header, in capture order.
  void add(const DecodedPacket& p);
  // Judges every attempt seen so far, in order of first appearance.
  [[nodiscard]] std::vector<AttemptResult> finish() const;

  // A live run listens longer than its last packet, and always sees both directions.
  void set_listen_end(Timestamp end) { listen_end_ = end; }
  void set_sees_both_directions(bool both) { both_directions_ = both; }

  [[nodiscard]] const std::vector<Attempt>& attempts() const { return tracker_.attempts(); }
  [[nodiscard]] std::size_t attempt_count() const { return tracker_.attempts().size(); }
  [[nodiscard]] std::optional<Timestamp> first_packet() const { return first_; }
  [[nodiscard]] std::optional<Timestamp> last_packet() const { return last_; }

 private:
  [[nodiscard]] JudgeContext context_for(const Attempt& a, bool capture_sees_answers) const;

  AttemptTracker tracker_;
  std::unordered_map<IpAddress, HostProfile> hosts_;
  std::unordered_set<IpAddress> receivers_;  // addresses that any captured packet was sent to
  std::optional<IpAddress> last_receiver_;
  HostProfile* last_sender_ = nullptr;
  IpAddress last_sender_address_;
  std::optional<Timestamp> first_;
  std::optional<Timestamp> last_;
  std::optional<Timestamp> listen_end_;
  bool both_directions_ = false;
};

}  // namespace synprobe
