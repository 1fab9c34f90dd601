#pragma once
// Crafts the packets synprobe sends, with libtins: a SYN shaped like a real Linux
// stack's (so that no middlebox treats it as a scanner's), and an ICMP echo request
// for learning the host's baseline.

#include <cstdint>
#include <vector>

#include "dissect/decode/ip_address.hpp"

namespace synprobe {

struct SynSpec {
  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;     // random per probe: tells the probes of one flow apart
  std::uint16_t ip_id = 0;   // IPv4; also varied per probe (Paris traceroute's trick)
  std::uint8_t ttl = 64;
  std::uint32_t ts_value = 0;
};

// A complete IP packet (IPv4 with DF, or IPv6): options MSS, SACK-permitted,
// timestamps, NOP, window scale 7, window 64240, as Linux sends them.
[[nodiscard]] std::vector<std::uint8_t> build_syn(const SynSpec& spec);

// The request of an established connection sent again with a limited TTL (probe --sni,
// --http-host): PSH/ACK carrying `payload` on seq/ack of that connection, no options.
struct RequestCopySpec {
  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;  // the client's ISN + 1
  std::uint32_t ack = 0;  // the server's ISN + 1
  std::uint16_t ip_id = 0;
  std::uint8_t ttl = 64;
};
[[nodiscard]] std::vector<std::uint8_t> build_request_copy(const RequestCopySpec& spec,
                                                           const std::vector<std::uint8_t>& payload);

[[nodiscard]] std::vector<std::uint8_t> build_echo_request(const IpAddress& source, const IpAddress& destination,
                                                           std::uint16_t id, std::uint16_t seq, std::uint8_t ttl);

}  // namespace synprobe
