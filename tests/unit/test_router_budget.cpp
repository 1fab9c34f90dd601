// The model of the routers' ICMP budgets that paces TTL-limited probes (dissect/trace/router_budget.hpp).
#include <catch2/catch.hpp>

#include "dissect/trace/router_budget.hpp"

using namespace synprobe;

namespace {

const RouterKey hop2{*IpAddress::parse("198.18.1.1"), 2};
const Timestamp start{1'000'000'000'000};
constexpr double wait_s = 0.3;

Timestamp at_s(double seconds) { return Timestamp{start.ns + static_cast<std::int64_t>(seconds * 1e9)}; }

auto never_reached = [](std::uint64_t) { return false; };
auto surely_reached = [](std::uint64_t) { return true; };

}  // namespace

TEST_CASE("router budget: a burst of answers, then one a second", "[router-budget]") {
  RouterBudgets budgets;
  std::uint64_t probe = 0;
  for (std::uint32_t i = 0; i < RouterBudgets::burst; ++i) {
    REQUIRE(budgets.allows(hop2, start, wait_s, never_reached));
    budgets.on_sent(hop2, ++probe, start);
    budgets.on_answer(hop2, probe, start, true);
  }
  CHECK_FALSE(budgets.allows(hop2, start, wait_s, never_reached));
  CHECK_FALSE(budgets.allows(hop2, at_s(0.9), wait_s, never_reached));
  CHECK(budgets.allows(hop2, at_s(1.0), wait_s, never_reached));
  // Another TTL is another router, with a budget of its own.
  CHECK(budgets.allows(RouterKey{hop2.source, 3}, start, wait_s, never_reached));
}

TEST_CASE("router budget: probes on their way count until answered or given up", "[router-budget]") {
  RouterBudgets budgets;
  for (std::uint64_t probe = 1; probe <= RouterBudgets::burst; ++probe) budgets.on_sent(hop2, probe, start);
  CHECK_FALSE(budgets.allows(hop2, at_s(0.1), wait_s, never_reached));  // all five may still draw an answer

  SECTION("an answer that is not the router's (a RST from beyond) frees its place at no cost") {
    budgets.on_answer(hop2, 1, at_s(0.05), false);
    CHECK(budgets.allows(hop2, at_s(0.1), wait_s, never_reached));
  }
  SECTION("silence that may be a drop on the way costs nothing") {
    CHECK(budgets.allows(hop2, at_s(0.4), wait_s, never_reached));
    for (std::uint64_t probe = 10; probe < 10 + RouterBudgets::burst; ++probe) budgets.on_sent(hop2, probe, at_s(0.4));
    CHECK_FALSE(budgets.allows(hop2, at_s(0.5), wait_s, never_reached));
  }
  SECTION("silence from a router the probes surely reached is charged: its budget was spent") {
    CHECK_FALSE(budgets.allows(hop2, at_s(0.4), wait_s, surely_reached));  // five charged: nothing left
    CHECK(budgets.allows(hop2, at_s(1.4), wait_s, surely_reached));        // one refilled a second later
  }
}

TEST_CASE("router budget: a filtering router's claim is held only as long as its refusal takes", "[router-budget]") {
  RouterBudgets budgets;
  for (std::uint64_t probe = 1; probe < RouterBudgets::burst; ++probe) budgets.on_sent(hop2, probe, start);
  budgets.on_sent(hop2, 9, start, 0.05);  // a re-probe past hop 2, which may refuse it
  CHECK_FALSE(budgets.allows(hop2, at_s(0.04), wait_s, surely_reached));
  // 50 ms on, no refusal: most likely a drop, which cost the router nothing, even when the
  // probe surely got there ...
  CHECK(budgets.allows(hop2, at_s(0.06), wait_s, surely_reached));
  // ... while the others keep their places for the whole wait.
  budgets.on_sent(hop2, 10, at_s(0.06));
  CHECK_FALSE(budgets.allows(hop2, at_s(0.2), wait_s, never_reached));
  SECTION("a hold longer than the trace's wait ends with the wait") {
    RouterBudgets b;
    for (std::uint64_t probe = 1; probe <= RouterBudgets::burst; ++probe) b.on_sent(hop2, probe, start, 5.0);
    CHECK_FALSE(b.allows(hop2, at_s(0.2), wait_s, never_reached));
    CHECK(b.allows(hop2, at_s(0.31), wait_s, never_reached));
  }
}

TEST_CASE("router budget: errors for other traffic spend the same budget", "[router-budget]") {
  RouterBudgets budgets;
  for (std::uint32_t i = 0; i < RouterBudgets::burst; ++i) budgets.on_other_error(hop2, start);
  CHECK_FALSE(budgets.allows(hop2, start, wait_s, never_reached));
  CHECK(budgets.allows(hop2, at_s(1.0), wait_s, never_reached));
}

TEST_CASE("router budget: a router that answers more than the model allows is not starved", "[router-budget]") {
  // 500 unreachables in a second (a router without ICMP rate limiting): the model stays at
  // empty rather than owing 495 seconds of refills.
  RouterBudgets budgets;
  for (int i = 0; i < 500; ++i) budgets.on_other_error(hop2, start);
  CHECK_FALSE(budgets.allows(hop2, start, wait_s, never_reached));
  CHECK(budgets.allows(hop2, at_s(1.0), wait_s, never_reached));
}

