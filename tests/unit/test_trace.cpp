// Hop-aware localisation: TTL-limited SYNs (Paris-traceroute style: one 5-tuple, one ISN
// per probe) are fed to an Analyzer with their answers, build_trace() turns them into a hop
// table and locate() refines the judgement of a normal-TTL probe to the same target.
//
// The path in every scenario (unless said otherwise):
//   client 10.0.0.1 → hop 1 198.18.1.1 → hop 2 198.18.2.2 → hop 3 198.18.3.3 → host 192.0.2.7 (hop 4)
// Routers send ICMP with initial TTL 255, the host and anything imitating it with 64, so a
// packet from hop k arrives with TTL 256-k (routers) or 65-k (host class). Round-trip times
// grow along the path (2, 10, 20 ms to the routers, 40 ms to the host), far enough apart that
// each hop is told from its neighbours.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "dissect/trace/trace.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::ms;
using pb::sec;
using pb::t0;

namespace {

const std::string client = "10.0.0.1";
const std::string server = "192.0.2.7";
const std::vector<std::string> routers = {"198.18.1.1", "198.18.2.2", "198.18.3.3"};  // hops 1..3
const std::vector<double> router_rtt_ms = {2.0, 10.0, 20.0};
constexpr int host_hop = 4;
constexpr double host_rtt_ms = 40.0;
constexpr std::uint16_t cport = 33000;      // the probes' source port
constexpr std::uint16_t port = 81;          // the refused port
constexpr std::uint16_t control_port = 443; // a port the host answers
constexpr std::uint32_t server_isn = 700'000;

// TTL of a packet sent with `initial` from hop `hop` (hop 1 = no decrement).
std::uint8_t ttl_from(int hop, int initial = 64) { return static_cast<std::uint8_t>(initial - hop + 1); }
const std::uint8_t host_ttl = ttl_from(host_hop);

std::int64_t ns_of(double ms_value) { return static_cast<std::int64_t>(ms_value * 1e6); }

struct Probe {
  std::uint32_t isn = 0;
  std::uint8_t ttl = 0;
  std::uint16_t id = 0;
  std::uint16_t dport = port;
  std::int64_t ts = 0;
};

struct Lab {
  Analyzer analyzer;
  std::vector<AttemptResult> results;
  std::set<std::uint32_t> trace_isns, control_isns;
  std::uint32_t normal_isn = 0;
  std::int64_t clock = t0;
  std::uint16_t next_id = 100;

  void at(std::int64_t ts, const ByteVec& ip) { analyzer.add(pb::packet_at(ip, ts)); }

  // The next probe's send time: probes go 200 ms apart, longer than any RTT here, so the
  // capture stays in time order.
  std::int64_t tick() { return clock += 200 * ms; }

  ByteVec syn_bytes(const Probe& p, std::uint8_t ttl) const {
    return pb::make_syn(client, server, cport, p.dport, p.isn, {.ttl = ttl, .id = p.id});
  }

  Probe send(std::uint32_t isn, std::uint8_t ttl, std::uint16_t dport = port) {
    Probe p{isn, ttl, next_id++, dport, tick()};
    at(p.ts, syn_bytes(p, ttl));
    return p;
  }

