// AttemptTracker: attempts keyed by 5-tuple and ISN, and answers matched to them,
// fed with DecodedPackets decoded from libtins-built bytes.
#include <catch2/catch.hpp>

#include "dissect/infer/attempt_tracker.hpp"
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
const std::string client6 = "2001:db8::1";
const std::string server6 = "2001:db8:1::7";
constexpr std::uint16_t cport = 40000;
constexpr std::uint16_t sport = 443;
constexpr std::uint32_t isn = 1'000'000;
constexpr std::uint32_t server_isn = 7'000'000;

struct Feed {
  AttemptTracker tracker;
  void at(std::int64_t ts, const ByteVec& ip) { tracker.on_packet(pb::packet_at(ip, ts)); }
  const std::deque<Attempt>& attempts() const { return tracker.attempts(); }
};

ByteVec syn(std::uint32_t seq = isn, pb::IpOpts o = {}) {
  return pb::make_syn(client, server, cport, sport, seq, o);
}

}  // namespace

TEST_CASE("a retransmitted SYN (same ISN) is one attempt", "[tracker]") {
  Feed f;
  f.at(t0, syn(isn, {.ttl = 64, .id = 100}));
  f.at(t0 + 1 * sec, syn(isn, {.ttl = 64, .id = 101}));
  f.at(t0 + 3 * sec, syn(isn, {.ttl = 64, .id = 102}));
  REQUIRE(f.attempts().size() == 1);
  const Attempt& a = f.attempts()[0];
  CHECK(a.id == 1);
  CHECK(a.syn_count == 3);
  CHECK(a.first_seen.ns == t0);
  CHECK(a.last_seen.ns == t0 + 3 * sec);
  REQUIRE(a.transmissions.size() == 3);
  CHECK(a.transmissions[1].ip_id == 101);
  CHECK(a.transmissions[2].ts.ns == t0 + 3 * sec);
  CHECK(a.client == pb::addr(client));
  CHECK(a.server == pb::addr(server));
  CHECK(a.client_port == cport);
  CHECK(a.server_port == sport);
  CHECK(a.isn == isn);
  CHECK(a.syn_options.mss == 1460);
  CHECK(a.answers.empty());
}

TEST_CASE("a reused 5-tuple with a new ISN is a new attempt", "[tracker]") {
  Feed f;
  f.at(t0, syn(isn));
  f.at(t0 + 2 * sec, syn(isn + 5000));
  REQUIRE(f.attempts().size() == 2);
  CHECK(f.attempts()[0].isn == isn);
  CHECK(f.attempts()[1].isn == isn + 5000);
  CHECK(f.attempts()[1].id == 2);
  CHECK(f.attempts()[0].syn_count == 1);
  CHECK(f.attempts()[1].syn_count == 1);

  SECTION("and each takes its own SYN/ACK") {
    f.at(t0 + 2 * sec + 10 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 5001));
    f.at(t0 + 2 * sec + 11 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 1));
    REQUIRE(f.attempts()[0].answers.size() == 1);
    REQUIRE(f.attempts()[1].answers.size() == 1);
    CHECK(f.attempts()[0].answers[0].ack == isn + 1);
    CHECK(f.attempts()[1].answers[0].ack == isn + 5001);
  }
}

TEST_CASE("the same ISN after the retransmission window is a new attempt", "[tracker]") {
  Feed f;
  f.at(t0, syn());
  f.at(t0 + AttemptTracker::retransmission_window_ns + 1, syn());
  CHECK(f.attempts().size() == 2);
}

TEST_CASE("SYN/ACK is matched by ack = ISN+1", "[tracker]") {
  Feed f;
  f.at(t0, syn(isn, {.ttl = 64, .id = 1}));
  SECTION("right ack") {
    f.at(t0 + 25 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 1,
                                         {.ttl = 52, .id = 0}));
    const Attempt& a = f.attempts()[0];
    REQUIRE(a.answers.size() == 1);
    const Answer& x = a.answers[0];
    CHECK(x.kind == AnswerKind::syn_ack);
    CHECK(x.from == pb::addr(server));
    CHECK(x.seq == server_isn);
    CHECK(x.ack == isn + 1);
    CHECK(x.ttl.observed == 52);
    CHECK(x.ttl.initial == 64);
    CHECK(x.ttl.hop == 13);
    CHECK(x.has_ip_id);
    CHECK(x.ip_id == 0);
    CHECK(x.options.mss == 1400);
    CHECK(x.rtt_ms == Approx(25.0));
    CHECK(a.unmatched_syn_acks == 0);
  }
  SECTION("wrong ack: counted, not an answer") {
    f.at(t0 + 25 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 2));
    const Attempt& a = f.attempts()[0];
    CHECK(a.answers.empty());
    CHECK(a.unmatched_syn_acks == 1);
  }
  SECTION("an ISN of 2^32-1 is acknowledged with 0") {
    Feed g;
    g.at(t0, syn(0xffffffffu));
    g.at(t0 + ms, pb::make_syn_ack(server, client, sport, cport, server_isn, 0));
    REQUIRE(g.attempts().size() == 1);
    CHECK(g.attempts()[0].has_answer(AnswerKind::syn_ack));
  }
}

