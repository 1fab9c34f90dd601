// combine_probes(): several SYNs to one target (--count), each judged on its own, folded
// into one result. The probes are built as a live run sends them: one 5-tuple, one ISN each.
#include <catch2/catch.hpp>

#include <algorithm>

#include "dissect/verdict/combine.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::ms;
using pb::sec;
using pb::t0;

namespace {

const std::string client = "10.0.0.1";
const std::string server = "192.0.2.7";
constexpr std::uint16_t cport = 33000;
constexpr std::uint16_t port = 81;
constexpr std::uint8_t host_ttl = 61;  // hop 4 of 64

// The probes of one target, probe k sent at t0 + k seconds with ISN 1000·(k+1).
struct Run {
  Analyzer analyzer;
  std::vector<std::uint32_t> isns;
  std::vector<AttemptResult> probes;

  void at(std::int64_t ts, const ByteVec& ip) { analyzer.add(pb::packet_at(ip, ts)); }
  std::int64_t start_of(std::size_t k) const { return t0 + static_cast<std::int64_t>(k) * sec; }

  // A probe: `syns` transmissions 100 ms apart; `reset_after` (ms after the last SYN) the host's RST, if ≥ 0.
  void probe(std::uint32_t syns, double reset_after_ms) {
    const std::size_t k = isns.size();
    const auto isn = static_cast<std::uint32_t>(1000 * (k + 1));
    isns.push_back(isn);
    std::int64_t ts = start_of(k);
    for (std::uint32_t i = 0; i < syns; ++i, ts += 100 * ms)
      at(ts, pb::make_syn(client, server, cport, port, isn, {.ttl = 64, .id = static_cast<std::uint16_t>(k * 10 + i)}));
    if (reset_after_ms >= 0)
      at(ts - 100 * ms + static_cast<std::int64_t>(reset_after_ms * 1e6),
         pb::make_rst(server, client, port, cport, 0, isn + 1, true, {.ttl = host_ttl}));
  }
  const std::vector<AttemptResult>& finish() {
    analyzer.set_listen_end(Timestamp{start_of(isns.size()) + 5 * sec});
    analyzer.set_sees_both_directions(true);  // as a live run does
    const auto all = analyzer.finish();
    probes.clear();
    for (const std::uint32_t isn : isns)
      for (const AttemptResult& r : all)
        if (r.attempt.isn == isn) probes.push_back(r);
    REQUIRE(probes.size() == isns.size());
    return probes;
  }
};

bool has_signal(const Judgement& j, std::string_view name) {
  return std::any_of(j.evidence.begin(), j.evidence.end(),
                     [&](const Evidence& e) { return signal_name(e.signal) == name; });
}

}  // namespace

TEST_CASE("combine: probes that all agree keep their verdict and confidence", "[combine]") {
  Run run;
  for (int i = 0; i < 3; ++i) run.probe(1, 20.0);
  const auto& probes = run.finish();
  for (const AttemptResult& p : probes) REQUIRE(p.judgement.verdict == Verdict::refused_by_host);
  const AttemptResult r = combine_probes(probes);
  CHECK(r.judgement.verdict == Verdict::refused_by_host);
  CHECK(r.judgement.confidence == Approx(probes.front().judgement.confidence));
  CHECK_FALSE(has_signal(r.judgement, "probes-disagree"));
  CHECK(r.attempt.syn_count == 3);
  CHECK(r.attempt.transmissions.size() == 3);
  CHECK(r.attempt.answers.size() == 3);
  CHECK(r.attempt.first_seen == Timestamp{run.start_of(0)});
  CHECK(r.attempt.last_seen == Timestamp{run.start_of(2)});
}

TEST_CASE("combine: all dropped, confidence from the total number of SYNs", "[combine][drop]") {
  // One SYN in all: 0.65; two: 0.8; three or more: 0.9 — whether the SYNs are separate
  // probes or retransmissions of one.
  struct Case {
    std::vector<std::uint32_t> syns_per_probe;
    double confidence;
  };
  const std::vector<Case> cases = {
      {{1}, 0.65}, {{1, 1}, 0.8}, {{2}, 0.8}, {{1, 1, 1}, 0.9}, {{3}, 0.9}, {{2, 2}, 0.9},
  };
  for (const Case& c : cases) {
    Run run;
    for (const std::uint32_t n : c.syns_per_probe) run.probe(n, -1);
    const auto& probes = run.finish();
    const AttemptResult r = combine_probes(probes);
    std::uint32_t total = 0;
    for (const std::uint32_t n : c.syns_per_probe) total += n;
    INFO(c.syns_per_probe.size() << " probes, " << total << " SYNs");
    CHECK(r.judgement.verdict == Verdict::dropped);
    CHECK(r.attempt.syn_count == total);
    CHECK(r.judgement.confidence == Approx(c.confidence));
    CHECK(has_signal(r.judgement, "no-answer"));
    CHECK_FALSE(has_signal(r.judgement, "probes-disagree"));
  }
}