  // The host's own baseline: a full handshake on the control port (SYN/ACK with IP-ID 0).
  void baseline() {
    const Probe p = send(1'000, 64, control_port);
    at(p.ts + ns_of(host_rtt_ms),
       pb::make_syn_ack(server, client, control_port, cport, server_isn, p.isn + 1, {.ttl = host_ttl, .id = 0}));
    at(p.ts + ns_of(host_rtt_ms) + 100'000, pb::make_ack(client, server, cport, control_port, p.isn + 1, server_isn + 1));
  }

  Probe normal_probe() {
    normal_isn = 50'000;
    return send(normal_isn, 64);
  }
  // TTL-limited probe of round `round` (ISNs far apart: never ISN±1 of another).
  Probe trace_probe(int ttl, int round = 0, std::uint16_t dport = port) {
    const auto isn = static_cast<std::uint32_t>(1'000'000 + 10'000 * round + 100 * ttl + (dport == port ? 0 : 50));
    (dport == port ? trace_isns : control_isns).insert(isn);
    return send(isn, static_cast<std::uint8_t>(ttl), dport);
  }

  // Router `hop` answers time-exceeded, quoting the SYN as it saw it (TTL 1 left).
  void time_exceeded(const Probe& p, int hop, double rtt = -1) {
    const std::size_t i = static_cast<std::size_t>(hop - 1);
    const double r = rtt >= 0 ? rtt : router_rtt_ms[i];
    at(p.ts + ns_of(r), pb::make_icmp_error(routers[i], client, 11, 0, syn_bytes(p, 1), SIZE_MAX,
                                            {.ttl = ttl_from(hop, 255), .id = 0, .df = false}));
  }
  // A RST/ACK in the host's name.
  void reset(const Probe& p, std::uint8_t ttl, double rtt) {
    at(p.ts + ns_of(rtt), pb::make_rst(server, client, p.dport, cport, 0, p.isn + 1, true, {.ttl = ttl, .id = 0}));
  }
  // A trace of TTLs 1 to `last` on the target's flow: routers answer time-exceeded below
  // `first_reset`, and from it on every SYN draws a RST with `ttl` after `rtt` ms.
  void trace_resets_from(int first_reset, int last, std::uint8_t ttl, double rtt) {
    for (int hop = 1; hop <= last; ++hop) {
      const Probe p = trace_probe(hop);
      if (hop < first_reset) time_exceeded(p, hop);
      else reset(p, ttl, rtt);
    }
  }
  void syn_ack(const Probe& p) {
    at(p.ts + ns_of(host_rtt_ms),
       pb::make_syn_ack(server, client, p.dport, cport, server_isn + p.isn, p.isn + 1, {.ttl = host_ttl, .id = 0}));
  }
  void unreachable(const Probe& p, const std::string& from, std::uint8_t code, std::uint8_t ttl, double rtt) {
    at(p.ts + ns_of(rtt), pb::make_icmp_unreachable_quoting(syn_bytes(p, static_cast<std::uint8_t>(p.ttl - 1)), from,
                                                            client, code, {.ttl = ttl, .id = 0, .df = false}));
  }

  void finish() {
    // Listen on well past the last probe, as a live run does.
    analyzer.set_listen_end(Timestamp{clock + 3 * sec});
    results = analyzer.finish();
  }
  std::vector<AttemptResult> by_isn(const std::set<std::uint32_t>& isns) const {
    std::vector<AttemptResult> out;
    for (const AttemptResult& r : results)
      if (isns.count(r.attempt.isn)) out.push_back(r);
    return out;
  }
  const AttemptResult& normal() const {
    for (const AttemptResult& r : results)
      if (r.attempt.isn == normal_isn) return r;
    throw std::logic_error("no normal probe");
  }
};

// What the prober does: the trace, the context from the target's baseline, locate().
struct Located {
  Trace trace;
  Trace control;
  Judgement before;
  Judgement after;
};

Located run_locate(Lab& lab, bool with_control = false) {
  lab.finish();
  Located out;
  out.trace = build_trace(lab.by_isn(lab.trace_isns));
  if (with_control) out.control = build_trace(lab.by_isn(lab.control_isns));
  const AttemptResult& r = lab.normal();
  LocateContext ctx;
  if (r.host_hop) ctx.host_hop = r.host_hop->hop;
  ctx.host_rtt_ms = r.host_syn_ack_rtt_ms;
  ctx.control = with_control && !out.control.hops.empty() ? &out.control : nullptr;
  out.before = r.judgement;
  out.after = r.judgement;
  locate(out.after, r.attempt, out.trace, ctx);
  return out;
}

bool has_signal(const Judgement& j, std::string_view name) {
  return std::any_of(j.evidence.begin(), j.evidence.end(),
                     [&](const Evidence& e) { return signal_name(e.signal) == name; });
}
const Evidence* evidence_of(const Judgement& j, std::string_view name) {
  for (const Evidence& e : j.evidence)
    if (signal_name(e.signal) == name) return &e;
  return nullptr;
}
std::string signals_of(const Judgement& j) {
  std::string s;
  for (const Evidence& e : j.evidence) s += std::string(signal_name(e.signal)) + ": " + e.detail + "\n";
  return s;
}
std::size_t count_signal(const Judgement& j, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(j.evidence.begin(), j.evidence.end(),
                                                [&](const Evidence& e) { return signal_name(e.signal) == name; }));
}

IpAddress router(int hop) { return pb::addr(routers[static_cast<std::size_t>(hop - 1)]); }

}  // namespace

TEST_CASE("hop_answer_name names every hop answer", "[trace]") {
  CHECK(hop_answer_name(HopAnswer::none) == "*");
  CHECK(hop_answer_name(HopAnswer::time_exceeded) == "time-exceeded");
  CHECK(hop_answer_name(HopAnswer::reset) == "reset");
  CHECK(hop_answer_name(HopAnswer::syn_ack) == "syn-ack");
  CHECK(hop_answer_name(HopAnswer::unreachable) == "unreachable");
  CHECK(hop_answer_name(HopAnswer::other_icmp) == "other-icmp");
}

TEST_CASE("trace (a): a forwarding filter at hop 2 refuses before the host", "[trace][locate]") {
  // Hop 2 answers time-exceeded at TTL 2 itself, then refuses what it would forward: every
  // SYN with TTL ≥ 3 draws a RST sent from hop 2 (TTL 63, hop 2's RTT). The normal probe's
  // RST is that filter's too.
  constexpr int filter_hop = 2;
  const double filter_rtt = router_rtt_ms[filter_hop - 1];
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), ttl_from(filter_hop), filter_rtt);
  lab.trace_resets_from(filter_hop + 1, host_hop, ttl_from(filter_hop), filter_rtt);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));

  REQUIRE(l.trace.hops.size() == static_cast<std::size_t>(host_hop));
  CHECK(l.trace.probes_per_hop == 1);
  for (int ttl = 1; ttl <= host_hop; ++ttl) {
    const TraceHop& h = l.trace.hops[static_cast<std::size_t>(ttl - 1)];
    CHECK(h.hop == ttl);
    CHECK(h.majority == (ttl <= filter_hop ? HopAnswer::time_exceeded : HopAnswer::reset));
    REQUIRE(h.rtt_ms.has_value());
    CHECK(*h.rtt_ms == Approx(ttl <= filter_hop ? router_rtt_ms[static_cast<std::size_t>(ttl - 1)] : filter_rtt));
  }
  CHECK(l.trace.hops[0].address == router(1));
  CHECK(l.trace.hops[1].address == router(2));

  CHECK(l.after.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.actor == Actor::middlebox);
  CHECK(l.after.hop == filter_hop);
  CHECK(l.after.responder == router(filter_hop));
  CHECK(has_signal(l.after, "reset-before-host"));
  CHECK(has_signal(l.after, "rtt-matches-hop"));  // 10 ms: hop 2's time-exceeded RTT
  CHECK_FALSE(has_signal(l.after, "ttl-forged"));  // its RST says hop 2 honestly
  CHECK(l.after.confidence >= 0.95);               // RST hop, trace and RTT all agree
}

