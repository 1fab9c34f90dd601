#pragma once
// Capture time as integer nanoseconds since the Unix epoch (UTC).

#include <cstdint>
#include <string>

namespace synprobe {

struct Timestamp {
  std::int64_t ns = 0;

  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
  [[nodiscard]] double seconds_since(Timestamp earlier) const {
    return static_cast<double>(ns - earlier.ns) / 1e9;
  }
  [[nodiscard]] double ms_since(Timestamp earlier) const {
    return static_cast<double>(ns - earlier.ns) / 1e6;
  }
};

// "2026-11-21T05:43:12.123456789Z" (ISO 8601, UTC, nanoseconds).
std::string iso8601(Timestamp t);
// "05:43:12.123456" (time of day, UTC, microseconds): the text report's time column.
std::string time_of_day(Timestamp t);

}  // namespace synprobe