TEST_CASE("RST/ACK answers only when it acknowledges ISN+1", "[tracker]") {
  Feed f;
  f.at(t0, syn());
  SECTION("matching RST/ACK") {
    f.at(t0 + 3 * ms, pb::make_rst(server, client, sport, cport, 0, isn + 1, true, {.ttl = 62, .id = 4711}));
    const Attempt& a = f.attempts()[0];
    REQUIRE(a.answers.size() == 1);
    CHECK(a.answers[0].kind == AnswerKind::reset);
    CHECK(a.answers[0].tcp_flags == (tcp_flag::rst | tcp_flag::ack));
    CHECK(a.answers[0].ttl.hop == 3);
    CHECK(a.answers[0].ip_id == 4711);
    CHECK(a.answers[0].rtt_ms == Approx(3.0));
    CHECK(a.unmatched_resets == 0);
  }
  SECTION("RST/ACK with a wrong ack is unmatched, not an answer") {
    f.at(t0 + 3 * ms, pb::make_rst(server, client, sport, cport, 0, isn + 77, true, {.ttl = 62}));
    const Attempt& a = f.attempts()[0];
    CHECK(a.answers.empty());
    CHECK(a.unmatched_resets == 1);
    REQUIRE(a.first_unmatched_reset.has_value());
    CHECK(a.first_unmatched_reset->ack == isn + 77);
    CHECK(a.first_unmatched_reset->ttl.observed == 62);
  }
}

TEST_CASE("a bare RST (no ACK) goes to the newest attempt of the flow", "[tracker]") {
  Feed f;
  f.at(t0, syn(isn));
  f.at(t0 + 1 * sec, syn(isn + 999));
  f.at(t0 + 1 * sec + 2 * ms, pb::make_rst(server, client, sport, cport, 0, 0, false, {.ttl = 250}));
  REQUIRE(f.attempts().size() == 2);
  CHECK(f.attempts()[0].answers.empty());
  REQUIRE(f.attempts()[1].answers.size() == 1);
  CHECK(f.attempts()[1].answers[0].tcp_flags == tcp_flag::rst);
  CHECK(f.attempts()[1].answers[0].rtt_ms == Approx(2.0));
}

TEST_CASE("packets of other flows are not answers", "[tracker]") {
  Feed f;
  f.at(t0, syn());
  // Same hosts, other client port; and the SYN/ACK's reverse of a flow never opened.
  f.at(t0 + ms, pb::make_syn_ack(server, client, sport, cport + 1, server_isn, isn + 1));
  f.at(t0 + ms, pb::make_rst("192.0.2.8", client, sport, cport, 0, isn + 1, true));
  CHECK(f.attempts()[0].answers.empty());
  CHECK(f.attempts()[0].unmatched_resets == 0);
  CHECK(f.attempts()[0].unmatched_syn_acks == 0);
}

