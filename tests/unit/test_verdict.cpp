// Whole scenarios through Analyzer → judge(): every expected value is derived from the
// packets built here (TTL → initial/hop, timing, IP-ID), not copied from the program.
#include <catch2/catch.hpp>

#include <algorithm>

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
const std::string router = "198.51.100.1";
const std::string resolver = "192.0.2.53";
constexpr std::uint32_t server_isn = 900'000;

// The host's own TTL in these scenarios: initial 64, 4 routers on the way → hop 5.
constexpr std::uint8_t host_ttl = 60;
constexpr int host_hop = 64 - host_ttl + 1;

struct Scenario {
  Analyzer analyzer;
  std::vector<AttemptResult> results;

  void at(std::int64_t ts, const ByteVec& ip) { analyzer.add(pb::packet_at(ip, ts)); }

  // Something addressed to the client, so the capture shows both directions.
  void client_receives(std::int64_t ts) {
    at(ts, pb::ip_packet(resolver, client, Tins::UDP(53000, 53) / Tins::RawPDU(ByteVec(12, 0))));
  }

  // A complete connection to port `port` that the host answers itself: its baseline.
  void host_answers(std::int64_t ts, std::uint16_t cport, std::uint16_t port, double rtt_ms,
                    std::uint16_t ip_id = 0, std::uint8_t ttl = host_ttl) {
    const std::uint32_t isn = 10'000u + cport;
    const auto rtt = static_cast<std::int64_t>(rtt_ms * 1e6);
    at(ts, pb::make_syn(client, server, cport, port, isn));
    at(ts + rtt, pb::make_syn_ack(server, client, port, cport, server_isn, isn + 1,
                                  {.ttl = ttl, .id = ip_id}));
    at(ts + rtt + 100'000, pb::make_ack(client, server, cport, port, isn + 1, server_isn + 1));
  }

  const std::vector<AttemptResult>& finish() {
    results = analyzer.finish();
    return results;
  }

  // The judgement of the attempt from client port `cport`.
  const Judgement& of(std::uint16_t cport) {
    if (results.empty()) finish();
    for (const AttemptResult& r : results)
      if (r.attempt.client_port == cport) return r.judgement;
    FAIL("no attempt from client port " << cport);
    throw std::logic_error("unreachable");
  }
};

bool has_signal(const Judgement& j, std::string_view name) {
  return std::any_of(j.evidence.begin(), j.evidence.end(),
                     [&](const Evidence& e) { return signal_name(e.signal) == name; });
}

std::string signals_of(const Judgement& j) {
  std::string s;
  for (const Evidence& e : j.evidence) s += std::string(signal_name(e.signal)) + " ";
  return s;
}

void require_confidence_in(const Judgement& j, double low, double high) {
  CHECK(j.confidence >= low);
  CHECK(j.confidence <= high);
}

}  // namespace

TEST_CASE("verdict: open", "[verdict]") {
  Scenario s;
  s.host_answers(t0, 40000, 443, 20.0);
  const Judgement& j = s.of(40000);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::open);
  CHECK(j.actor == Actor::host);
  REQUIRE(j.responder.has_value());
  CHECK(*j.responder == pb::addr(server));
  CHECK(j.hop == host_hop);
  REQUIRE(j.rtt_ms.has_value());
  CHECK(*j.rtt_ms == Approx(20.0));
  CHECK(has_signal(j, "syn-ack"));
  CHECK(has_signal(j, "handshake-completed"));
  require_confidence_in(j, 0.95, 1.0);
  CHECK(verdict_name(j.verdict) == "open");
}

TEST_CASE("verdict: a SYN/ACK the client never acknowledged is still open, less surely", "[verdict]") {
  Scenario s;
  s.at(t0, pb::make_syn(client, server, 40000, 443, 1));
  s.at(t0 + 20 * ms, pb::make_syn_ack(server, client, 443, 40000, server_isn, 2, {.ttl = host_ttl}));
  Scenario full;
  full.host_answers(t0, 40000, 443, 20.0);
  const Judgement& j = s.of(40000);
  CHECK(j.verdict == Verdict::open);
  CHECK_FALSE(has_signal(j, "handshake-completed"));
  CHECK(j.confidence < full.of(40000).confidence);
}

