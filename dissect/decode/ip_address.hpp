#pragma once
// An IPv4 or IPv6 address as a value: comparable, hashable, printable in
// canonical text form (dotted quad; RFC 5952 for IPv6).

#include <array>
#include <cstring>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace synprobe {

enum class IpFamily : std::uint8_t { v4 = 4, v6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(const std::uint8_t* four_bytes);
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v6(const std::uint8_t* sixteen_bytes);
  // Parses dotted-quad or RFC 4291 text; std::nullopt when it is neither.
  static std::optional<IpAddress> parse(std::string_view text);

  [[nodiscard]] IpFamily family() const { return family_; }
  [[nodiscard]] bool is_v4() const { return family_ == IpFamily::v4; }
  [[nodiscard]] const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  // Number of meaningful bytes: 4 or 16.
  [[nodiscard]] std::size_t length() const { return is_v4() ? 4 : 16; }
  [[nodiscard]] std::string to_string() const;
  // The same text appended to `out`: what a renderer writing many addresses uses.
  void append_to(std::string& out) const;

  [[nodiscard]] bool is_unspecified() const;
  [[nodiscard]] bool is_loopback() const;
  [[nodiscard]] bool is_multicast() const;
  [[nodiscard]] bool is_limited_broadcast() const;

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  // Two 64-bit compares: on the per-packet path (host and flow tables), a memcmp call costs.
  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.bytes_.data(), 8);
    std::memcpy(&a1, a.bytes_.data() + 8, 8);
    std::memcpy(&b0, b.bytes_.data(), 8);
    std::memcpy(&b1, b.bytes_.data() + 8, 8);
    return a.family_ == b.family_ && a0 == b0 && a1 == b1;
  }

  [[nodiscard]] std::size_t hash() const;

 private:
  IpFamily family_ = IpFamily::v4;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 uses the first four bytes
};

// Inline: the decoders build two addresses per packet, and the host and flow tables hash
// them; out-of-line calls showed in the per-packet profile.
inline IpAddress IpAddress::v4(const std::uint8_t* four_bytes) {
  IpAddress a;
  a.family_ = IpFamily::v4;
  std::memcpy(a.bytes_.data(), four_bytes, 4);
  return a;
}

inline IpAddress IpAddress::v6(const std::uint8_t* sixteen_bytes) {
  IpAddress a;
  a.family_ = IpFamily::v6;
  std::memcpy(a.bytes_.data(), sixteen_bytes, 16);
  return a;
}

namespace detail {
// splitmix64's finaliser: every input bit reaches every output bit.
inline std::uint64_t mix64(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}
}  // namespace detail

inline std::size_t IpAddress::hash() const {
  // The two 64-bit halves, the first mixed before the second joins it: a product alone
  // (hi * constant ^ lo) carries a change only upward, so the last byte of an IPv6
  // prefix cancelled against the last byte of the interface ID (2001:db8:0:1::5 and
  // 2001:db8:0:2::3a had one hash), and the flows judged early are told apart by hash.
  std::uint64_t hi = 0, lo = 0;
  std::memcpy(&hi, bytes_.data(), 8);
  std::memcpy(&lo, bytes_.data() + 8, 8);
  return static_cast<std::size_t>(detail::mix64(detail::mix64(hi) ^ (lo + static_cast<std::uint64_t>(family_))));
}

// "198.18.4.10:80" or "[2001:db8:4::10]:80": an address and port as users type them.
[[nodiscard]] std::string endpoint_text(const IpAddress& address, std::uint16_t port);
void append_endpoint(std::string& out, const IpAddress& address, std::uint16_t port);

}  // namespace synprobe

template <>
struct std::hash<synprobe::IpAddress> {
  std::size_t operator()(const synprobe::IpAddress& a) const noexcept { return a.hash(); }
};
