#pragma once
// The traces of a live run, carried out. The prober's scheduling loop (capture/prober.cpp)
// hands this planner every target's answer so far; the planner decides, by the pure rules
// of dissect/trace/trace_plan.hpp, which targets to trace now and which share a trace, plans
// their TTL-limited SYNs into the run's ProbeLedger (on the target's own flow; on a
// control port's flow beside a silent target; its silent TTLs again, with witnesses, once
// the routers' budgets refilled), says when its traces are settled, and at the end gives
// each target the hop table that locates it, or the reason it has none.

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "capture/probe_ledger.hpp"
#include "capture/prober.hpp"
#include "capture/route.hpp"
#include "dissect/trace/probe_group.hpp"
#include "dissect/trace/router_budget.hpp"
#include "dissect/trace/trace_plan.hpp"
#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// One target's TTL-limited SYNs: the first pass, then its silent TTLs once more after the
// routers' ICMP budgets refilled.
struct TraceRun {
  Timestamp planned_at;
  std::optional<std::string> answer_shape;  // see answer_shape(); none for a silent target
  std::optional<int> host_hop;  // the host's distance, when its baseline tells it
  ProbeGroup first_pass;
  ProbeGroup reprobe;
  bool reprobe_planned = false;
};

// The flow a sweep of TTL-limited SYNs uses: the target's own, or a control port's.
struct SweepFlow {
  IpAddress source;
  IpAddress host;
  std::uint16_t port = 0;
  ProbeRole role = ProbeRole::target_trace;
};

// The judged TTL-limited probes of a run: of each target, and of each host's control port.
struct TraceAnswers {
  std::map<TargetKey, std::vector<AttemptResult>> targets;
  std::map<IpAddress, std::vector<AttemptResult>> controls;
};

class TracePlanner {
 public:
  // Everything here is the run's and outlives the planner; `routes` holds every target host.
  TracePlanner(const ProbeOptions& options, ProbeLedger& ledger, const FirstPhase& first_phase,
               const std::map<IpAddress, Route>& routes, const Analyzer& analyzer, const RouterBudgets& budgets)
      : options_(options), ledger_(ledger), first_phase_(first_phase), routes_(routes), analyzer_(analyzer),
        budgets_(budgets) {}

  // The run's first SYN leaves at `start`: the trace budget (--trace-budget) counts from it.
  void set_start(Timestamp start) { deadline_ = after(start, options_.trace_budget_s); }
  // A probe sent past a router's modelled budget drew nothing (RouterBudgets::take_given_up_over):
  // `fresh` takes its place in whichever trace holds it, and `old` is left out of the hop table.
  void replace(PlannedProbe* old, PlannedProbe* fresh);

  // The run: how long a trace waits for its last answers (dissect's trace_wait_s()),
  // from every answer so far; the routers' budgets give up on silent probes after as long.
  void update_wait();
  [[nodiscard]] double wait_s() const { return wait_s_; }
  // Cheap, for every turn of the loop: traces whose first pass is over (and the control
  // port's trace beside them) get their silent TTLs re-probed.
  void reprobe_finished_passes(Timestamp now);
  // Decides which targets to trace now, from every target's answer so far.
  void review(const std::map<TargetKey, AttemptResult>& judged, Timestamp now);
  // Whether every trace (with its re-probe) and every control port's trace is settled.
  [[nodiscard]] bool settled(Timestamp now) const;

  // The results: the answers to the TTL-limited probes of the run, from all of its judged
  // attempts; then, for each target, the hop table and located hop of the trace that
  // locates it (its own or the one it shares), or why it has none.
  [[nodiscard]] TraceAnswers answers_to_traces(const std::vector<AttemptResult>& all) const;
  void add_trace_to(const TargetKey& key, AttemptResult& result, const std::map<TargetKey, AttemptResult>& judged,
                    const TraceAnswers& answers);
  // The command that locates the targets the trace budget left untraced (those add_trace_to
  // said so of), or none.
  [[nodiscard]] std::optional<std::string> locate_rest() const;