TEST_CASE("trace (a'): with no packet of the host's own, a filter at hop 2 is still not the host", "[trace][locate]") {
  // The host's SYN/ACKs and echo replies never arrive (a host that answers nothing, or
  // loss): its distance is unknown, and the RST's own TTL (hop 2) was once taken for it.
  // But TTL 2 expired at a router, so the host is at hop 3 or farther; the RST's TTL and
  // its round trip both say hop 2.
  constexpr int filter_hop = 2;
  const double filter_rtt = router_rtt_ms[filter_hop - 1];
  Lab lab;
  lab.reset(lab.normal_probe(), ttl_from(filter_hop), filter_rtt);
  lab.trace_resets_from(filter_hop + 1, filter_hop + 1, ttl_from(filter_hop), filter_rtt);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.before.verdict == Verdict::refused_by_host);  // the capture alone cannot tell
  CHECK(l.after.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.actor == Actor::middlebox);
  CHECK(l.after.hop == filter_hop);
  CHECK(l.after.responder == router(filter_hop));
  CHECK(has_signal(l.after, "reset-before-host"));
  CHECK(l.after.confidence == Approx(0.85));
}

TEST_CASE("trace (h2): with no packet of the host's own, its RST stays the host's", "[trace][locate]") {
  Lab lab;
  lab.reset(lab.normal_probe(), host_ttl, host_rtt_ms);
  lab.trace_resets_from(host_hop, host_hop, host_ttl, host_rtt_ms);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.after.verdict == Verdict::refused_by_host);
  CHECK(l.after.hop == host_hop);
  CHECK_FALSE(has_signal(l.after, "reset-before-host"));
}

TEST_CASE("trace (h3): a return path one hop shorter does not make the host a middlebox", "[trace][locate]") {
  // The host's RST comes back over a path one router shorter than the way out: its TTL
  // says hop 3, where TTL 3 expired. Its round trip is the host's (40 ms), not hop 3's
  // (20 ms): the TTL alone moves nothing.
  Lab lab;
  lab.reset(lab.normal_probe(), ttl_from(host_hop - 1), host_rtt_ms);
  lab.trace_resets_from(host_hop, host_hop, ttl_from(host_hop - 1), host_rtt_ms);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.after.verdict == Verdict::refused_by_host);
  CHECK_FALSE(has_signal(l.after, "reset-before-host"));
}

TEST_CASE("trace (b): a middlebox forging the host's TTL is placed by the trace", "[trace][locate]") {
  // The device at hop 2 sends its RSTs with TTL 61, as if from hop 4 (the host), and IP-ID 0
  // like the host: alone, the RST looks like the host's. The trace shows RSTs from TTL 3 on.
  constexpr int filter_hop = 2;
  const double filter_rtt = router_rtt_ms[filter_hop - 1];
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), host_ttl, filter_rtt);
  lab.trace_resets_from(filter_hop + 1, host_hop, host_ttl, filter_rtt);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  // Without the trace's reading the forgery passes for the host on TTL and IP-ID, but not
  // on time: a RST in a quarter of the host's fastest round trip is a nearer device's, and
  // the time-exceeded errors in the same capture place it at hop 2 by its round trip.
  CHECK(has_signal(l.before, "ttl-matches-host"));
  CHECK(has_signal(l.before, "early-reset"));
  CHECK(has_signal(l.before, "rtt-matches-hop"));
  CHECK(l.before.verdict == Verdict::refused_by_middlebox);
  CHECK(l.before.hop == filter_hop);

  CHECK(l.after.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.actor == Actor::middlebox);
  CHECK(l.after.hop == filter_hop);
  CHECK(l.after.responder == router(filter_hop));
  CHECK(has_signal(l.after, "reset-before-host"));
  REQUIRE(has_signal(l.after, "ttl-forged"));
  CHECK_THAT(evidence_of(l.after, "ttl-forged")->detail, Catch::Contains("hop 4") && Catch::Contains("hop 2"));
}

TEST_CASE("trace (b'): a forged-TTL RST is moved to the filter even when its RTT says nothing", "[trace][locate]") {
  // Same as (b) but the RST takes the host's own RTT: only the trace can place it.
  constexpr int filter_hop = 2;
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), host_ttl, host_rtt_ms);
  lab.trace_resets_from(filter_hop + 1, host_hop, host_ttl, host_rtt_ms);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.before.verdict == Verdict::refused_by_host);  // TTL, IP-ID and RTT all fit the host
  CHECK(l.after.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.hop == filter_hop);
  CHECK(l.after.responder == router(filter_hop));
  CHECK(has_signal(l.after, "ttl-forged"));
  CHECK_FALSE(has_signal(l.after, "rtt-matches-hop"));
}

