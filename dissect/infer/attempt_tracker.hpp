#pragma once
// Handshake reconstruction: turns a stream of decoded packets into connection
// attempts (a SYN without ACK, keyed by 5-tuple and ISN) and matches every
// answer to the attempt it answers: SYN/ACK and RST by acknowledgement number,
// ICMP errors by the TCP header they quote.

#include <array>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "dissect/decode/packet.hpp"
#include "dissect/infer/attempt.hpp"
#include "dissect/infer/flow_index.hpp"

namespace synprobe {

struct FlowKey {
  IpAddress client;
  IpAddress server;
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& k) const noexcept {
    return k.client.hash() ^ (k.server.hash() * 31) ^
           (static_cast<std::size_t>(k.client_port) << 16 | k.server_port) * 0x9e3779b97f4a7c15ull;
  }
};

// Which (client address, client port) pairs may have an attempt that still waits for a
// segment of its client: the handshake's ACK after a captured SYN/ACK, or any act of the
// client that proves a SYN/ACK the capture lost. Most packets of a busy link come from
// clients of established flows; one counter read here spares them the flow look-up.
// Counters saturate instead of wrapping: a saturated bucket only costs look-ups.
class ClientWatch {
 public:
  void watch(const IpAddress& client, std::uint16_t port) {
    std::uint16_t& c = counts_[bucket(client, port)];
    if (c != saturated) ++c;
  }
  void unwatch(const IpAddress& client, std::uint16_t port) {
    std::uint16_t& c = counts_[bucket(client, port)];
    if (c != saturated && c > 0) --c;
  }
  [[nodiscard]] bool may_watch(const IpAddress& client, std::uint16_t port) const {
    return counts_[bucket(client, port)] != 0;
  }

 private:
  static constexpr std::size_t buckets = std::size_t{1} << 14;  // 32 KiB of counters
  static constexpr std::uint16_t saturated = UINT16_MAX;
  static std::size_t bucket(const IpAddress& client, std::uint16_t port) {
    return ((client.hash() ^ port) * 0x9e3779b97f4a7c15ull) >> (64 - 14);
  }
  std::vector<std::uint16_t> counts_ = std::vector<std::uint16_t>(buckets, 0);
};

class AttemptTracker {
 public:
  // A SYN with the same ISN on the same 5-tuple within this time is a retransmission;
  // later, or with another ISN, it starts a new attempt (Linux gives up after ~127 s).
  static constexpr std::int64_t retransmission_window_ns = 180'000'000'000;

  // An answered attempt (SYN/ACK or RST) takes no more SYNs; a late or racing answer comes
  // within this time of the last packet it had.
  static constexpr std::int64_t answered_quiet_ns = 10'000'000'000;

  // An answer written up to this long before the SYN it acknowledges is matched to it: a
  // capture merged from several queues or interfaces orders packets by the order its
  // buffers were read, and libpcap/tcpdump flush a buffer at the latest after their
  // 1 s timeout. A false match needs ack = ISN+1 on the same 5-tuple by chance (2^-32),
  // so the window bounds memory (at most early_answers_kept answers), not accuracy.
  static constexpr std::int64_t reorder_window_ns = 1'000'000'000;
  static constexpr std::size_t early_answers_kept = 64;

  // Returns the attempt whose answers it just grew (the answer is its last), else nullptr.
  const Attempt* on_packet(const DecodedPacket& p);

  // Every attempt, in order of first appearance; in streaming use, released ones are left
  // as empty husks and the oldest are dropped (see release_oldest).
  [[nodiscard]] const std::deque<Attempt>& attempts() const { return attempts_; }

  // Streaming: whether nothing in the capture after `now` can change the attempt any more.
  [[nodiscard]] static bool settled(const Attempt& a, Timestamp now);
  // Streaming: how many attempts are held (seen, not yet released).
  [[nodiscard]] std::size_t held() const { return base_ + attempts_.size() - head_; }
  // The oldest attempt not yet released, if any.
  [[nodiscard]] const Attempt* oldest() const;
  // Hands over the oldest attempt and forgets it: later packets of its flow no longer
  // match it, and its memory is reclaimed. `before_settled`: handed over before it settled
  // (to bound memory); its flow's hash and its ISN are remembered (the last
  // judged_early_kept of them), so that a retransmission of its SYN within the window
  // does not start a new attempt: it is counted in late_syns() instead.
  [[nodiscard]] Attempt release_oldest(bool before_settled = false);
  // Twice Analyzer::max_held_attempts: at the density where the held attempts cover the
  // first retransmission only (≈ 2 s of capture), the flows remembered cover the second
  // (3 s after the first SYN) with a margin for bursts. 24 bytes each and their index:
  // ≈ 5 MB.
  static constexpr std::size_t judged_early_kept = 131'072;
  // SYNs that retransmitted an attempt already handed over before it settled.
  [[nodiscard]] std::uint64_t late_syns() const { return late_syns_; }

