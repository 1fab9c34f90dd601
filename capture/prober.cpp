// ProbeRun: one live run from setup to report. Its loop (schedule()) sends what is due,
// reads the captures and hands every answer so far to the trace planner
// (capture/trace_planner.cpp), which decides what to trace; the probes themselves are kept
// by the run's ProbeLedger (capture/probe_ledger.cpp).
#include "prober.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "capture/clock.hpp"
#include "capture/live_capture.hpp"
#include "capture/probe_ledger.hpp"
#include "capture/raw_sender.hpp"
#include "capture/route.hpp"
#include "capture/trace_planner.hpp"
#include "dissect/trace/trace_plan.hpp"
#include "dissect/decode/decode.hpp"
#include "dissect/decode/error.hpp"
#include "dissect/decode/icmp_names.hpp"
#include "dissect/trace/probe_group.hpp"
#include "dissect/trace/router_budget.hpp"
#include "dissect/verdict/address_cause.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "dissect/verdict/combine.hpp"

namespace synprobe {
namespace {

// A capture on one interface, with the sources that use it.
struct Listener {
  std::string interface;
  std::set<IpAddress> sources;
  std::unique_ptr<LiveCapture> capture;
};

// Keeps exactly what can answer the probes (and the probes themselves, for -w): TCP to or
// from our source port on our addresses, and ICMP errors and echo replies addressed to us.
std::string capture_filter(const std::set<IpAddress>& sources, std::uint16_t port) {
  std::string filter;
  auto add = [&](const std::string& part) { filter += (filter.empty() ? "" : " or ") + part; };
  for (const IpAddress& s : sources) {
    const std::string a = s.to_string();
    add(fmt::format("(tcp and src host {0} and src port {1}) or (tcp and dst host {0} and dst port {1})", a, port));
    if (s.is_v4())
      add(fmt::format("(icmp and dst host {0} and (icmp[0] == 0 or icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))"
                      " or (icmp and src host {0} and icmp[0] == 8)", a));
    else
      add(fmt::format("(icmp6 and dst host {0} and (ip6[40] < 5 or ip6[40] == 129))"
                      " or (icmp6 and src host {0} and ip6[40] == 128)", a));
  }
  return filter;
}

class ProbeRun {
 public:
  ProbeRun(const ProbeOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), ledger_(options.limits.max_packets) {}

  ProbeOutcome run(const std::function<void(const Identity&)>& before_drop);

 private:
  // Setup (privileged).
  void plan();
  void open_listeners();
  // The run: one loop that sends what is due, reads answers and has the trace planner
  // decide what to trace.
  void schedule();
  [[nodiscard]] std::int64_t send_due();
  bool send_due_from(std::deque<PlannedProbe*>& queue, std::int64_t& next);
  [[nodiscard]] bool router_answered_enough(const PlannedProbe& p) const;
  [[nodiscard]] static std::vector<RouterDraw> routers_drawn_on(const PlannedProbe& p);
  [[nodiscard]] bool routers_can_answer(const PlannedProbe& p, const std::vector<RouterDraw>& draws, Timestamp now);
  void resend_given_up_over(Timestamp now);
  [[nodiscard]] bool flow_answered_from(const PlannedProbe& q) const;
  [[nodiscard]] bool flow_answered_beyond(const PlannedProbe& q) const;
  [[nodiscard]] bool passed_known_hop(const PlannedProbe& p) const;
  void drain();
  void note_answer(const DecodedPacket& packet);
  void wait_for_packets(std::int64_t next_send_ns);
  void review(Timestamp now);
  void send_late_syns(Timestamp now);
  [[nodiscard]] bool everything_settled(Timestamp now) const;
  [[nodiscard]] bool first_phase_settled(Timestamp now) const {
    return first_phase_.group.settled(now, options_.timeout_s) &&
           (!options_.wait_for_late_answers ||
            first_phase_.silent_targets_waited(now, late_answer_wait_s(ledger_.slowest_answer_s())));
  }
  // Results.
  [[nodiscard]] std::map<TargetKey, AttemptResult> judge_targets(const std::vector<AttemptResult>& all) const;
  [[nodiscard]] AnalysisReport results();
  void fill_summary(const Identity& who);

  const ProbeOptions& options_;
  const std::atomic<bool>& stop_;
  std::map<IpAddress, Route> routes_;
  std::vector<Listener> listeners_;
  std::unique_ptr<RawSender> sender_;
  Analyzer analyzer_;
  ProbeOutcome outcome_;