TEST_CASE("verdict: refused by the host, with a baseline", "[verdict][reset]") {
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = host_ttl, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_host);
  CHECK(j.actor == Actor::host);
  REQUIRE(j.responder.has_value());
  CHECK(*j.responder == pb::addr(server));
  CHECK(j.hop == host_hop);
  CHECK(has_signal(j, "reset"));
  CHECK(has_signal(j, "ttl-matches-host"));
  CHECK(has_signal(j, "ip-id-consistent"));
  CHECK(has_signal(j, "rtt-matches-host"));
  CHECK_FALSE(has_signal(j, "no-baseline"));
  require_confidence_in(j, 0.75, 0.97);
  REQUIRE(j.rtt_ms.has_value());
  CHECK(*j.rtt_ms == Approx(20.0));
  // The open attempt beside it is judged on its own.
  CHECK(s.of(40000).verdict == Verdict::open);
}

TEST_CASE("verdict: refused by the host, without a baseline", "[verdict][reset]") {
  Scenario s;
  s.at(t0, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 20 * ms, pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = host_ttl}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_host);
  CHECK(j.actor == Actor::host);
  CHECK(j.hop == host_hop);
  CHECK(has_signal(j, "no-baseline"));
  CHECK_FALSE(has_signal(j, "ttl-matches-host"));
  // Weak: no comparison was possible.
  require_confidence_in(j, 0.5, 0.6);
}

TEST_CASE("verdict: a bare RST (no ACK) is forged, whatever its TTL", "[verdict][reset][injected]") {
  // No stack answers a SYN with a RST lacking ACK, and the client ignores one: a device made it.
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 1 * sec + 20 * ms, pb::make_rst(server, client, 81, 40001, 0, 0, false, {.ttl = host_ttl}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::injected_reset);
  CHECK(j.actor == Actor::middlebox);
  CHECK(j.hop == host_hop);  // it copied the host's TTL: still a forgery
  CHECK(has_signal(j, "reset-without-ack"));
}

TEST_CASE("verdict: ICMP errors in the host's name never join its baseline", "[verdict][icmp]") {
  // Only one packet of the host's own (a SYN/ACK at hop 5), then a forged ICMP error from hop 3
  // claiming the host's address: the baseline must stay at one packet, hop 5.
  constexpr std::uint8_t icmp_ttl = 62;
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  const ByteVec syn = pb::make_syn(client, server, 40001, 81, 5000);
  s.at(t0 + 1 * sec, syn);
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_icmp_unreachable_quoting(syn, server, client, 1, {.ttl = icmp_ttl, .id = 0}));
  s.finish();
  const AttemptResult* r = nullptr;
  for (const AttemptResult& x : s.results)
    if (x.attempt.client_port == 40001) r = &x;
  REQUIRE(r);
  CHECK(r->host_packets == 1);
  REQUIRE(r->host_hop);
  CHECK(r->host_hop->hop == host_hop);
  CHECK(r->judgement.actor == Actor::middlebox);
  CHECK_FALSE(has_signal(r->judgement, "baseline-hop-varies"));
}

TEST_CASE("verdict: refused by a middlebox, told by the hop", "[verdict][reset]") {
  // The RST has the host's initial TTL class (64) but arrives from hop 3; the host is at hop 5.
  constexpr std::uint8_t rst_ttl = 62;
  constexpr int rst_hop = 64 - rst_ttl + 1;
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = rst_ttl, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_middlebox);
  CHECK(j.actor == Actor::middlebox);
  CHECK(j.hop == rst_hop);
  CHECK_FALSE(j.responder.has_value());  // no time-exceeded error named hop 3
  CHECK(has_signal(j, "ttl-hop-differs"));
  require_confidence_in(j, 0.55, 0.97);
  CHECK(verdict_name(j.verdict) == "refused-by-middlebox");
  CHECK(actor_name(j.actor) == "middlebox");
}

TEST_CASE("verdict: refused by a middlebox, told by the initial TTL class", "[verdict][reset]") {
  // A router-made RST: initial 255, TTL 252 → hop 4; the host's packets start at 64.
  constexpr std::uint8_t rst_ttl = 252;
  constexpr int rst_hop = 255 - rst_ttl + 1;
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = rst_ttl, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_middlebox);
  CHECK(j.actor == Actor::middlebox);
  CHECK(j.hop == rst_hop);
  CHECK(has_signal(j, "ttl-initial-differs"));
  CHECK_FALSE(has_signal(j, "ttl-hop-differs"));
}