TEST_CASE("ICMP errors are matched by the quoted ports and sequence number", "[tracker][icmp]") {
  SECTION("IPv4, full quote") {
    Feed f;
    const ByteVec s = syn(isn, {.ttl = 64, .id = 55});
    f.at(t0, s);
    f.at(t0 + 8 * ms, pb::make_icmp_unreachable_quoting(s, router, client, 13, {.ttl = 252}));
    const Attempt& a = f.attempts()[0];
    REQUIRE(a.answers.size() == 1);
    const Answer& x = a.answers[0];
    CHECK(x.kind == AnswerKind::icmp_error);
    CHECK(x.from == pb::addr(router));
    CHECK(x.icmp_type == 3);
    CHECK(x.icmp_code == 13);
    CHECK(x.matched_by_seq);
    REQUIRE(x.quoted_ttl.has_value());
    CHECK(*x.quoted_ttl == 64);
    CHECK(x.ttl.hop == 4);
    CHECK(x.rtt_ms == Approx(8.0));
  }
  SECTION("IPv4, RFC 792 eight-byte quote") {
    Feed f;
    const ByteVec s = syn();
    f.at(t0, s);
    f.at(t0 + 8 * ms, pb::make_icmp_unreachable_quoting(s, router, client, 1, {}, 28));
    CHECK(f.attempts()[0].has_answer(AnswerKind::icmp_error));
  }
  SECTION("IPv6") {
    Feed f;
    const ByteVec s = pb::make_syn(client6, server6, cport, sport, isn, {.ttl = 64});
    f.at(t0, s);
    f.at(t0 + 8 * ms, pb::make_icmp_unreachable_quoting(s, "2001:db8:ffff::1", client6, 1, {.ttl = 62}));
    REQUIRE(f.attempts().size() == 1);
    CHECK(f.attempts()[0].family() == IpFamily::v6);
    REQUIRE(f.attempts()[0].answers.size() == 1);
    CHECK(f.attempts()[0].answers[0].icmp_type == icmp_kind::v6_dest_unreachable);
    CHECK(f.attempts()[0].answers[0].from == pb::addr("2001:db8:ffff::1"));
  }
  SECTION("an error quoting another sequence number is ignored") {
    Feed f;
    f.at(t0, syn(isn));
    const ByteVec data_segment = pb::tcp_segment(client, server, cport, sport, tcp_flag::ack, isn + 1, 5);
    f.at(t0 + 8 * ms, pb::make_icmp_unreachable_quoting(data_segment, router, client, 13));
    f.at(t0 + 9 * ms, pb::make_icmp_unreachable_quoting(syn(isn + 1), router, client, 13));
    CHECK(f.attempts().size() == 1);
    CHECK(f.attempts()[0].answers.empty());
  }
  SECTION("an error quoting another port is ignored") {
    Feed f;
    f.at(t0, syn(isn));
    f.at(t0 + 8 * ms, pb::make_icmp_unreachable_quoting(
                          pb::make_syn(client, server, cport, sport + 1, isn), router, client, 13));
    CHECK(f.attempts()[0].answers.empty());
  }
}

TEST_CASE("an ICMP error is timed from the transmission whose IP-ID it quotes", "[tracker][icmp]") {
  Feed f;
  const ByteVec first = syn(isn, {.ttl = 1, .id = 10});
  const ByteVec second = syn(isn, {.ttl = 2, .id = 11});
  f.at(t0, first);
  f.at(t0 + 100 * ms, second);
  // The answer to the first probe arrives late, after the second was sent.
  f.at(t0 + 150 * ms, pb::make_icmp_error(router, client, 11, 0, first));
  const Attempt& a = f.attempts()[0];
  REQUIRE(a.answers.size() == 1);
  CHECK(a.answers[0].transmission == 0);
  CHECK(a.answers[0].rtt_ms == Approx(150.0));
}

TEST_CASE("the server's teardown RST after a completed handshake is not an answer", "[tracker]") {
  Feed f;
  f.at(t0, syn());
  f.at(t0 + 20 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 1));
  f.at(t0 + 21 * ms, pb::make_ack(client, server, cport, sport, isn + 1, server_isn + 1));
  f.at(t0 + 5 * sec, pb::make_rst(server, client, sport, cport, server_isn + 1, isn + 1, true));
  const Attempt& a = f.attempts()[0];
  CHECK(a.handshake_completed);
  CHECK(a.teardown_resets == 1);
  REQUIRE(a.answers.size() == 1);
  CHECK(a.answers[0].kind == AnswerKind::syn_ack);
  CHECK_FALSE(a.has_answer(AnswerKind::reset));
}

TEST_CASE("the client resetting the SYN/ACK is noted", "[tracker]") {
  Feed f;
  f.at(t0, syn());
  f.at(t0 + 20 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 1));
  f.at(t0 + 20 * ms + 50'000, pb::make_rst(client, server, cport, sport, isn + 1, 0, false));
  const Attempt& a = f.attempts()[0];
  CHECK(a.client_reset_after_syn_ack);
  CHECK_FALSE(a.handshake_completed);
  CHECK(a.answers.size() == 1);
}

