#include "trace_planner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "dissect/trace/trace.hpp"
#include "dissect/trace/trace_plan.hpp"

namespace synprobe {

void TracePlanner::update_wait() { wait_s_ = trace_wait_s(ledger_.slowest_answer_s(), options_.timeout_s); }

void TracePlanner::reprobe_finished_passes(Timestamp now) {
  for (auto& [key, trace] : traces_) {
    const auto control = control_traces_.find(key.first);
    const bool control_settled = control == control_traces_.end() || trace_settled(control->second, now);
    if (!trace.reprobe_planned && trace_settled(trace.first_pass, now) && control_settled) plan_reprobe(key, trace, now);
  }
}

void TracePlanner::review(const std::map<TargetKey, AttemptResult>& judged, Timestamp now) {
  // A traced target's answer may change as more of it arrives (a baseline, a second SYN's
  // answer): compare others with what it is now.
  for (auto& [key, trace] : traces_)
    if (const auto it = judged.find(key); it != judged.end() && trace.answer_shape)
      trace.answer_shape = answer_shape(it->second.judgement);
  const ReviewMoment moment{now, first_phase_.group.settled(now, options_.timeout_s), first_phase_.fastest_answers_s(),
                            verdicts_due(now)};
  slots_.clear();
  waiting_now_.clear();
  // Answered targets first: their traces can be shared; a silent one's never is.
  for (const bool answered_pass : {true, false})
    for (const auto& [key, r] : judged)
      if (first_phase_.answered(key) == answered_pass) decide_trace(key, r, moment);
  waiting_.clear();
  for (const TargetKey& key : waiting_now_) ++waiting_[source_of(key.first)];
}

// When the first phase would be over: the timeout after its last probe, and each silent
// target's wait for late answers (ProbeRun::first_phase_settled()).
Timestamp TracePlanner::verdicts_due(Timestamp now) const {
  Timestamp last{};
  for (const PlannedProbe* p : first_phase_.group.probes)
    last = std::max(last, p->sent_at.value_or(std::max(now, p->not_before)));
  Timestamp due = after(last, options_.timeout_s);
  if (!options_.wait_for_late_answers) return due;
  const double late_s = late_answer_wait_s(ledger_.slowest_answer_s());
  for (const auto& [key, probes] : first_phase_.by_target)
    if (!first_phase_.answered(key))
      if (const auto sent = first_phase_.first_sent(key)) due = std::max(due, after(*sent, late_s));
  return due;
}

bool TracePlanner::settled(Timestamp now) const {
  // Targets waiting for a wave keep the run going: a review starts them, or says why not.
  if (!waiting_now_.empty()) return false;
  for (const auto& [key, trace] : traces_)
    if (!trace_done(trace, now)) return false;
  for (const auto& [host, group] : control_traces_)
    if (!trace_settled(group, now)) return false;
  return true;
}

bool TracePlanner::trace_done(const TraceRun& trace, Timestamp now) const {
  return trace.reprobe_planned && trace_settled(trace.first_pass, now) && trace_settled(trace.reprobe, now);
}

TraceSlots& TracePlanner::slots_of(const IpAddress& source, const ReviewMoment& moment) {
  const auto found = slots_.find(source);
  if (found != slots_.end()) return found->second;
  TraceSlots& slots = slots_[source];
  for (const auto& [key, trace] : traces_) {
    if (source_of(key.first) != source) continue;
    ++slots.started;
    if (!trace_done(trace, moment.now)) ++slots.in_flight;
  }
  slots.unmetered = budgets_.unmetered_toward(source);
  const auto waiting = waiting_.find(source);
  slots.budget_left = trace_may_start(moment.now, deadline_, moment.verdicts_due, trace_span_s(wait_s_), slots.in_flight,
                                      waiting == waiting_.end() ? 0 : waiting->second, slots.unmetered);
  return slots;
}

// Why the trace budget left a target untraced, and what locates it.
std::string TracePlanner::budget_reason(const TargetKey& key) const {
  const IpAddress& source = source_of(key.first);
  std::optional<int> limited;
  for (int ttl = 1; ttl <= options_.max_ttl && !limited; ++ttl)
    if (budgets_.measured({source, ttl}) == RouterBudgets::Measured::limited) limited = ttl;
  const std::string pace =
      limited ? fmt::format("the routers toward {} answer TTL-limited SYNs about once a second after a short burst "
                            "(measured: hop {} fell silent past it)", source.to_string(), *limited)
              : fmt::format("the routers toward {} are taken to answer TTL-limited SYNs about once a second after a "
                            "short burst (Linux's default: none answered enough to measure more)", source.to_string());
  const std::size_t waiting = [&] {
    const auto it = waiting_.find(source);
    return it == waiting_.end() ? std::size_t{1} : std::max<std::size_t>(1, it->second);
  }();
  return fmt::format("Not traced: the run's trace budget (--trace-budget {:g} s from the first SYN) could not reach it: "
                     "{} target{} from {} waited for a trace, and {}. To locate it: {}",
                     options_.trace_budget_s, waiting, waiting == 1 ? "" : "s", source.to_string(), pace,
                     locate_rest_command({{key.first, {key.second}}}, trace_budget_for(1), 0));
}

// Traces a target on its own flow while the run's traces in flight and its trace budget
// allow, or lets it share the trace of the same answer (choose_trace()), or keeps it for a
// later wave.
void TracePlanner::decide_trace(const TargetKey& key, const AttemptResult& r, const ReviewMoment& moment) {
  if (const auto shared = shared_trace_.find(key); shared != shared_trace_.end()) {
    // A target whose answer changed since it was matched with a traced one (the host's
    // SYN/ACK arriving after a forged RST) is no longer located by that trace.
    if (traces_.at(shared->second).answer_shape != answer_shape(r.judgement)) {
      shared_trace_.erase(shared);
    } else if (moment.first_phase_settled && needs_own_trace_unbaselined(r)) {
      // The first phase is over without a SYN/ACK of the host: a host's refusal that shares
      // a trace gets its own while the traces allow (needs_own_trace_unbaselined()).
      TraceSlots& slots = slots_of(source_of(key.first), moment);
      if (choose_trace(false, false, slots) == TraceChoice::own_trace) {
        shared_trace_.erase(shared);
        start_trace(key, r, moment.now);
        ++slots.started, ++slots.in_flight;
      }
      return;
    }
  }
  if (traces_.count(key) || shared_trace_.count(key) || not_traced_.count(key) || !should_trace_now(key, r, moment))
    return;
  TraceSlots& slots = slots_of(source_of(key.first), moment);
  const std::optional<TargetKey> same = traced_with_same_answer(key, r);
  switch (choose_trace(may_share_trace(first_phase_.answered(key), r.judgement), same.has_value(), slots)) {
    case TraceChoice::share: shared_trace_.emplace(key, *same); return;
    case TraceChoice::own_trace:
      start_trace(key, r, moment.now);
      ++slots.started, ++slots.in_flight;
      return;
    case TraceChoice::wait: waiting_now_.insert(key); return;
    case TraceChoice::not_traced: not_traced_.emplace(key, budget_reason(key)); return;
  }
}

// A target is traced once its answer is not plainly the host's (`trace`: once it has any
// answer), or once the answer is overdue, or, at the latest, when the first phase is over
// and its combined verdict is not plainly the host's.
bool TracePlanner::should_trace_now(const TargetKey& key, const AttemptResult& r, const ReviewMoment& moment) const {
  if (moment.first_phase_settled || first_phase_.answered(key))
    return options_.trace == TraceMode::always || !plainly_the_hosts(r);
  const auto sent = first_phase_.first_sent(key);
  const auto fastest = moment.fastest_answer_s.find(key.first);
  const std::optional<double> fastest_s =
      fastest == moment.fastest_answer_s.end() ? std::nullopt : std::optional<double>(fastest->second);
  return sent && moment.now >= after(*sent, overdue_after_s(fastest_s, options_.timeout_s));
}

// TTL 1 up to the depth the answer so far calls for (the host's hop for silence), `repeat`
// rounds a few milliseconds apart, Paris-style on the target's own flow. An unanswered
// target also traces a control port the host answered, to tell a port filter from a
// broken path.
void TracePlanner::start_trace(const TargetKey& key, const AttemptResult& r, Timestamp now) {
  const bool silent = !first_phase_.answered(key);
  const int depth = sweep_depth(r, !silent, options_.max_ttl);
  if (!ledger_.room_for(options_.repeat * static_cast<std::size_t>(depth))) {
    // The cap holds: report without the trace rather than exceed it.
    not_traced_.emplace(key, fmt::format("Not traced: {} more packets would exceed the run's cap of {} "
                                         "(--max-packets).", options_.repeat * static_cast<std::size_t>(depth),
                                         options_.limits.max_packets));
    return;
  }
  TraceRun& trace = traces_[key];
  trace.planned_at = now;
  if (!silent) trace.answer_shape = answer_shape(r.judgement);
  if (r.host_hop) trace.host_hop = r.host_hop->hop;
  trace.first_pass.probes = plan_sweep({source_of(key.first), key.first, key.second, ProbeRole::target_trace},
                                       ttl_range(1, depth), now, trace.host_hop);
  if (silent && r.host_hop) start_control_trace(key.first, std::min(r.host_hop->hop, options_.max_ttl), now);
}

// `repeat` rounds of SYNs with each of `ttls`, every TTL of a round at once, rounds
// trace_round_gap_s apart from `start`; queued, and returned.
std::vector<PlannedProbe*> TracePlanner::plan_sweep(const SweepFlow& flow, const std::vector<int>& ttls,
                                                    Timestamp start, std::optional<int> host_hop) {
  std::vector<PlannedProbe*> planned;
  for (unsigned round = 0; round < options_.repeat; ++round)
    for (const int ttl : ttls) {
      PlannedProbe& p = ledger_.add(flow.source, flow.host, flow.port, flow.role, round, static_cast<std::uint8_t>(ttl));
      p.not_before = after(start, round * trace_round_gap_s);
      p.reaches_host = host_hop && ttl >= *host_hop;
      planned.push_back(&p);
    }
  ledger_.enqueue(planned);
  return planned;
}

void TracePlanner::start_control_trace(const IpAddress& host, int depth, Timestamp now) {
  if (control_traces_.count(host)) return;
  for (const PlannedProbe* control : first_phase_.group.probes) {
    if (control->role != ProbeRole::control || control->destination != host) continue;
    const auto opened = std::any_of(analyzer_.attempts().begin(), analyzer_.attempts().end(), [&](const Attempt& a) {
      return a.isn == control->isn && a.server == host && a.has_answer(AnswerKind::syn_ack);
    });
    if (!opened || !ledger_.room_for(options_.repeat * static_cast<std::size_t>(depth))) continue;
    ProbeGroup& group = control_traces_[host];
    group.probes = plan_sweep({control->source, host, control->port, ProbeRole::control_trace}, ttl_range(1, depth), now,
                              depth);
    return;
  }
}

// Routers rate-limit their ICMP (Linux: a burst of 6, then one a second per destination),
// so a silent TTL is not yet a finding: the TTLs ttls_to_reprobe() picks are probed again
// once the budget refilled, beside a witness each.
void TracePlanner::plan_reprobe(const TargetKey& key, TraceRun& trace, Timestamp now) {
  trace.reprobe_planned = true;
  const std::map<int, bool> first_pass = trace.first_pass.answered_by_ttl();
  const std::optional<int> silent_from_hop =
      first_phase_.answered(key) ? std::nullopt : trace.host_hop;  // its own SYNs drew nothing
  const std::vector<int> silent = ttls_to_reprobe(first_pass, ttls_answered_toward(key.first, key), silent_from_hop);
  if (silent.empty() || !ledger_.room_for((options_.repeat + 1) * silent.size())) return;
  const Timestamp refilled = reprobe_at(trace.planned_at, now);
  const std::vector<PlannedProbe*> witnesses = plan_witnesses(key.first, silent, refilled, trace.host_hop);
  trace.reprobe.probes = plan_sweep({source_of(key.first), key.first, key.second, ProbeRole::target_trace}, silent,
                                    refilled, trace.host_hop);
  mark_filtering_routers(trace, first_pass);
  trace.reprobe.probes.insert(trace.reprobe.probes.end(), witnesses.begin(), witnesses.end());
}

// The first round of a re-probed TTL just past the last hop that answered on the flow
// waits for that router's budget too (trace_plan's filtering_router_ttl()): a spent budget
// gives back one refusal at a time, and the later rounds, 50 ms behind, draw it if it is
// there. (The probes are already queued: the scheduling loop reads the mark when it sends.)
void TracePlanner::mark_filtering_routers(TraceRun& trace, const std::map<int, bool>& first_pass) const {
  for (PlannedProbe* p : trace.reprobe.probes) {
    const int router = p->round == 0 ? filtering_router_ttl(first_pass, p->ttl) : 0;
    if (router == 0) continue;
    const double rtt_s = trace.first_pass.slowest_answer_s(router).value_or(wait_s_);
    p->filtering_router = FilteringRouter{static_cast<std::uint8_t>(router), filtering_router_hold_s(rtt_s)};
  }
}

// A witness per TTL on the control port's flow, which reaches the host: if the router
// answers it and not ours, our SYN was dropped before it; if it answers neither, its
// budget is spent (see ProbeRun::routers_can_answer()). Traces re-probed together share
// witnesses (witness_serves()). None without a control port's trace.
std::vector<PlannedProbe*> TracePlanner::plan_witnesses(const IpAddress& host, const std::vector<int>& ttls,
                                                        Timestamp at, std::optional<int> host_hop) {
  std::vector<PlannedProbe*> witnesses, fresh;
  if (const auto control = control_traces_.find(host); control != control_traces_.end())
    for (const int ttl : ttls) {
      PlannedProbe*& w = witnesses_[{host, ttl}];
      if (!w || !witness_serves(w->not_before, at)) {
        const PlannedProbe& model = *control->second.probes.front();
        w = &ledger_.add(model.source, host, model.port, ProbeRole::control_trace, 0, static_cast<std::uint8_t>(ttl));
        w->not_before = at;
        w->reaches_host = host_hop && ttl >= *host_hop;
        w->witness = true;
        fresh.push_back(w);
      }
      witnesses.push_back(w);
    }
  ledger_.enqueue(fresh);
  return witnesses;
}

void TracePlanner::replace(PlannedProbe* old, PlannedProbe* fresh) {
  auto swap_in = [&](ProbeGroup& group) {
    std::replace(group.probes.begin(), group.probes.end(), old, fresh);
  };
  for (auto& [key, trace] : traces_) {
    swap_in(trace.first_pass);
    swap_in(trace.reprobe);
  }
  for (auto& [host, group] : control_traces_) swap_in(group);
  for (auto& [at, witness] : witnesses_)
    if (witness == old) witness = fresh;
}

// A traced target of the same host whose answer had the same shape.
std::optional<TargetKey> TracePlanner::traced_with_same_answer(const TargetKey& key, const AttemptResult& r) const {
  const std::string shape = answer_shape(r.judgement);
  for (const auto& [traced, trace] : traces_)
    if (traced.first == key.first && trace.answer_shape == shape) return traced;
  return std::nullopt;
}

// The TTLs toward `host` that drew an answer on another flow of this run: another
// target's trace or the control port's. A router that answered there exists and answers.
std::set<int> TracePlanner::ttls_answered_toward(const IpAddress& host, const TargetKey& except) const {
  std::set<int> ttls;
  for (const auto& [key, trace] : traces_)
    if (key.first == host && key != except) ttls.merge(trace.first_pass.answered_ttls());
  if (const auto control = control_traces_.find(host); control != control_traces_.end())
    ttls.merge(control->second.answered_ttls());
  return ttls;
}

TraceAnswers TracePlanner::answers_to_traces(const std::vector<AttemptResult>& all) const {
  TraceAnswers answers;
  for (const AttemptResult& r : all) {
    const PlannedProbe* probe = ledger_.find(r.attempt.isn);
    if (r.attempt.client_port != ledger_.source_port() || !probe || probe->measured_budget) continue;
    if (probe->role == ProbeRole::target_trace) answers.targets[{r.attempt.server, r.attempt.server_port}].push_back(r);
    if (probe->role == ProbeRole::control_trace) answers.controls[r.attempt.server].push_back(r);
  }
  return answers;
}

void TracePlanner::add_trace_to(const TargetKey& key, AttemptResult& result,
                                const std::map<TargetKey, AttemptResult>& judged, const TraceAnswers& answers) {
  const std::optional<TargetKey> sharer = still_shared(key, result, judged);
  auto trace = answers.targets.find(sharer.value_or(key));
  // A trace started because the answer was late is no finding when the answer, once in,
  // was plainly the host's: `probe` then reports as if it had not traced (`-w` keeps it).
  if (trace != answers.targets.end() && options_.trace == TraceMode::automatic && plainly_the_hosts(result))
    trace = answers.targets.end();
  if (trace == answers.targets.end()) {
    if (const auto why = not_traced_.find(key); why != not_traced_.end() && !plainly_the_hosts(result)) {
      result.judgement.evidence.push_back({Signal::not_traced, why->second});
      if (why->second.starts_with("Not traced: the run's trace budget")) {
        budget_untraced_.insert(key);
        const bool answered = result.judgement.verdict != Verdict::dropped;
        // Its SYNs, the late one, and a trace with its re-probes, as such a run would send.
        locate_rest_packets_ += options_.count + 1 + 2ULL * options_.repeat *
                                                          static_cast<unsigned>(sweep_depth(result, answered, options_.max_ttl));
      }
    }
    return;
  }
  if (result.judgement.verdict == Verdict::dropped) result = rejudge_if_reached(result, trace->second);
  locate_by_trace(result, trace->second, key.first, answers);
  if (sharer)
    result.judgement.evidence.push_back(
        {Signal::trace_shared, fmt::format("Located by the trace of port {}, which got the same answer from {}: "
                                           "the hop table is that trace's.",
                                           sharer->second, key.first.to_string())});
}

std::optional<std::string> TracePlanner::locate_rest() const {
  if (budget_untraced_.empty()) return std::nullopt;
  std::map<IpAddress, std::vector<std::uint16_t>> by_host;
  for (const auto& [host, port] : budget_untraced_) by_host[host].push_back(port);
  const std::uint64_t packets = locate_rest_packets_ + 4 * by_host.size();  // and each host's baseline
  return locate_rest_command(by_host, trace_budget_for(budget_untraced_.size()),
                             static_cast<std::uint32_t>(std::min<std::uint64_t>(packets, SendLimits::hard_max_packets)));
}

// The target that `key` shares a trace with, unless the answer of either changed since
// they were matched.
std::optional<TargetKey> TracePlanner::still_shared(const TargetKey& key, const AttemptResult& r,
                                                    const std::map<TargetKey, AttemptResult>& judged) {
  const auto shared = shared_trace_.find(key);
  if (shared == shared_trace_.end()) return std::nullopt;
  if (answer_shape(judged.at(shared->second).judgement) == answer_shape(r.judgement)) return shared->second;
  not_traced_.emplace(key, fmt::format("Not traced: its answer first matched that of port {}, whose trace was "
                                       "to locate it, then changed.", shared->second.second));
  return std::nullopt;
}

// The hop table, and the hop locate() names with the host's baseline and the control
// port's trace.
void TracePlanner::locate_by_trace(AttemptResult& result, const std::vector<AttemptResult>& trace,
                                   const IpAddress& host, const TraceAnswers& answers) const {
  result.trace = build_trace(trace);
  const auto control_answers = answers.controls.find(host);
  const Trace control = control_answers != answers.controls.end() ? build_trace(control_answers->second) : Trace{};
  LocateContext ctx;
  if (result.host_hop) ctx.host_hop = result.host_hop->hop;
  ctx.host_rtt_ms = result.host_syn_ack_rtt_ms;
  ctx.control = control.hops.empty() ? nullptr : &control;
  locate(result.judgement, result.attempt, result.trace, ctx);
}

}  // namespace synprobe
