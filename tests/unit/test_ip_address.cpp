// IpAddress: RFC 5952 text, parsing round trips, and the address-class predicates.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <random>
#include <unordered_set>

#include <fmt/format.h>

#include "dissect/decode/ip_address.hpp"

using synprobe::IpAddress;
using synprobe::IpFamily;
using synprobe::endpoint_text;

namespace {
std::string canonical(const std::string& text) {
  const auto a = IpAddress::parse(text);
  REQUIRE(a.has_value());
  return a->to_string();
}
}  // namespace

TEST_CASE("IPv6 text follows RFC 5952", "[ip_address]") {
  SECTION("leading zeros dropped, lower case") {
    CHECK(canonical("2001:0DB8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
    CHECK(canonical("2001:DB8::ABCD:EF") == "2001:db8::abcd:ef");
  }
  SECTION("the longest run of zero groups is compressed") {
    CHECK(canonical("2001:db8:0:0:1:0:0:0") == "2001:db8:0:0:1::");
    CHECK(canonical("2001:0:0:0:0:1:0:1") == "2001::1:0:1");
  }
  SECTION("the first run on a tie") {
    CHECK(canonical("2001:0:0:1:0:0:1:1") == "2001::1:0:0:1:1");
    CHECK(canonical("1:0:0:2:3:0:0:4") == "1::2:3:0:0:4");
  }
  SECTION("a single zero group is not compressed") {
    CHECK(canonical("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1");
    CHECK(canonical("1:2:3:4:5:6:7:0") == "1:2:3:4:5:6:7:0");
  }
  SECTION("runs at either end and everywhere") {
    CHECK(canonical("0:0:0:0:0:0:0:0") == "::");
    CHECK(canonical("0:0:0:0:0:0:0:1") == "::1");
    CHECK(canonical("1:0:0:0:0:0:0:0") == "1::");
    CHECK(canonical("fe80:0:0:0:0:0:0:1") == "fe80::1");
  }
  SECTION("IPv4-mapped addresses end in dotted quad") {
    CHECK(canonical("::ffff:192.0.2.1") == "::ffff:192.0.2.1");
    CHECK(canonical("0:0:0:0:0:ffff:c000:0201") == "::ffff:192.0.2.1");
    CHECK(canonical("::ffff:0.0.0.0") == "::ffff:0.0.0.0");
  }
}

TEST_CASE("IPv4 text and the host-order constructor", "[ip_address]") {
  CHECK(canonical("192.0.2.1") == "192.0.2.1");
  CHECK(canonical("0.0.0.0") == "0.0.0.0");
  CHECK(IpAddress::v4(0xc0000201u).to_string() == "192.0.2.1");
  const std::uint8_t bytes[4] = {10, 1, 2, 255};
  CHECK(IpAddress::v4(bytes).to_string() == "10.1.2.255");
  CHECK(IpAddress::v4(bytes).length() == 4);
  CHECK(IpAddress::v4(bytes).family() == IpFamily::v4);
}

TEST_CASE("parse round trips and refusals", "[ip_address]") {
  for (const char* text : {"10.0.0.1", "255.255.255.255", "2001:db8::1", "::", "::1",
                           "fe80::1:2:3:4", "2001:db8:0:0:1::", "::ffff:10.0.0.1"}) {
    CAPTURE(text);
    const auto a = IpAddress::parse(text);
    REQUIRE(a.has_value());
    CHECK(a->to_string() == text);
    const auto again = IpAddress::parse(a->to_string());
    REQUIRE(again.has_value());
    CHECK(*again == *a);
    CHECK(again->hash() == a->hash());
  }
  for (const char* bad : {"", "1.2.3", "256.1.1.1", "1.2.3.4.5", "2001:db8:::1", "hello",
                          "1::2::3", "2001:db8::1/64", " 10.0.0.1"}) {
    CAPTURE(bad);
    CHECK_FALSE(IpAddress::parse(bad).has_value());
  }
  CHECK_FALSE(IpAddress::parse(std::string(100, '1')).has_value());
}

TEST_CASE("families are distinct values", "[ip_address]") {
  const auto v4 = *IpAddress::parse("0.0.0.0");
  const auto v6 = *IpAddress::parse("::");
  CHECK(v4 != v6);
  CHECK(v6.family() == IpFamily::v6);
  CHECK(v6.length() == 16);
  std::unordered_set<IpAddress> set{v4, v6, *IpAddress::parse("10.0.0.1"), *IpAddress::parse("10.0.0.1")};
  CHECK(set.size() == 3);
  CHECK(*IpAddress::parse("10.0.0.1") < *IpAddress::parse("10.0.0.2"));
}

TEST_CASE("address classes", "[ip_address]") {
  auto is = [](const char* text) { return *IpAddress::parse(text); };
  CHECK(is("224.0.0.1").is_multicast());
  CHECK(is("239.255.255.255").is_multicast());
  CHECK_FALSE(is("223.255.255.255").is_multicast());
  CHECK_FALSE(is("240.0.0.1").is_multicast());
  CHECK(is("ff02::1").is_multicast());
  CHECK_FALSE(is("fe80::1").is_multicast());

  CHECK(is("127.0.0.1").is_loopback());
  CHECK(is("127.255.0.9").is_loopback());
  CHECK_FALSE(is("128.0.0.1").is_loopback());
  CHECK(is("::1").is_loopback());
  CHECK_FALSE(is("::2").is_loopback());
  CHECK_FALSE(is("::").is_loopback());

  CHECK(is("0.0.0.0").is_unspecified());
  CHECK(is("::").is_unspecified());
  CHECK_FALSE(is("0.0.0.1").is_unspecified());
  CHECK_FALSE(is("::1").is_unspecified());
  CHECK(IpAddress{}.is_unspecified());

  CHECK(is("255.255.255.255").is_limited_broadcast());
  CHECK_FALSE(is("255.255.255.254").is_limited_broadcast());
  CHECK_FALSE(is("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").is_limited_broadcast());
}

// The text is written by hand for speed (renderers write millions of addresses): it must
// equal what libc's inet_ntop writes (RFC 5952 in glibc), on addresses rich in zero runs;
// except that glibc still writes the deprecated IPv4-compatible form (::a.b.c.d) for an
// address whose first 96 bits are zero, which RFC 5952 (section 5) keeps for mapped ones.
TEST_CASE("address text equals inet_ntop's, and endpoints append the port", "[address]") {
  std::mt19937 rng(5952);
  for (int i = 0; i < 20000; ++i) {
    std::array<std::uint8_t, 16> b{};
    for (auto& x : b) x = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : 0);  // mostly zero groups
    if (i % 7 == 0) {  // IPv4-mapped
      std::fill(b.begin(), b.begin() + 10, 0);
      b[10] = b[11] = 0xff;
    }
    if (std::all_of(b.begin(), b.begin() + 12, [](std::uint8_t x) { return x == 0; })) b[0] = 0x20;
    char text[INET6_ADDRSTRLEN];
    REQUIRE(::inet_ntop(AF_INET6, b.data(), text, sizeof text));
    const IpAddress a6 = IpAddress::v6(b.data());
    CHECK(a6.to_string() == text);
    CHECK(endpoint_text(a6, static_cast<std::uint16_t>(i)) == fmt::format("[{}]:{}", text, i % 65536));
    REQUIRE(::inet_ntop(AF_INET, b.data() + 12, text, sizeof text));
    const IpAddress a4 = IpAddress::v4(b.data() + 12);
    CHECK(a4.to_string() == text);
    std::string appended = "x";
    a4.append_to(appended);
    CHECK(appended == std::string("x") + text);
  }
  CHECK(endpoint_text(*IpAddress::parse("198.18.4.10"), 0) == "198.18.4.10:0");
  CHECK(endpoint_text(*IpAddress::parse("198.18.4.10"), 65535) == "198.18.4.10:65535");
}

// A hash stands for a flow where the tracker remembers flows judged early: addresses that
// differ only in the last bytes of both halves must not share one (they did when the
// halves were joined by a product, which carries a change only upward).
TEST_CASE("addresses that differ in the last byte of each half hash apart", "[ip]") {
  const auto a = IpAddress::parse("2001:db8:0:1::5");
  const auto b = IpAddress::parse("2001:db8:0:2::3a");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->hash() != b->hash());
  std::unordered_set<std::size_t> hashes;
  for (int prefix = 0; prefix < 256; ++prefix)
    for (int host = 0; host < 256; ++host)
      hashes.insert(IpAddress::parse(fmt::format("2001:db8:0:{:x}::{:x}", prefix, host))->hash());
  CHECK(hashes.size() == 256u * 256u);
}
