// The decisions of tracing (dissect/trace/trace_plan.hpp): which answers are traced, how deep,
// who shares a trace within the per-source budget, the waits, which silent TTLs are asked
// again and when, and how a "dropped" verdict is revised. Values in, values out.
#include <catch2/catch.hpp>

#include <algorithm>

#include "dissect/trace/probe_group.hpp"
#include "dissect/trace/trace_plan.hpp"

#include "test_clock.hpp"

using namespace synprobe;

namespace {

using test::at;
using test::start;

AttemptResult answer(Verdict verdict, Actor actor, std::optional<int> hop = std::nullopt) {
  AttemptResult r;
  r.judgement.verdict = verdict;
  r.judgement.actor = actor;
  r.judgement.hop = hop;
  r.judgement.confidence = 0.9;
  r.attempt.syn_count = 1;
  return r;
}

AttemptResult with_signals(AttemptResult r, std::initializer_list<Signal> signals) {
  for (const Signal s : signals) r.judgement.evidence.push_back({s, "test"});
  return r;
}

AttemptResult with_host_hop(AttemptResult r, int hop) {
  r.host_hop = HopCount{64, hop, 3};
  return r;
}

}  // namespace

TEST_CASE("trace plan: an open port, or a refusal that fits the host, is plainly the host's", "[trace-plan]") {
  CHECK(plainly_the_hosts(answer(Verdict::open, Actor::host)));
  AttemptResult host_rst = with_signals(answer(Verdict::refused_by_host, Actor::host), {Signal::ttl_matches_host});
  host_rst.host_syn_ack_rtt_ms = 0.5;  // a SYN/ACK of the host, too near for timing to tell
  CHECK(plainly_the_hosts(host_rst));
  // An ICMP unreachable from the host itself needs no TTL match, nor matching timing.
  AttemptResult host_icmp = answer(Verdict::icmp_unreachable, Actor::host);
  host_icmp.host_syn_ack_rtt_ms = 20;
  CHECK(plainly_the_hosts(host_icmp));

  SECTION("any doubt about the refusal is worth a trace") {
    for (const Signal doubt : {Signal::early_reset, Signal::ip_id_breaks_pattern, Signal::no_baseline,
                               Signal::icmp_spoofs_host}) {
      INFO(signal_name(doubt));
      CHECK_FALSE(plainly_the_hosts(with_signals(host_rst, {doubt})));
    }
    CHECK_FALSE(plainly_the_hosts(answer(Verdict::refused_by_host, Actor::host)));  // TTL not shown to match
  }
  SECTION("a RST with no SYN/ACK of the host to time it against is traced") {
    // lab.scenario-loss, once in about 30 runs: the control port's SYN/ACK lost, a
    // TTL-forging firewall's RST (the host's TTL, 6 ms against the host's 20) passed as the host's.
    AttemptResult untimed = host_rst;
    untimed.host_syn_ack_rtt_ms.reset();
    CHECK_FALSE(plainly_the_hosts(untimed));
  }
  SECTION("a host a millisecond or more away must also take the host's time") {
    AttemptResult far = host_rst;
    far.host_syn_ack_rtt_ms = 1.0;
    CHECK_FALSE(plainly_the_hosts(far));
    CHECK(plainly_the_hosts(with_signals(far, {Signal::rtt_matches_host})));
    far.host_syn_ack_rtt_ms = 0.5;  // too near for timing to tell
    CHECK(plainly_the_hosts(far));
  }
  SECTION("middleboxes, routers and silence are never plainly the host's") {
    CHECK_FALSE(plainly_the_hosts(with_signals(answer(Verdict::refused_by_middlebox, Actor::middlebox, 2),
                                               {Signal::ttl_matches_host})));
    CHECK_FALSE(plainly_the_hosts(answer(Verdict::icmp_unreachable, Actor::router, 3)));
    CHECK_FALSE(plainly_the_hosts(answer(Verdict::injected_reset, Actor::middlebox, 2)));
    CHECK_FALSE(plainly_the_hosts(answer(Verdict::dropped, Actor::unknown)));
  }
}

