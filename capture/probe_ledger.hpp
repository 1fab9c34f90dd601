#pragma once
// Every probe of a live run, from the prober's first phase and from its traces: each
// packet built when planned, on the run's one source port, with an ISN no other probe of
// the run is near (the ISN is what tells the probes apart); kept at a fixed address for
// the whole run (probe groups point at them), found again by ISN when an answer comes,
// and queued by departure time until it leaves.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "dissect/trace/planned_probe.hpp"

namespace synprobe {

class ProbeLedger {
 public:
  explicit ProbeLedger(std::uint32_t max_packets) : rng_(std::random_device{}()), max_packets_(max_packets) {}

  // The run's source port: `chosen`, else a random one of the kernel's ephemeral range.
  void choose_source_port(std::optional<std::uint16_t> chosen);
  [[nodiscard]] std::uint16_t source_port() const { return source_port_; }

  // Builds the packet of a planned probe and keeps it (not yet queued).
  PlannedProbe& add(const IpAddress& source, const IpAddress& destination, std::uint16_t port, ProbeRole role,
                    unsigned round, std::uint8_t ttl);
  // Queues probes to leave in the order of their `not_before` (a stable order for ties).
  // TTL-limited probes have a queue of their own, served first: with thousands of targets
  // the first SYNs wait seconds for the send rate, and a trace that starts meanwhile
  // (an answer not plainly the host's) must not wait behind them.
  void enqueue(const std::vector<PlannedProbe*>& probes);
  // Planned, not yet sent, by departure time, in the order the sender serves them: the
  // traces' probes, then the others.
  [[nodiscard]] std::array<std::deque<PlannedProbe*>*, 2> departures() { return {&trace_queue_, &queue_}; }
  [[nodiscard]] bool nothing_queued() const { return queue_.empty() && trace_queue_.empty(); }

  // Whether `packets` more probes stay within the run's cap (--max-packets).
  [[nodiscard]] bool room_for(std::size_t packets) const;
  [[nodiscard]] std::size_t size() const { return probes_.size(); }
  // The TCP probe with this ISN, or nullptr.
  [[nodiscard]] PlannedProbe* find(std::uint32_t isn) const;
  // The TCP probe with this ISN, which must be one of ours.
  [[nodiscard]] const PlannedProbe& at(std::uint32_t isn) const { return *by_isn_.at(isn); }
  // Marks `probe` answered at `at` (the scheduling loop asks for the slowest answer on every
  // turn: kept as answers come, not searched for among thousands of probes).
  void note_answer(PlannedProbe& probe, Timestamp at);
  // The slowest answer to any probe so far, in seconds (0 while none was answered).
  [[nodiscard]] double slowest_answer_s() const { return slowest_answer_s_; }

 private:
  std::mt19937_64 rng_;
  std::uint32_t max_packets_;
  std::uint16_t source_port_ = 0;
  std::deque<PlannedProbe> probes_;  // a deque: pointers stay valid
  std::deque<PlannedProbe*> queue_;        // first SYNs, baseline probes
  std::deque<PlannedProbe*> trace_queue_;  // TTL-limited SYNs
  double slowest_answer_s_ = 0;  // see note_answer()
  std::unordered_map<std::uint32_t, PlannedProbe*> by_isn_;  // every TCP probe
};

}  // namespace synprobe