TEST_CASE("trace (c): an RTT that points at a hop the trace went past unrefused moves nothing", "[trace][locate]") {
  // The host's own RST (its TTL, RSTs from TTL 4, the host's distance) delayed to hop 2's
  // round trip; but TTL 3 went past hop 2 and expired at hop 3: a device at hop 2 would
  // have refused it. The trace outweighs the timing.
  const double hop2_rtt = router_rtt_ms[1];
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), host_ttl, hop2_rtt);
  lab.trace_resets_from(host_hop, host_hop, host_ttl, hop2_rtt);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.after.verdict == Verdict::refused_by_host);
  CHECK(l.after.actor == Actor::host);
  CHECK_FALSE(has_signal(l.after, "ttl-forged"));
  // The capture alone said "nearer" by the timing; the trace's measurement wins, and the
  // disagreement is said, with a confidence that shows it.
  CHECK(l.before.verdict == Verdict::refused_by_middlebox);
  CHECK(has_signal(l.after, "signals-disagree"));
  CHECK(l.after.confidence <= 0.6);
}

TEST_CASE("trace (c): the RST's RTT is hop 3's, not the host's", "[trace][locate]") {
  // A filter on the last router (hop 3): RSTs start at TTL 4, the host's own distance, and
  // carry the host's TTL; only their 20 ms RTT (hop 3's time-exceeded RTT, not the host's
  // 40 ms) gives them away.
  constexpr int filter_hop = 3;
  const double filter_rtt = router_rtt_ms[filter_hop - 1];
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), host_ttl, filter_rtt);
  lab.trace_resets_from(filter_hop + 1, host_hop, host_ttl, filter_rtt);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.after.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.actor == Actor::middlebox);
  CHECK(l.after.hop == filter_hop);
  CHECK(l.after.responder == router(filter_hop));
  REQUIRE(has_signal(l.after, "rtt-matches-hop"));
  CHECK_THAT(evidence_of(l.after, "rtt-matches-hop")->detail, Catch::Contains("hop 3"));
  CHECK(has_signal(l.after, "ttl-forged"));
  CHECK_FALSE(has_signal(l.after, "reset-before-host"));  // RSTs start at the host's hop
  // Timing alone against a TTL and a trace that both say host: a lead, not a finding
  // (jitter can move a host's RST next to a hop's round trip).
  CHECK(l.after.confidence == Approx(0.55));
}

TEST_CASE("trace (d2): an injector whose RST to TTL 2 was lost is still placed at hop 2", "[trace][locate][injected]") {
  // As (d), but the injector's RSTs carry its own TTL (it is 2 hops away) and the one for
  // the TTL-2 probe was lost: RSTs start at TTL 3. Their TTL and round trip both say hop 2.
  constexpr int injector_hop = 2;
  const double injector_rtt = router_rtt_ms[injector_hop - 1];
  const std::uint8_t injector_ttl = ttl_from(injector_hop);
  Lab lab;
  lab.baseline();
  const Probe n = lab.normal_probe();
  lab.reset(n, injector_ttl, injector_rtt);
  lab.syn_ack(n);
  for (int ttl = 1; ttl <= host_hop; ++ttl) {
    const Probe p = lab.trace_probe(ttl);
    if (ttl > injector_hop) lab.reset(p, injector_ttl, injector_rtt);
    if (ttl < host_hop) lab.time_exceeded(p, ttl);
    else lab.syn_ack(p);
  }
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK_FALSE(l.trace.hops[injector_hop - 1].reset_too);
  CHECK(l.trace.hops[injector_hop].reset_too);
  CHECK(l.after.verdict == Verdict::injected_reset);
  CHECK(l.after.hop == injector_hop);
  CHECK(l.after.responder == router(injector_hop));
  REQUIRE(has_signal(l.after, "on-path-injector"));
  CHECK_THAT(evidence_of(l.after, "on-path-injector")->detail, Catch::Contains("were lost"));
}

TEST_CASE("trace (d3): a RST at TTL 2 while TTL 3 expires at hop 3: injected, not a filter", "[trace][locate][injected]") {
  // Both SYN/ACKs of the normal probes were lost: the first phase sees only the RST from
  // hop 2 and calls it a middlebox's. The trace shows TTL 2 drawing that RST (its
  // time-exceeded lost) and TTL 3 going on to expire at hop 3: nothing stopped the SYN.
  constexpr int injector_hop = 2;
  const double injector_rtt = router_rtt_ms[injector_hop - 1];
  const std::uint8_t injector_ttl = ttl_from(injector_hop);
  Lab lab;
  lab.baseline();
  const Probe n = lab.normal_probe();
  lab.reset(n, injector_ttl, injector_rtt);
  for (int ttl = 1; ttl <= injector_hop + 1; ++ttl) {
    const Probe p = lab.trace_probe(ttl);
    if (ttl == injector_hop) lab.reset(p, injector_ttl, injector_rtt);
    else lab.time_exceeded(p, ttl);
  }
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.before.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.verdict == Verdict::injected_reset);
  CHECK(l.after.actor == Actor::middlebox);
  CHECK(l.after.hop == injector_hop);
  REQUIRE(has_signal(l.after, "on-path-injector"));
  CHECK_THAT(evidence_of(l.after, "on-path-injector")->detail, Catch::Contains("nothing stopped the SYN"));
}

