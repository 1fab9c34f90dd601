#pragma once
// The decisions of tracing, as values in and values out: which answers are worth a trace,
// how deep it goes, which targets share one within the per-source budget, when silence is
// overdue, how long a trace waits, which silent TTLs are asked again and when, and how a
// "dropped" verdict is revised by what the trace reached. The live prober carries them
// out with real probes (capture/trace_planner.cpp); here they are pure, so the unit tests
// pin them without a network. docs/probing.md tells the schedule they make.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/timestamp.hpp"
#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// Routers answer TTL-limited SYNs about once a second after a short burst, and they budget
// per destination: our address. So at most this many traces from one source address are
// in flight at once (started and not yet settled) while its routers' budgets are limited
// or not yet measured; the next wave starts as they settle. Once every router that
// answered was measured unmetered (RouterBudgets), the traces share no budget and are not
// held back. (Answers already traced share a trace once half of this many were started.)
inline constexpr std::size_t max_traces_per_source = 8;
// How long a run goes on starting traces, from its first SYN, unless --trace-budget says:
// targets still waiting for a trace then are reported not traced, with the command that
// locates them.
inline constexpr double default_trace_budget_s = 10.0;
// Linux refills a router's ICMP budget toward one destination at one message a second.
inline constexpr double icmp_budget_refill_s = 1.2;
// The repeated rounds of a trace leave this far apart, so one burst of loss cannot take
// all the probes of a TTL; every TTL of a round leaves at once.
inline constexpr double trace_round_gap_s = 0.05;

// --- Whether a target is traced, and when.

// An answer is plainly the host's when it is a SYN/ACK, or a refusal whose TTL, IP-ID and
// timing all fit the host's own packets: tracing it would only cost the routers' ICMP budget.
[[nodiscard]] bool plainly_the_hosts(const AttemptResult& r);

// When silence becomes telling: four times the host's fastest answer to any probe of the
// run (at least 0.25 s), else half the timeout.
[[nodiscard]] double overdue_after_s(std::optional<double> fastest_answer_s, double timeout_s);

// What makes two answers of one host the same for locating purposes: the verdict, who
// and from which hop, the ICMP code, and whether it is a host's refusal its own probes
// doubt (see may_share_trace()). Targets of a host with the same shape share one trace:
// their refusals come from the same device. (A doubted one's trace locates only its own
// flow: the host's own RST once shared the trace of a forger that copies its TTL, judged
// alike before the forger's early RSTs showed.)
[[nodiscard]] std::string answer_shape(const Judgement& j);

// What the run's budget of traces gives a target that is to be traced.
enum class TraceChoice {
  own_trace,   // traced on its own flow, now
  share,       // located by the trace of a target of the same host with the same answer
  wait,        // traced in a later wave, once traces in flight from its source settle
  not_traced,  // the run's trace budget (--trace-budget) does not reach it
};

// Where the traces of one source address stand when a target is to be traced.
struct TraceSlots {
  std::size_t started = 0;    // traces started from the source in this run
  std::size_t in_flight = 0;  // ... of which not settled yet
  bool unmetered = false;     // every router toward it that answered was measured unmetered
  bool budget_left = true;    // a trace may still start (trace_may_start())
};

// Once half of max_traces_per_source traces were started from its source, a target that
// may share (may_share_trace) and whose answer has the same shape as a traced one's shares
// that trace (its own trace could show more, an injector beside a filter, but the routers'
// budgets are better spent on answers not yet traced; answered targets are considered
// first, so theirs are the traces that can be shared). Else it is traced on its own flow
// while fewer than max_traces_per_source traces from its source are in flight (any number
// when its routers are unmetered), waits for a later wave while the trace budget lasts,
// and is not traced past it.
[[nodiscard]] TraceChoice choose_trace(bool may_share, bool same_answer_traced, const TraceSlots& slots);

