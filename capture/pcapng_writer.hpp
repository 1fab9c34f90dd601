#pragma once
// Builds a pcapng file in memory (written atomically by the caller): a section header
// naming the tool, an interface block per interface (nanosecond timestamps), and an
// enhanced packet block per packet with an optional comment saying its role.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/decode/byte_reader.hpp"
#include "dissect/decode/timestamp.hpp"

namespace synprobe {

class PcapngWriter {
 public:
  explicit PcapngWriter(std::string_view application);

  // Returns the interface id for add_packet().
  std::uint32_t add_interface(std::uint16_t link_type, std::string_view name);
  void add_packet(std::uint32_t interface, Timestamp ts, Bytes data, std::uint32_t wire_length,
                  std::string_view comment = {});

  [[nodiscard]] const std::vector<std::uint8_t>& bytes() const { return out_; }
  [[nodiscard]] std::string_view view() const {
    return {reinterpret_cast<const char*>(out_.data()), out_.size()};
  }

 private:
  class Block;
  std::vector<std::uint8_t> out_;
  std::uint32_t interfaces_ = 0;
};

}  // namespace synprobe
