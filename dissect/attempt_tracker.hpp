#pragma once
// Handshake reconstruction: turns a stream of decoded packets into connection
// attempts (a SYN without ACK, keyed by 5-tuple and ISN) and matches every
// answer to the attempt it answers: SYN/ACK and RST by acknowledgement number,
// ICMP errors by the TCP header they quote.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "attempt.hpp"
#include "packet.hpp"

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

class AttemptTracker {
 public:
  // A SYN with the same ISN on the same 5-tuple within this time is a retransmission;
  // later, or with another ISN, it starts a new attempt (Linux gives up after ~127 s).
  static constexpr std::int64_t retransmission_window_ns = 180'000'000'000;

  // An answered attempt (SYN/ACK or RST) takes no more SYNs; a late or racing answer comes
  // within this time of the last packet it had.
  static constexpr std::int64_t answered_quiet_ns = 10'000'000'000;

  // Returns the attempt whose answers it just grew (the answer is its last), else nullptr.
  const Attempt* on_packet(const DecodedPacket& p);

  // Every attempt, in order of first appearance; in streaming use, released ones are left
  // as empty husks and the oldest are dropped (see release_oldest).
  [[nodiscard]] const std::vector<Attempt>& attempts() const { return attempts_; }

  // Streaming: whether nothing in the capture after `now` can change the attempt any more.
  [[nodiscard]] static bool settled(const Attempt& a, Timestamp now);
  // The oldest attempt not yet released, if any.
  [[nodiscard]] const Attempt* oldest() const;
  // Hands over the oldest attempt and forgets it: later packets of its flow no longer
  // match it, and its memory is reclaimed.
  [[nodiscard]] Attempt release_oldest();

 private:
  static constexpr std::uint32_t none = UINT32_MAX;

  void on_syn(const DecodedPacket& p);
  void on_server_segment(const DecodedPacket& p, std::uint32_t newest);
  void on_client_segment(const DecodedPacket& p, std::uint32_t newest);
  void on_icmp_error(const DecodedPacket& p);
  void on_reset(const DecodedPacket& p, std::uint32_t newest);

  // Walks the attempts of one flow, newest first, until `f` returns true; returns that index.
  template <typename F>
  std::uint32_t find_in_flow(std::uint32_t newest, F&& f) const;
  std::uint32_t newest_of(const FlowKey& key) const;
  void add_answer(std::uint32_t index, Answer answer);
  Attempt& at(std::uint32_t index) { return attempts_[index - base_]; }
  const Attempt& at(std::uint32_t index) const { return attempts_[index - base_]; }
  void drop_released();
  static Answer answer_from(const DecodedPacket& p, AnswerKind kind);

  // Indexes are global (the attempt's id - 1): attempts_[0] is index base_, and the ones
  // before head_ were released. Keep-everything use never releases: base_ = head_ = 0.
  std::vector<Attempt> attempts_;
  std::vector<std::uint32_t> previous_in_flow_;  // parallel to attempts_
  std::uint32_t base_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t answered_ = none;  // the attempt on_packet gave an answer to
  std::unordered_map<FlowKey, std::uint32_t, FlowKeyHash> newest_by_flow_;
  std::size_t awaiting_client_ = 0;  // attempts with a SYN/ACK the client has not yet ACKed or reset
};

}  // namespace synprobe