TEST_CASE("trace (d4): no TTL-limited SYN drew the forged RST, yet TTL 3 passed hop 2", "[trace][locate][injected]") {
  // The first phase saw only RSTs from hop 2 (the SYN/ACKs lost); every RST to the trace's
  // probes was lost too, but TTL 3 expired at hop 3: hop 2 did not stop the SYN.
  constexpr int injector_hop = 2;
  Lab lab;
  lab.baseline();
  const Probe n = lab.normal_probe();
  lab.reset(n, ttl_from(injector_hop), router_rtt_ms[injector_hop - 1]);
  for (int ttl = 1; ttl <= injector_hop + 1; ++ttl) lab.time_exceeded(lab.trace_probe(ttl), ttl);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.before.verdict == Verdict::refused_by_middlebox);
  CHECK(l.after.verdict == Verdict::injected_reset);
  CHECK(l.after.hop == injector_hop);
  CHECK(l.after.responder == router(injector_hop));
  REQUIRE(has_signal(l.after, "on-path-injector"));
  CHECK_THAT(evidence_of(l.after, "on-path-injector")->detail, Catch::Contains("went on past that hop"));
}

TEST_CASE("trace (d): an on-path injector at hop 2 races the host", "[trace][locate][injected]") {
  // The port is open (the host's SYN/ACK comes at 40 ms) but a device beside hop 2 sees every
  // SYN that reaches hop 2 and races a RST that copies the host's TTL. TTL 2 therefore draws
  // both hop 2's time-exceeded and a RST.
  constexpr int injector_hop = 2;
  const double injector_rtt = router_rtt_ms[injector_hop - 1];
  Lab lab;
  lab.baseline();
  const Probe n = lab.normal_probe();
  lab.reset(n, host_ttl, injector_rtt);
  lab.syn_ack(n);
  for (int ttl = 1; ttl <= host_hop; ++ttl) {
    const Probe p = lab.trace_probe(ttl);
    if (ttl >= injector_hop) lab.reset(p, host_ttl, injector_rtt);
    if (ttl < host_hop) lab.time_exceeded(p, ttl);
    else lab.syn_ack(p);
  }
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.before.verdict == Verdict::injected_reset);
  const TraceHop& h2 = l.trace.hops[injector_hop - 1];
  CHECK(h2.majority == HopAnswer::time_exceeded);  // the time-exceeded names the hop
  CHECK(h2.reset_too);
  CHECK_FALSE(l.trace.hops[0].reset_too);

  CHECK(l.after.verdict == Verdict::injected_reset);
  CHECK(l.after.actor == Actor::middlebox);
  CHECK(l.after.hop == injector_hop);
  CHECK(l.after.responder == router(injector_hop));
  REQUIRE(has_signal(l.after, "on-path-injector"));
  CHECK_THAT(evidence_of(l.after, "on-path-injector")->detail, Catch::Contains("TTL 2"));
  CHECK(l.after.confidence >= 0.9);
}

TEST_CASE("trace (e): an unreachable from a router that is hop 2 of the trace", "[trace][locate][icmp]") {
  // Hop 2 answers admin-prohibited for what it would forward. Its ICMP comes back over a
  // longer return path (TTL 253 = hop 3 of 255), so only the trace says it is hop 2.
  constexpr int acl_hop = 2;
  const std::uint8_t icmp_ttl = ttl_from(3, 255);
  const double rtt = router_rtt_ms[acl_hop - 1];
  Lab lab;
  lab.baseline();
  lab.unreachable(lab.normal_probe(), routers[acl_hop - 1], 13, icmp_ttl, rtt);
  for (int ttl = 1; ttl <= host_hop; ++ttl) {
    const Probe p = lab.trace_probe(ttl);
    if (ttl <= acl_hop) lab.time_exceeded(p, ttl);
    else lab.unreachable(p, routers[acl_hop - 1], 13, icmp_ttl, rtt);
  }
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.before.verdict == Verdict::icmp_unreachable);
  CHECK(l.before.hop == 3);  // from the ICMP's own TTL

  const TraceHop& h3 = l.trace.hops[2];
  CHECK(h3.majority == HopAnswer::unreachable);
  REQUIRE(h3.icmp.has_value());
  CHECK(h3.icmp->type == 3);
  CHECK(h3.icmp->code == 13);

  CHECK(l.after.verdict == Verdict::icmp_unreachable);
  CHECK(l.after.actor == Actor::router);
  CHECK(l.after.hop == acl_hop);
  CHECK(l.after.responder == router(acl_hop));
  CHECK(has_signal(l.after, "icmp-sender-hop"));
}

