#pragma once
// Parsing of probe targets as users type them: HOST:PORT, [IPv6]:PORT, a bare IPv6
// address, HOST with -p, and port lists with ranges ("22,80,443", "8000-8010").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synprobe {

struct TargetSpec {
  std::string host;                  // name or literal address, brackets removed
  std::vector<std::uint16_t> ports;  // empty: take -p
};

// Throws Failure(usage) with a message naming the bad part.
[[nodiscard]] std::vector<std::uint16_t> parse_port_list(std::string_view text);
[[nodiscard]] TargetSpec parse_target(std::string_view text);

}  // namespace synprobe