TEST_CASE("verdict: an IP-ID that breaks the host's pattern", "[verdict][reset][ipid]") {
  // The host's SYN/ACKs carry IP-ID 0 (Linux); the RST carries 4711.
  auto run = [](std::uint16_t rst_id) {
    Scenario s;
    s.host_answers(t0, 40000, 80, 20.0, 0);
    s.host_answers(t0 + 100 * ms, 40002, 80, 20.0, 0);
    s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
    s.at(t0 + 1 * sec + 20 * ms,
         pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = host_ttl, .id = rst_id}));
    return s.of(40001);
  };
  const Judgement breaks = run(4711);
  const Judgement fits = run(0);
  INFO(signals_of(breaks));
  CHECK(has_signal(breaks, "ip-id-breaks-pattern"));
  CHECK_FALSE(has_signal(breaks, "ip-id-consistent"));
  CHECK(has_signal(fits, "ip-id-consistent"));
  // The break argues for a middlebox: less sure it was the host.
  CHECK(breaks.confidence < fits.confidence);
}

TEST_CASE("verdict: an IP-ID that does not follow the host's global counter", "[verdict][reset][ipid]") {
  Scenario s;
  // The host's packets count up by one: 1000, 1001, 1002 (a global counter).
  s.host_answers(t0, 40000, 80, 20.0, 1000);
  s.host_answers(t0 + 100 * ms, 40002, 80, 20.0, 1001);
  s.host_answers(t0 + 200 * ms, 40003, 80, 20.0, 1002);
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = host_ttl, .id = 30000}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(has_signal(j, "ip-id-breaks-pattern"));
}

TEST_CASE("verdict: an early reset", "[verdict][reset][timing]") {
  // The host's SYN/ACK takes 40 ms on another connection; the RST comes after 2 ms.
  Scenario s;
  s.host_answers(t0, 40000, 80, 40.0, 0);
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 1 * sec + 2 * ms,
       pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = host_ttl, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(has_signal(j, "early-reset"));
  CHECK_FALSE(has_signal(j, "rtt-matches-host"));
  REQUIRE(j.rtt_ms.has_value());
  CHECK(*j.rtt_ms == Approx(2.0));

  SECTION("early and from a nearer hop: a middlebox") {
    Scenario m;
    m.host_answers(t0, 40000, 80, 40.0, 0);
    m.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 81, 5000));
    m.at(t0 + 1 * sec + 2 * ms, pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = 63, .id = 0}));
    const Judgement& k = m.of(40001);
    CHECK(k.verdict == Verdict::refused_by_middlebox);
    CHECK(k.hop == 2);
    // Two signals for the middlebox weigh more than one.
    CHECK(k.confidence > 0.5 + 0.5 / 2 - 0.1 / 2);
  }
}

TEST_CASE("verdict: injected reset racing the host's SYN/ACK", "[verdict][injected]") {
  constexpr std::uint8_t rst_ttl = 62;  // hop 3; the SYN/ACK is the host's, hop 5
  Scenario s;
  s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
  s.at(t0 + 2 * ms, pb::make_rst(server, client, 443, 40001, 0, 5001, true, {.ttl = rst_ttl}));
  s.at(t0 + 20 * ms, pb::make_syn_ack(server, client, 443, 40001, server_isn, 5001, {.ttl = host_ttl}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::injected_reset);
  CHECK(j.actor == Actor::middlebox);
  CHECK(j.hop == 64 - rst_ttl + 1);
  CHECK(has_signal(j, "reset-and-syn-ack"));
  CHECK(has_signal(j, "ttl-hop-differs"));
  CHECK(has_signal(j, "early-reset"));
  require_confidence_in(j, 0.8, 0.97);
  REQUIRE(j.rtt_ms.has_value());
  CHECK(*j.rtt_ms == Approx(2.0));
}

TEST_CASE("verdict: two RSTs with different TTLs", "[verdict][injected]") {
  Scenario s;
  s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
  s.at(t0 + 2 * ms, pb::make_rst(server, client, 443, 40001, 0, 5001, true, {.ttl = 62}));        // hop 3
  s.at(t0 + 20 * ms, pb::make_rst(server, client, 443, 40001, 0, 5001, true, {.ttl = host_ttl}));  // hop 5
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::injected_reset);
  CHECK(j.actor == Actor::middlebox);
  CHECK(j.hop == 3);  // the nearer sender
  CHECK(has_signal(j, "reset-burst"));
  require_confidence_in(j, 0.6, 0.97);

  SECTION("two identical RSTs are one sender: no burst") {
    Scenario t;
    t.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
    t.at(t0 + 2 * ms, pb::make_rst(server, client, 443, 40001, 0, 5001, true, {.ttl = 60}));
    t.at(t0 + 3 * ms, pb::make_rst(server, client, 443, 40001, 0, 5001, true, {.ttl = 60}));
    CHECK_FALSE(has_signal(t.of(40001), "reset-burst"));
    CHECK(t.of(40001).verdict == Verdict::refused_by_host);
  }
}

