#pragma once
// Writes pcap and pcapng files byte by byte in either byte order, and a temporary
// directory that removes itself: what the capture and CLI tests read back.

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cw {

using ByteVec = std::vector<std::uint8_t>;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "synprobe-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const ByteVec& bytes) const {
    const std::string p = file(name);
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p);
    return p;
  }

 private:
  std::filesystem::path path_;
};

// The whole content of a file ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
  std::string content;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return content;
  char buffer[65536];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) content.append(buffer, n);
  std::fclose(f);
  return content;
}

// Appends integers in the chosen byte order.
class Out {
 public:
  explicit Out(bool big_endian) : be_(big_endian) {}
  void u8(std::uint8_t v) { bytes.push_back(v); }
  void u16(std::uint16_t v) {
    if (be_) {
      u8(static_cast<std::uint8_t>(v >> 8));
      u8(static_cast<std::uint8_t>(v));
    } else {
      u8(static_cast<std::uint8_t>(v));
      u8(static_cast<std::uint8_t>(v >> 8));
    }
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      const int shift = be_ ? 24 - 8 * i : 8 * i;
      u8(static_cast<std::uint8_t>(v >> shift));
    }
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      const int shift = be_ ? 56 - 8 * i : 8 * i;
      u8(static_cast<std::uint8_t>(v >> shift));
    }
  }
  void raw(const ByteVec& b) { bytes.insert(bytes.end(), b.begin(), b.end()); }
  void pad4() {
    while (bytes.size() % 4) u8(0);
  }
  [[nodiscard]] bool big_endian() const { return be_; }

  ByteVec bytes;

 private:
  bool be_;
};

// ------------------------------------------------------------------ pcap

inline constexpr std::uint32_t magic_us = 0xa1b2c3d4;
inline constexpr std::uint32_t magic_ns = 0xa1b23c4d;
inline constexpr std::uint32_t magic_kuznetsov = 0xa1b2cd34;

struct PcapRecord {
  std::uint32_t seconds = 0;
  std::uint32_t fraction = 0;  // µs or ns, as the magic says
  ByteVec data;
  std::uint32_t wire_length = 0;  // 0: data.size()
};

class Pcap {
 public:
  Pcap(bool big_endian, std::uint32_t magic, std::uint32_t link, std::uint32_t snaplen = 65535)
      : out_(big_endian), kuznetsov_(magic == magic_kuznetsov) {
    out_.u32(magic);
    out_.u16(2);
    out_.u16(4);
    out_.u32(0);
    out_.u32(0);
    out_.u32(snaplen);
    out_.u32(link);
  }
  Pcap& record(const PcapRecord& r) {
    return record_with_caplen(r, static_cast<std::uint32_t>(r.data.size()));
  }
  // A record header that may lie about its captured length.
  Pcap& record_with_caplen(const PcapRecord& r, std::uint32_t caplen) {
    out_.u32(r.seconds);
    out_.u32(r.fraction);
    out_.u32(caplen);
    out_.u32(r.wire_length ? r.wire_length : static_cast<std::uint32_t>(r.data.size()));
    if (kuznetsov_) {
      out_.u32(2);  // ifindex
      out_.u16(0x0800);
      out_.u8(0);  // packet type
      out_.u8(0);  // padding
    }
    out_.raw(r.data);
    return *this;
  }
  [[nodiscard]] const ByteVec& bytes() const { return out_.bytes; }

 private:
  Out out_;
  bool kuznetsov_;
};

// ------------------------------------------------------------------ pcapng

struct Option {
  std::uint16_t code = 0;
  ByteVec value;
};

class Pcapng {
 public:
  explicit Pcapng(bool big_endian = false) : big_endian_(big_endian) { section(big_endian); }

  // Starts a new section (its own byte order); interface ids restart.
  Pcapng& section(bool big_endian) {
    big_endian_ = big_endian;
    Out body = out();
    body.u32(0x1a2b3c4d);
    body.u16(1);
    body.u16(0);
    body.u64(~std::uint64_t{0});
    return block(0x0a0d0d0a, body.bytes);
  }
  Pcapng& interface(std::uint16_t link, std::uint32_t snaplen = 0,
                    const std::vector<Option>& options = {}) {
    Out body = out();
    body.u16(link);
    body.u16(0);
    body.u32(snaplen);
    write_options(body, options);
    return block(1, body.bytes);
  }
  Pcapng& enhanced(std::uint32_t interface_id, std::uint64_t units, const ByteVec& data,
                   std::uint32_t wire_length = 0) {
    Out body = out();
    body.u32(interface_id);
    body.u32(static_cast<std::uint32_t>(units >> 32));
    body.u32(static_cast<std::uint32_t>(units));
    body.u32(static_cast<std::uint32_t>(data.size()));
    body.u32(wire_length ? wire_length : static_cast<std::uint32_t>(data.size()));
    body.raw(data);
    body.pad4();
    return block(6, body.bytes);
  }
  Pcapng& simple(const ByteVec& data, std::uint32_t wire_length = 0) {
    Out body = out();
    body.u32(wire_length ? wire_length : static_cast<std::uint32_t>(data.size()));
    body.raw(data);
    body.pad4();
    return block(3, body.bytes);
  }
  Pcapng& obsolete(std::uint16_t interface_id, std::uint64_t units, const ByteVec& data) {
    Out body = out();
    body.u16(interface_id);
    body.u16(0);  // drops
    body.u32(static_cast<std::uint32_t>(units >> 32));
    body.u32(static_cast<std::uint32_t>(units));
    body.u32(static_cast<std::uint32_t>(data.size()));
    body.u32(static_cast<std::uint32_t>(data.size()));
    body.raw(data);
    body.pad4();
    return block(2, body.bytes);
  }
  // A block of any type with the body given; lengths as given when not 0.
  Pcapng& block(std::uint32_t type, const ByteVec& body, std::uint32_t length = 0,
                std::uint32_t trailing_length = 0) {
    Out b = out();
    const auto real = static_cast<std::uint32_t>(12 + body.size());
    b.u32(type);
    b.u32(length ? length : real);
    b.raw(body);
    b.u32(trailing_length ? trailing_length : (length ? length : real));
    bytes_.insert(bytes_.end(), b.bytes.begin(), b.bytes.end());
    return *this;
  }
  [[nodiscard]] const ByteVec& bytes() const { return bytes_; }
  [[nodiscard]] Out out() const { return Out(big_endian_); }

 private:
  static void write_options(Out& body, const std::vector<Option>& options) {
    if (options.empty()) return;
    for (const Option& o : options) {
      body.u16(o.code);
      body.u16(static_cast<std::uint16_t>(o.value.size()));
      body.raw(o.value);
      body.pad4();
    }
    body.u16(0);
    body.u16(0);
  }

  bool big_endian_;
  ByteVec bytes_;
};

}  // namespace cw
