#pragma once
// The wall clock, as every live run and report stamps its times. Kept out of dissect/,
// which never reads a clock.

#include <chrono>

#include "dissect/decode/timestamp.hpp"

namespace synprobe {

[[nodiscard]] inline Timestamp wall_clock_now() {
  return Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()};
}

}  // namespace synprobe
