#include "capture_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "dissect/decode/error.hpp"

namespace synprobe {
namespace {

constexpr std::uint32_t pcap_magic_us = 0xa1b2c3d4;
constexpr std::uint32_t pcap_magic_ns = 0xa1b23c4d;
constexpr std::uint32_t pcap_magic_kuznetsov = 0xa1b2cd34;
constexpr std::uint32_t pcapng_section_header = 0x0a0d0d0a;
constexpr std::uint32_t pcapng_byte_order_magic = 0x1a2b3c4d;

constexpr std::uint32_t block_interface = 1;
constexpr std::uint32_t block_obsolete_packet = 2;
constexpr std::uint32_t block_simple_packet = 3;
constexpr std::uint32_t block_enhanced_packet = 6;

// A record larger than this is damage, not a packet (libpcap's limit is 256 KiB for most
// link types; leave room for the odd big-snaplen file).
constexpr std::uint32_t max_record = 16u << 20;
constexpr std::uint32_t max_block = max_record + 4096;

// Timestamps need 128-bit intermediates: 64-bit units times 10^9.
__extension__ using Int128 = __int128;

std::uint32_t swap32(std::uint32_t v) { return __builtin_bswap32(v); }

std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

int open_input(const std::string& path) {
  if (path == "-") return STDIN_FILENO;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Failure(ExitCode::input_unreadable, fmt::format("{}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Failure(ExitCode::input_unreadable, fmt::format("{}: is a directory", path));
  }
  return fd;
}

}  // namespace

CaptureFileReader::CaptureFileReader(const std::string& path, bool digest)
    : name_(path == "-" ? "<stdin>" : path),
      input_(std::make_unique<InputBuffer>(open_input(path), name_)) {
  if (digest) input_->enable_digest();
  const std::uint8_t* head = input_->peek(4);
  if (!head) {
    throw Failure(ExitCode::input_unreadable,
                  input_->available() == 0 ? fmt::format("{}: empty file, not a capture", name_)
                                           : fmt::format("{}: too short to be a capture file", name_));
  }
  const std::uint32_t magic = load32(head);
  if (magic == pcapng_section_header) {
    pcapng_ = true;
    const std::uint8_t* shb = input_->peek(12);
    if (!shb) throw Failure(ExitCode::input_unreadable, fmt::format("{}: truncated pcapng header", name_));
    return;  // the section header block is read as the first block by next()
  }
  const std::uint8_t* header = input_->peek(24);
  const bool known = magic == pcap_magic_us || magic == pcap_magic_ns ||
                     magic == pcap_magic_kuznetsov || swap32(magic) == pcap_magic_us ||
                     swap32(magic) == pcap_magic_ns || swap32(magic) == pcap_magic_kuznetsov;
  if (!known)
    throw Failure(ExitCode::input_unreadable,
                  fmt::format("{}: not a pcap or pcapng file (starts with 0x{:08x})", name_, __builtin_bswap32(magic)));
  if (!header) throw Failure(ExitCode::input_unreadable, fmt::format("{}: truncated pcap header", name_));
  read_pcap_header(header);
  input_->consume(24);
}

std::uint16_t CaptureFileReader::rd16(const std::uint8_t* p) const {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return swapped_ ? __builtin_bswap16(v) : v;
}

std::uint32_t CaptureFileReader::rd32(const std::uint8_t* p) const {
  const std::uint32_t v = load32(p);
  return swapped_ ? swap32(v) : v;
}

void CaptureFileReader::note_link_type(std::uint16_t link) {
  if (std::find(link_types_.begin(), link_types_.end(), link) == link_types_.end())
    link_types_.push_back(link);
}

void CaptureFileReader::read_pcap_header(const std::uint8_t* header) {
  std::uint32_t magic = load32(header);
  swapped_ = magic != pcap_magic_us && magic != pcap_magic_ns && magic != pcap_magic_kuznetsov;
  if (swapped_) magic = swap32(magic);
  const std::uint16_t major = rd16(header + 4);
  if (major != 2)
    throw Failure(ExitCode::input_unreadable,
                  fmt::format("{}: pcap version {} is not supported (only 2.x)", name_, major));
  pcap_interface_.snaplen = rd32(header + 16);
  // The upper bits of the link-type field carry FCS information, not the type.
  pcap_interface_.link_type = static_cast<std::uint16_t>(rd32(header + 20) & 0xffff);
  if (magic == pcap_magic_ns) {
    pcap_interface_.multiplier = 1;
  } else {
    pcap_interface_.multiplier = 1000;
  }
  if (magic == pcap_magic_kuznetsov) record_header_ = 24;
  note_link_type(pcap_interface_.link_type);
}

bool CaptureFileReader::stop(std::string why) {
  damage_ = fmt::format("{}: {} (after {} packet{})", name_, why, records_, records_ == 1 ? "" : "s");
  return false;
}

Timestamp CaptureFileReader::to_time(const Interface& i, std::uint64_t units) const {
  // The common case (µs or ns units, no offset) in 64 bits: one multiply per record.
  std::uint64_t fast = 0;
  if (i.binary_shift == 0 && i.divisor == 1 && i.offset_seconds == 0 &&
      !__builtin_mul_overflow(units, i.multiplier, &fast) && fast <= static_cast<std::uint64_t>(Timestamp::limit_ns))
    return Timestamp{static_cast<std::int64_t>(fast)};
  Int128 ns;
  if (i.binary_shift > 0) {
    ns = (static_cast<Int128>(units) * 1'000'000'000) >> i.binary_shift;
  } else {
    ns = static_cast<Int128>(units) * i.multiplier / i.divisor;
  }
  ns += static_cast<Int128>(i.offset_seconds) * 1'000'000'000;
  return Timestamp{static_cast<std::int64_t>(std::clamp<Int128>(ns, -Timestamp::limit_ns, Timestamp::limit_ns))};
}

bool CaptureFileReader::next(RawFrame& out) {
  if (pending_) {
    input_->consume(pending_);
    pending_ = 0;
  }
  if (damage_) return false;
  return pcapng_ ? next_pcapng(out) : next_pcap(out);
}

bool CaptureFileReader::next_keeps_views() const {
  if (damage_) return false;
  const std::size_t view = input_->in_view();
  const std::size_t header = pcapng_ ? 12 : record_header_;
  if (pending_ + header > view) return false;
  const std::uint8_t* next = input_->peek(0) + pending_;
  std::size_t length = 0;
  if (pcapng_) {
    // Other blocks (a new section, an interface) may be followed by more in the same call.
    const std::uint32_t type = rd32(next);
    if (type != block_enhanced_packet && type != block_simple_packet && type != block_obsolete_packet) return false;
    length = rd32(next + 4);
  } else {
    length = header + rd32(next + 8);
  }
  return pending_ + length <= view;
}

namespace {

// Asks for the next record's first bytes (its header and the packet's Ethernet, IP and TCP
// headers) while this one is decoded and analysed. The records are read in order but only
// their first ~80 bytes are touched, ~1 KB apart: too sparse for the hardware prefetcher,
// so without this each record's first access waited on memory (a fifth of the run's
// samples). A prefetch past the mapping is harmless: it never faults.
void prefetch_next(const std::uint8_t* next) {
  __builtin_prefetch(next);
  __builtin_prefetch(next + 64);
}

}  // namespace

// pcapng checks each block's trailing length, one more line ~1 KB from its head: the
// next block's head and trailer, and the head of the one after, are asked for here. The
// next block's length comes from its head, asked for one block ago. Only bytes already in
// memory are read; a prefetch of a wrong address (a damaged length) is harmless.
void CaptureFileReader::prefetch_pcapng_ahead() const {
  const std::size_t view = input_->in_view();
  if (pending_ + 8 > view) return;
  const std::uint8_t* next = input_->peek(0) + pending_;
  prefetch_next(next);
  const std::uint32_t length = rd32(next + 4);
  __builtin_prefetch(next + length - 4);
  prefetch_next(next + length);
}

bool CaptureFileReader::next_pcap(RawFrame& out) {
  const std::uint8_t* h = input_->peek(record_header_);
  if (!h) {
    if (input_->available() == 0) return false;
    return stop("the file ends inside a record header");
  }
  const std::uint32_t seconds = rd32(h);
  const std::uint32_t fraction = rd32(h + 4);
  const std::uint32_t caplen = rd32(h + 8);
  const std::uint32_t wirelen = rd32(h + 12);
  const std::uint32_t limit = std::max<std::uint32_t>(pcap_interface_.snaplen, 262144);
  if (caplen > std::min(limit, max_record))
    return stop(fmt::format("a record claims {} captured bytes, more than the snapshot length {}",
                            caplen, pcap_interface_.snaplen));
  const std::uint8_t* record = input_->peek(record_header_ + caplen);
  if (!record) return stop("the file ends in the middle of a packet");
  const std::uint64_t units =
      static_cast<std::uint64_t>(seconds) * (pcap_interface_.multiplier == 1 ? 1'000'000'000 : 1'000'000) +
      fraction;
  out.ts = to_time(pcap_interface_, units);
  out.link_type = pcap_interface_.link_type;
  out.interface_id = 0;
  out.wire_length = std::max(wirelen, caplen);
  out.data = Bytes(record + record_header_, caplen);
  pending_ = record_header_ + caplen;
  ++records_;
  prefetch_next(record + pending_);
  return true;
}

bool CaptureFileReader::next_pcapng(RawFrame& out) {
  for (;;) {
    const std::uint8_t* head = input_->peek(12);
    if (!head) {
      if (input_->available() == 0) return false;
      return stop("the file ends inside a block header");
    }
    const std::uint32_t raw_type = load32(head);
    if (raw_type == pcapng_section_header) {
      // The byte order of a section is only known from its own header.
      const std::uint32_t bom = load32(head + 8);
      if (bom == pcapng_byte_order_magic) swapped_ = false;
      else if (swap32(bom) == pcapng_byte_order_magic) swapped_ = true;
      else return stop("a section header has no valid byte-order magic");
    }
    const std::uint32_t type = rd32(head);
    const std::uint32_t length = rd32(head + 4);
    if (length < 12 || length % 4 != 0 || length > max_block)
      return stop(fmt::format("a block (type 0x{:x}) has an impossible length {}", type, length));
    const std::uint8_t* block = input_->peek(length);
    if (!block) return stop("the file ends in the middle of a block");
    if (rd32(block + length - 4) != length)
      return stop(fmt::format("a block (type 0x{:x}) has mismatched length fields", type));

    if (type == pcapng_section_header) {
      read_section_header(block, length);
    } else if (type == block_interface) {
      read_interface(block, length);
    } else if (type == block_enhanced_packet || type == block_simple_packet ||
               type == block_obsolete_packet) {
      if (damage_) return false;
      if (frame_from_block(type, block, length, out)) {
        pending_ = length;
        ++records_;
        prefetch_pcapng_ahead();
        return true;
      }
      if (damage_) return false;
    }
    if (damage_) return false;
    input_->consume(length);
  }
}

void CaptureFileReader::read_section_header(const std::uint8_t* block, std::uint32_t length) {
  if (length < 28) {
    stop("a section header block is too short");
    return;
  }
  const std::uint16_t major = rd16(block + 12);
  if (major != 1) {
    stop(fmt::format("pcapng version {} is not supported", major));
    return;
  }
  interfaces_.clear();  // interface ids restart in every section
}

void CaptureFileReader::read_interface(const std::uint8_t* block, std::uint32_t length) {
  if (length < 20) {
    stop("an interface description block is too short");
    return;
  }
  Interface i;
  i.link_type = rd16(block + 8);
  i.snaplen = rd32(block + 12);
  i.multiplier = 1000;  // default resolution: microseconds
  // Options: code, length, value padded to 4; stop at opt_endofopt or the block's end.
  std::size_t offset = 16;
  const std::size_t end = length - 4;
  while (offset + 4 <= end) {
    const std::uint16_t code = rd16(block + offset);
    const std::uint16_t size = rd16(block + offset + 2);
    if (code == 0 || offset + 4 + size > end) break;
    const std::uint8_t* value = block + offset + 4;
    if (code == 9 && size >= 1) {  // if_tsresol
      const std::uint8_t r = value[0];
      if (r & 0x80) {
        const unsigned shift = r & 0x7fu;
        if (shift <= 63) { i.binary_shift = shift; i.multiplier = 1; i.divisor = 1; }
      } else if (r <= 9) {
        i.multiplier = 1;
        for (unsigned k = r; k < 9; ++k) i.multiplier *= 10;
        i.divisor = 1;
      } else if (r <= 19) {
        i.multiplier = 1;
        i.divisor = 1;
        for (unsigned k = 9; k < r; ++k) i.divisor *= 10;
      }
    } else if (code == 14 && size >= 8) {  // if_tsoffset, seconds
      std::uint64_t v;
      std::memcpy(&v, value, 8);
      if (swapped_) v = __builtin_bswap64(v);
      i.offset_seconds = static_cast<std::int64_t>(v);
    }
    offset += 4 + ((size + 3u) & ~3u);
  }
  interfaces_.push_back(i);
  note_link_type(i.link_type);
}

bool CaptureFileReader::frame_from_block(std::uint32_t type, const std::uint8_t* block,
                                         std::uint32_t length, RawFrame& out) {
  const std::uint32_t body = length - 12;
  std::uint32_t interface = 0, caplen = 0, wirelen = 0;
  std::uint64_t units = 0;
  const std::uint8_t* data = nullptr;
  if (type == block_simple_packet) {
    if (body < 4) return stop("a simple packet block is too short");
    wirelen = rd32(block + 8);
    caplen = std::min(wirelen, body - 4);
    data = block + 12;
  } else {
    if (body < 20) return stop("a packet block is too short");
    if (type == block_enhanced_packet) {
      interface = rd32(block + 8);
    } else {
      interface = rd16(block + 8);
    }
    units = static_cast<std::uint64_t>(rd32(block + 12)) << 32 | rd32(block + 16);
    caplen = rd32(block + 20);
    wirelen = rd32(block + 24);
    if (caplen > body - 20) return stop("a packet block claims more bytes than it holds");
    data = block + 28;
  }
  if (interface >= interfaces_.size())
    return stop(fmt::format("a packet names interface {}, which the section never described", interface));
  const Interface& i = interfaces_[interface];
  // An SPB's body is padded to 4 bytes; its captured length is min(original length, snaplen).
  if (type == block_simple_packet && i.snaplen != 0) caplen = std::min(caplen, i.snaplen);
  out.ts = type == block_simple_packet ? Timestamp{} : to_time(i, units);
  out.link_type = i.link_type;
  out.interface_id = interface;
  out.wire_length = std::max(wirelen, caplen);
  out.data = Bytes(data, caplen);
  return true;
}

}  // namespace synprobe