TEST_CASE("trace plan: how deep a trace goes", "[trace-plan]") {
  const auto depth = [](const AttemptResult& r) { return trace_depth(r.judgement, r); };
  // To the ICMP sender; one past a RST's hop, the host's too.
  CHECK(depth(answer(Verdict::icmp_unreachable, Actor::router, 3)) == 3);
  CHECK(depth(answer(Verdict::refused_by_middlebox, Actor::middlebox, 2)) == 3);
  CHECK(depth(answer(Verdict::injected_reset, Actor::middlebox, 4)) == 5);
  CHECK(depth(answer(Verdict::refused_by_host, Actor::host, 6)) == 7);
  // Open or silent: to the host's own hop.
  CHECK(depth(with_host_hop(answer(Verdict::open, Actor::host, 9), 6)) == 6);
  CHECK(depth(answer(Verdict::open, Actor::host, 9)) == 9);
  CHECK(depth(with_host_hop(answer(Verdict::dropped, Actor::unknown), 7)) == 7);
  CHECK(depth(with_host_hop(answer(Verdict::inconclusive, Actor::unknown), 7)) == 7);
  // Nothing tells: the whole budget (64, cut to --max-ttl by sweep_depth()).
  CHECK(depth(answer(Verdict::icmp_unreachable, Actor::router)) == 64);
  CHECK(depth(answer(Verdict::refused_by_middlebox, Actor::middlebox)) == 64);
  CHECK(depth(answer(Verdict::dropped, Actor::unknown)) == 64);

  SECTION("a sweep stays between TTL 1 and --max-ttl; silence goes to the host's hop") {
    constexpr int max_ttl = 30;
    CHECK(sweep_depth(answer(Verdict::refused_by_middlebox, Actor::middlebox, 2), true, max_ttl) == 3);
    CHECK(sweep_depth(answer(Verdict::refused_by_middlebox, Actor::middlebox), true, max_ttl) == max_ttl);
    CHECK(sweep_depth(answer(Verdict::icmp_unreachable, Actor::router, 0), true, max_ttl) == 1);
    // A target with no answer yet is traced as silence, whatever its preliminary verdict.
    CHECK(sweep_depth(with_host_hop(answer(Verdict::refused_by_middlebox, Actor::middlebox, 2), 5), false, max_ttl) == 5);
    CHECK(sweep_depth(answer(Verdict::dropped, Actor::unknown), false, max_ttl) == max_ttl);
    CHECK(sweep_depth(with_host_hop(answer(Verdict::dropped, Actor::unknown), 40), false, max_ttl) == max_ttl);
  }
  CHECK(ttl_range(1, 4) == std::vector<int>{1, 2, 3, 4});
  CHECK(ttl_range(3, 3) == std::vector<int>{3});
  CHECK(ttl_range(1, 0).empty());
}

TEST_CASE("trace plan: the shape of an answer is who answered what, and from where", "[trace-plan]") {
  AttemptResult a = answer(Verdict::icmp_unreachable, Actor::router, 3);
  a.judgement.responder = IpAddress::parse("198.18.2.1");
  a.judgement.icmp = IcmpSummary{3, 13, "communication administratively prohibited"};
  CHECK(answer_shape(a.judgement) == "4|2|198.18.2.1|3|3/13");
  CHECK(answer_shape(answer(Verdict::dropped, Actor::unknown).judgement) == "5|3|-|-1|-");

  AttemptResult b = a;  // confidence and evidence are not part of the shape
  b.judgement.confidence = 0.4;
  b.judgement.evidence.push_back({Signal::icmp_rate_limit_suspected, "test"});
  CHECK(answer_shape(b.judgement) == answer_shape(a.judgement));
  b.judgement.hop = 4;
  CHECK(answer_shape(b.judgement) != answer_shape(a.judgement));
  b = a;
  b.judgement.icmp->code = 1;
  CHECK(answer_shape(b.judgement) != answer_shape(a.judgement));

  // A host's refusal its own probes doubt (a forger copying the host's TTL) is not the
  // host's plain refusal: neither locates the other.
  const AttemptResult host = answer(Verdict::refused_by_host, Actor::host);
  for (const Signal doubt : {Signal::early_reset, Signal::probes_disagree})
    CHECK(answer_shape(with_signals(host, {doubt}).judgement) != answer_shape(host.judgement));
  CHECK(answer_shape(with_signals(host, {Signal::no_baseline}).judgement) == answer_shape(host.judgement));
}

