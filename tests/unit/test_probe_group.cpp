// Probes waited for together (dissect/trace/probe_group.hpp): when the run stops waiting for a
// group, which TTLs of it drew answers, and what the first phase tells of each target.
#include <catch2/catch.hpp>

#include <deque>

#include "dissect/trace/probe_group.hpp"

#include "test_clock.hpp"

using namespace synprobe;

namespace {

using test::at;
using test::start;
const IpAddress host = *IpAddress::parse("198.18.1.10");
const IpAddress other_host = *IpAddress::parse("198.18.1.11");
constexpr double wait_s = 1.0;

struct Probes {
  std::deque<PlannedProbe> kept;  // pointers stay valid
  ProbeGroup group;

  // Sent and answered `ms` after the start.
  PlannedProbe& add(std::uint16_t port, int ttl, std::optional<std::int64_t> sent, std::optional<std::int64_t> answered,
                    const IpAddress& to = host) {
    PlannedProbe& p = kept.emplace_back();
    p.destination = to;
    p.port = port;
    p.ttl = static_cast<std::uint8_t>(ttl);
    if (sent) p.sent_at = at(*sent);
    if (answered) p.answered_at = at(*answered);
    group.probes.push_back(&p);
    return p;
  }
};

}  // namespace

TEST_CASE("probe group: never settled while a probe has not left", "[probe-group]") {
  Probes g;
  g.add(80, 64, 0, 10);
  g.add(80, 64, std::nullopt, std::nullopt);
  CHECK_FALSE(g.group.settled(at(100'000), wait_s));
  // A probe skipped (its router had answered enough) is not waited for.
  g.kept.back().skipped = true;
  CHECK(g.group.settled(at(100'000), wait_s));
}

TEST_CASE("probe group: unanswered probes are waited for wait_s after the last one left", "[probe-group]") {
  Probes g;
  g.add(80, 64, 0, 50);
  g.add(80, 64, 200, std::nullopt);
  CHECK_FALSE(g.group.settled(at(1199), wait_s));
  CHECK(g.group.settled(at(1200), wait_s));
}

TEST_CASE("probe group: once all are answered, the slowest round trip longer (20 ms at least)", "[probe-group]") {
  Probes g;
  g.add(80, 64, 0, 100);
  g.add(443, 64, 200, 250);
  CHECK_FALSE(g.group.settled(at(349), wait_s));  // a forged RST first, the host's answer after it
  CHECK(g.group.settled(at(350), wait_s));        // the last answer (250) + the slowest round trip (100)

  SECTION("at least 20 ms after the last answer") {
    Probes fast;
    fast.add(80, 64, 0, 1);
    CHECK_FALSE(fast.group.settled(at(20), wait_s));
    CHECK(fast.group.settled(at(21), wait_s));
  }
  SECTION("never longer than wait_s after the last probe left") {
    Probes slow;
    slow.add(80, 64, 0, 800);
    CHECK_FALSE(slow.group.settled(at(999), wait_s));
    CHECK(slow.group.settled(at(1000), wait_s));  // not 800 + 800
  }
  SECTION("an ICMP echo request need not be answered") {
    g.add(0, 64, 200, std::nullopt);
    CHECK(g.group.settled(at(350), wait_s));
  }
}

TEST_CASE("probe group: the TTLs that drew answers", "[probe-group]") {
  Probes g;
  g.add(80, 1, 0, 10);
  g.add(80, 2, 0, std::nullopt);
  g.add(80, 3, 0, std::nullopt);
  g.add(80, 3, 50, 70);  // a later round of TTL 3 was answered
  CHECK(g.group.answered_by_ttl() == std::map<int, bool>{{1, true}, {2, false}, {3, true}});
  CHECK(g.group.answered_ttls() == std::set<int>{1, 3});
  // The slowest round trip of a TTL's answers: 20 ms for TTL 3, none for the silent TTL 2.
  CHECK(g.group.slowest_answer_s(3) == Approx(0.02));
  g.add(80, 3, 100, 145);  // a slower answer on the same TTL
  CHECK(g.group.slowest_answer_s(3) == Approx(0.045));
  CHECK(g.group.slowest_answer_s(1) == Approx(0.01));
  CHECK_FALSE(g.group.slowest_answer_s(2));
}

TEST_CASE("probe group: the first phase, per target", "[probe-group]") {
  Probes g;
  FirstPhase phase;
  const TargetKey key{host, 80};
  PlannedProbe& second_round = g.add(80, 64, 300, std::nullopt);
  PlannedProbe& first_round = g.add(80, 64, 100, std::nullopt);
  phase.by_target[key] = {&second_round, &first_round};
  g.add(443, 64, 0, 40);               // the host's control port, answered in 40 ms
  g.add(443, 64, 0, 2, other_host);    // another host's faster answer does not count
  phase.group = g.group;

  CHECK_FALSE(phase.answered(key));
  CHECK_FALSE(phase.answered({host, 81}));
  CHECK(phase.first_sent(key) == at(100));  // the earliest, whatever the order planned
  CHECK_FALSE(phase.first_sent({host, 81}).has_value());
  REQUIRE(phase.fastest_answer_s(host).has_value());
  CHECK(*phase.fastest_answer_s(host) == Approx(0.04));
  CHECK_FALSE(phase.fastest_answer_s(*IpAddress::parse("198.18.1.12")).has_value());

  second_round.answered_at = at(500);
  CHECK(phase.answered(key));
  CHECK(*phase.fastest_answer_s(host) == Approx(0.04));  // 200 ms is slower
}
