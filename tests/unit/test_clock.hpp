#pragma once
// A fixed moment for the scheduling tests, and times given in milliseconds after it.

#include <cstdint>

#include "dissect/decode/timestamp.hpp"

namespace synprobe::test {

inline const Timestamp start{1'000'000'000'000};
inline Timestamp at(std::int64_t ms) { return Timestamp{start.ns + ms * 1'000'000}; }

}  // namespace synprobe::test