TEST_CASE("trace (f): a silent drop after hop 2", "[trace][locate][drop]") {
  // Hops 1 and 2 answer time-exceeded; TTL 3 and 4 draw nothing, nor does the normal probe.
  constexpr int last_answering = 2;
  auto scenario = [&](Lab& lab, bool control_continues) {
    lab.baseline();
    lab.normal_probe();
    for (int ttl = 1; ttl <= host_hop; ++ttl) {
      const Probe p = lab.trace_probe(ttl);
      if (ttl <= last_answering) lab.time_exceeded(p, ttl);
    }
    // The control port's trace on the same path: answered up to the host, or cut like the target's.
    for (int ttl = 1; ttl <= host_hop; ++ttl) {
      const Probe p = lab.trace_probe(ttl, 0, control_port);
      if (ttl < host_hop && (control_continues || ttl <= last_answering)) lab.time_exceeded(p, ttl);
      else if (ttl == host_hop && control_continues) lab.syn_ack(p);
    }
  };

  SECTION("without a control trace") {
    Lab lab;
    scenario(lab, true);
    const Located l = run_locate(lab, false);
    INFO(signals_of(l.after));
    CHECK(l.before.verdict == Verdict::dropped);
    CHECK(l.after.verdict == Verdict::dropped);
    CHECK(l.after.hop == last_answering);
    CHECK(l.after.responder == router(last_answering));
    REQUIRE(l.after.hop_range.has_value());
    CHECK(l.after.hop_range->first == last_answering);
    CHECK(l.after.hop_range->second == last_answering + 1);
    CHECK(has_signal(l.after, "dropped-after-hop"));
    CHECK_FALSE(has_signal(l.after, "control-path-continues"));
    CHECK_FALSE(has_signal(l.after, "silent-hop"));  // silence after the last answer is the drop, not a silent hop
  }
  SECTION("a control port answered beyond hop 2") {
    Lab lab;
    scenario(lab, true);
    const Located l = run_locate(lab, true);
    INFO(signals_of(l.after));
    CHECK(l.after.hop == last_answering);
    CHECK(has_signal(l.after, "dropped-after-hop"));
    CHECK(has_signal(l.after, "control-path-continues"));
    CHECK(l.after.confidence >= 0.9);
  }
  SECTION("a control port cut at the same hop proves nothing") {
    Lab lab;
    scenario(lab, false);
    const Located l = run_locate(lab, true);
    INFO(signals_of(l.after));
    CHECK(has_signal(l.after, "dropped-after-hop"));
    CHECK_FALSE(has_signal(l.after, "control-path-continues"));
  }
  SECTION("the first silent hop also left a control probe unanswered: the range widens") {
    // Hop 3 answered the control port once and ignored it once: it was not always
    // answering, so this port's silence at TTL 3 may be its rate limit, not the drop.
    Lab lab;
    scenario(lab, true);
    lab.trace_probe(last_answering + 1, 1, control_port);  // drew nothing
    const Located l = run_locate(lab, true);
    INFO(signals_of(l.after));
    CHECK(l.after.verdict == Verdict::dropped);
    CHECK(l.after.hop == last_answering);
    REQUIRE(l.after.hop_range.has_value());
    CHECK(l.after.hop_range->first == last_answering);
    CHECK(l.after.hop_range->second == last_answering + 2);
    CHECK(has_signal(l.after, "icmp-rate-limit-suspected"));
    CHECK(l.after.confidence <= 0.55);
  }
  SECTION("answers that come and go make the drop a lead, not a finding") {
    // Hop 1 answers one probe of two: ICMP rate limiting or loss, which could as well have
    // swallowed an unreachable; "dropped" must not claim more than 0.55.
    Lab lab;
    scenario(lab, true);
    lab.trace_probe(1, 1);  // a second TTL-1 probe that draws nothing
    const Located l = run_locate(lab, true);
    INFO(signals_of(l.after));
    CHECK(l.after.verdict == Verdict::dropped);
    REQUIRE(has_signal(l.after, "icmp-rate-limit-suspected"));
    CHECK(l.after.confidence <= 0.55);
  }
}

TEST_CASE("trace (g): rate-limited and silent hops", "[trace][locate]") {
  // The host refuses at hop 4 in all three; what differs is how the routers answer.
  auto host_refuses = [](Lab& lab, const Probe& p) { lab.reset(p, host_ttl, host_rtt_ms); };

  SECTION("a hop answering 2 of 3 probes") {
    // Hop 2 answers rounds 0 and 1 (9 and 11 ms), not round 2; hop 1 answers all three
    // (1, 2, 6 ms): medians 10 and 2 ms.
    const std::vector<double> hop1_rtts = {1.0, 6.0, 2.0};
    const std::vector<double> hop2_rtts = {9.0, 11.0};
    Lab lab;
    lab.baseline();
    host_refuses(lab, lab.normal_probe());
    for (int round = 0; round < 3; ++round)
      for (int ttl = 1; ttl <= host_hop; ++ttl) {
        const Probe p = lab.trace_probe(ttl, round);
        const auto r = static_cast<std::size_t>(round);
        if (ttl == 1) lab.time_exceeded(p, 1, hop1_rtts[r]);
        else if (ttl == 2 && round < 2) lab.time_exceeded(p, 2, hop2_rtts[r]);
        else if (ttl == 3) lab.time_exceeded(p, 3);
        else if (ttl == host_hop) host_refuses(lab, p);
      }
    const Located l = run_locate(lab);
    INFO(signals_of(l.after));
    CHECK(l.trace.probes_per_hop == 3);
    const TraceHop& h1 = l.trace.hops[0];
    const TraceHop& h2 = l.trace.hops[1];
    CHECK(h2.answers == std::vector<HopAnswer>{HopAnswer::time_exceeded, HopAnswer::time_exceeded, HopAnswer::none});
    CHECK(h2.majority == HopAnswer::time_exceeded);
    CHECK(h2.address == router(2));
    REQUIRE(h1.rtt_ms.has_value());
    CHECK(*h1.rtt_ms == Approx(1.0));  // the fastest of 1, 6, 2: delay only adds
    REQUIRE(h2.rtt_ms.has_value());
    CHECK(*h2.rtt_ms == Approx(9.0));  // the fastest of 9 and 11
    CHECK(l.trace.hops[3].majority == HopAnswer::reset);

    REQUIRE(count_signal(l.after, "icmp-rate-limit-suspected") == 1);
    CHECK_THAT(evidence_of(l.after, "icmp-rate-limit-suspected")->detail,
               Catch::Contains("Hop 2") && Catch::Contains("2 of 3"));
    CHECK_FALSE(has_signal(l.after, "silent-hop"));
    CHECK(l.after.verdict == Verdict::refused_by_host);
  }
  SECTION("a hop that never answers between answering ones") {
    Lab lab;
    lab.baseline();
    host_refuses(lab, lab.normal_probe());
    for (int ttl = 1; ttl <= host_hop; ++ttl) {
      const Probe p = lab.trace_probe(ttl);
      if (ttl == 1 || ttl == 3) lab.time_exceeded(p, ttl);
      else if (ttl == host_hop) host_refuses(lab, p);
    }
    const Located l = run_locate(lab);
    INFO(signals_of(l.after));
    CHECK(l.trace.hops[1].majority == HopAnswer::none);
    CHECK_FALSE(l.trace.hops[1].address.has_value());
    CHECK_FALSE(l.trace.hops[1].rtt_ms.has_value());
    REQUIRE(has_signal(l.after, "silent-hop"));
    CHECK_THAT(evidence_of(l.after, "silent-hop")->detail, Catch::Contains("Hop 2 "));
    CHECK_FALSE(has_signal(l.after, "icmp-rate-limit-suspected"));
  }
  SECTION("no hop answers time-exceeded at all") {
    Lab lab;
    lab.baseline();
    host_refuses(lab, lab.normal_probe());
    for (int ttl = 1; ttl <= host_hop; ++ttl) {
      const Probe p = lab.trace_probe(ttl);
      if (ttl == host_hop) host_refuses(lab, p);
    }
    const Located l = run_locate(lab);
    INFO(signals_of(l.after));
    REQUIRE(has_signal(l.after, "icmp-rate-limit-suspected"));
    CHECK_THAT(evidence_of(l.after, "icmp-rate-limit-suspected")->detail, Catch::Contains("No hop"));
    CHECK_FALSE(has_signal(l.after, "silent-hop"));
    CHECK(l.after.verdict == Verdict::refused_by_host);
  }
}