TEST_CASE("verdict: ICMP unreachable from a router", "[verdict][icmp]") {
  constexpr std::uint8_t icmp_ttl = 253;  // initial 255 → hop 3
  Scenario s;
  const ByteVec syn = pb::make_syn(client, server, 40001, 443, 5000, {.ttl = 64});
  s.at(t0, syn);
  s.at(t0 + 5 * ms, pb::make_icmp_unreachable_quoting(syn, router, client, 13, {.ttl = icmp_ttl}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::icmp_unreachable);
  CHECK(j.actor == Actor::router);
  REQUIRE(j.responder.has_value());
  CHECK(*j.responder == pb::addr(router));
  CHECK(j.hop == 255 - icmp_ttl + 1);
  REQUIRE(j.icmp.has_value());
  CHECK(j.icmp->type == 3);
  CHECK(j.icmp->code == 13);
  CHECK(j.icmp->name == "admin-prohibited");
  CHECK(has_signal(j, "icmp-error"));
  CHECK(has_signal(j, "icmp-from-router"));
  CHECK(has_signal(j, "quoted-ttl"));
  require_confidence_in(j, 0.8, 0.97);
}

TEST_CASE("verdict: ICMPv6 unreachable from a router", "[verdict][icmp][ipv6]") {
  Scenario s;
  const ByteVec syn = pb::make_syn("2001:db8::1", "2001:db8:1::7", 40001, 443, 5000, {.ttl = 64});
  s.at(t0, syn);
  s.at(t0 + 5 * ms, pb::make_icmp_unreachable_quoting(syn, "2001:db8:ffff::1", "2001:db8::1", 1, {.ttl = 62}));
  const Judgement& j = s.of(40001);
  CHECK(j.verdict == Verdict::icmp_unreachable);
  CHECK(j.actor == Actor::router);
  CHECK(j.hop == 3);
  REQUIRE(j.icmp.has_value());
  CHECK(j.icmp->name == "admin-prohibited");
  REQUIRE(j.responder.has_value());
  CHECK(j.responder->to_string() == "2001:db8:ffff::1");
}

TEST_CASE("verdict: ICMP unreachable from the host itself", "[verdict][icmp]") {
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  const ByteVec syn = pb::make_syn(client, server, 40001, 81, 5000);
  s.at(t0 + 1 * sec, syn);
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_icmp_unreachable_quoting(syn, server, client, 3, {.ttl = host_ttl, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::icmp_unreachable);
  CHECK(j.actor == Actor::host);
  REQUIRE(j.responder.has_value());
  CHECK(*j.responder == pb::addr(server));
  CHECK(j.hop == host_hop);
  REQUIRE(j.icmp.has_value());
  CHECK(j.icmp->name == "port-unreachable");
  CHECK(has_signal(j, "icmp-from-host"));
  CHECK(has_signal(j, "ttl-matches-host"));
}

TEST_CASE("verdict: an ICMP error in the host's name from the wrong hop", "[verdict][icmp]") {
  constexpr std::uint8_t icmp_ttl = 62;  // hop 3, the host is at hop 5
  Scenario s;
  s.host_answers(t0, 40000, 80, 20.0, 0);
  s.host_answers(t0 + 100 * ms, 40002, 80, 20.0, 0);
  const ByteVec syn = pb::make_syn(client, server, 40001, 81, 5000);
  s.at(t0 + 1 * sec, syn);
  s.at(t0 + 1 * sec + 20 * ms,
       pb::make_icmp_unreachable_quoting(syn, server, client, 1, {.ttl = icmp_ttl, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::icmp_unreachable);
  CHECK(j.actor == Actor::middlebox);
  CHECK(j.hop == 64 - icmp_ttl + 1);
  CHECK(has_signal(j, "icmp-spoofs-host"));
  CHECK(has_signal(j, "ttl-hop-differs"));
  CHECK_FALSE(has_signal(j, "icmp-from-host"));
}

TEST_CASE("verdict: time exceeded", "[verdict][icmp][ttl]") {
  SECTION("a TTL-limited SYN (TTL 3) expiring at hop 3 is inconclusive") {
    Scenario s;
    const ByteVec syn = pb::make_syn(client, server, 40001, 443, 5000, {.ttl = 3, .id = 7});
    s.at(t0, syn);
    s.at(t0 + 4 * ms, pb::make_icmp_error("198.51.100.3", client, 11, 0, syn, SIZE_MAX, {.ttl = 62}));
    const Judgement& j = s.of(40001);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::inconclusive);
    CHECK(j.hop == 3);
    CHECK(j.actor == Actor::router);
    REQUIRE(j.responder.has_value());
    CHECK(j.responder->to_string() == "198.51.100.3");
    REQUIRE(j.icmp.has_value());
    CHECK(j.icmp->name == "ttl-exceeded");
    CHECK(has_signal(j, "ttl-expired"));
    CHECK(j.confidence == 0.0);
  }
  SECTION("a SYN sent with TTL 64 that still expires met a routing loop") {
    constexpr std::uint8_t icmp_ttl = 250;  // initial 255 → hop 6
    Scenario s;
    const ByteVec syn = pb::make_syn(client, server, 40001, 443, 5000, {.ttl = 64, .id = 7});
    s.at(t0, syn);
    s.at(t0 + 40 * ms, pb::make_icmp_error(router, client, 11, 0, syn, SIZE_MAX, {.ttl = icmp_ttl}));
    const Judgement& j = s.of(40001);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::icmp_unreachable);
    CHECK(j.hop == 255 - icmp_ttl + 1);
    CHECK(j.actor == Actor::router);
    CHECK(has_signal(j, "ttl-expired"));
    require_confidence_in(j, 0.5, 0.9);
  }
}

TEST_CASE("verdict: dropped", "[verdict][silence]") {
  Scenario s;
  s.client_receives(t0 - 1 * sec);
  s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
  s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 443, 5000));
  s.at(t0 + 3 * sec, pb::make_syn(client, server, 40001, 443, 5000));
  s.client_receives(t0 + 10 * sec);
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::dropped);
  CHECK(j.actor == Actor::unknown);
  CHECK_FALSE(j.responder.has_value());
  CHECK_FALSE(j.hop.has_value());
  CHECK(j.confidence >= 0.85);
  CHECK(has_signal(j, "no-answer"));
  CHECK(has_signal(j, "syn-retransmitted"));
  CHECK(s.results[0].attempt.syn_count == 3);

  SECTION("one SYN and a long silence: dropped, less surely") {
    Scenario t;
    t.client_receives(t0 - 1 * sec);
    t.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
    t.client_receives(t0 + 5 * sec);
    const Judgement& k = t.of(40001);
    CHECK(k.verdict == Verdict::dropped);
    CHECK(k.confidence < j.confidence);
    CHECK_FALSE(has_signal(k, "syn-retransmitted"));
  }
}