namespace {
TraceSlots slots(std::size_t started, std::size_t in_flight, bool unmetered = false, bool budget_left = true) {
  return TraceSlots{started, in_flight, unmetered, budget_left};
}
}  // namespace

TEST_CASE("trace plan: at most 8 traces in flight per source, and same answers share once half were started",
          "[trace-plan]") {
  REQUIRE(max_traces_per_source == 8);
  SECTION("below half, every target gets a trace of its own") {
    for (std::size_t started = 0; started < 4; ++started) {
      CHECK(choose_trace(true, true, slots(started, started)) == TraceChoice::own_trace);
      CHECK(choose_trace(true, false, slots(started, started)) == TraceChoice::own_trace);
    }
  }
  SECTION("from half on, an answer already traced shares that trace, in flight or settled") {
    for (std::size_t started = 4; started <= 40; ++started) {
      CHECK(choose_trace(true, true, slots(started, 8)) == TraceChoice::share);
      CHECK(choose_trace(true, true, slots(started, 0)) == TraceChoice::share);
    }
    CHECK(choose_trace(true, false, slots(7, 7)) == TraceChoice::own_trace);
  }
  SECTION("8 in flight: the next waits for a wave, however many were started before") {
    CHECK(choose_trace(true, false, slots(8, 8)) == TraceChoice::wait);
    CHECK(choose_trace(false, false, slots(8, 8)) == TraceChoice::wait);
    // The 12-port run: 8 traces settled, the 9th target (a drop at the host's firewall)
    // is traced, where counting every trace of the run left it "not-traced".
    CHECK(choose_trace(false, false, slots(8, 0)) == TraceChoice::own_trace);
    CHECK(choose_trace(false, false, slots(30, 7)) == TraceChoice::own_trace);
  }
  SECTION("routers measured unmetered share no budget: no wave holds a trace back") {
    CHECK(choose_trace(false, false, slots(40, 40, true)) == TraceChoice::own_trace);
  }
  SECTION("past the trace budget, what is not shared goes untraced") {
    CHECK(choose_trace(true, false, slots(8, 0, false, false)) == TraceChoice::not_traced);
    CHECK(choose_trace(false, true, slots(2, 0, true, false)) == TraceChoice::not_traced);
    CHECK(choose_trace(true, true, slots(4, 4, false, false)) == TraceChoice::share);
  }
  SECTION("silence is never shared: its own trace, a later wave, or none") {
    CHECK(choose_trace(false, true, slots(4, 4)) == TraceChoice::own_trace);
    CHECK(choose_trace(false, true, slots(8, 8)) == TraceChoice::wait);
  }
}

TEST_CASE("trace plan: waves start within the trace budget, and only if they can finish the job", "[trace-plan]") {
  const Timestamp deadline = at(10000);
  const double span_s = trace_span_s(0.3);
  CHECK(span_s == Approx(1.8));
  SECTION("a trace over before the verdicts are in costs no time: any wave before the deadline") {
    const Timestamp due = at(5000);
    CHECK(trace_may_start(at(1000), deadline, due, span_s, 0, 5000, false));
    CHECK(trace_may_start(at(3200), deadline, due, span_s, 0, 5000, false));
    CHECK_FALSE(trace_may_start(at(10000), deadline, at(20000), span_s, 0, 1, true));
  }
  SECTION("... after the traces ahead of it, served one a second by routers that ration") {
    const Timestamp due = at(5000);
    CHECK(trace_may_start(at(1000), deadline, due, span_s, 2, 5000, false));
    CHECK_FALSE(trace_may_start(at(1000), deadline, due, span_s, 3, 5000, false));
    CHECK(trace_may_start(at(1000), deadline, due, span_s, 7, 5000, true));  // unmetered: no pace
  }
  SECTION("a trace that would lengthen the run, through rate-limited routers: one trace a second") {
    const Timestamp due = at(5000);
    CHECK(trace_may_start(at(5000), deadline, due, span_s, 0, 3, false));  // the 12-port run: 3 left, 5 s left
    CHECK(trace_may_start(at(5000), deadline, due, span_s, 8, 5, false));
    CHECK_FALSE(trace_may_start(at(5000), deadline, due, span_s, 0, 6, false));
    CHECK_FALSE(trace_may_start(at(3500), deadline, due, span_s, 0, 1500, false));  // 10,000 ports: say what to run
  }
  SECTION("through unmetered routers, any wave before the deadline") {
    CHECK(trace_may_start(at(5000), deadline, at(5000), span_s, 8, 1500, true));
  }
}