TEST_CASE("trace (h): the host itself refusing stays refused-by-host", "[trace][locate]") {
  // RSTs start exactly at TTL 4, the host's hop, with the host's TTL and RTT.
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), host_ttl, host_rtt_ms);
  lab.trace_resets_from(host_hop, host_hop, host_ttl, host_rtt_ms);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.after.verdict == Verdict::refused_by_host);
  CHECK(l.after.actor == Actor::host);
  CHECK(l.after.hop == host_hop);
  CHECK(l.after.responder == pb::addr(server));
  CHECK(l.after.confidence == Approx(l.before.confidence));
  CHECK_FALSE(has_signal(l.after, "reset-before-host"));
  CHECK_FALSE(has_signal(l.after, "ttl-forged"));
  CHECK_FALSE(has_signal(l.after, "rtt-matches-hop"));
  CHECK_FALSE(has_signal(l.after, "silent-hop"));
  CHECK_FALSE(has_signal(l.after, "icmp-rate-limit-suspected"));
}

TEST_CASE("trace (h'): the trace reaching the host is said so", "[trace][locate]") {
  // TTL 4 drew the host's own RST at its hop, TTL and RTT: `trace-reached-host`.
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), host_ttl, host_rtt_ms);
  lab.trace_resets_from(host_hop, host_hop, host_ttl, host_rtt_ms);
  const Located l = run_locate(lab);
  CHECK(has_signal(l.after, "trace-reached-host"));
}

TEST_CASE("build_trace: majority, silence and the empty trace", "[trace]") {
  CHECK(build_trace({}).hops.empty());
  CHECK(build_trace({}).probes_per_hop == 0);

  // TTL 1: one time-exceeded of three probes — silence loses to any answer.
  // TTL 2: two RSTs and a time-exceeded — the majority is the RST.
  // TTL 3: nothing at all.
  Lab lab;
  for (int round = 0; round < 3; ++round) {
    const Probe p1 = lab.trace_probe(1, round);
    if (round == 1) lab.time_exceeded(p1, 1);
    const Probe p2 = lab.trace_probe(2, round);
    if (round == 0) lab.time_exceeded(p2, 2);
    else lab.reset(p2, ttl_from(2), 12.0 + round);  // 13 and 14 ms
    lab.trace_probe(3, round);
  }
  lab.finish();
  const Trace t = build_trace(lab.by_isn(lab.trace_isns));
  REQUIRE(t.hops.size() == 3);
  CHECK(t.probes_per_hop == 3);
  CHECK(t.hops[0].majority == HopAnswer::time_exceeded);
  CHECK(t.hops[0].address == router(1));
  CHECK(t.hops[0].answers == std::vector<HopAnswer>{HopAnswer::none, HopAnswer::time_exceeded, HopAnswer::none});
  CHECK(t.hops[1].majority == HopAnswer::reset);
  // The router that answered time-exceeded names the hop, even against two RSTs that carry
  // the server's address: only a time-exceeded speaks with the hop's own address.
  CHECK(t.hops[1].address == router(2));
  REQUIRE(t.hops[1].rtt_ms.has_value());
  CHECK(*t.hops[1].rtt_ms == Approx(13.0));  // the fastest of the majority's RTTs only (13, 14)
  CHECK(t.hops[1].reset_too);
  CHECK(t.hops[2].majority == HopAnswer::none);
  CHECK_FALSE(t.hops[2].address.has_value());
  CHECK_FALSE(t.hops[2].rtt_ms.has_value());
  for (const TraceHop& h : t.hops) CHECK(h.changes.empty());  // the quotes are the SYNs as sent
}

