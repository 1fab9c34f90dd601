#pragma once
// What the routers on a path will still answer. Routers rate-limit the ICMP errors they
// send toward each destination (Linux: a burst of 6, then one a second), and every trace
// of a run spends the same routers' budgets: a TTL-limited SYN sent to a router whose
// budget is spent draws nothing, and reads as a drop. This model lets the prober send one
// only when the router at that TTL should still answer it. Pure: time is passed in.
//
// The budget is assumed (Linux's default, less one) only until the run's own answers
// measure it: once the modelled budget is spent, one probe at a time still goes to the
// router (an "over" probe). An answered one is charged like any (the model may owe the
// router then: a Linux router answers one more than the model's burst, or an over probe
// took a refill first). A router whose answers Linux's own budget (a burst of 6, one a
// second) could not have paid for, twice, has no budget worth sharing (no ICMP rate limit,
// or a far larger one): it is measured unmetered, and over probes go as fast as it answers
// them. The first over probe that surely reached it and drew nothing marks it limited, and
// the model stands. A silent over probe measured the budget, not the path: the prober
// leaves it out of the hop table and sends it again under the model.

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
  // Linux's own burst (XRLIM_BURST_FACTOR): a Linux router with the default limit answers
  // at most this many more than the model's burst before it falls silent.
  static constexpr std::uint32_t linux_burst = 6;

  // Whether one more probe may go to the router at `now`, counting those still on their
  // way. Probes on their way for longer than `wait_s` are given up first: one that drew
  // nothing cost the router nothing if it may never have got there (dropped on the way),
  // but one that `surely_reached` the router found its budget spent (by an earlier run, by
  // other traffic to us): that silence is charged, so the model catches up.
  // `may_measure`: past the modelled budget, the probe may go as an over probe (see above);
  // a router measured unmetered takes any probe past it.
  [[nodiscard]] bool allows(const RouterKey& key, Timestamp now, double wait_s,
                            const std::function<bool(std::uint64_t probe)>& surely_reached, bool may_measure = false);
  // Over probes given up unanswered since the last call. Whether one measured the budget
  // (it surely reached its router: mark_limited()) or the path (its flow stops before) is
  // the prober's to tell, from its flow's answers.
  struct GivenUp {
    RouterKey router;
    std::uint64_t probe = 0;
  };
  [[nodiscard]] std::vector<GivenUp> take_given_up_over();
  // An over probe that surely reached the router drew nothing: the router's budget is
  // measured limited, and no more over probes go to it.
  void mark_limited(const RouterKey& key) { routers_[key].limited = true; }
  // A probe on its way. With `hold_s` (a filtering router's claim) it is given up after
  // that long if sooner than `wait_s`, and its silence is never charged.
  void on_sent(const RouterKey& key, std::uint64_t probe, Timestamp at, std::optional<double> hold_s = std::nullopt);
  // An answer to a probe: `router_spent` when it is the router's own ICMP error.
  void on_answer(const RouterKey& key, std::uint64_t probe, Timestamp at, bool router_spent);
  // An ICMP error the router sent us for other traffic: one message of its budget.
  void on_other_error(const RouterKey& key, Timestamp at);

  // What the run's own answers say of a router's budget: unmetered once it answered more
  // probes past the model's budget than Linux's default allows (linux_burst - burst) and
  // never fell silent on one; limited once an over probe that surely reached it drew
  // nothing; else not yet known (still the model's assumption).
  enum class Measured { assumed, limited, unmetered };
  [[nodiscard]] Measured measured(const RouterKey& key) const;
  // Whether the routers toward `source` share no budget worth rationing: every one that
  // answered in this run was measured unmetered (one still on the model's assumption may
  // ration: for 10,000 ports, hop 3 measured unmetered said nothing of hops 1 and 2).
  [[nodiscard]] bool unmetered_toward(const IpAddress& source) const;

 private:
  struct InFlight {
    std::uint64_t probe = 0;
    Timestamp sent;
    std::optional<double> hold_s;
    bool over = false;  // sent past the modelled budget, to measure it
  };
  struct Router {
    TokenBucket bucket{refill_per_second, burst};
    std::vector<InFlight> in_flight;
    std::uint32_t answered = 0;  // its own ICMP errors, to our probes
    // Linux's own budget (a burst of 6, one a second) run over the router's answers: those
    // it could not have paid for are past Linux's default.
    TokenBucket linux_bucket{refill_per_second, linux_burst};
    std::uint32_t beyond_linux = 0;
    bool limited = false;
  };
  static void spend(Router& r, Timestamp at);
  // Two answers past Linux's own budget: one could be the timing of a refill.
  [[nodiscard]] static bool unmetered(const Router& r) { return !r.limited && r.beyond_linux >= 2; }
  // Over probes that may be on their way to `r` at once: one while it is not known, as
  // many as it answered over the model once it answered more than one.
  [[nodiscard]] static std::size_t over_allowed(const Router& r);
  std::map<RouterKey, Router> routers_;
  std::vector<GivenUp> given_up_over_;
};

}  // namespace synprobe
