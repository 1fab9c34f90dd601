#pragma once
// ICMP and ICMPv6 error types and codes in words (RFC 792, 1812, 4443).

#include <cstdint>
#include <string_view>

#include "dissect/decode/ip_address.hpp"

namespace synprobe {

// "admin-prohibited", "port-unreachable", "ttl-exceeded"…; "type-T-code-C" when unknown.
[[nodiscard]] std::string_view icmp_name(IpFamily family, std::uint8_t type, std::uint8_t code);

[[nodiscard]] bool is_destination_unreachable(IpFamily family, std::uint8_t type);
[[nodiscard]] bool is_time_exceeded(IpFamily family, std::uint8_t type);
// Unreachable codes that mean "too big" rather than "refused": not a refusal.
[[nodiscard]] bool is_size_error(IpFamily family, std::uint8_t type, std::uint8_t code);
// A destination-unreachable that refuses (any code but the size errors).
[[nodiscard]] bool is_refusal(IpFamily family, std::uint8_t type, std::uint8_t code);

}  // namespace synprobe