 private:
  static constexpr std::uint32_t none = UINT32_MAX;

  void on_syn(const DecodedPacket& p);
  void on_server_segment(const DecodedPacket& p, std::uint32_t newest);
  void on_client_segment(const DecodedPacket& p, std::uint32_t newest);
  void on_icmp_error(const DecodedPacket& p);
  void on_reset(const DecodedPacket& p, std::uint32_t newest);
  void keep_early_answer(const DecodedPacket& p);
  // The request stage (after the handshake): see RequestStage.
  void open_request_stage(Attempt& a, Timestamp ts);
  void stop_following(Attempt& a);
  Attempt* followed_in_flow(std::uint32_t newest, Timestamp ts);
  void on_request_client_segment(const DecodedPacket& p, std::uint32_t newest);
  void on_request_server_segment(const DecodedPacket& p, std::uint32_t newest);
  bool on_request_icmp_error(const DecodedPacket& p, std::uint32_t newest);
  void match_early_answers(std::uint32_t index);
  [[nodiscard]] static bool within_answer_window(const Attempt& a, Timestamp ts);

  // Walks the attempts of one flow, newest first, until `f` returns true; returns that index.
  template <typename F>
  std::uint32_t find_in_flow(std::uint32_t newest, F&& f) const;
  std::uint32_t newest_of(const FlowKey& key) const { return newest_of(key, FlowKeyHash{}(key)); }
  std::uint32_t newest_of(const FlowKey& key, std::uint64_t hash) const;
  void add_answer(std::uint32_t index, Answer answer);
  Attempt& at(std::uint32_t index) { return attempts_[index - base_]; }
  const Attempt& at(std::uint32_t index) const { return attempts_[index - base_]; }
  void drop_released();
  static Answer answer_from(const DecodedPacket& p, AnswerKind kind);

  // Indexes are global (the attempt's id - 1): attempts_[0] is index base_, and the ones
  // before head_ were released. Keep-everything use never releases: base_ = head_ = 0.
  // A deque, not a vector: streaming pops released attempts off the front, and the held
  // ones never sit in a doubled buffer (a vector's growth, with the old buffers the
  // allocator keeps, cost about twice their size at 10^5 held attempts).
  std::deque<Attempt> attempts_;
  std::deque<std::uint32_t> previous_in_flow_;  // parallel to attempts_
  std::uint32_t base_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t answered_ = none;  // the attempt on_packet gave an answer to
  FlowIndex newest_by_flow_;  // flow -> the index of its newest attempt held
  // Attempts handed over before they settled: their flow's 64-bit hash, ISN and last SYN,
  // in a ring of judged_early_kept (the oldest forgotten first), indexed by that hash. The
  // hash stands for the flow (24 bytes an entry, where the flow itself took 56): a SYN is
  // taken for another flow's retransmission only if the two flows share all 64 bits of
  // FlowKeyHash (whose address hashes mix every byte: see IpAddress::hash) and the SYN
  // that flow's ISN. A capture crafted to collide can make one SYN a late one; nothing
  // else is decided by the hash alone.
  struct JudgedEarly {
    std::uint64_t flow_hash = 0;
    Timestamp last_seen;
    std::uint32_t isn = 0;
  };
  std::vector<JudgedEarly> judged_early_;
  std::size_t judged_early_next_ = 0;  // the ring slot written next, once it is full
  FlowIndex judged_early_by_flow_;
  void remember_judged_early(std::uint64_t flow_hash, const Attempt& a);
  std::uint64_t late_syns_ = 0;
  ClientWatch client_watch_;  // the attempts that waits_for_client(), counted
  ClientWatch request_watch_;  // the attempts whose request stage is followed, counted

  // SYN/ACKs and RSTs of flows with no attempt yet: perhaps written before their SYN. A
  // ring: a capture full of RSTs for flows it never saw open costs one slot write each.
  struct EarlyAnswer {
    FlowKey flow;  // as the attempt will key it (client first)
    Answer answer;
    bool live = false;  // not yet matched, not overwritten
  };
  std::array<EarlyAnswer, early_answers_kept> early_answers_{};
  std::size_t next_early_ = 0;                 // the slot the next one overwrites
  std::int64_t newest_early_ns_ = INT64_MIN / 2;  // the newest kept; INT64_MIN / 2: none (no overflow adding the window)
};

}  // namespace synprobe