TEST_CASE("build_trace: hops come out in TTL order with gaps left out", "[trace]") {
  Lab lab;
  for (const int ttl : {5, 1, 3}) lab.time_exceeded(lab.trace_probe(ttl), std::min(ttl, 3));
  lab.finish();
  const Trace t = build_trace(lab.by_isn(lab.trace_isns));
  REQUIRE(t.hops.size() == 3);
  CHECK(t.hops[0].hop == 1);
  CHECK(t.hops[1].hop == 3);
  CHECK(t.hops[2].hop == 5);
}

TEST_CASE("build_trace: a hop's address is a sender of its majority answer", "[trace]") {
  // TTL 3, three probes: per-packet load balancing sends two of them to two routers that
  // each answer time-exceeded, the third draws a RST in the host's name. The majority is
  // time-exceeded, so the hop's address must be one of those routers, never the host.
  const std::string other_router = "198.18.3.33";
  Lab lab;
  const Probe a = lab.trace_probe(3, 0);
  lab.time_exceeded(a, 3);
  const Probe b = lab.trace_probe(3, 1);
  lab.at(b.ts + ns_of(20.0), pb::make_icmp_error(other_router, client, 11, 0, lab.syn_bytes(b, 1), SIZE_MAX,
                                                 {.ttl = ttl_from(3, 255), .df = false}));
  lab.reset(lab.trace_probe(3, 2), host_ttl, host_rtt_ms);
  lab.finish();
  const Trace t = build_trace(lab.by_isn(lab.trace_isns));
  REQUIRE(t.hops.size() == 1);
  CHECK(t.hops[0].majority == HopAnswer::time_exceeded);
  REQUIRE(t.hops[0].address.has_value());
  CHECK((*t.hops[0].address == router(3) || *t.hops[0].address == pb::addr(other_router)));
  REQUIRE(t.hops[0].rtt_ms.has_value());
  CHECK(*t.hops[0].rtt_ms == Approx(20.0));  // both time-exceeded at 20 ms; the RST's 40 ms is not counted
}

TEST_CASE("build_trace: a quote showing MSS clamping becomes the hop's path change", "[trace][quote]") {
  // Hop 2 quotes the SYN with MSS 1400 instead of the 1460 sent: something before it clamps.
  Lab lab;
  const Probe p1 = lab.trace_probe(1);
  lab.time_exceeded(p1, 1);
  const Probe p2 = lab.trace_probe(2);
  const ByteVec clamped = pb::make_syn(client, server, cport, port, p2.isn, {.ttl = 1, .id = p2.id},
                                       pb::SynOptions{.mss = 1400});
  lab.at(p2.ts + ns_of(10.0), pb::make_icmp_error(routers[1], client, 11, 0, clamped, SIZE_MAX,
                                                  {.ttl = ttl_from(2, 255), .df = false}));
  lab.finish();
  const Trace t = build_trace(lab.by_isn(lab.trace_isns));
  REQUIRE(t.hops.size() == 2);
  CHECK(t.hops[0].changes.empty());
  REQUIRE(t.hops[1].changes.size() == 1);
  CHECK(t.hops[1].changes[0] == PathChange{"mss", "1460", "1400"});

  // locate() reports it whatever the verdict.
  Judgement j;
  j.verdict = Verdict::open;
  locate(j, lab.results.front().attempt, t, {});
  CHECK(has_signal(j, "path-rewrites"));
  CHECK_THAT(evidence_of(j, "path-rewrites")->detail, Catch::Contains("1460") && Catch::Contains("1400"));
}

TEST_CASE("locate: an empty trace changes nothing", "[trace][locate]") {
  Judgement j;
  j.verdict = Verdict::refused_by_host;
  j.actor = Actor::host;
  j.hop = 4;
  j.confidence = 0.8;
  locate(j, Attempt{}, Trace{}, {});
  CHECK(j.verdict == Verdict::refused_by_host);
  CHECK(j.hop == 4);
  CHECK(j.evidence.empty());
  CHECK(j.confidence == 0.8);
}

TEST_CASE("trace: RSTs from TTL 1 on place the refuser at hop 1, not hop 0", "[trace][locate]") {
  // The first router refuses what it would forward before it even checks the TTL: every SYN,
  // TTL 1 included, draws a RST sent from hop 1 (TTL 64). Hops are counted from 1 (the first
  // router); there is no time-exceeded at "TTL 0" to cite.
  Lab lab;
  lab.baseline();
  lab.reset(lab.normal_probe(), ttl_from(1), router_rtt_ms[0]);
  for (int ttl = 1; ttl <= host_hop; ++ttl) lab.reset(lab.trace_probe(ttl), ttl_from(1), router_rtt_ms[0]);
  const Located l = run_locate(lab);
  INFO(signals_of(l.after));
  CHECK(l.after.verdict == Verdict::refused_by_middlebox);
  REQUIRE(l.after.hop.has_value());
  CHECK(*l.after.hop >= 1);
  for (const Evidence& e : l.after.evidence) CHECK_THAT(e.detail, !Catch::Contains("TTL 0"));
}
