#pragma once
// Capture time as integer nanoseconds since the Unix epoch (UTC).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synprobe {

struct Timestamp {
  std::int64_t ns = 0;

  // A capture file may claim any time (a 64-bit count of units of any resolution, plus a
  // signed offset); its reader clamps to this many ns either side of 1970 (1824 to 2116),
  // so that the difference of two timestamps, or a timestamp plus an interval of years,
  // always fits in 64 bits wherever the analysis computes one.
  static constexpr std::int64_t limit_ns = std::int64_t{1} << 62;

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
  [[nodiscard]] double seconds_since(Timestamp earlier) const {
    return static_cast<double>(ns - earlier.ns) / 1e9;
  }
  [[nodiscard]] double ms_since(Timestamp earlier) const {
    return static_cast<double>(ns - earlier.ns) / 1e6;
  }
};

// `seconds` after `t`: when something planned relative to `t` is due.
[[nodiscard]] inline Timestamp after(Timestamp t, double seconds) {
  return Timestamp{t.ns + static_cast<std::int64_t>(seconds * 1e9)};
}

// "2026-11-21T05:43:12.123456789Z" (ISO 8601, UTC, nanoseconds).
std::string iso8601(Timestamp t);
// Parses what iso8601() writes (fraction of 0-9 digits, "Z"); std::nullopt otherwise.
std::optional<Timestamp> parse_iso8601(std::string_view text);
// "05:43:12.123456" (time of day, UTC, microseconds): the text report's time column.
std::string time_of_day(Timestamp t);

}  // namespace synprobe
