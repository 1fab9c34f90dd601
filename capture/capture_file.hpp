#pragma once
// Reads pcap (micro/nanosecond, either byte order, Kuznetsov's variant) and pcapng
// (several sections, interfaces and link types, any timestamp resolution) from a file
// or standard input.
//
// Why our own reader and not libpcap's: libpcap refuses a pcapng whose interfaces have
// different link types, and a reader over one reusable buffer is what lets `analyze`
// keep up with tcpdump. libpcap still does the BPF filtering (bpf_filter.hpp).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capture/input_buffer.hpp"
#include "capture/raw_frame.hpp"

namespace synprobe {

class CaptureFileReader final : public PacketSource {
 public:
  // Opens and checks the file header; throws Failure(input_unreadable) when it is not a
  // capture file synprobe can read. "-" reads standard input.
  explicit CaptureFileReader(const std::string& path, bool digest = false);

  // SHA-256 of the whole file (reads what is left); only when constructed with digest.
  [[nodiscard]] std::string sha256() { return input_->finish_digest(); }

  bool next(RawFrame& out) override;

  // Whether the next call to next() leaves the frames returned so far readable: their
  // bytes are views into the input window (or read buffer), which moves when a record
  // does not fit in it. True only when the next record is a packet already wholly in view;
  // false says "copy or finish with what you hold first", never that something is wrong.
  [[nodiscard]] bool next_keeps_views() const;

  // Why reading stopped before the end of the file, if it did (the records before are good).
  [[nodiscard]] const std::optional<std::string>& damage() const { return damage_; }
  [[nodiscard]] const char* format() const { return pcapng_ ? "pcapng" : "pcap"; }
  [[nodiscard]] std::uint64_t bytes_consumed() const { return input_->consumed(); }
  // The file's size, when it is a regular file.
  [[nodiscard]] std::optional<std::uint64_t> total_bytes() const { return input_->size(); }
  // Every link type declared so far (pcap: one; pcapng: one per interface).
  [[nodiscard]] const std::vector<std::uint16_t>& link_types() const { return link_types_; }

 private:
  struct Interface {
    std::uint16_t link_type = 0;
    std::uint32_t snaplen = 0;
    // Timestamp units: value * multiplier / divisor nanoseconds (one of them is 1),
    // or a power-of-two fraction when binary_shift > 0.
    std::uint64_t multiplier = 1000;
    std::uint64_t divisor = 1;
    unsigned binary_shift = 0;
    std::int64_t offset_seconds = 0;
  };

  void read_pcap_header(const std::uint8_t* header);
  bool next_pcap(RawFrame& out);
  bool next_pcapng(RawFrame& out);
  void read_section_header(const std::uint8_t* block, std::uint32_t length);
  void read_interface(const std::uint8_t* block, std::uint32_t length);
  bool frame_from_block(std::uint32_t type, const std::uint8_t* block, std::uint32_t length,
                        RawFrame& out);
  std::uint16_t rd16(const std::uint8_t* p) const;
  std::uint32_t rd32(const std::uint8_t* p) const;
  void prefetch_pcapng_ahead() const;
  Timestamp to_time(const Interface& i, std::uint64_t units) const;
  bool stop(std::string why);
  void note_link_type(std::uint16_t link);

  std::string name_;
  std::unique_ptr<InputBuffer> input_;
  bool pcapng_ = false;
  bool swapped_ = false;        // file byte order differs from ours
  std::size_t record_header_ = 16;  // pcap: 16, or 24 for Kuznetsov's variant
  Interface pcap_interface_;
  std::vector<Interface> interfaces_;  // pcapng: of the current section
  std::vector<std::uint16_t> link_types_;
  std::optional<std::string> damage_;
  std::uint64_t records_ = 0;
  std::size_t pending_ = 0;  // bytes of the last returned record still to consume
};

}  // namespace synprobe
