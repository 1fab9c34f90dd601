#pragma once
// The pipelines' core: fed decoded packets in capture order, it keeps the attempt
// table and the per-host baselines and judges the attempts. Two ways to use it:
// - keep everything (live probes): add() every packet, then finish() judges all attempts
//   against the baselines of the whole capture;
// - streaming (offline analysis, constant memory): stream_to(sink) first, then add() every
//   packet and flush() at the end; each attempt is judged once settled, against the
//   baselines known at that moment, handed to the sink in order of first appearance, and
//   forgotten.

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

#include "dissect/infer/attempt_tracker.hpp"
#include "dissect/verdict/host_table.hpp"
#include "dissect/verdict/trace_model.hpp"
#include "dissect/verdict/verdict.hpp"

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
  Analyzer(const Analyzer&) = delete;  // a capture's whole state: moved, never copied
  Analyzer& operator=(const Analyzer&) = delete;
  Analyzer(Analyzer&&) = default;
  Analyzer& operator=(Analyzer&&) = default;

  // Feed every packet that has an IP header, in capture order.
  void add(const DecodedPacket& p);
  // Optional hints for a caller that decodes ahead (see HostTable): for the packet it will
  // add() after the next one, then for the next one. They change nothing but the time.
  void prefetch_far(const DecodedPacket& p) const {
    if (p.has_ip) hosts_.prefetch_slot(p.ip.src);
  }
  void prefetch_near(const DecodedPacket& p) const {
    if (p.has_ip) hosts_.prefetch_record(p.ip.src);
  }
  // Judges every attempt seen so far, in order of first appearance (keep-everything use).
  [[nodiscard]] std::vector<AttemptResult> finish() const;

  using ResultSink = std::function<void(AttemptResult&&)>;
  // Streaming use: call before the first add(). finish() is for keep-everything use only
  // (attempts() then holds the attempts not yet handed over, and husks of some that were).
  // The host table is bounded then (HostTable::streaming_capacity).
  void stream_to(ResultSink sink) {
    sink_ = std::move(sink);
    hosts_.set_capacity(HostTable::streaming_capacity);
  }
  // End of the capture (streaming): judges and hands over every attempt still held.
  void flush();

  // A live run listens longer than its last packet, and always sees both directions.
  void set_listen_end(Timestamp end) { listen_end_ = end; }
  // Whether judgements carry their evidence's sentences (JudgeContext::details).
  void set_details(bool details) { details_ = details; }
  void set_sees_both_directions(bool both) { both_directions_ = both; }

  [[nodiscard]] const std::deque<Attempt>& attempts() const { return tracker_.attempts(); }
  [[nodiscard]] std::size_t attempt_count() const { return tracker_.attempts().size(); }
  [[nodiscard]] std::optional<Timestamp> first_packet() const { return first_; }
  [[nodiscard]] std::optional<Timestamp> last_packet() const { return last_; }
  // Addresses whose baselines a bounded host table forgot (streaming only).
  [[nodiscard]] std::uint64_t baselines_forgotten() const { return hosts_.forgotten(); }
  // Streaming holds at most this many attempts while they settle (≈ 600 B each with their
  // answers and index entries, ≈ 39 MB in all): a capture denser than that within an
  // attempt's settling time (10 s to 16 s for most) has its oldest attempts judged before
  // they settled, as they stand. What must not be lost is the answer to the SYN and to its
  // first retransmission (RFC 6298's 1 s initial RTO, plus a round trip): the bound covers
  // that up to ≈ 30,000 attempts per second of capture (65,536 in ≈ 2 s; a SYN's own answer,
  // within a round trip, far beyond), and the SYNs after are still recognised as
  // retransmissions (AttemptTracker::judged_early_kept).
  // 131,072 held spent 39 MB more and made a 10^6-per-GiB stream slower (the held
  // attempts' memory is touched again when they are judged: the fewer, the more of it is
  // still in cache), with the same verdicts on the generator's truth.
  static constexpr std::size_t max_held_attempts = 65'536;
  // How many attempts streaming judged before they settled, to keep to max_held_attempts,
  // and how many SYNs came after for them (retransmissions: no new attempt).
  [[nodiscard]] std::uint64_t attempts_judged_early() const { return judged_early_; }
  [[nodiscard]] std::uint64_t late_syns() const { return tracker_.late_syns(); }

 private:
  [[nodiscard]] JudgeContext context_for(const Attempt& a, bool capture_sees_answers) const;
  void note_endpoints(const DecodedPacket& p);
  void note_answer(const Attempt& a, Timestamp now);
  void release_settled(Timestamp now);
  void advance_clock(Timestamp ts);
  void release_oldest(bool before_settled = false);

  AttemptTracker tracker_;
  HostTable hosts_;
  std::unordered_set<IpAddress> receivers_;  // addresses that any captured packet was sent to
  // Whether some attempt's client receives packets in the capture (see finish()): kept up
  // as receivers and clients appear, so streaming need not wait for the end.
  std::unordered_set<IpAddress> clients_;    // of attempts, until sees_answers_
  bool sees_answers_ = false;
  std::optional<IpAddress> last_receiver_;
  std::optional<Timestamp> first_;
  std::optional<Timestamp> last_;
  // The capture's time as the verdicts see it: the newest timestamp, except a lone one far
  // ahead of its neighbours (a broken clock, pcapng-example's 46-year jump), which waits in
  // jump_ until a second packet confirms it (see advance_clock).
  std::optional<Timestamp> clock_;
  std::optional<Timestamp> jump_;
  std::optional<Timestamp> listen_end_;
  bool both_directions_ = false;

  ResultSink sink_;  // streaming only
  bool details_ = true;
  std::uint64_t judged_early_ = 0;
  std::int64_t next_release_check_ns_ = INT64_MIN;
};

}  // namespace synprobe
