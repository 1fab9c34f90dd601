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