// The budget measured from the run's own answers (issue 17): past the modelled budget, one
// probe at a time still goes ("over"), and the answers say what the router really allows.
TEST_CASE("router budget: a router that answers past Linux's budget is measured unmetered", "[router-budget]") {
  RouterBudgets budgets;
  std::uint64_t probe = 0;
  for (std::uint32_t i = 0; i < RouterBudgets::burst; ++i) {
    REQUIRE(budgets.allows(hop2, start, wait_s, never_reached, true));
    budgets.on_sent(hop2, ++probe, start);
    budgets.on_answer(hop2, probe, start, true);
  }
  // The model's budget is spent: without measuring, nothing more goes ...
  CHECK_FALSE(budgets.allows(hop2, start, wait_s, never_reached, false));
  CHECK(budgets.measured(hop2) == RouterBudgets::Measured::assumed);
  // ... measuring, one over probe at a time.
  REQUIRE(budgets.allows(hop2, start, wait_s, never_reached, true));
  budgets.on_sent(hop2, ++probe, start);
  CHECK_FALSE(budgets.allows(hop2, start, wait_s, never_reached, true));
  // Linux's sixth answer is one past the model's: not more than Linux allows. It is
  // charged: the model owes the router now, and nothing goes under the model until it
  // refilled past that.
  budgets.on_answer(hop2, probe, at_s(0.01), true);
  CHECK(budgets.measured(hop2) == RouterBudgets::Measured::assumed);
  CHECK_FALSE(budgets.unmetered_toward(hop2.source));
  // A seventh and an eighth within the same tenth of a second: Linux's budget could pay for
  // neither: no budget worth sharing.
  for (const double t : {0.02, 0.03}) {
    REQUIRE(budgets.allows(hop2, at_s(t), wait_s, never_reached, true));
    budgets.on_sent(hop2, ++probe, at_s(t));
    CHECK_FALSE(budgets.allows(hop2, at_s(t), wait_s, never_reached, true));  // one at a time until then
    budgets.on_answer(hop2, probe, at_s(t + 0.005), true);
  }
  CHECK(budgets.measured(hop2) == RouterBudgets::Measured::unmetered);
  CHECK(budgets.unmetered_toward(hop2.source));
  // As many over probes on their way as it answered past Linux's budget, and any probe at
  // all, measuring or not.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(budgets.allows(hop2, at_s(0.04), wait_s, never_reached, false));
    budgets.on_sent(hop2, ++probe, at_s(0.04));
  }
  CHECK_FALSE(budgets.allows(hop2, at_s(0.04), wait_s, never_reached, true));
  CHECK(budgets.take_given_up_over().empty());
}

TEST_CASE("router budget: an over probe that drew nothing is the prober's to judge", "[router-budget]") {
  RouterBudgets budgets;
  std::uint64_t probe = 0;
  for (std::uint32_t i = 0; i < RouterBudgets::burst; ++i) {
    budgets.on_sent(hop2, ++probe, start);
    budgets.on_answer(hop2, probe, start, true);
  }
  REQUIRE(budgets.allows(hop2, start, wait_s, surely_reached, true));
  budgets.on_sent(hop2, 100, start);
  // Given up after the wait, and charged nothing (its budget was empty, or it never got
  // there): the model's refill is the same as with no over probe.
  CHECK_FALSE(budgets.allows(hop2, at_s(0.2), wait_s, surely_reached, false));
  CHECK(budgets.allows(hop2, at_s(0.4), wait_s, surely_reached, true));  // the next may go to measure ...
  const auto given_up = budgets.take_given_up_over();
  REQUIRE(given_up.size() == 1);
  CHECK(given_up.front().probe == 100);
  CHECK(given_up.front().router == hop2);
  SECTION("its flow was answered there or beyond: the router's budget is measured limited, no more over probes") {
    budgets.mark_limited(hop2);
    CHECK(budgets.measured(hop2) == RouterBudgets::Measured::limited);
    CHECK_FALSE(budgets.unmetered_toward(hop2.source));
    CHECK_FALSE(budgets.allows(hop2, at_s(0.5), wait_s, surely_reached, true));
    CHECK(budgets.allows(hop2, at_s(1.0), wait_s, surely_reached, true));  // the model's refill
  }
  SECTION("a limited router anywhere toward the source: its traces share a budget") {
    RouterBudgets b;
    const RouterKey hop1{hop2.source, 1};
    b.mark_limited(hop1);
    CHECK_FALSE(b.unmetered_toward(hop2.source));
  }
}

TEST_CASE("router budget: a filtering router's claim never measures", "[router-budget]") {
  RouterBudgets budgets;
  for (std::uint64_t probe = 1; probe <= RouterBudgets::burst; ++probe) budgets.on_sent(hop2, probe, start);
  // A held claim (a refusal that would come from the router's budget) waits for the model.
  CHECK_FALSE(budgets.allows(hop2, at_s(0.01), wait_s, never_reached, false));
}

TEST_CASE("router budget: an answered over probe is charged: the model owes the router", "[router-budget]") {
  RouterBudgets budgets;
  std::uint64_t probe = 0;
  for (std::uint32_t i = 0; i < RouterBudgets::burst; ++i) {
    budgets.on_sent(hop2, ++probe, start);
    budgets.on_answer(hop2, probe, start, true);
  }
  REQUIRE(budgets.allows(hop2, start, wait_s, never_reached, true));
  budgets.on_sent(hop2, ++probe, start);
  budgets.on_answer(hop2, probe, at_s(0.01), true);
  // The refill a second later was taken by the over probe: under the model, nothing goes
  // until the second refill.
  CHECK_FALSE(budgets.allows(hop2, at_s(1.0), wait_s, never_reached, false));
  CHECK(budgets.allows(hop2, at_s(2.01), wait_s, never_reached, false));
}