TEST_CASE("RTT is measured from the newest transmission before the answer", "[tracker]") {
  // All three SYNs carry the same TCP timestamp (the test's default), so the echo names none.
  Feed f;
  f.at(t0, syn());
  f.at(t0 + 1 * sec, syn());
  f.at(t0 + 1 * sec + 30 * ms, pb::make_syn_ack(server, client, sport, cport, server_isn, isn + 1));
  f.at(t0 + 3 * sec, syn());  // after the answer: not the one answered
  const Attempt& a = f.attempts()[0];
  CHECK(a.syn_count == 3);
  REQUIRE(a.answers.size() == 1);
  CHECK(a.answers[0].transmission == 1);
  CHECK(a.answers[0].rtt_ms == Approx(30.0));
}

TEST_CASE("a SYN/ACK is timed from the SYN whose TCP timestamp it echoes", "[tracker]") {
  // The server answers the first SYN late, after the client's retransmission: the echo
  // (RFC 7323) names the first, and the RTT is not the 30 ms from the retransmission.
  Feed f;
  f.at(t0, pb::make_syn(client, server, cport, sport, isn, {}, {.ts_value = 1000}));
  f.at(t0 + 1 * sec, pb::make_syn(client, server, cport, sport, isn, {}, {.ts_value = 2000}));
  f.at(t0 + 1 * sec + 30 * ms,
       pb::tcp_segment(server, client, sport, cport, Tins::TCP::SYN | Tins::TCP::ACK, server_isn, isn + 1, {},
                       {.ts_value = 77, .ts_echo = 1000}));
  const Attempt& a = f.attempts()[0];
  REQUIRE(a.answers.size() == 1);
  CHECK(a.answers[0].transmission == 0);
  CHECK(a.answers[0].rtt_ms == Approx(1030.0));
  SECTION("without timestamps, the newest SYN before it") {
    Feed g;
    g.at(t0, pb::make_syn(client, server, cport, sport, isn, {}, pb::SynOptions{false}));
    g.at(t0 + 1 * sec, pb::make_syn(client, server, cport, sport, isn, {}, pb::SynOptions{false}));
    g.at(t0 + 1 * sec + 30 * ms, pb::tcp_segment(server, client, sport, cport, Tins::TCP::SYN | Tins::TCP::ACK,
                                                 server_isn, isn + 1));
    CHECK(g.attempts()[0].answers[0].transmission == 1);
  }
}

TEST_CASE("an ICMPv6 error is timed from the SYN whose TCP timestamp it quotes", "[tracker]") {
  // IPv6 has no IP-ID: a router that held three SYNs during neighbour resolution and
  // released its errors together is told apart by the quoted timestamps.
  const std::string c6 = "2001:db8:1::1", s6 = "2001:db8:4::99", r6 = "2001:db8:3::2";
  Feed f;
  std::vector<ByteVec> syns;
  const std::int64_t sent_at[] = {0, 1 * sec, 3 * sec};  // Linux: 1 s, then doubling
  for (std::uint32_t k = 0; k < 3; ++k) {
    syns.push_back(pb::make_syn(c6, s6, cport, sport, isn, {}, {.ts_value = 5000 + k}));
    f.at(t0 + sent_at[k], syns.back());
  }
  for (std::size_t k = 0; k < 3; ++k)
    f.at(t0 + 3 * sec + 40 * ms + static_cast<std::int64_t>(k) * 10'000,
         pb::make_icmp_unreachable_quoting(syns[k], r6, c6, 3));
  const Attempt& a = f.attempts()[0];
  REQUIRE(a.answers.size() == 3);
  CHECK(a.answers[0].transmission == 0);
  CHECK(a.answers[0].rtt_ms == Approx(3040.0));
  CHECK(a.answers[2].transmission == 2);
  CHECK(a.answers[2].rtt_ms == Approx(40.02));
}

TEST_CASE("packets without IP or of other transports are ignored", "[tracker]") {
  Feed f;
  f.at(t0, syn());
  f.at(t0 + ms, pb::ip_packet(server, client, Tins::UDP(cport, sport)));
  f.at(t0 + ms, pb::make_echo_reply(server, client, 1, 1));
  DecodedPacket nothing;
  f.tracker.on_packet(nothing);
  CHECK(f.attempts().size() == 1);
  CHECK(f.attempts()[0].answers.empty());
}
