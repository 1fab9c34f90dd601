#pragma once
// Decoded packets: host-order value types filled at the boundary by decode_frame().
// Nothing here points into the packet bytes, so a DecodedPacket outlives its buffer.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "dissect/decode/byte_reader.hpp"
#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/timestamp.hpp"

namespace synprobe {

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

// "SYN/ACK", "RST/ACK"…: flag names in a fixed order.
[[nodiscard]] std::string tcp_flags_text(std::uint8_t flags);

namespace ip_proto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t ipv4_in_ip = 4;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t ipv6_in_ip = 41;
inline constexpr std::uint8_t gre = 47;
inline constexpr std::uint8_t icmpv6 = 58;
}  // namespace ip_proto

// The network-layer header, whichever family.
struct IpHeader {
  IpAddress src;
  IpAddress dst;
  std::uint8_t ttl = 0;           // IPv4 TTL or IPv6 hop limit
  std::uint8_t tos = 0;           // IPv4 TOS or IPv6 traffic class (DSCP + ECN)
  std::uint8_t protocol = 0;      // upper-layer protocol after IPv6 extension headers
  bool has_ip_id = false;         // IPv4 only
  std::uint16_t ip_id = 0;
  bool dont_fragment = false;
  bool is_fragment = false;       // any fragment (MF set or offset > 0, or v6 fragment header)
  bool is_later_fragment = false; // offset > 0: carries no upper-layer header
  bool more_fragments = false;     // MF / M: more fragments follow
  std::uint16_t fragment_offset = 0;  // in bytes
  std::uint32_t fragment_id = 0;      // IPv4 IP-ID or IPv6 fragment header identification
  std::uint16_t fragment_data_at = 0; // where the fragment's data starts, from the IP header
  std::uint8_t fragment_next = 0;     // IPv6: the next header the fragment header names
  std::uint32_t flow_label = 0;   // IPv6 only
  std::uint16_t header_length = 0;  // IPv4 IHL*4, or IPv6 40 + extension headers
  std::uint32_t total_length = 0;   // as the header claims it
};

// TCP options a stack sets on a SYN or its answer; kinds kept in order for comparisons.
struct TcpOptions {
  static constexpr std::size_t max_kinds = 12;
  std::array<std::uint8_t, max_kinds> kinds{};
  std::uint8_t kind_count = 0;
  bool has_mss = false;
  std::uint16_t mss = 0;
  bool has_window_scale = false;
  std::uint8_t window_scale = 0;
  bool sack_permitted = false;
  bool has_timestamps = false;
  std::uint32_t ts_value = 0;
  std::uint32_t ts_echo = 0;
  bool malformed = false;  // an option ran past the header; the ones before it are kept

  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

struct TcpHeader {
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::uint8_t header_length = 0;
  std::uint32_t payload_length = 0;
  // The captured payload: a view into the frame, valid only while the frame is (the
  // tracker reads a request's first bytes from it as the packet passes).
  Bytes payload;
  TcpOptions options;

  [[nodiscard]] bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
};

// The TCP header quoted inside an ICMP error. RFC 792 promises only 8 bytes
// (ports and sequence number); RFC 1812 routers quote more. What was quoted is
// said by the flags, not by a failed parse.
struct QuotedTcp {
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint32_t seq = 0;
  bool has_full_header = false;  // the fields below are valid
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  bool has_options = false;      // the whole option area was quoted
  TcpOptions options;
};

struct QuotedPacket {
  IpHeader ip;
  std::uint16_t quoted_bytes = 0;  // length of the quotation, from the inner IP header on
  bool has_tcp = false;            // at least ports and sequence number
  QuotedTcp tcp;
};

namespace icmp_kind {
inline constexpr std::uint8_t v4_echo_reply = 0;
inline constexpr std::uint8_t v4_dest_unreachable = 3;
inline constexpr std::uint8_t v4_time_exceeded = 11;
inline constexpr std::uint8_t v4_parameter_problem = 12;
inline constexpr std::uint8_t v6_dest_unreachable = 1;
inline constexpr std::uint8_t v6_packet_too_big = 2;
inline constexpr std::uint8_t v6_time_exceeded = 3;
inline constexpr std::uint8_t v6_parameter_problem = 4;
inline constexpr std::uint8_t v6_echo_reply = 129;
}  // namespace icmp_kind

struct IcmpMessage {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  bool is_error = false;       // carries a quotation of the packet that caused it
  std::uint32_t mtu = 0;       // fragmentation-needed / packet-too-big
  std::uint16_t echo_id = 0;   // echo reply
  std::uint16_t echo_seq = 0;
  bool has_quote = false;      // the quoted IP header decoded
  QuotedPacket quote;
};

enum class Transport : std::uint8_t { none, tcp, icmp, other };

// The outermost tunnel a packet was found in; the decoded headers are the innermost ones.
enum class TunnelKind : std::uint8_t { none, ip_in_ip, ipv6_in_ip, gre, vxlan };
[[nodiscard]] std::string_view tunnel_name(TunnelKind t);

struct DecodedPacket {
  Timestamp ts;
  std::uint32_t wire_length = 0;
  std::uint32_t captured_length = 0;
  bool has_ip = false;
  IpHeader ip;
  Transport transport = Transport::none;
  TcpHeader tcp;     // valid when transport == tcp
  IcmpMessage icmp;  // valid when transport == icmp (ICMP or ICMPv6)
  TunnelKind tunnel = TunnelKind::none;
  std::uint16_t ip_offset = 0;  // where the IP header that `ip` describes starts in the frame
  bool reassembled = false;     // rebuilt from IP fragments (FragmentReassembler)
};

}  // namespace synprobe