 private:
  // What a review knows of the whole run, worked out once for all of its targets (per
  // target, each was a pass over every probe of the first phase: with 10,000 targets the
  // reviews took most of the run).
  struct ReviewMoment {
    Timestamp now;
    bool first_phase_settled = false;
    std::map<IpAddress, double> fastest_answer_s;  // per host, see FirstPhase
    Timestamp verdicts_due;  // when the first phase would be over, from what it waits for
  };
  [[nodiscard]] Timestamp verdicts_due(Timestamp now) const;
  void decide_trace(const TargetKey& key, const AttemptResult& r, const ReviewMoment& moment);
  // Where the traces of `source` stand in this review (started, in flight, measured, budget).
  [[nodiscard]] TraceSlots& slots_of(const IpAddress& source, const ReviewMoment& moment);
  [[nodiscard]] bool trace_done(const TraceRun& trace, Timestamp now) const;
  [[nodiscard]] std::string budget_reason(const TargetKey& key) const;
  [[nodiscard]] bool should_trace_now(const TargetKey& key, const AttemptResult& r, const ReviewMoment& moment) const;
  void start_trace(const TargetKey& key, const AttemptResult& r, Timestamp now);
  void start_control_trace(const IpAddress& host, int depth, Timestamp now);
  std::vector<PlannedProbe*> plan_sweep(const SweepFlow& flow, const std::vector<int>& ttls, Timestamp start,
                                        std::optional<int> host_hop);
  void plan_reprobe(const TargetKey& key, TraceRun& trace, Timestamp now);
  // `first_pass`: the trace's first pass, answered_by_ttl().
  void mark_filtering_routers(TraceRun& trace, const std::map<int, bool>& first_pass) const;
  std::vector<PlannedProbe*> plan_witnesses(const IpAddress& host, const std::vector<int>& ttls, Timestamp at,
                                            std::optional<int> host_hop);
  [[nodiscard]] std::optional<TargetKey> traced_with_same_answer(const TargetKey& key, const AttemptResult& r) const;
  [[nodiscard]] std::set<int> ttls_answered_toward(const IpAddress& host, const TargetKey& except) const;
  [[nodiscard]] bool trace_settled(const ProbeGroup& g, Timestamp now) const { return g.settled(now, wait_s_); }
  [[nodiscard]] const IpAddress& source_of(const IpAddress& host) const { return routes_.at(host).source; }
  [[nodiscard]] std::optional<TargetKey> still_shared(const TargetKey& key, const AttemptResult& r,
                                                      const std::map<TargetKey, AttemptResult>& judged);
  void locate_by_trace(AttemptResult& result, const std::vector<AttemptResult>& trace, const IpAddress& host,
                       const TraceAnswers& answers) const;

  const ProbeOptions& options_;
  ProbeLedger& ledger_;
  const FirstPhase& first_phase_;
  const std::map<IpAddress, Route>& routes_;
  const Analyzer& analyzer_;
  const RouterBudgets& budgets_;
  Timestamp deadline_;  // no trace starts after it (--trace-budget)
  std::map<IpAddress, TraceSlots> slots_;          // per source, for the review under way
  std::map<IpAddress, std::size_t> waiting_;       // per source: targets waiting for a wave, at the last review
  std::set<TargetKey> waiting_now_;                // ... and which
  std::set<TargetKey> budget_untraced_;            // left untraced by the trace budget (reported)
  std::uint64_t locate_rest_packets_ = 0;          // what tracing those would send
  std::map<TargetKey, TraceRun> traces_;
  std::map<IpAddress, ProbeGroup> control_traces_;
  std::map<TargetKey, TargetKey> shared_trace_;  // target → the target whose trace locates it
  std::map<TargetKey, std::string> not_traced_;   // target → why it was not traced
  std::map<std::pair<IpAddress, int>, PlannedProbe*> witnesses_;  // (host, TTL) → the latest witness
  double wait_s_ = 0;  // see update_wait()
};

}  // namespace synprobe