TEST_CASE("trace plan: a TTL that reaches a silent target's host is not asked again", "[trace-plan]") {
  // A drop at the host (hop 4): hops 1-3 answered, 4 silent, the control port answered at 4.
  const std::map<int, bool> pass{{1, true}, {2, true}, {3, true}, {4, false}};
  CHECK(ttls_to_reprobe(pass, {4}) == std::vector<int>{4});
  CHECK(ttls_to_reprobe(pass, {4}, 4).empty());
  // A silent hop before the host is still asked again: a router's budget may have hidden it.
  CHECK(ttls_to_reprobe({{1, true}, {2, false}, {3, true}, {4, false}}, {4}, 4) == std::vector<int>{2});
}

TEST_CASE("trace plan: the command that locates what the trace budget left", "[trace-plan]") {
  const IpAddress v4 = *IpAddress::parse("198.18.4.10");
  const IpAddress v6 = *IpAddress::parse("2001:db8:4::10");
  CHECK(trace_budget_for(1) == default_trace_budget_s + 1);
  CHECK(trace_budget_for(1500) == 1510);
  CHECK(locate_rest_command({{v4, {9200}}}, 11, 0) == "synprobe trace 198.18.4.10:9200 --trace-budget 11");
  CHECK(locate_rest_command({{v4, {9102, 9101, 85, 9100, 85}}, {v6, {17000, 17001, 17002}}}, 15, 90) ==
        "synprobe trace 198.18.4.10:85,9100-9102 [2001:db8:4::10]:17000-17002 --trace-budget 15");
  CHECK(locate_rest_command({{v4, {1, 2}}}, 1510, 45000) ==
        "synprobe trace 198.18.4.10:1-2 --trace-budget 1510 --max-packets 45000");
}

TEST_CASE("trace plan: silence, and a host's refusal its own probes doubt, never share a trace", "[trace-plan]") {
  CHECK(may_share_trace(true, answer(Verdict::refused_by_middlebox, Actor::middlebox).judgement));
  CHECK(may_share_trace(true, answer(Verdict::injected_reset, Actor::middlebox).judgement));
  CHECK(may_share_trace(true, answer(Verdict::icmp_unreachable, Actor::router).judgement));
  CHECK_FALSE(may_share_trace(false, answer(Verdict::dropped, Actor::unknown).judgement));
  // A host's refusal judged before the baseline arrived (the lab's shared-reset check saw
  // every RST judged so in one run's first review) may share ...
  CHECK(may_share_trace(true, with_signals(answer(Verdict::refused_by_host, Actor::host), {Signal::no_baseline}).judgement));
  // ... but not one whose own probes doubt it (the lab's TTL-forging middlebox under loss
  // once shared the trace of the host's own RST: one of its RSTs came at hop 2's round trip).
  CHECK_FALSE(may_share_trace(true, with_signals(answer(Verdict::refused_by_host, Actor::host), {Signal::early_reset}).judgement));
  CHECK_FALSE(may_share_trace(true, with_signals(answer(Verdict::refused_by_host, Actor::host), {Signal::probes_disagree}).judgement));
  // The same signals on a middlebox's answer do not stop it: they are what made it one.
  CHECK(may_share_trace(true, with_signals(answer(Verdict::refused_by_middlebox, Actor::middlebox), {Signal::early_reset}).judgement));
}

