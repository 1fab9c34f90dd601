#pragma once
// What the routers on a path will still answer. Routers rate-limit the ICMP errors they
// send toward each destination (Linux: a burst of 6, then one a second), and every trace
// of a run spends the same routers' budgets: a TTL-limited SYN sent to a router whose
// budget is spent draws nothing, and reads as a drop. This model lets the prober send one
// only when the router at that TTL should still answer it. Pure: time is passed in.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/timestamp.hpp"
#include "dissect/trace/send_policy.hpp"

namespace synprobe {

// The router at `ttl` hops on the way out of `source` (the budget is per destination:
// our address).
struct RouterKey {
  IpAddress source;
  int ttl = 0;
  friend auto operator<=>(const RouterKey&, const RouterKey&) = default;
};

// A probe's claim on a router's budget; `hold_s`: a filtering router's, held that long at
// most and never charged for silence (see on_sent()).
struct RouterDraw {
  RouterKey router;
  std::optional<double> hold_s;
};

class RouterBudgets {
 public:
  // One less than Linux's burst: the model cannot see answers lost on the way back, nor
  // every error a router sent for other traffic to us.
  static constexpr std::uint32_t burst = 5;
  static constexpr double refill_per_second = 1.0;

  // Whether one more probe may go to the router at `now`, counting those still on their
  // way. Probes on their way for longer than `wait_s` are given up first: one that drew
  // nothing cost the router nothing if it may never have got there (dropped on the way),
  // but one that `surely_reached` the router found its budget spent (by an earlier run, by
  // other traffic to us): that silence is charged, so the model catches up.
  [[nodiscard]] bool allows(const RouterKey& key, Timestamp now, double wait_s,
                            const std::function<bool(std::uint64_t probe)>& surely_reached);
  // A probe on its way. With `hold_s` (a filtering router's claim) it is given up after
  // that long if sooner than `wait_s`, and its silence is never charged.
  void on_sent(const RouterKey& key, std::uint64_t probe, Timestamp at, std::optional<double> hold_s = std::nullopt);
  // An answer to a probe: `router_spent` when it is the router's own ICMP error.
  void on_answer(const RouterKey& key, std::uint64_t probe, Timestamp at, bool router_spent);
  // An ICMP error the router sent us for other traffic: one message of its budget.
  void on_other_error(const RouterKey& key, Timestamp at);

 private:
  struct InFlight {
    std::uint64_t probe = 0;
    Timestamp sent;
    std::optional<double> hold_s;
  };
  struct Router {
    TokenBucket bucket{refill_per_second, burst};
    std::vector<InFlight> in_flight;
  };
  static void spend(Router& r, Timestamp at);
  std::map<RouterKey, Router> routers_;
};

}  // namespace synprobe