TEST_CASE("verdict: inconclusive silences", "[verdict][silence]") {
  SECTION("no packet in the capture is addressed to the client, and one SYN") {
    Scenario s;
    s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
    s.at(t0 + 5 * sec, pb::make_ack(client, server, 40009, 443, 1, 1));  // the capture goes on
    const Judgement& j = s.of(40001);
    CHECK(j.verdict == Verdict::inconclusive);
    CHECK(j.rule == Rule::silence_one_direction);
    CHECK(has_signal(j, "one-direction-capture"));
    CHECK_FALSE(has_signal(j, "no-answer"));
    CHECK_FALSE(j.to_settle.empty());
  }
  SECTION("no packet addressed to the client, but the client retransmitted: dropped, with the caveat") {
    Scenario s;
    s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
    s.at(t0 + 1 * sec, pb::make_syn(client, server, 40001, 443, 5000));
    s.at(t0 + 3 * sec, pb::make_syn(client, server, 40001, 443, 5000));
    const Judgement& j = s.of(40001);
    CHECK(j.verdict == Verdict::dropped);
    CHECK(j.rule == Rule::silence_one_direction_retransmitted);
    CHECK(has_signal(j, "one-direction-capture"));
    CHECK(has_signal(j, "syn-retransmitted"));
    CHECK(has_signal(j, "retransmission-schedule"));
    // One direction: a caveat the confidence carries (an ICMP error a non-Linux client took
    // as soft would also leave it retrying).
    require_confidence_in(j, 0.6, 0.7);
  }
  SECTION("the capture ends 0.2 s after a single SYN") {
    Scenario s;
    s.client_receives(t0 - 1 * sec);
    s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
    s.at(t0 + 200 * ms, pb::ip_packet(client, resolver, Tins::UDP(53, 53000)));
    const Judgement& j = s.of(40001);
    CHECK(j.verdict == Verdict::inconclusive);
    CHECK(has_signal(j, "capture-ended-early"));
    CHECK(j.confidence == 0.0);
  }
}

