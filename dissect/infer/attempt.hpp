#pragma once
// A connection attempt (one SYN, with its retransmissions) and the answers
// matched to it. Plain data: the tracker fills it, the verdict engine reads it.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/request_head.hpp"
#include "dissect/decode/packet.hpp"
#include "dissect/decode/timestamp.hpp"
#include "dissect/decode/ttl.hpp"

namespace synprobe {

// An optional value kept on the heap: for the large parts that few attempts have (an ICMP
// error's quote, an unmatched RST, the request stage of a connection whose handshake ended),
// so that the attempts held while unsettled stay small.
// Copies copy the value; the interface is std::optional's, as far as it is used.
template <typename T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(const HeapOptional& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  ~HeapOptional() = default;
  HeapOptional& operator=(const T& v) {
    p_ = std::make_unique<T>(v);
    return *this;
  }

  [[nodiscard]] bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return *p_; }
  const T* operator->() const { return p_.get(); }
  T& operator*() { return *p_; }
  T* operator->() { return p_.get(); }
  void reset() { p_.reset(); }

 private:
  std::unique_ptr<T> p_;
};

// One transmission of the attempt's SYN (the first, or a retransmission).
// A SYN sent with a TTL up to this is a TTL-limited probe (traceroute -T, a sweep); stacks
// send 64, 128 or 255, and no path has more than 32 hops in practice (RFC 1812 on TTLs).
inline constexpr std::uint8_t max_probe_ttl = 32;

struct SynTransmission {
  Timestamp ts;
  std::uint8_t ttl = 0;
  bool has_ip_id = false;
  std::uint16_t ip_id = 0;
  // The TCP timestamp (RFC 7323) the SYN carried: a retransmission has a new one, so a
  // SYN/ACK's echo or an ICMP error's quotation names the very SYN it answers, where IPv6
  // has no IP-ID to tell them apart.
  bool has_tsval = false;
  std::uint32_t tsval = 0;
};

// `segment`: a segment of the server's side after the handshake that is neither SYN nor
// RST (data, a FIN, a bare ACK); found only among a request stage's replies.
enum class AnswerKind : std::uint8_t { syn_ack, reset, icmp_error, segment };

// A packet that answers the attempt, with what the verdict needs to know of it.
// The fields go widest first, not by topic: up to 65,536 attempts are held with their
// answers (Analyzer::max_held_attempts), and this order leaves no padding (120 bytes, a
// 128-byte heap block, where the order by topic took 144 and a 160-byte block).
struct Answer {
  Timestamp ts;
  // Which SYN transmission it answers (the newest sent before it) and the time since.
  std::size_t transmission = 0;
  double rtt_ms = 0;
  HeapOptional<QuotedPacket> quote;  // ICMP: what the ICMP sender quoted of our SYN
  TcpOptions options;                // TCP
  HopEstimate ttl;
  std::uint32_t seq = 0;             // TCP
  std::uint32_t ack = 0;             // TCP
  std::uint32_t payload = 0;  // TCP: data bytes, by the IP header's claim (request-stage replies)
  std::uint16_t ip_id = 0;
  std::uint16_t window = 0;          // TCP
  IpAddress from;
  AnswerKind kind = AnswerKind::reset;
  bool has_ip_id = false;
  bool dont_fragment = false;
  std::uint8_t tos = 0;
  std::uint8_t tcp_flags = 0;        // TCP
  std::uint8_t icmp_type = 0;        // ICMP
  std::uint8_t icmp_code = 0;        // ICMP
  bool matched_by_seq = false;  // ICMP: the quote held the sequence number, not just the ports
  std::optional<std::uint8_t> quoted_ttl;  // ICMP
  // Written before the SYN it answers (a multi-queue or merged capture): its round trip
  // is unknown and rtt_ms is 0; it never sets a host's fastest answer.
  bool reordered = false;
};

// What the client itself did on the flow after its SYN, when no SYN/ACK was captured: a
// stack leaves SYN-SENT only on an acceptable SYN/ACK (RFC 9293 3.10.7.3), so each of
// these but a bare RST proves that one reached it.
enum class ClientActKind : std::uint8_t {
  ack,        // a pure ACK of the handshake (seq ISN+1, ACK set)
  data,       // data with ACK set
  fin,        // a FIN with ACK set
  reset_ack,  // a RST/ACK: it acknowledges the server's sequence number, so it saw it
  reset,      // a bare RST with seq ISN+1: some stacks send one when they give up
};

struct ClientAct {
  Timestamp ts;
  std::uint32_t ack = 0;  // what it acknowledged: the server's ISN + 1
  ClientActKind kind = ClientActKind::ack;  // last: 16 bytes, not 24
};

// After the handshake: the client's first data (its request) and what the server's side
// sent back. A refusal here is an application firewall, a proxy or an on-path injector
// acting on what the request asked for (docs/verdicts.md, "The request stage").
struct ClientRequest {
  Timestamp sent;       // its first transmission
  Timestamp last_sent;  // its newest transmission
  std::uint32_t seq = 0;
  std::uint32_t length = 0;         // of its first segment, by the IP header's claim
  std::uint32_t transmissions = 1;  // the first segment sent again on the same sequence number
  std::uint8_t ttl = 0;
  RequestProtocol protocol = RequestProtocol::unknown;
  std::optional<std::string> trigger;  // the TLS server name or HTTP Host it sent
  // The stream's first bytes, kept only while they may still name the trigger.
  std::vector<std::uint8_t> head;
  bool head_done = false;
  static constexpr std::size_t max_head = 4096;  // a ClientHello with post-quantum key shares is ~1.8 KB

