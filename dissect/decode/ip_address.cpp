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

// Writes the decimal text of `v` (0-255) at `p`; returns the end.
char* put_byte(char* p, unsigned v) {
  if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
  if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

// Built in a local buffer and appended once: a string's push_back checks its capacity
// for every character.
void append_v4(std::string& out, const std::uint8_t* b) {
  char text[16];
  char* p = put_byte(text, b[0]);
  for (int i = 1; i < 4; ++i) {
    *p++ = '.';
    p = put_byte(p, b[i]);
  }
  out.append(text, static_cast<std::size_t>(p - text));
}

// RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of
// two or more zero groups becomes "::", and IPv4-mapped addresses end dotted.
void append_v6(std::string& out, const std::array<std::uint8_t, 16>& b) {
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
  const std::size_t start = out.size();
  for (int i = 0; i < hex_groups; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (out.size() > start && out.back() != ':') out += ':';
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
    append_v4(out, b.data() + 12);
  }
}

}  // namespace

void IpAddress::append_to(std::string& out) const {
  if (is_v4()) append_v4(out, bytes_.data());
  else append_v6(out, bytes_);
}

std::string IpAddress::to_string() const {
  std::string out;
  out.reserve(39);
  append_to(out);
  return out;
}

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

void append_endpoint(std::string& out, const IpAddress& address, std::uint16_t port) {
  if (address.is_v4()) {
    address.append_to(out);
    out += ':';
  } else {
    out += '[';
    address.append_to(out);
    out += "]:";
  }
  char digits[5];
  char* p = digits + 5;
  do *--p = static_cast<char>('0' + port % 10); while ((port /= 10) != 0);
  out.append(p, static_cast<std::size_t>(digits + 5 - p));
}

std::string endpoint_text(const IpAddress& address, std::uint16_t port) {
  std::string out;
  out.reserve(48);
  append_endpoint(out, address, port);
  return out;
}


}  // namespace synprobe
