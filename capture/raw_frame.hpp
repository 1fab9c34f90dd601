#pragma once
// One captured frame as a packet source hands it out: a view into the source's
// buffer, valid until the next call to next().

#include <cstdint>

#include "dissect/decode/byte_reader.hpp"
#include "dissect/decode/timestamp.hpp"

namespace synprobe {

struct RawFrame {
  Timestamp ts;
  std::uint16_t link_type = 0;
  std::uint32_t interface_id = 0;
  std::uint32_t wire_length = 0;
  Bytes data;  // the captured bytes (wire_length or fewer)
};

// Anything that yields frames: a capture file, a live interface, a test vector.
class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // Fills `out` and returns true, or returns false at the end of the input.
  virtual bool next(RawFrame& out) = 0;
};

}  // namespace synprobe