  [[nodiscard]] std::uint32_t end() const { return seq + length; }
};

struct RequestStage {
  Timestamp opened;  // the handshake's end (the client's ACK, or its first act)
  std::optional<ClientRequest> request;
  // What the server's side sent after the handshake, in capture order: RSTs, FINs, data,
  // the first bare ACK, ICMP errors quoting the request. Those before the request too.
  std::vector<Answer> replies;
  std::uint32_t replies_not_kept = 0;
  bool server_spoke_first = false;        // data from the server before the request (SMTP, SSH)
  std::optional<Timestamp> client_closed;  // the client's own FIN or RST
  // The client sent more data after the server's TCP acknowledged the request's first
  // segment: the exchange went on (an upload, a pipelined protocol), so the stage is over
  // and a later RST or FIN is the connection's end, not a refusal.
  bool continued = false;
  bool following = true;                  // the tracker still feeds it
  static constexpr std::size_t max_replies = 8;
  // The stage is followed this long after the handshake at most: a request's refusal or
  // its answer comes within round trips, and a dropped request's retransmissions (RFC
  // 6298 backoff from 200 ms to 1 s) are six deep by 25 s. It bounds how long a quiet
  // established flow holds its attempt in memory.
  static constexpr std::int64_t window_ns = 30'000'000'000;
};

// The fields go widest first, not by topic (as Answer's): 248 bytes, so a std::deque's
// 512-byte block holds two held attempts; the order by topic took 272, one to a block.
struct Attempt {
  std::uint64_t id = 0;  // order of first appearance, from 1
  Timestamp first_seen;
  Timestamp last_seen;  // the newest SYN transmission
  std::vector<SynTransmission> transmissions;  // the first max_transmissions of them
  std::vector<Answer> answers;  // the first max_answers of them
  HeapOptional<Answer> first_unmatched_reset;
  HeapOptional<RequestStage> request_stage;      // once the handshake is over (or proven)
  std::optional<ClientAct> client_act;      // the client's first act when no SYN/ACK was captured
  std::optional<Timestamp> client_unproven_act;  // a FIN or data on ISN+1 with ACK field 0
  TcpOptions syn_options;
  std::uint32_t isn = 0;
  // Data on the SYN (TCP Fast Open, RFC 7413): a SYN/ACK may acknowledge up to
  // ISN + 1 + syn_payload, and the client's next segment starts anywhere in that range.
  std::uint32_t syn_payload = 0;
  std::uint32_t syn_count = 0;
  // Counted over every transmission, kept or not: a TTL sweep sends 30 to 64 of them.
  std::uint32_t normal_ttl_syns = 0;  // sent with a TTL above any TTL-limited probe's (> 32)
  std::uint32_t answers_not_kept = 0;
  std::uint32_t unmatched_resets = 0;   // RSTs for this flow whose ack is not ISN+1
  std::uint32_t unmatched_syn_acks = 0;
  // SYN/ACKs that acknowledge ISN+1 but carry a time outside the answer window: the
  // capture's clock, not the network (they are not matched, so no RTT comes of them).
  std::uint32_t syn_acks_out_of_time = 0;
  // SYN/ACKs sent after this SYN on its 4-tuple that acknowledge an earlier attempt's ISN:
  // the host still holds that connection and answers the new SYN in its terms (RFC 9293
  // 3.10.7.4, RFC 5961 4.2's challenge ACK), so this SYN got no answer of its own.
  std::uint32_t answered_for_earlier = 0;
  std::uint32_t teardown_resets = 0;    // the server's RSTs after the handshake (not answers)
  std::uint16_t client_port = 0;
  std::uint16_t server_port = 0;
  IpAddress client;
  IpAddress server;
  std::uint8_t syn_tos = 0;  // DSCP/ECN as the SYN left (or was captured)
  TunnelKind syn_tunnel = TunnelKind::none;  // the SYN travelled in a tunnel
  bool syn_reassembled = false;              // the SYN came in IP fragments
  bool handshake_completed = false;     // the client acknowledged a SYN/ACK
  bool client_reset_after_syn_ack = false;  // e.g. a raw prober's own kernel

  static constexpr std::size_t max_transmissions = 16;
  static constexpr std::size_t max_answers = 32;

  [[nodiscard]] IpFamily family() const { return client.family(); }
  [[nodiscard]] bool has_answer(AnswerKind kind) const;
  [[nodiscard]] const Answer* first_answer(AnswerKind kind) const;
  // Whether `ack` acknowledges this SYN: ISN+1, or up to ISN+1+syn_payload (Fast Open).
  [[nodiscard]] bool acknowledged_by(std::uint32_t ack) const {
    return ack - (isn + 1u) <= syn_payload;  // modulo 2^32
  }
  // Whether a client segment's `seq` is the first one after the handshake.
  [[nodiscard]] bool follows_handshake(std::uint32_t seq) const { return acknowledged_by(seq); }
  // Whether a segment of the client may still tell something: the ACK of a captured
  // SYN/ACK, or the act that proves a lost one.
  [[nodiscard]] bool waits_for_client() const {
    return !handshake_completed && !client_reset_after_syn_ack && !client_act;
  }
};

// The layouts above on a 64-bit target: a reorder that breaks them costs up to 65,536 ×
// the difference in a stream's memory (see Answer and Attempt).
static_assert(sizeof(void*) != 8 || sizeof(Answer) <= 120, "an answer fits a 128-byte heap block");
static_assert(sizeof(void*) != 8 || sizeof(Attempt) <= 256, "two attempts fit a deque's 512-byte block");

}  // namespace synprobe
