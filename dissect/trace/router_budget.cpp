#include "dissect/trace/router_budget.hpp"

#include <algorithm>
#include <utility>

namespace synprobe {

bool RouterBudgets::allows(const RouterKey& key, Timestamp now, double wait_s,
                           const std::function<bool(std::uint64_t)>& surely_reached, bool may_measure) {
  Router& r = routers_[key];
  std::erase_if(r.in_flight, [&](const InFlight& f) {
    if (now.seconds_since(f.sent) <= std::min(wait_s, f.hold_s.value_or(wait_s))) return false;
    if (f.over) {
      // Silence past the model's budget cost the router nothing (its budget was empty, or
      // the probe never got there): nothing is charged; the prober tells which.
      given_up_over_.push_back({key, f.probe});
      return true;
    }
    // A held claim (a filtering router's) is never charged: its silence is most often a
    // drop, which costs the router nothing.
    if (!f.hold_s && surely_reached(f.probe)) spend(r, now);
    return true;
  });
  const auto over_in_flight = static_cast<std::size_t>(
      std::count_if(r.in_flight.begin(), r.in_flight.end(), [](const InFlight& f) { return f.over; }));
  if (r.bucket.available(now) - static_cast<double>(r.in_flight.size() - over_in_flight) >= 1) return true;
  if (!may_measure && !unmetered(r)) return false;
  return over_allowed(r) > over_in_flight;
}

std::vector<RouterBudgets::GivenUp> RouterBudgets::take_given_up_over() { return std::exchange(given_up_over_, {}); }

std::size_t RouterBudgets::over_allowed(const Router& r) {
  if (r.limited) return 0;
  return unmetered(r) ? r.beyond_linux : 1;
}

void RouterBudgets::on_sent(const RouterKey& key, std::uint64_t probe, Timestamp at, std::optional<double> hold_s) {
  Router& r = routers_[key];
  const auto modelled = static_cast<double>(std::count_if(r.in_flight.begin(), r.in_flight.end(),
                                                          [](const InFlight& f) { return !f.over; }));
  // A filtering router's claim is never an over probe: its silence measures nothing.
  const bool over = !hold_s && r.bucket.available(at) - modelled < 1;
  r.in_flight.push_back({probe, at, hold_s, over});
}

void RouterBudgets::on_answer(const RouterKey& key, std::uint64_t probe, Timestamp at, bool router_spent) {
  Router& r = routers_[key];
  bool over = false;
  std::erase_if(r.in_flight, [&](const InFlight& f) {
    if (f.probe != probe) return false;
    over = f.over;
    return true;
  });
  if (!router_spent) return;
  ++r.answered;
  if (r.linux_bucket.available(at) >= 1) r.linux_bucket.take(at);
  else ++r.beyond_linux;
  // An over probe's answer is charged even past empty: the router paid for it, so the
  // model's next refill is already spent (it took the refill the model was waiting for).
  if (over) r.bucket.take(at);
  else spend(r, at);
}

RouterBudgets::Measured RouterBudgets::measured(const RouterKey& key) const {
  const auto it = routers_.find(key);
  if (it == routers_.end()) return Measured::assumed;
  if (it->second.limited) return Measured::limited;
  return unmetered(it->second) ? Measured::unmetered : Measured::assumed;
}

bool RouterBudgets::unmetered_toward(const IpAddress& source) const {
  bool any = false;
  for (const auto& [key, r] : routers_) {
    if (key.source != source || (r.answered == 0 && !r.limited)) continue;
    if (!unmetered(r)) return false;
    any = true;
  }
  return any;
}

void RouterBudgets::on_other_error(const RouterKey& key, Timestamp at) { spend(routers_[key], at); }

// Never below empty: a router that sends more than the model allows has a larger budget
// than Linux's default (or none), and must not be starved for minutes by the model.
void RouterBudgets::spend(Router& r, Timestamp at) {
  if (r.bucket.available(at) >= 1) r.bucket.take(at);
}

}  // namespace synprobe