TEST_CASE("verdict: a hop address learnt from time-exceeded errors names the middlebox",
          "[verdict][ttl]") {
  Scenario s;
  // A TCP traceroute toward the server: SYNs with TTL 1, 2, 3, each answered by its router.
  const std::string hops[] = {"198.51.100.1", "198.51.100.2", "198.51.100.3"};
  for (std::uint8_t ttl = 1; ttl <= 3; ++ttl) {
    const auto cport = static_cast<std::uint16_t>(50000 + ttl);
    const ByteVec syn = pb::make_syn(client, server, cport, 443, 70000u + ttl, {.ttl = ttl, .id = ttl});
    s.at(t0 + ttl * ms, syn);
    s.at(t0 + ttl * ms + 500'000, pb::make_icmp_error(hops[ttl - 1], client, 11, 0, syn, SIZE_MAX,
                                                       {.ttl = static_cast<std::uint8_t>(255 - ttl + 1)}));
  }
  s.host_answers(t0 + 1 * sec, 40000, 80, 20.0, 0);
  s.at(t0 + 2 * sec, pb::make_syn(client, server, 40001, 81, 5000));
  s.at(t0 + 2 * sec + 20 * ms, pb::make_rst(server, client, 81, 40001, 0, 5001, true, {.ttl = 62, .id = 0}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_middlebox);
  CHECK(j.hop == 3);
  REQUIRE(j.responder.has_value());
  CHECK(j.responder->to_string() == hops[2]);
  CHECK(has_signal(j, "hop-address-known"));
  // The probes themselves were inconclusive, each at its own hop.
  CHECK(s.of(50002).verdict == Verdict::inconclusive);
  CHECK(s.of(50002).hop == 2);
}

TEST_CASE("verdict: unmatched resets and SYN/ACKs are noted, not answers", "[verdict]") {
  Scenario s;
  s.client_receives(t0 - 1 * sec);
  s.at(t0, pb::make_syn(client, server, 40001, 443, 5000));
  s.at(t0 + 2 * ms, pb::make_rst(server, client, 443, 40001, 0, 123, true, {.ttl = 62}));
  s.at(t0 + 3 * ms, pb::make_syn_ack(server, client, 443, 40001, 1, 456));
  s.client_receives(t0 + 5 * sec);
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::dropped);
  CHECK(has_signal(j, "unmatched-reset"));
  CHECK(has_signal(j, "unmatched-syn-ack"));
  CHECK(j.confidence <= 0.5);
}

TEST_CASE("verdict: an ICMP redirect quoting the SYN does not contradict the SYN/ACK",
          "[verdict][icmp]") {
  // The first-hop router forwards the SYN and tells the client of a better gateway (type 5):
  // the host's SYN/ACK that follows is an ordinary open port, nothing was injected.
  Scenario s;
  const ByteVec syn = pb::make_syn(client, server, 40001, 443, 5000);
  s.at(t0, syn);
  s.at(t0 + 1 * ms, pb::make_icmp_error("10.0.0.254", client, 5, 1, syn, SIZE_MAX, {.ttl = 64}));
  s.at(t0 + 20 * ms, pb::make_syn_ack(server, client, 443, 40001, server_isn, 5001, {.ttl = host_ttl}));
  const Judgement& j = s.of(40001);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::open);
}

TEST_CASE("every signal has a unique name and a description", "[verdict][evidence]") {
  std::vector<std::string_view> names;
  for (const SignalInfo& info : signal_table()) {
    CHECK_FALSE(info.name.empty());
    CHECK_FALSE(info.description.empty());
    CHECK(signal_name(info.signal) == info.name);
    names.push_back(info.name);
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  // The table lists every enumerator exactly once: values 0 .. size-1, each named.
  for (std::size_t i = 0; i < signal_table().size(); ++i) {
    CAPTURE(i);
    CHECK(signal_name(static_cast<Signal>(i)) != "unknown");
  }
  CHECK(signal_name(static_cast<Signal>(signal_table().size())) == "unknown");
}
