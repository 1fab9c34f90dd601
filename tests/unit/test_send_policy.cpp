// send_policy: which destinations are never probed, and the token bucket that paces sends
// (time passed in, so no clock is needed).
#include <catch2/catch.hpp>

#include <cmath>

#include "dissect/trace/send_policy.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ms;
using pb::sec;
using pb::t0;

TEST_CASE("send policy: unspecified, broadcast and multicast destinations are refused", "[send-policy]") {
  struct Case {
    const char* address;
    const char* why;
  };
  for (const Case& c : {Case{"0.0.0.0", "unspecified"}, Case{"::", "unspecified"},
                        Case{"255.255.255.255", "broadcast"}, Case{"224.0.0.1", "multicast"},
                        Case{"239.255.255.250", "multicast"}, Case{"ff02::1", "multicast"},
                        Case{"ff05::1:3", "multicast"}}) {
    INFO(c.address);
    const auto reason = refusal_reason(pb::addr(c.address));
    REQUIRE(reason.has_value());
    // The message names the address and why: "ADDRESS: it is the … address".
    CHECK_THAT(*reason, Catch::StartsWith(pb::addr(c.address).to_string() + ":") && Catch::Contains(c.why));
  }
}

TEST_CASE("send policy: unicast destinations are allowed", "[send-policy]") {
  for (const char* a : {"198.18.0.1", "2001:db8::1", "127.0.0.1", "::1", "10.255.255.255", "223.255.255.255",
                        "240.0.0.1", "fe80::1"}) {
    INFO(a);
    CHECK_FALSE(refusal_reason(pb::addr(a)).has_value());
  }
}

TEST_CASE("token bucket: the burst goes at once, then one packet per 1/rate", "[send-policy]") {
  constexpr double rate = 100;  // 10 ms a packet
  constexpr std::uint32_t burst = 10;
  const auto interval = static_cast<std::int64_t>(1e9 / rate);
  TokenBucket bucket(rate, burst);
  Timestamp now{t0};
  for (std::uint32_t i = 0; i < burst; ++i) {
    INFO("packet " << i);
    REQUIRE(bucket.wait_ns(now) == 0);
    bucket.take(now);
  }
  // The burst is spent: the next packet waits one interval, then may go.
  for (int i = 0; i < 5; ++i) {
    INFO("paced packet " << i);
    const std::int64_t wait = bucket.wait_ns(now);
    CHECK(wait >= interval);
    CHECK(wait <= interval + 1);  // ceil() of a floating-point division
    now.ns += wait;
    CHECK(bucket.wait_ns(now) == 0);
    bucket.take(now);
  }
  // Half an interval later, half a token: half an interval still to wait.
  now.ns += interval / 2;
  CHECK(std::abs(bucket.wait_ns(now) - interval / 2) <= 1);
}

TEST_CASE("token bucket: an idle bucket refills to the burst and no further", "[send-policy]") {
  constexpr double rate = 50;  // 20 ms a packet
  constexpr std::uint32_t burst = 4;
  TokenBucket bucket(rate, burst);
  Timestamp now{t0};
  for (std::uint32_t i = 0; i < burst; ++i) bucket.take(now);
  CHECK(bucket.wait_ns(now) > 0);

  // A minute idle would be 3000 tokens: only `burst` are kept.
  now.ns += 60 * sec;
  for (std::uint32_t i = 0; i < burst; ++i) {
    INFO("packet " << i);
    CHECK(bucket.wait_ns(now) == 0);
    bucket.take(now);
  }
  CHECK(bucket.wait_ns(now) == Approx(20 * ms).margin(1));
}

TEST_CASE("token bucket: a clock going backwards neither refills nor breaks the bucket", "[send-policy]") {
  TokenBucket bucket(10, 1);
  Timestamp now{t0};
  bucket.take(now);
  const std::int64_t wait = bucket.wait_ns(now);
  CHECK(wait == Approx(100 * ms).margin(1));
  // An earlier timestamp gives no tokens (the wait does not shrink).
  CHECK(bucket.wait_ns(Timestamp{t0 - sec}) >= wait);
  CHECK(bucket.wait_ns(Timestamp{t0 + 100 * ms}) == 0);
}

TEST_CASE("token bucket: a non-integer interval rounds the wait up, never down", "[send-policy]") {
  // 3 pps: 333 333 333.3 ns — waiting the rounded-down value would leave the token short.
  TokenBucket bucket(3, 1);
  Timestamp now{t0};
  bucket.take(now);
  const std::int64_t wait = bucket.wait_ns(now);
  CHECK(wait == 333'333'334);
  CHECK(bucket.wait_ns(Timestamp{now.ns + wait}) == 0);
}

TEST_CASE("send limits: the burst is 32 packets, or 20 ms worth at high rates", "[send-policy]") {
  CHECK(SendLimits{}.burst == 32);
  CHECK(SendLimits::burst_for(100) == 32);
  CHECK(SendLimits::burst_for(1600) == 32);
  CHECK(SendLimits::burst_for(10'000) == 200);
  CHECK(SendLimits::burst_for(100'000) == 2000);
}

TEST_CASE("token bucket: available() counts the tokens saved up, refilled by time", "[send-policy]") {
  TokenBucket bucket(1.0, 6);
  const Timestamp start{1'000'000'000};
  CHECK(bucket.available(start) == Approx(6));
  for (int i = 0; i < 8; ++i) bucket.take(start);  // overspent: a model may go below zero
  CHECK(bucket.available(start) == Approx(-2));
  CHECK(bucket.available(Timestamp{start.ns + 2'500'000'000}) == Approx(0.5));
  CHECK(bucket.available(Timestamp{start.ns + 60'000'000'000}) == Approx(6));
}