// Whether a trace may still start at `now`: before the run's trace budget ends
// (`deadline`, --trace-budget seconds after the first SYN); at once when its source's
// routers are unmetered; when it would be over before `verdicts_due`, the moment the run
// would end without it (the verdicts are waited for anyway, so such a trace costs no time):
// its own span (trace_span_s()) after the `in_flight` traces of its source ahead of it were
// served at the pace its routers allow (about one trace per refill of their budget: each
// trace needs at least one answer from every router on the way that rations, and Linux
// refills one a second); else only if all `waiting` targets of the source can be traced by
// the deadline at that pace. So a wave that would lengthen the run without finishing the
// job is not started, and the report says what to run instead.
[[nodiscard]] bool trace_may_start(Timestamp now, Timestamp deadline, Timestamp verdicts_due, double span_s,
                                   std::size_t in_flight, std::size_t waiting, bool unmetered);

// How long a trace lasts once started: its first pass and its wait, then the re-probe of
// its silent TTLs once the routers' budgets refilled, and that wait.
[[nodiscard]] double trace_span_s(double wait_s);

// How long locating `targets` more would take at a limited path's pace
// (trace_may_start()), at least the default trace budget: the --trace-budget to give.
[[nodiscard]] double trace_budget_for(std::size_t targets);

// The command that traces `untraced` (host → ports) in a run of their own, within a trace
// budget that fits them all (`budget_s`) and a packet cap that holds them (`max_packets`,
// said only past the default): "synprobe trace 198.18.4.10:85,9200-9211 --trace-budget 30".
[[nodiscard]] std::string locate_rest_command(const std::map<IpAddress, std::vector<std::uint16_t>>& untraced,
                                              double budget_s, std::uint32_t max_packets);

// Whether a target may be located by another target's trace. Not silence: two ports may be
// dropped at different hops. Not a refusal judged the host's whose own probes disagree
// with that (a RST sooner than the host answers, or probes with different verdicts): the
// doubt is about its own flow (a forger copies the host's TTL, and loss can hide the RST
// that told), which no other flow's trace settles. (A host's refusal judged before the
// host's baseline arrived may share: its doubt is the missing baseline, not its flow.)
[[nodiscard]] bool may_share_trace(bool answered, const Judgement& j);

// Whether a target that shares a trace must get one of its own once the first phase is
// over: a refusal judged the host's with no SYN/ACK of the host to time it against. While
// the first phase runs, the host's baseline may still come (may_share_trace()); once it is
// over without one, nothing timed the RST, and a forger that copies the host's TTL (or the
// host's own RST beside such a forger) has the same answer shape: the trace of one says
// nothing of the other's flow (lab.scenario-loss, the control's SYN/ACK lost: a
// TTL-forging RST took the trace of the host's own RST and was called the host's).
[[nodiscard]] bool needs_own_trace_unbaselined(const AttemptResult& r);

// --- How far a trace goes.

// How far to trace: to the ICMP sender (its own time-exceeded names it), one past a RST's
// hop (a forwarding filter at hop k resets TTL k+1), and for silence to the host's own hop
// (a SYN with a larger TTL meets the same fate), or the whole budget when the host never
// spoke.
[[nodiscard]] int trace_depth(const Judgement& j, const AttemptResult& r);

// The depth of a target's trace: trace_depth() for an answered target, the host's hop
// (else `max_ttl`) for a silent one; between 1 and `max_ttl`.
[[nodiscard]] int sweep_depth(const AttemptResult& r, bool answered, int max_ttl);

// The TTLs `first` to `last`.
[[nodiscard]] std::vector<int> ttl_range(int first, int last);

// --- How long a trace waits for its last answers.

// Four times the slowest answer of the run so far (a router's time-exceeded comes sooner
// than the host's answer), at least 0.3 s, never more than the timeout; the whole timeout
// while nothing answered at all.
[[nodiscard]] double trace_wait_s(double slowest_answer_s, double timeout_s);

