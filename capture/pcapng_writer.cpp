#include "pcapng_writer.hpp"

#include <cstring>

namespace synprobe {

// One block under construction: body bytes, options, and the length fields around them.
class PcapngWriter::Block {
 public:
  explicit Block(std::uint32_t type) { u32(type); u32(0); }  // length patched in finish()

  void u16(std::uint16_t v) { append(&v, 2); }
  void u32(std::uint32_t v) { append(&v, 4); }
  void u64(std::uint64_t v) { append(&v, 8); }
  void bytes(const void* data, std::size_t n) {
    append(data, n);
    pad();
  }
  void option(std::uint16_t code, std::string_view value) {
    if (value.empty()) return;
    // Option values are at most 65535 bytes; longer comments are cut, not rejected.
    const std::size_t n = value.size() > 65535 ? 65535 : value.size();
    u16(code);
    u16(static_cast<std::uint16_t>(n));
    bytes(value.data(), n);
  }
  void option_u8(std::uint16_t code, std::uint8_t value) {
    u16(code);
    u16(1);
    bytes(&value, 1);
  }
  void end_options() { u32(0); }

  void finish_into(std::vector<std::uint8_t>& out) {
    const auto length = static_cast<std::uint32_t>(body_.size() + 4);
    std::memcpy(body_.data() + 4, &length, 4);
    u32(length);
    out.insert(out.end(), body_.begin(), body_.end());
  }

 private:
  void append(const void* data, std::size_t n) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    body_.insert(body_.end(), p, p + n);
  }
  void pad() { body_.resize((body_.size() + 3) & ~std::size_t{3}, 0); }
  std::vector<std::uint8_t> body_;
};

PcapngWriter::PcapngWriter(std::string_view application) {
  Block shb(0x0a0d0d0a);
  shb.u32(0x1a2b3c4d);  // byte-order magic: this file is in our own (host) order
  shb.u16(1);
  shb.u16(0);
  shb.u64(~std::uint64_t{0});  // section length unknown
  shb.option(3, "Linux");       // shb_os
  shb.option(4, application);   // shb_userappl
  shb.end_options();
  shb.finish_into(out_);
}

std::uint32_t PcapngWriter::add_interface(std::uint16_t link_type, std::string_view name) {
  Block idb(1);
  idb.u16(link_type);
  idb.u16(0);
  idb.u32(262144);
  idb.option(2, name);   // if_name
  idb.option_u8(9, 9);   // if_tsresol: 10^-9, nanoseconds
  idb.end_options();
  idb.finish_into(out_);
  return interfaces_++;
}

void PcapngWriter::add_packet(std::uint32_t interface, Timestamp ts, Bytes data,
                              std::uint32_t wire_length, std::string_view comment) {
  Block epb(6);
  epb.u32(interface);
  const auto units = static_cast<std::uint64_t>(ts.ns);
  epb.u32(static_cast<std::uint32_t>(units >> 32));
  epb.u32(static_cast<std::uint32_t>(units));
  epb.u32(static_cast<std::uint32_t>(data.size()));
  epb.u32(wire_length < data.size() ? static_cast<std::uint32_t>(data.size()) : wire_length);
  epb.bytes(data.data(), data.size());
  if (!comment.empty()) {
    epb.option(1, comment);  // opt_comment
    epb.end_options();
  }
  epb.finish_into(out_);
}

}  // namespace synprobe
