#pragma once
// Frame decoding: link layer → IP (with IPv6 extension headers) → TCP or ICMP,
// including the packet quoted inside an ICMP error. Pure and allocation-free.

#include <cstdint>
#include <string_view>

#include "dissect/decode/byte_reader.hpp"
#include "dissect/decode/packet.hpp"

namespace synprobe {

// Link-layer header types (LINKTYPE_* values as stored in pcap/pcapng files).
namespace link_type {
inline constexpr std::uint16_t null_bsd = 0;       // BSD loopback: 4-byte AF in host order
inline constexpr std::uint16_t ethernet = 1;
inline constexpr std::uint16_t ppp = 9;
inline constexpr std::uint16_t raw_dlt12 = 12;     // DLT_RAW on most platforms
inline constexpr std::uint16_t raw_dlt14 = 14;     // DLT_RAW on OpenBSD
inline constexpr std::uint16_t ppp_hdlc = 50;
inline constexpr std::uint16_t raw = 101;
inline constexpr std::uint16_t cisco_hdlc = 104;
inline constexpr std::uint16_t loop = 108;         // OpenBSD loopback: AF in network order
inline constexpr std::uint16_t linux_sll = 113;
inline constexpr std::uint16_t nflog = 239;
inline constexpr std::uint16_t ipv4 = 228;
inline constexpr std::uint16_t ipv6 = 229;
inline constexpr std::uint16_t linux_sll2 = 276;
}  // namespace link_type

[[nodiscard]] bool is_supported_link_type(std::uint16_t link);
// Short name of a supported link type ("ethernet", "linux-sll2"…); "" otherwise.
[[nodiscard]] std::string_view link_type_name(std::uint16_t link);

// Per-packet outcome: a value, counted by the caller, never an exception.
enum class DecodeStatus : std::uint8_t {
  ok,                // decoded as far as the protocols go
  not_ip,            // a frame that carries no IP (ARP, LLDP…)
  unsupported_link,  // a link type this decoder does not know
  truncated,         // a header was cut short (snaplen or damage); what came before is kept
  malformed,         // a header contradicts itself (bad version, lengths)
};
inline constexpr std::size_t decode_status_count = 5;
[[nodiscard]] std::string_view decode_status_name(DecodeStatus status);

// Decodes one frame. On truncated/malformed the fields decoded so far stay valid
// (e.g. out.has_ip with transport none): the IP header alone still feeds baselines.
DecodeStatus decode_frame(std::uint16_t link, Bytes frame, DecodedPacket& out);

// Decodes an IP packet (either family, by its version nibble).
DecodeStatus decode_ip(ByteReader bytes, DecodedPacket& out);

// Decodes the IP packet quoted in an ICMP error. Public so that it can be fuzzed alone.
bool decode_quote(ByteReader quoted, QuotedPacket& out);

}  // namespace synprobe