TEST_CASE("combine: two refusals and a drop", "[combine]") {
  Run run;
  run.probe(1, 20.0);
  run.probe(1, -1);  // the second probe's SYN drew nothing
  run.probe(1, 20.0);
  const auto& probes = run.finish();
  REQUIRE(probes[0].judgement.verdict == Verdict::refused_by_host);
  REQUIRE(probes[1].judgement.verdict == Verdict::dropped);
  const AttemptResult r = combine_probes(probes);
  CHECK(r.judgement.verdict == Verdict::refused_by_host);
  CHECK(r.judgement.actor == Actor::host);
  // 2 of 3 agree: the refusal's own confidence, scaled by 2/3.
  CHECK(r.judgement.confidence == Approx(probes[0].judgement.confidence * 2.0 / 3.0));
  REQUIRE(has_signal(r.judgement, "probes-disagree"));
  const auto it = std::find_if(r.judgement.evidence.begin(), r.judgement.evidence.end(),
                               [](const Evidence& e) { return e.signal == Signal::probes_disagree; });
  CHECK_THAT(it->detail, Catch::Contains("2 refused-by-host") && Catch::Contains("1 dropped"));
}

TEST_CASE("combine: answers still point at their own SYN after merging", "[combine]") {
  // Probe 0: one SYN, RST 20 ms later. Probe 1: two SYNs (retransmitted after 100 ms), RST
  // 30 ms after the second. Probe 2: one SYN, RST 25 ms later.
  Run run;
  run.probe(1, 20.0);
  run.probe(2, 30.0);
  run.probe(1, 25.0);
  const auto& probes = run.finish();
  const AttemptResult r = combine_probes(probes);
  const Attempt& m = r.attempt;
  REQUIRE(m.transmissions.size() == 4);
  REQUIRE(m.answers.size() == 3);
  const std::vector<std::size_t> expected_tx = {0, 2, 3};  // probe 1's answer is to its 2nd SYN
  const std::vector<double> expected_rtt = {20.0, 30.0, 25.0};
  for (std::size_t i = 0; i < m.answers.size(); ++i) {
    const Answer& a = m.answers[i];
    INFO("answer " << i);
    CHECK(a.transmission == expected_tx[i]);
    CHECK(a.rtt_ms == Approx(expected_rtt[i]));
    // The SYN it points at was sent rtt_ms before it, and is the newest SYN before it.
    CHECK(a.ts.ms_since(m.transmissions[a.transmission].ts) == Approx(a.rtt_ms));
    // ...and carries the IP-ID that SYN was sent with (probe k, transmission i: 10k + i).
    CHECK(m.transmissions[a.transmission].ip_id == std::vector<std::uint16_t>{0, 11, 20}[i]);
  }
}

TEST_CASE("combine: a single probe is returned as judged", "[combine]") {
  Run run;
  run.probe(1, 20.0);
  const auto& probes = run.finish();
  const AttemptResult r = combine_probes(probes);
  CHECK(r.judgement.verdict == probes[0].judgement.verdict);
  CHECK(r.judgement.confidence == Approx(probes[0].judgement.confidence));
  CHECK(r.judgement.evidence.size() == probes[0].judgement.evidence.size());
  CHECK(r.attempt.isn == probes[0].attempt.isn);
}

