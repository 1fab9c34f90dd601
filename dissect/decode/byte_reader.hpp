#pragma once
// Bounds-checked, zero-copy reads of big-endian fields from packet bytes.
//
// Every read names the offset it wants and fails (returns false / std::nullopt)
// instead of reading past the end: the decoders check lengths before every view.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace synprobe {

using Bytes = std::span<const std::uint8_t>;

class ByteReader {
 public:
  constexpr ByteReader() = default;
  constexpr explicit ByteReader(Bytes bytes) : bytes_(bytes) {}

  [[nodiscard]] constexpr std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] constexpr bool has(std::size_t offset, std::size_t length) const {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }
  [[nodiscard]] constexpr Bytes bytes() const { return bytes_; }

  [[nodiscard]] std::optional<std::uint8_t> u8(std::size_t offset) const {
    if (!has(offset, 1)) return std::nullopt;
    return bytes_[offset];
  }
  [[nodiscard]] std::optional<std::uint16_t> be16(std::size_t offset) const {
    if (!has(offset, 2)) return std::nullopt;
    return static_cast<std::uint16_t>((bytes_[offset] << 8) | bytes_[offset + 1]);
  }
  [[nodiscard]] std::optional<std::uint16_t> le16(std::size_t offset) const {
    if (!has(offset, 2)) return std::nullopt;
    return static_cast<std::uint16_t>((bytes_[offset + 1] << 8) | bytes_[offset]);
  }
  [[nodiscard]] std::optional<std::uint32_t> be32(std::size_t offset) const {
    if (!has(offset, 4)) return std::nullopt;
    return load_be32(offset);
  }
  [[nodiscard]] std::optional<std::uint32_t> le32(std::size_t offset) const {
    if (!has(offset, 4)) return std::nullopt;
    return static_cast<std::uint32_t>(bytes_[offset]) |
           static_cast<std::uint32_t>(bytes_[offset + 1]) << 8 |
           static_cast<std::uint32_t>(bytes_[offset + 2]) << 16 |
           static_cast<std::uint32_t>(bytes_[offset + 3]) << 24;
  }
  // A sub-view; empty when the range is out of bounds.
  [[nodiscard]] ByteReader slice(std::size_t offset, std::size_t length) const {
    if (!has(offset, length)) return ByteReader{};
    return ByteReader{bytes_.subspan(offset, length)};
  }
  // The bytes from offset to the end (empty when offset is past the end).
  [[nodiscard]] ByteReader from(std::size_t offset) const {
    if (offset > bytes_.size()) return ByteReader{};
    return ByteReader{bytes_.subspan(offset)};
  }
  // Unchecked fast paths for callers that already checked has().
  [[nodiscard]] std::uint8_t at(std::size_t offset) const { return bytes_[offset]; }
  [[nodiscard]] std::uint16_t load_be16(std::size_t offset) const {
    return static_cast<std::uint16_t>((bytes_[offset] << 8) | bytes_[offset + 1]);
  }
  [[nodiscard]] std::uint32_t load_be32(std::size_t offset) const {
    return static_cast<std::uint32_t>(bytes_[offset]) << 24 |
           static_cast<std::uint32_t>(bytes_[offset + 1]) << 16 |
           static_cast<std::uint32_t>(bytes_[offset + 2]) << 8 |
           static_cast<std::uint32_t>(bytes_[offset + 3]);
  }

 private:
  Bytes bytes_{};
};

}  // namespace synprobe