  ProbeLedger ledger_;      // every probe of the run, and those not yet sent
  FirstPhase first_phase_;  // the SYNs of every target and the baseline probes
  RouterBudgets router_budgets_;
  TracePlanner traces_{options_, ledger_, first_phase_, routes_, analyzer_, router_budgets_};  // what to trace, and when
  std::map<std::pair<IpAddress, int>, unsigned> time_exceeded_;  // (host, TTL) → answers on any flow
  std::set<std::tuple<IpAddress, std::uint16_t, int>> flow_answered_at_;  // (host, port, TTL) answered
  std::set<std::tuple<IpAddress, std::uint16_t, int>> flow_exceeded_at_;  // ... with a time-exceeded
  std::uint64_t packets_captured_ = 0;
  Timestamp next_late_check_;
  Timestamp next_review_;
  bool final_review_done_ = false;
  bool interrupted_ = false;
  std::optional<std::string> locate_rest_;  // the command that traces what the trace budget left
};

void ProbeRun::plan() {
  ledger_.choose_source_port(options_.source_port);
  for (const ProbeTarget& t : options_.targets) {
    if (const auto why = refusal_reason(t.address)) throw Failure(ExitCode::usage, fmt::format("refusing to probe {}", *why));
    if (!routes_.count(t.address)) routes_[t.address] = lookup_route(t.address, options_.source);
  }
  // Round r sends one SYN to every target; the baseline probes go out with round 0.
  std::set<TargetKey> targeted;
  for (unsigned round = 0; round < options_.count; ++round)
    for (const ProbeTarget& t : options_.targets) {
      const TargetKey key{t.address, t.port};
      if (round == 0 && !targeted.insert(key).second) continue;  // named twice: probed once
      if (round > 0 && !first_phase_.by_target.count(key)) continue;
      PlannedProbe& p = ledger_.add(routes_[t.address].source, t.address, t.port, ProbeRole::target, round, options_.ttl);
      first_phase_.by_target[key].push_back(&p);
      first_phase_.group.probes.push_back(&p);
    }
  if (options_.baseline) {
    std::set<IpAddress> hosts;
    for (const ProbeTarget& t : options_.targets) hosts.insert(t.address);
    for (const IpAddress& h : hosts) {
      for (const std::uint16_t port : options_.control_ports)
        if (!targeted.count({h, port}))
          first_phase_.group.probes.push_back(&ledger_.add(routes_[h].source, h, port, ProbeRole::control, 0, options_.ttl));
      first_phase_.group.probes.push_back(&ledger_.add(routes_[h].source, h, 0, ProbeRole::echo, 0, 64));
    }
  }
  if (ledger_.size() > options_.limits.max_packets)
    throw Failure(ExitCode::usage, fmt::format("this run would send {} packets, more than the cap of {} "
                                               "(--max-packets, at most {})",
                                               ledger_.size(), options_.limits.max_packets, SendLimits::hard_max_packets));
}

void ProbeRun::open_listeners() {
  std::map<std::string, std::set<IpAddress>> by_interface;
  for (const auto& [address, route] : routes_)
    by_interface[options_.interface.value_or(route.interface)].insert(route.source);
  for (auto& [name, sources] : by_interface) {
    Listener l;
    l.interface = name;
    l.sources = sources;
    l.capture = std::make_unique<LiveCapture>(name, capture_filter(sources, ledger_.source_port()));
    outcome_.interfaces.push_back(CaptureInterface{name, l.capture->link_type()});
    listeners_.push_back(std::move(l));
  }
  bool v4 = false, v6 = false;
  for (const auto& [address, route] : routes_) (address.is_v4() ? v4 : v6) = true;
  sender_ = std::make_unique<RawSender>(v4, v6, options_.interface, options_.limits);
}

// The routers' ICMP budgets (dissect/trace/router_budget.hpp) decide when a TTL-limited SYN may
// leave. A probe surely reached its router when its flow was answered at a larger TTL, or
// when it went on the control port's flow (which reaches the host). And a TTL whose router
// already answered `--repeat` times toward that host is not repeated on a flow that has
// its answer there: its address is known, the budget is better spent on silent TTLs.
// A probe past a router's modelled budget measures it (RouterBudgets): only the TTL's own
// router, and never a probe sent again after such a measure.
bool ProbeRun::routers_can_answer(const PlannedProbe& p, const std::vector<RouterDraw>& draws, Timestamp now) {
  return std::all_of(draws.begin(), draws.end(), [&](const RouterDraw& d) {
    return router_budgets_.allows(
        d.router, now, traces_.wait_s(),
        [&](std::uint64_t isn) {
          const PlannedProbe& q = ledger_.at(static_cast<std::uint32_t>(isn));
          return q.role == ProbeRole::control_trace || flow_answered_beyond(q);
        },
        !d.hold_s && !p.resent);
  });
}

// Probes sent past a router's modelled budget that drew nothing measured the budget, not
// the path: each is left out of the hop table, and sent again under the model when its flow
// still lacks that TTL (a path's real silence there shows again). When its flow was
// answered at its TTL or beyond, it surely reached the router, whose budget is then
// measured limited.
void ProbeRun::resend_given_up_over(Timestamp now) {
  for (const RouterBudgets::GivenUp& g : router_budgets_.take_given_up_over()) {
    PlannedProbe& old = *ledger_.find(static_cast<std::uint32_t>(g.probe));
    if (old.answered_at) continue;
    if (flow_answered_from(old)) router_budgets_.mark_limited(g.router);
    old.measured_budget = true;
    if (old.resent || flow_answered_at_.count({old.destination, old.port, old.ttl}) || !ledger_.room_for(1)) continue;
    PlannedProbe& fresh = ledger_.add(old.source, old.destination, old.port, old.role, old.round, old.ttl);
    fresh.not_before = now;
    fresh.reaches_host = old.reaches_host;
    fresh.filtering_router = old.filtering_router;
    fresh.resent = true;
    fresh.witness = old.witness;
    traces_.replace(&old, &fresh);
    ledger_.enqueue({&fresh});
  }
}

bool ProbeRun::flow_answered_from(const PlannedProbe& q) const {
  return q.role == ProbeRole::control_trace || flow_answered_at_.count({q.destination, q.port, q.ttl}) ||
         flow_answered_beyond(q);
}

// The routers whose ICMP budget a TTL-limited SYN may draw on: the one at its TTL (unless
// the SYN reaches the host), and the filtering router a re-probe may meet past the last
// hop that answered its flow, held only as long as its refusal would take.
std::vector<RouterDraw> ProbeRun::routers_drawn_on(const PlannedProbe& p) {
  std::vector<RouterDraw> draws;
  if (!is_ttl_limited(p)) return draws;
  if (!p.reaches_host) draws.push_back({{p.source, p.ttl}, std::nullopt});
  if (p.filtering_router)
    draws.push_back({{p.source, p.filtering_router->ttl}, p.filtering_router->answer_within_s});
  return draws;
}

// What the path shares: a TTL-limited SYN of a sweep (on a target's flow or a control
// port's; never a witness) is not sent when its flow already drew a time-exceeded from a
// later hop: its SYNs passed this hop, which did not refuse them, so the answer would
// tell nothing that locates the target, and it would spend that router's budget. For
// 1,000 ports dropped by the host, hop 3 (unmetered) answers each flow, and hops 1 and 2
// (Linux: one answer a second, shared by every trace toward our address) are not asked on
// every flow. Round 0 of a sweep leaves at once, so a hop is skipped only where its
// router's budget held the SYN back.
bool ProbeRun::passed_known_hop(const PlannedProbe& p) const {
  if ((p.role != ProbeRole::target_trace && p.role != ProbeRole::control_trace) || p.witness || p.reaches_host)
    return false;
  const auto exceeded = flow_exceeded_at_.upper_bound({p.destination, p.port, p.ttl});
  return exceeded != flow_exceeded_at_.end() && std::get<0>(*exceeded) == p.destination &&
         std::get<1>(*exceeded) == p.port;
}

bool ProbeRun::flow_answered_beyond(const PlannedProbe& q) const {
  const auto from = flow_answered_at_.upper_bound({q.destination, q.port, q.ttl});
  return from != flow_answered_at_.end() && std::get<0>(*from) == q.destination && std::get<1>(*from) == q.port;
}

// A later round of a TTL is skipped only when this flow already has its answer there and
// the router has answered `--repeat` times toward the host: a TTL still silent on this
// flow keeps all its rounds (silence costs the router nothing, and one lost answer must
// not decide where a drop is).
bool ProbeRun::router_answered_enough(const PlannedProbe& p) const {
  if (p.round == 0 || !flow_answered_at_.count({p.destination, p.port, p.ttl})) return false;
  const auto it = time_exceeded_.find({p.destination, p.ttl});
  return it != time_exceeded_.end() && it->second >= options_.repeat;
}

// Sends every probe that is due, as fast as the send rate and the routers' ICMP budgets
// let them go, the traces' probes first; returns the nanoseconds until the next one may go.
std::int64_t ProbeRun::send_due() {
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  for (std::deque<PlannedProbe*>* queue : ledger_.departures())
    if (!send_due_from(*queue, next)) break;
  return next;
}

// One queue of send_due(). False when nothing more may go now (the send rate, or an
// interruption); `next` becomes the nanoseconds until one may.
bool ProbeRun::send_due_from(std::deque<PlannedProbe*>& queue, std::int64_t& next) {
  std::size_t i = 0;
  while (i < queue.size()) {
    if (stop_.load()) {
      interrupted_ = true;
      next = 0;
      return false;
    }
    PlannedProbe& p = *queue[i];
    const Timestamp now = wall_clock_now();
    if (p.not_before > now) {  // the queue is in departure order
      next = std::min(next, p.not_before.ns - now.ns);
      return true;
    }
    if (is_ttl_limited(p) && (router_answered_enough(p) || passed_known_hop(p))) {
      p.skipped = true;
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    const std::vector<RouterDraw> draws = routers_drawn_on(p);
    if (!draws.empty() && !routers_can_answer(p, draws, now)) {
      next = std::min<std::int64_t>(next, 20'000'000);  // the budget refills, or a SYN turns out silent
      ++i;
      continue;
    }
    if (const std::int64_t wait = sender_->ready_in_ns(); wait > 0) {
      next = std::min(next, wait);
      return false;
    }
    p.sent_at = sender_->send(p.destination, p.bytes);
    for (const RouterDraw& d : draws) router_budgets_.on_sent(d.router, p.isn, *p.sent_at, d.hold_s);
    queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
    drain();
  }
  return true;
}

// Reads whatever the captures hold, feeding the analyzer in capture order per interface.
void ProbeRun::drain() {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    RawFrame frame;
    DecodedPacket packet;
    while (listeners_[i].capture->next(frame)) {
      packet.ts = frame.ts;
      packet.wire_length = frame.wire_length;
      packet.captured_length = static_cast<std::uint32_t>(frame.data.size());
      decode_frame(frame.link_type, frame.data, packet);
      analyzer_.add(packet);
      note_answer(packet);
      ++packets_captured_;
      if (options_.keep_packets)
        outcome_.packets.push_back(RunPacket{frame.ts, static_cast<std::uint32_t>(i), frame.wire_length,
                                             std::vector<std::uint8_t>(frame.data.begin(), frame.data.end())});
    }
  }
}

// Marks the probe a packet answers, by ISN: a SYN/ACK or RST acknowledging it, or an ICMP
// error quoting it. Only for scheduling (when to stop waiting); the analyzer judges.
void ProbeRun::note_answer(const DecodedPacket& packet) {
  std::optional<std::uint32_t> isn;
  if (packet.transport == Transport::tcp && packet.tcp.dport == ledger_.source_port() && packet.tcp.has(tcp_flag::ack) &&
      (packet.tcp.has(tcp_flag::syn) || packet.tcp.has(tcp_flag::rst)))
    isn = packet.tcp.ack - 1;
  else if (packet.transport == Transport::icmp && packet.icmp.is_error && packet.icmp.has_quote &&
           packet.icmp.quote.has_tcp && packet.icmp.quote.tcp.sport == ledger_.source_port())
    isn = packet.icmp.quote.tcp.seq;
  if (!isn) return;
  PlannedProbe* const answered = ledger_.find(*isn);
  if (!answered || !answered->sent_at || answered->answered_at) return;
  PlannedProbe& probe = *answered;
  // The right number on another flow (another port or address: a RST or an ICMP error for
  // some other connection) answers nothing: it must not end the wait for the real answer.
  const bool same_flow =
      packet.transport == Transport::tcp
          ? packet.ip.src == probe.destination && packet.ip.dst == probe.source && packet.tcp.sport == probe.port
          : packet.icmp.quote.ip.dst == probe.destination && packet.icmp.quote.ip.src == probe.source &&
                packet.icmp.quote.tcp.dport == probe.port;
  if (!same_flow) return;
  ledger_.note_answer(probe, packet.ts);
  const bool time_exceeded =
      packet.transport == Transport::icmp && is_time_exceeded(packet.ip.src.family(), packet.icmp.type);
  if (is_ttl_limited(probe)) {
    flow_answered_at_.insert({probe.destination, probe.port, probe.ttl});
    router_budgets_.on_answer({probe.source, probe.ttl}, probe.isn, packet.ts, time_exceeded);
    // A filtering router's refusal is charged below like any router's error: to the hop
    // the reply's own TTL places its sender at (estimate_hop()).
    if (probe.filtering_router)
      router_budgets_.on_answer({probe.source, probe.filtering_router->ttl}, probe.isn, packet.ts, false);
    if (time_exceeded) {
      ++time_exceeded_[{probe.destination, probe.ttl}];
      flow_exceeded_at_.insert({probe.destination, probe.port, probe.ttl});
    }
  }
  if (packet.transport == Transport::icmp && !time_exceeded && packet.ip.src != probe.destination) {
    // A router's unreachable spends the same budget as its time-exceeded: charge the
    // router at the hop its TTL says.
    const int hop = estimate_hop(packet.ip.ttl).hop;
    if (hop >= 1 && hop <= options_.max_ttl) router_budgets_.on_other_error({probe.source, hop}, packet.ts);
  }
}

void ProbeRun::wait_for_packets(std::int64_t next_send_ns) {
  constexpr std::int64_t review_pace_ns = 20'000'000;  // when nothing is due sooner
  const std::int64_t wait_ns = std::clamp<std::int64_t>(next_send_ns, 0, review_pace_ns);
  const int wait_ms = static_cast<int>((wait_ns + 999'999) / 1'000'000);
  if (wait_ms == 0) return;
  if (listeners_.size() == 1) listeners_.front().capture->wait(wait_ms);
  else std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait_ms, 5)));
}

// The whole run. The first phase (the SYNs and the baseline probes) starts at once; a
// target's trace starts as soon as its answer shows it is not plainly the host's, or as
// soon as its answer is overdue, so a silent drop is traced while its timeout runs; the
// silent TTLs of a trace are probed once more when the routers' ICMP budgets refilled.
// The run ends when every group of probes is settled.
void ProbeRun::schedule() {
  const Timestamp start = wall_clock_now();
  traces_.set_start(start);
  traces_.update_wait();
  for (PlannedProbe* p : first_phase_.group.probes) p->not_before = after(start, p->round * options_.interval_s);
  ledger_.enqueue(first_phase_.group.probes);
  for (;;) {
    drain();
    const std::int64_t next_send_ns = send_due();
    if (stop_.load()) interrupted_ = true;
    if (interrupted_) return;
    const Timestamp now = wall_clock_now();
    resend_given_up_over(now);
    traces_.update_wait();
    if (options_.wait_for_late_answers) send_late_syns(now);
    if (options_.trace != TraceMode::never) review(now);
    else final_review_done_ = true;
    if (ledger_.nothing_queued() && everything_settled(now)) return;
    wait_for_packets(next_send_ns);
  }
}

bool ProbeRun::everything_settled(Timestamp now) const {
  return first_phase_settled(now) && final_review_done_ && traces_.settled(now);
}

// One more SYN for each target still silent once the routers' ICMP budgets refilled
// (needs_late_syn()); part of the first phase, which then waits for its answer too.
void ProbeRun::send_late_syns(Timestamp now) {
  if (now < next_late_check_) return;
  next_late_check_ = after(now, 0.1);  // a tenth of a second late is nothing to a 1 s budget
  std::vector<PlannedProbe*> late;
  for (auto& [key, probes] : first_phase_.by_target) {
    // The late SYN is the target's last probe, of the round after the --count ones.
    const bool late_sent = probes.back()->round == options_.count;
    if (late_sent || !needs_late_syn(first_phase_.answered(key), first_phase_.first_sent(key), now) ||
        !ledger_.room_for(1))
      continue;
    PlannedProbe& p = ledger_.add(routes_[key.first].source, key.first, key.second, ProbeRole::target,
                                  options_.count, options_.ttl);
    p.not_before = now;
    probes.push_back(&p);
    first_phase_.group.probes.push_back(&p);
    late.push_back(&p);
  }
  ledger_.enqueue(late);
}

// Has the trace planner decide which targets to trace now and which traces to complete.
void ProbeRun::review(Timestamp now) {
  traces_.reprobe_finished_passes(now);
  const bool first_phase_done = first_phase_settled(now);
  // Reviews are paced (judging 10,000 targets takes a while), but not the one the run's
  // end waits for: once the first phase is over, at once (it was up to a second late).
  if (now < next_review_ && !(first_phase_done && !final_review_done_)) return;
  traces_.review(judge_targets(analyzer_.finish()), now);
  final_review_done_ = first_phase_done;
  const Timestamp done = wall_clock_now();
  // Judging every attempt costs time with thousands of targets: at most a tenth of it.
  next_review_ = after(done, std::clamp(10 * done.seconds_since(now), 0.02, 1.0));
}

std::map<TargetKey, AttemptResult> ProbeRun::judge_targets(const std::vector<AttemptResult>& all) const {
  std::map<TargetKey, std::vector<AttemptResult>> by_target;
  for (const AttemptResult& r : all) {
    if (r.attempt.client_port != ledger_.source_port()) continue;
    const PlannedProbe* probe = ledger_.find(r.attempt.isn);
    if (!probe || probe->role != ProbeRole::target) continue;
    by_target[{r.attempt.server, r.attempt.server_port}].push_back(r);
  }
  std::map<TargetKey, AttemptResult> judged;
  for (auto& [key, list] : by_target) judged.emplace(key, combine_probes(list));
  return judged;
}

AnalysisReport ProbeRun::results() {
  const std::vector<AttemptResult> all = analyzer_.finish();
  const std::map<TargetKey, AttemptResult> judged = judge_targets(all);
  const TraceAnswers trace_answers = traces_.answers_to_traces(all);
  AnalysisReport report;
  std::set<TargetKey> done;
  for (const ProbeTarget& t : options_.targets) {
    const TargetKey key{t.address, t.port};
    if (!done.insert(key).second) continue;
    auto it = judged.find(key);
    if (it == judged.end()) continue;  // interrupted before its SYN left
    AttemptResult result = it->second;
    traces_.add_trace_to(key, result, judged, trace_answers);
    result.attempt.id = report.attempts.size() + 1;
    report.attempts.push_back(std::move(result));
  }
  share_no_host_cause(report.attempts);
  locate_rest_ = traces_.locate_rest();
  return report;
}

ProbeOutcome ProbeRun::run(const std::function<void(const Identity&)>& before_drop) {
  plan();
  open_listeners();
  const Identity who = unprivileged_identity(options_.user);
  if (before_drop) before_drop(who);
  drop_privileges(who);

  // From here on, nothing privileged remains; packets are parsed only from here on.
  analyzer_.set_sees_both_directions(true);
  schedule();
  drain();
  analyzer_.set_listen_end(wall_clock_now());
  outcome_.report = results();
  outcome_.report.run.interrupted = interrupted_;
  fill_summary(who);
  return std::move(outcome_);
}

void ProbeRun::fill_summary(const Identity& who) {
  ProbeSummary summary;
  summary.source_port = ledger_.source_port();
  summary.count = options_.count;
  summary.ttl = options_.ttl;
  summary.interval_s = options_.interval_s;
  summary.timeout_s = options_.timeout_s;
  summary.rate_pps = options_.limits.rate_pps;
  summary.baseline = options_.baseline;
  summary.control_ports = options_.control_ports;
  summary.packets_sent = sender_->sent();
  summary.packets_captured = packets_captured_;
  summary.user = who.user;
  if (options_.trace != TraceMode::never) summary.trace_budget_s = options_.trace_budget_s;
  summary.locate_rest = locate_rest_;
  for (const Listener& l : listeners_) {
    summary.interfaces.push_back(l.interface);
    summary.kernel_drops += l.capture->dropped();
  }
  std::set<std::string> sources, hops;
  for (const auto& [address, route] : routes_) {
    sources.insert(route.source.to_string());
    hops.insert(route.next_hop ? route.next_hop->to_string() : "on-link");
  }
  summary.sources.assign(sources.begin(), sources.end());
  summary.next_hops.assign(hops.begin(), hops.end());
  outcome_.report.probe = summary;
}

}  // namespace

ProbeOutcome run_probe(const ProbeOptions& options, const std::atomic<bool>& stop,
                       const std::function<void(const Identity&)>& before_drop) {
  if (options.targets.empty()) throw Failure(ExitCode::usage, "nothing to probe");
  ProbeRun run(options, stop);
  return run.run(before_drop);
}

}  // namespace synprobe
