// IpAddress: RFC 5952 text, parsing round trips, and the address-class predicates.
#include <catch2/catch.hpp>

#include <unordered_set>

#include "dissect/decode/ip_address.hpp"

using synprobe::IpAddress;
using synprobe::IpFamily;

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
