#include "dissect/trace/router_budget.hpp"

#include <algorithm>

namespace synprobe {

bool RouterBudgets::allows(const RouterKey& key, Timestamp now, double wait_s,
                           const std::function<bool(std::uint64_t)>& surely_reached) {
  Router& r = routers_[key];
  std::erase_if(r.in_flight, [&](const InFlight& f) {
    if (now.seconds_since(f.sent) <= std::min(wait_s, f.hold_s.value_or(wait_s))) return false;
    // A held claim (a filtering router's) is never charged: its silence is most often a
    // drop, which costs the router nothing.
    if (!f.hold_s && surely_reached(f.probe)) spend(r, now);
    return true;
  });
  return r.bucket.available(now) - static_cast<double>(r.in_flight.size()) >= 1;
}

void RouterBudgets::on_sent(const RouterKey& key, std::uint64_t probe, Timestamp at, std::optional<double> hold_s) {
  routers_[key].in_flight.push_back({probe, at, hold_s});
}

void RouterBudgets::on_answer(const RouterKey& key, std::uint64_t probe, Timestamp at, bool router_spent) {
  Router& r = routers_[key];
  std::erase_if(r.in_flight, [&](const InFlight& f) { return f.probe == probe; });
  if (router_spent) spend(r, at);
}

void RouterBudgets::on_other_error(const RouterKey& key, Timestamp at) { spend(routers_[key], at); }

// Never below empty: a router that sends more than the model allows has a larger budget
// than Linux's default (or none), and must not be starved for minutes by the model.
void RouterBudgets::spend(Router& r, Timestamp at) {
  if (r.bucket.available(at) >= 1) r.bucket.take(at);
}

}  // namespace synprobe
