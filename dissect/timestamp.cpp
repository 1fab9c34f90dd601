#include "timestamp.hpp"

#include <fmt/format.h>

#include <ctime>

namespace synprobe {
namespace {

struct Split {
  std::tm tm{};
  std::int64_t fraction_ns = 0;
};

Split split(Timestamp t) {
  std::int64_t seconds = t.ns / 1'000'000'000;
  std::int64_t fraction = t.ns % 1'000'000'000;
  if (fraction < 0) { fraction += 1'000'000'000; --seconds; }
  Split s;
  const std::time_t tt = static_cast<std::time_t>(seconds);
  gmtime_r(&tt, &s.tm);
  s.fraction_ns = fraction;
  return s;
}

}  // namespace

std::string iso8601(Timestamp t) {
  const Split s = split(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", s.tm.tm_year + 1900,
                     s.tm.tm_mon + 1, s.tm.tm_mday, s.tm.tm_hour, s.tm.tm_min, s.tm.tm_sec,
                     s.fraction_ns);
}

std::string time_of_day(Timestamp t) {
  const Split s = split(t);
  return fmt::format("{:02}:{:02}:{:02}.{:06}", s.tm.tm_hour, s.tm.tm_min, s.tm.tm_sec,
                     s.fraction_ns / 1000);
}

}  // namespace synprobe
