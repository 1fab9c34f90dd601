#include "dissect/decode/ip_address.hpp"

#include <arpa/inet.h>  // inet_pton only: parsing, no I/O

#include <cstring>

namespace synprobe {

IpAddress IpAddress::v4(std::uint32_t host_order) {
  const std::uint8_t b[4] = {static_cast<std::uint8_t>(host_order >> 24),
                             static_cast<std::uint8_t>(host_order >> 16),
                             static_cast<std::uint8_t>(host_order >> 8),
                             static_cast<std::uint8_t>(host_order)};
  return v4(b);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() > 63) return std::nullopt;
  char buffer[64] = {};
  std::memcpy(buffer, text.data(), text.size());
  std::uint8_t raw[16];
  if (inet_pton(AF_INET, buffer, raw) == 1) return v4(raw);
  if (inet_pton(AF_INET6, buffer, raw) == 1) return v6(raw);
  return std::nullopt;
}

namespace {

std::string v4_text(const std::array<std::uint8_t, 16>& b) {
  std::string out;
  out.reserve(15);
  for (int i = 0; i < 4; ++i) {
    if (i) out += '.';
    out += std::to_string(b[static_cast<std::size_t>(i)]);
  }
  return out;
}

// RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of
// two or more zero groups becomes "::", and IPv4-mapped addresses end dotted.
std::string v6_text(const std::array<std::uint8_t, 16>& b) {
  std::uint16_t groups[8];
  for (std::size_t i = 0; i < 8; ++i)
    groups[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);

  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) { best_start = i; best_len = j - i; }
    i = j;
  }
  if (best_len < 2) best_start = -1;

  const bool v4_mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 &&
                         groups[4] == 0 && groups[5] == 0xffff;
  const int hex_groups = v4_mapped ? 6 : 8;
  if (v4_mapped) { best_start = 0; best_len = 5; }

  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(39);
  for (int i = 0; i < hex_groups; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (static_cast<unsigned>(groups[i]) >> shift) & 0xfu;
      if (nibble || started || shift == 0) {
        out += digits[nibble];
        started = true;
      }
    }
  }
  if (v4_mapped) {
    out += ':';  // "::ffff" + ":" + dotted quad
    out += std::to_string(b[12]) + '.' + std::to_string(b[13]) + '.' + std::to_string(b[14]) +
           '.' + std::to_string(b[15]);
  }
  return out;
}

}  // namespace

std::string IpAddress::to_string() const { return is_v4() ? v4_text(bytes_) : v6_text(bytes_); }

bool IpAddress::is_unspecified() const {
  for (std::size_t i = 0; i < length(); ++i)
    if (bytes_[i]) return false;
  return true;
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  for (std::size_t i = 0; i < 15; ++i)
    if (bytes_[i]) return false;
  return bytes_[15] == 1;
}

bool IpAddress::is_multicast() const {
  return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddress::is_limited_broadcast() const {
  return is_v4() && bytes_[0] == 255 && bytes_[1] == 255 && bytes_[2] == 255 && bytes_[3] == 255;
}

std::string endpoint_text(const IpAddress& address, std::uint16_t port) {
  return address.is_v4() ? address.to_string() + ':' + std::to_string(port)
                         : '[' + address.to_string() + "]:" + std::to_string(port);
}


}  // namespace synprobe