// How long a target that drew no answer is listened to, from its first SYN, for the
// answers that come late by nature: a router's host-unreachable once its neighbour
// resolution failed (Linux's defaults and RFC 4861: 3 solicitations a second apart, so
// 3 s), plus twice the run's slowest answer (the way to that router and back), at least
// 0.2 s and at most 2 s of it: 3.2 to 5 s. `--timeout` replaces it when given.
inline constexpr double neighbour_resolution_s = 3.0;
inline constexpr double late_answer_wait_max_s = 5.0;
[[nodiscard]] double late_answer_wait_s(double slowest_answer_s);

// A target that drew nothing yet once the routers' ICMP budgets refilled since its first
// SYN left gets one more SYN: a router sends its errors at most about once a second toward
// one source (Linux: ip_error() for a missing route, icmp_ratelimit for the rest; a burst
// of 5 or 6 first), so when other traffic spent that budget, every SYN of the first
// rounds, 0.2 s apart, meets an empty one, and only a retransmission a second later draws
// the net-unreachable that tells a missing route from a drop. Only while late answers are
// listened for (without --timeout), which the late SYN's own wait stays inside.
[[nodiscard]] bool needs_late_syn(bool answered, std::optional<Timestamp> first_sent, Timestamp now);

// --- Silent TTLs, asked again.

// Routers rate-limit their ICMP, so a silent TTL is not yet a finding. The TTLs of a
// trace's first pass to probe again: those that drew nothing although a later TTL of the
// same trace (`answered_by_ttl`), or the same TTL on another flow to the same host
// (`answered_elsewhere`), was answered. Not, for a target whose own SYNs drew nothing
// (`silent_from_hop`: the host's distance), a TTL that reaches the host: no router's
// budget stands between it and the host, and the target's own SYNs, the late one after
// the budgets refilled among them, already asked the host the same question.
[[nodiscard]] std::vector<int> ttls_to_reprobe(const std::map<int, bool>& answered_by_ttl,
                                               const std::set<int>& answered_elsewhere,
                                               std::optional<int> silent_from_hop = std::nullopt);

// The router that may refuse a silent TTL when it is asked again: a TTL just past the
// deepest TTL that answered on its flow (`answered_by_ttl`) may reach a filter at that
// hop that refuses what it forwards with an ICMP error of its own (Linux REJECT in
// FORWARD). That error draws on the same per-destination budget as the router's
// time-exceeded, which the other traces of the run spend as fast as it refills: sent
// blind, every such SYN can meet an empty budget and a refusal reads as a drop. Its TTL
// (the re-probe then waits for that router's budget too), or 0 when `ttl` is not there.
[[nodiscard]] int filtering_router_ttl(const std::map<int, bool>& answered_by_ttl, int ttl);

// How long such a re-probe holds the filtering router's budget: its refusal would be back
// within the router's round trip (`router_rtt_s`, from its time-exceeded on the same
// flow); four times that, at least 50 ms. Silence past the last hop is most often a drop,
// which costs the router nothing: held for a whole trace wait, the re-probes of many
// dropped targets took the router's budget in turn (12 drops at r2 in the lab: 2.5 s more).
[[nodiscard]] double filtering_router_hold_s(double router_rtt_s);

// When they are asked again: once the routers' budgets refilled since the trace was
// planned, and never before `now`.
[[nodiscard]] Timestamp reprobe_at(Timestamp trace_planned_at, Timestamp now);

// Traces re-probed together (within half a second) share the witness SYN of a TTL.
[[nodiscard]] bool witness_serves(Timestamp witness_at, Timestamp reprobe_time);

// --- What the trace tells the verdict.

// A target judged "dropped" whose TTL-limited SYNs then reach the host (or a refuser) was
// not dropped by policy: its first SYNs were lost. Judge it again from every SYN that got
// a final answer, and say so.
[[nodiscard]] AttemptResult rejudge_if_reached(const AttemptResult& dropped, const std::vector<AttemptResult>& trace);

}  // namespace synprobe