TEST_CASE("trace plan: a host's refusal that nothing timed gets its own trace once the first phase is over", "[trace-plan]") {
  AttemptResult unbaselined = answer(Verdict::refused_by_host, Actor::host);
  unbaselined.host_syn_ack_rtt_ms.reset();
  CHECK(needs_own_trace_unbaselined(unbaselined));
  // Timed against the host's SYN/ACK: the answer shape is a fair ground for sharing.
  AttemptResult timed = unbaselined;
  timed.host_syn_ack_rtt_ms = 20.0;
  CHECK_FALSE(needs_own_trace_unbaselined(timed));
  // Other answers are located by their shape whatever the baseline: a router's refusal
  // names its address, a middlebox's RST was told apart already.
  AttemptResult router = answer(Verdict::icmp_unreachable, Actor::router);
  router.host_syn_ack_rtt_ms.reset();
  CHECK_FALSE(needs_own_trace_unbaselined(router));
  AttemptResult middlebox = answer(Verdict::refused_by_middlebox, Actor::middlebox);
  middlebox.host_syn_ack_rtt_ms.reset();
  CHECK_FALSE(needs_own_trace_unbaselined(middlebox));
}

TEST_CASE("trace plan: a target still silent once the routers' budgets refilled gets one late SYN", "[trace-plan]") {
  const Timestamp sent{1'000'000'000};
  CHECK_FALSE(needs_late_syn(false, sent, after(sent, 1.0)));  // the budget may not have refilled
  CHECK(needs_late_syn(false, sent, after(sent, icmp_budget_refill_s)));
  CHECK(needs_late_syn(false, sent, after(sent, 2.5)));
  CHECK_FALSE(needs_late_syn(true, sent, after(sent, 2.5)));   // answered: nothing to draw
  CHECK_FALSE(needs_late_syn(false, std::nullopt, after(sent, 2.5)));  // its first SYN has not left
}

TEST_CASE("trace plan: when silence is overdue, and how long a trace waits", "[trace-plan]") {
  // Four times the host's fastest answer, at least 0.25 s, at most half the timeout.
  CHECK(overdue_after_s(std::nullopt, 2.0) == Approx(1.0));
  CHECK(overdue_after_s(0.01, 2.0) == Approx(0.25));
  CHECK(overdue_after_s(0.1, 2.0) == Approx(0.4));
  CHECK(overdue_after_s(0.4, 2.0) == Approx(1.0));
  CHECK(overdue_after_s(0.1, 0.2) == Approx(0.25));  // a short timeout does not go below 0.25 s
  // Four times the slowest answer, at least 0.3 s, at most the timeout; all of it while
  // nothing answered.
  CHECK(trace_wait_s(0, 2.0) == Approx(2.0));
  CHECK(trace_wait_s(0.01, 2.0) == Approx(0.3));
  CHECK(trace_wait_s(0.2, 2.0) == Approx(0.8));
  CHECK(trace_wait_s(1.0, 2.0) == Approx(2.0));
}

TEST_CASE("trace plan: silent TTLs are asked again when something answered past or beside them", "[trace-plan]") {
  const std::map<int, bool> pass{{1, true}, {2, false}, {3, true}, {4, false}, {5, false}};
  // TTL 2 is silent below an answered TTL 3; 4 and 5 are past the last answer: a drop.
  CHECK(ttls_to_reprobe(pass, {}) == std::vector<int>{2});
  // The same TTL answered on another flow to the host: its router exists and answers.
  CHECK(ttls_to_reprobe(pass, {5, 9}) == std::vector<int>{2, 5});
  CHECK(ttls_to_reprobe({{1, false}, {2, false}}, {}).empty());
  CHECK(ttls_to_reprobe({{1, false}, {2, false}}, {2}) == std::vector<int>{2});
  CHECK(ttls_to_reprobe({{1, true}, {2, true}}, {1, 2}).empty());

  SECTION("the TTL just past the last answer may meet a filter there, answering from its budget") {
    // Hops 1 and 3 answered, 4 and 5 did not: a filter at hop 3 would refuse TTL 4.
    CHECK(filtering_router_ttl(pass, 4) == 3);
    CHECK(filtering_router_ttl(pass, 5) == 0);  // the filter's error is asked by TTL 4
    CHECK(filtering_router_ttl(pass, 2) == 0);  // below the last answer: reached no filter
    CHECK(filtering_router_ttl(pass, 3) == 0);
    CHECK(filtering_router_ttl({{1, false}, {2, false}}, 2) == 0);  // nothing answered: no router known
    CHECK(filtering_router_ttl({{1, true}, {2, false}}, 2) == 1);
    // Its budget is held four round trips (its refusal would be back by then), 50 ms at least.
    CHECK(filtering_router_hold_s(0.006) == Approx(0.05));
    CHECK(filtering_router_hold_s(0.1) == Approx(0.4));
  }
  SECTION("once the routers' budgets refilled since the trace was planned, never in the past") {
    CHECK(icmp_budget_refill_s == Approx(1.2));
    CHECK(reprobe_at(start, at(300)) == after(start, icmp_budget_refill_s));
    CHECK(reprobe_at(start, at(1200)) == at(1200));
    CHECK(reprobe_at(start, at(2000)) == at(2000));
  }
  SECTION("traces re-probed within half a second of each other share a witness") {
    CHECK(witness_serves(at(1200), at(1200)));
    CHECK(witness_serves(at(1200), at(1700)));
    CHECK(witness_serves(at(1700), at(1200)));
    CHECK_FALSE(witness_serves(at(1200), at(1701)));
    CHECK_FALSE(witness_serves(at(1701), at(1200)));
  }
}

TEST_CASE("trace plan: a drop whose TTL-limited SYNs were answered was loss", "[trace-plan]") {
  const AttemptResult dropped = answer(Verdict::dropped, Actor::unknown);
  SECTION("silence along the trace leaves the verdict alone") {
    const AttemptResult same = rejudge_if_reached(
        dropped, {answer(Verdict::dropped, Actor::unknown), answer(Verdict::inconclusive, Actor::unknown)});
    CHECK(same.judgement.verdict == Verdict::dropped);
    CHECK(same.judgement.evidence.empty());
    CHECK(same.judgement.confidence == Approx(0.9));
  }
  SECTION("an answer from a refuser on the path decides, at most 0.75 sure, and says why") {
    const AttemptResult again =
        rejudge_if_reached(dropped, {answer(Verdict::icmp_unreachable, Actor::router, 2),
                                     answer(Verdict::dropped, Actor::unknown),
                                     answer(Verdict::refused_by_middlebox, Actor::middlebox, 3)});
    CHECK(again.judgement.verdict != Verdict::dropped);
    CHECK(again.judgement.confidence <= 0.75);
    REQUIRE_FALSE(again.judgement.evidence.empty());
    const Evidence& why = again.judgement.evidence.back();
    CHECK(why.signal == Signal::probes_disagree);
    CHECK_THAT(why.detail, Catch::StartsWith("The first SYN got no answer, but 2 TTL-limited SYNs reached far enough"));
  }
}

TEST_CASE("trace plan: silent targets are listened to for a router's late answer", "[trace-plan][late]") {
  // 3 s of neighbour resolution plus twice the run's slowest answer (0.2 to 2 s of it).
  CHECK(late_answer_wait_s(0.0) == Approx(3.2));
  CHECK(late_answer_wait_s(0.3) == Approx(3.6));
  CHECK(late_answer_wait_s(10.0) == Approx(late_answer_wait_max_s));
  PlannedProbe answered_probe, silent_probe;
  answered_probe.destination = *IpAddress::parse("192.0.2.1");
  answered_probe.port = 81;
  answered_probe.sent_at = at(0);
  answered_probe.answered_at = at(20);
  silent_probe.destination = *IpAddress::parse("192.0.2.99");
  silent_probe.port = 80;
  silent_probe.sent_at = at(0);
  FirstPhase phase;
  phase.by_target[{answered_probe.destination, 81}] = {&answered_probe};
  phase.by_target[{silent_probe.destination, 80}] = {&silent_probe};
  // Only the silent target waits, from its first SYN.
  CHECK_FALSE(phase.silent_targets_waited(at(3000), 3.2));
  CHECK(phase.silent_targets_waited(at(3200), 3.2));
  silent_probe.answered_at = at(3070);  // r3's host-unreachable came
  CHECK(phase.silent_targets_waited(at(3100), 3.2));
}
