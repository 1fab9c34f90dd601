#pragma once
// SHA-256 (FIPS 180-4), streaming: a report names the exact capture it was made from.

#include <array>
#include <cstdint>
#include <string>

#include "dissect/decode/byte_reader.hpp"

namespace synprobe {

class Sha256 {
 public:
  Sha256();
  void update(Bytes data);
  // Lower-case hex of the digest; the object is spent afterwards.
  [[nodiscard]] std::string hex_digest();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

}  // namespace synprobe
