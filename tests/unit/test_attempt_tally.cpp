// The counts behind `analyze --summary`: per verdict, destination and refuser, bounded.
#include <catch2/catch.hpp>

#include <string>

#include "dissect/verdict/attempt_tally.hpp"

using namespace synprobe;

namespace {

AttemptResult result(const std::string& dst, Verdict v, Actor actor, std::optional<int> hop,
                     std::optional<std::string> responder = std::nullopt) {
  AttemptResult r;
  r.attempt.client = *IpAddress::parse("10.0.0.1");
  r.attempt.server = *IpAddress::parse(dst);
  r.judgement.verdict = v;
  r.judgement.actor = actor;
  r.judgement.hop = hop;
  if (responder) r.judgement.responder = *IpAddress::parse(*responder);
  return r;
}

std::string v4(std::uint32_t n) {
  return std::to_string(n >> 24 & 255) + "." + std::to_string(n >> 16 & 255) + "." + std::to_string(n >> 8 & 255) +
         "." + std::to_string(n & 255);
}

}  // namespace

TEST_CASE("tally: counts per verdict, destination and refuser", "[summary]") {
  AttemptTally t;
  t.add(result("192.0.2.7", Verdict::open, Actor::host, 5));
  t.add(result("192.0.2.7", Verdict::refused_by_host, Actor::host, 5, "192.0.2.7"));
  t.add(result("192.0.2.7", Verdict::refused_by_host, Actor::host, 5, "192.0.2.7"));
  t.add(result("192.0.2.8", Verdict::refused_by_middlebox, Actor::middlebox, 2));
  t.add(result("2001:db8::1", Verdict::dropped, Actor::unknown, std::nullopt));

  CHECK(t.attempts() == 5);
  CHECK(t.by_verdict()[static_cast<std::size_t>(Verdict::refused_by_host)] == 2);
  CHECK(t.destinations_tracked() == 3);
  CHECK(t.untracked_attempts() == 0);

  const auto top = t.top_destinations(2);
  REQUIRE(top.size() == 2);
  CHECK(top[0].address.to_string() == "192.0.2.7");
  CHECK(top[0].attempts == 3);
  CHECK(top[0].by_verdict[static_cast<std::size_t>(Verdict::open)] == 1);
  CHECK(top[1].address.to_string() == "192.0.2.8");  // a tie: the lower address first

  const auto refusers = t.refusers();
  REQUIRE(refusers.size() == 3);  // open attempts are not refusals
  CHECK(refusers[0].actor == Actor::host);
  CHECK(refusers[0].hop == 5);
  CHECK(refusers[0].attempts == 2);
  REQUIRE(refusers[0].responders.size() == 1);  // one address, however often
  CHECK(refusers[0].responders[0].to_string() == "192.0.2.7");
  CHECK(refusers[1].actor == Actor::middlebox);
  CHECK(refusers[1].responders.empty());
  CHECK(refusers[2].verdict == Verdict::dropped);
  CHECK_FALSE(refusers[2].hop.has_value());
}

TEST_CASE("tally: memory is bounded whatever the attempts", "[summary]") {
  AttemptTally t;
  const std::uint32_t base = 0x0a000000;  // 10.0.0.0
  const std::size_t n = AttemptTally::max_destinations + 10;
  for (std::uint32_t i = 0; i < n; ++i) t.add(result(v4(base + i), Verdict::open, Actor::host, 3));
  CHECK(t.destinations_tracked() == AttemptTally::max_destinations);
  CHECK(t.untracked_attempts() == 10);
  CHECK(t.attempts() == n);

  // A router answering from many addresses at one hop keeps the first few and says so.
  for (std::uint32_t i = 0; i < 10; ++i)
    t.add(result("192.0.2.9", Verdict::icmp_unreachable, Actor::router, 4, v4(base + i)));
  const auto refusers = t.refusers();
  REQUIRE(refusers.size() == 1);
  CHECK(refusers[0].attempts == 10);
  CHECK(refusers[0].responders.size() == AttemptTally::max_responders);
  CHECK(refusers[0].more_responders);
}
