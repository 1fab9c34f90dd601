// The run's probes (capture/probe_ledger.hpp): their departure queues, traces first, and
// the slowest answer kept as answers come.
#include <catch2/catch.hpp>

#include "capture/probe_ledger.hpp"

#include "test_clock.hpp"

using namespace synprobe;

namespace {

using test::at;
using test::start;
const IpAddress source = *IpAddress::parse("198.18.1.1");
const IpAddress host = *IpAddress::parse("198.18.4.10");

PlannedProbe* planned(ProbeLedger& ledger, ProbeRole role, std::uint16_t port, int ttl, std::int64_t not_before_ms) {
  PlannedProbe& p = ledger.add(source, host, port, role, 0, static_cast<std::uint8_t>(ttl));
  p.not_before = at(not_before_ms);
  return &p;
}

}  // namespace

TEST_CASE("probe ledger: the traces' probes have a queue of their own, served first", "[probe-ledger]") {
  ProbeLedger ledger(1000);
  ledger.choose_source_port(40000);
  // Thousands of first SYNs would all be due at once and wait for the send rate.
  PlannedProbe* first_a = planned(ledger, ProbeRole::target, 80, 64, 0);
  PlannedProbe* first_b = planned(ledger, ProbeRole::target, 81, 64, 0);
  PlannedProbe* control = planned(ledger, ProbeRole::control, 443, 64, 200);
  ledger.enqueue({control, first_a, first_b});
  // A trace starts meanwhile: two rounds, the second 50 ms later, and a witness.
  PlannedProbe* round2 = planned(ledger, ProbeRole::target_trace, 80, 1, 150);
  PlannedProbe* round1 = planned(ledger, ProbeRole::target_trace, 80, 1, 100);
  PlannedProbe* witness = planned(ledger, ProbeRole::control_trace, 443, 2, 100);
  ledger.enqueue({round2, round1, witness});

  const auto queues = ledger.departures();
  REQUIRE(queues.size() == 2);
  // Served first: the TTL-limited probes, by departure time, ties in the order queued.
  CHECK(std::vector<PlannedProbe*>(queues[0]->begin(), queues[0]->end()) ==
        std::vector<PlannedProbe*>{round1, witness, round2});
  CHECK(std::vector<PlannedProbe*>(queues[1]->begin(), queues[1]->end()) ==
        std::vector<PlannedProbe*>{first_a, first_b, control});
  CHECK_FALSE(ledger.nothing_queued());
  queues[0]->clear();
  CHECK_FALSE(ledger.nothing_queued());
  queues[1]->clear();
  CHECK(ledger.nothing_queued());
}

TEST_CASE("probe ledger: the slowest answer is kept as answers come", "[probe-ledger]") {
  ProbeLedger ledger(1000);
  ledger.choose_source_port(40000);
  CHECK(ledger.slowest_answer_s() == 0.0);
  PlannedProbe* slow = planned(ledger, ProbeRole::target, 80, 64, 0);
  PlannedProbe* fast = planned(ledger, ProbeRole::target, 81, 64, 0);
  slow->sent_at = at(0);
  fast->sent_at = at(10);
  ledger.note_answer(*slow, at(30));
  CHECK(slow->answered_at == at(30));
  CHECK(ledger.slowest_answer_s() == Approx(0.030));
  ledger.note_answer(*fast, at(15));  // a faster one does not lower it
  CHECK(ledger.slowest_answer_s() == Approx(0.030));
  CHECK(ledger.find(slow->isn) == slow);
}