TEST_CASE("combine: more probes than transmissions kept never points an answer at another probe's SYN",
          "[combine][!mayfail]") {
  // --count 20: 20 probes, one SYN each, each refused 20 ms later. The merged attempt keeps
  // Attempt::max_transmissions SYNs; an answer whose SYN was not kept must not claim to
  // answer one that was (JSON "syn" would name the wrong SYN, 16, for probes 17-20).
  constexpr std::size_t count = Attempt::max_transmissions + 4;
  Run run;
  for (std::size_t i = 0; i < count; ++i) run.probe(1, 20.0);
  const AttemptResult r = combine_probes(run.finish());
  const Attempt& m = r.attempt;
  CHECK(m.syn_count == count);
  for (std::size_t i = 0; i < m.answers.size(); ++i) {
    const Answer& a = m.answers[i];
    INFO("answer " << i << " → SYN " << a.transmission);
    REQUIRE(a.transmission < m.transmissions.size());
    CHECK(a.ts.ms_since(m.transmissions[a.transmission].ts) == Approx(a.rtt_ms));
  }
}

TEST_CASE("combine: open on one SYN, a middlebox's RST on another: an injector", "[combine][injected]") {
  // The host answers on its control port from hop 4. Probe 1 draws only a RST from hop 2
  // (TTL 63, 6 ms: the host's SYN/ACK lost); probe 2 only the host's SYN/ACK (the forged
  // RST lost). On one flow and one path, that is a device forging RSTs for an open port.
  Run run;
  run.at(t0 - sec, pb::make_syn(client, server, cport, 443, 7, {.ttl = 64}));
  run.at(t0 - sec + 20 * ms, pb::make_syn_ack(server, client, 443, cport, 555, 8, {.ttl = host_ttl, .id = 0}));
  run.probe(1, -1);
  run.at(run.start_of(0) + 6 * ms, pb::make_rst(server, client, port, cport, 0, run.isns[0] + 1, true, {.ttl = 63}));
  run.probe(1, -1);
  run.at(run.start_of(1) + 20 * ms,
         pb::make_syn_ack(server, client, port, cport, 777, run.isns[1] + 1, {.ttl = host_ttl, .id = 0}));
  const auto& probes = run.finish();
  REQUIRE(probes[0].judgement.verdict == Verdict::refused_by_middlebox);
  REQUIRE(probes[1].judgement.verdict == Verdict::open);
  const AttemptResult r = combine_probes(probes);
  CHECK(r.judgement.verdict == Verdict::injected_reset);
  CHECK(r.judgement.actor == Actor::middlebox);
  CHECK(has_signal(r.judgement, "reset-and-syn-ack"));
  CHECK(has_signal(r.judgement, "probes-disagree"));
  CHECK(r.judgement.confidence == Approx(0.75));
}

namespace {
AttemptResult judged_as(Verdict v, Actor actor, double confidence) {
  AttemptResult r;
  r.attempt.syn_count = 1;
  r.judgement.verdict = v;
  r.judgement.actor = actor;
  r.judgement.confidence = confidence;
  return r;
}
bool names_signal(const Judgement& j, Signal s) {
  return std::any_of(j.evidence.begin(), j.evidence.end(), [&](const Evidence& e) { return e.signal == s; });
}
}  // namespace

TEST_CASE("combine: silence beside a router's ICMP error is its rate limit, not a second opinion", "[combine]") {
  // The first two SYNs met a router whose error budget other traffic had spent; the late
  // SYN a second on drew its net-unreachable (the lab's no-route destination, r1).
  const std::vector<AttemptResult> probes{judged_as(Verdict::dropped, Actor::unknown, 0.65),
                                          judged_as(Verdict::dropped, Actor::unknown, 0.65),
                                          judged_as(Verdict::icmp_unreachable, Actor::router, 0.9)};
  const AttemptResult r = combine_probes(probes);
  CHECK(r.judgement.verdict == Verdict::icmp_unreachable);
  CHECK(r.judgement.actor == Actor::router);
  CHECK(r.judgement.confidence == Approx(0.85));
  CHECK(names_signal(r.judgement, Signal::icmp_rate_limit_suspected));
  CHECK_FALSE(names_signal(r.judgement, Signal::probes_disagree));
}

TEST_CASE("combine: an ICMP error against another answer still disagrees", "[combine]") {
  const std::vector<AttemptResult> probes{judged_as(Verdict::icmp_unreachable, Actor::router, 0.9),
                                          judged_as(Verdict::refused_by_host, Actor::host, 0.9),
                                          judged_as(Verdict::dropped, Actor::unknown, 0.65)};
  const AttemptResult r = combine_probes(probes);
  CHECK(names_signal(r.judgement, Signal::probes_disagree));
  CHECK_FALSE(names_signal(r.judgement, Signal::icmp_rate_limit_suspected));
  CHECK(r.judgement.confidence < 0.5);
}
