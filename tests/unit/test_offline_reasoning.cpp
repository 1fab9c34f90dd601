// Offline reasoning on poor captures: one attempt, no baseline, one direction, reordered,
// tunnelled or fragmented packets. Each decisive signal is tested with the rest of the
// evidence pointing the other way. Expected values come from the packets built here.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>

#include "dissect/decode/reassembly.hpp"
#include "dissect/infer/syn_schedule.hpp"
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
const std::string client6 = "2001:db8:1::1";
const std::string server6 = "2001:db8:2::7";

struct Capture {
  Analyzer analyzer;
  std::vector<AttemptResult> results;
  void at(std::int64_t ts, const ByteVec& ip) { analyzer.add(pb::packet_at(ip, ts)); }
  const Judgement& of(std::uint16_t cport) {
    if (results.empty()) results = analyzer.finish();
    for (const AttemptResult& r : results)
      if (r.attempt.client_port == cport) return r.judgement;
    FAIL("no attempt from client port " << cport);
    throw std::logic_error("unreachable");
  }
  // The host answers a connection itself, rtt_ms later, with initial TTL 64 from hop 5.
  void host_answers(std::int64_t ts, std::uint16_t cport, double rtt_ms, const std::string& c = client,
                    const std::string& s = server) {
    const std::uint32_t isn = 10'000u + cport;
    const auto rtt = static_cast<std::int64_t>(rtt_ms * 1e6);
    at(ts, pb::make_syn(c, s, cport, 443, isn));
    at(ts + rtt, pb::make_syn_ack(s, c, 443, cport, 77'000, isn + 1, {.ttl = 60, .id = 0}));
    at(ts + rtt + ms, pb::make_ack(c, s, cport, 443, isn + 1, 77'001));
  }
  // Three connections the host answers itself, a second apart, each `spread_ms` slower:
  // the fastest SYN/ACK takes `fastest_ms`.
  void host_baseline(double fastest_ms, double spread_ms) {
    for (std::uint16_t i = 0; i < 3; ++i)
      host_answers(t0 + i * sec, static_cast<std::uint16_t>(41000 + i), fastest_ms + i * spread_ms);
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

ByteVec with_protocol(ByteVec ip, std::uint8_t protocol) {
  if ((ip[0] >> 4) == 6) ip[6] = protocol;
  else ip[9] = protocol;
  return ip;
}

}  // namespace

TEST_CASE("offline: a lone RST from TTL 255 gear is a middlebox's, at the hop its TTL gives", "[offline][decisive]") {
  for (const bool v6 : {false, true}) {
    CAPTURE(v6);
    const std::string c = v6 ? client6 : client, s = v6 ? server6 : server;
    Capture cap;
    const std::string resolver = v6 ? "2001:db8:3::53" : "192.0.2.53";
    cap.at(t0 - sec, pb::ip_packet(resolver, c, Tins::UDP(53000, 53) / Tins::RawPDU(ByteVec(12, 0))));
    cap.at(t0, pb::make_syn(c, s, 40000, 443, 5000));
    // Everything else in the RST says "stack": RST/ACK, seq 0, window 0, DF, IP-ID 0.
    cap.at(t0 + 20 * ms, pb::make_rst(s, c, 443, 40000, 0, 5001, true, {.ttl = 254, .id = 0}));
    const Judgement& j = cap.of(40000);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::refused_by_middlebox);
    CHECK(j.rule == Rule::reset_decisive_nearer);
    CHECK(j.actor == Actor::middlebox);
    CHECK(j.hop == 2);  // 255 - 254 + 1
    CHECK(has_signal(j, "network-gear-ttl"));
    CHECK(has_signal(j, "no-baseline"));
    // The caveat (a Solaris host starts at 255 too) is in the confidence, and the evidence
    // says what would settle it.
    CHECK(j.confidence == Approx(0.75));
    CHECK_FALSE(j.to_settle.empty());
  }
}

TEST_CASE("offline: a TTL-255 RST from a host whose own packets start at 255 is the host's", "[offline][decisive]") {
  Capture cap;
  // The host's own SYN/ACK comes with 251 (initial 255, hop 5); so does the RST.
  cap.at(t0, pb::make_syn(client, server, 39999, 443, 7000));
  cap.at(t0 + 30 * ms, pb::make_syn_ack(server, client, 443, 39999, 5, 7001, {.ttl = 251}));
  cap.at(t0 + sec, pb::make_syn(client, server, 40000, 81, 5000));
  cap.at(t0 + sec + 30 * ms, pb::make_rst(server, client, 81, 40000, 0, 5001, true, {.ttl = 251}));
  const Judgement& j = cap.of(40000);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_host);
  CHECK_FALSE(has_signal(j, "network-gear-ttl"));
}

TEST_CASE("offline: a RST in less time than the host can answer is a nearer device's", "[offline][decisive][timing]") {
  // The capture: the host's SYN/ACKs take 71.4 ms; a RST with the host's exact TTL
  // and IP-ID 0 comes after 30.7 ms. TTL and IP-ID both say host; physics says otherwise.
  Capture cap;
  cap.host_baseline(71.4, 1.0);
  cap.at(t0 + 5 * sec, pb::make_syn(client, server, 40000, 81, 5000));
  cap.at(t0 + 5 * sec + 30'700'000, pb::make_rst(server, client, 81, 40000, 0, 5001, true, {.ttl = 60, .id = 0}));
  const Judgement& j = cap.of(40000);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_middlebox);
  CHECK(j.rule == Rule::reset_decisive_nearer);
  CHECK(has_signal(j, "early-reset"));
  CHECK(has_signal(j, "ttl-matches-host"));
  CHECK(has_signal(j, "ttl-forged"));
  CHECK(has_signal(j, "signals-disagree"));
  // Decisive, less the TTL and the IP-ID that speak for the host.
  CHECK(j.confidence == Approx(0.7));
  // The TTL is forged, so the hop is not the TTL's: somewhere before the host (hop 5).
  CHECK_FALSE(j.hop.has_value());
  CHECK(j.hop_range == std::make_pair(1, 4));

  SECTION("within the jitter margin it is not decisive") {
    Capture near;
    near.host_baseline(71.4, 1.0);
    near.at(t0 + 5 * sec, pb::make_syn(client, server, 40000, 81, 5000));
    // 60 ms: 16 % sooner than the fastest SYN/ACK, inside max(1 ms, 2 ms spread, 25 %).
    near.at(t0 + 5 * sec + 60 * ms, pb::make_rst(server, client, 81, 40000, 0, 5001, true, {.ttl = 60, .id = 0}));
    const Judgement& k = near.of(40000);
    INFO(signals_of(k));
    CHECK(k.verdict == Verdict::refused_by_host);
    CHECK_FALSE(has_signal(k, "early-reset"));
  }
}

TEST_CASE("offline: the capture's own time-exceeded errors place a TTL-imitating device", "[offline][hopmap]") {
  Capture cap;
  cap.host_baseline(71.4, 0.0);
  // A traceroute -T in the same capture: hop 1 answers in 2 ms, hop 2 in 30 ms.
  const std::string routers[] = {"198.51.100.1", "198.51.100.2"};
  for (std::uint8_t ttl = 1; ttl <= 2; ++ttl) {
    const auto cport = static_cast<std::uint16_t>(50000 + ttl);
    const ByteVec syn = pb::make_syn(client, server, cport, 443, 70000u + ttl, {.ttl = ttl, .id = ttl});
    cap.at(t0 + 3 * sec + ttl * ms, syn);
    cap.at(t0 + 3 * sec + ttl * ms + (ttl == 1 ? 2 : 30) * ms,
           pb::make_icmp_error(routers[ttl - 1], client, 11, 0, syn));
  }
  cap.at(t0 + 5 * sec, pb::make_syn(client, server, 40000, 81, 5000));
  cap.at(t0 + 5 * sec + 31 * ms, pb::make_rst(server, client, 81, 40000, 0, 5001, true, {.ttl = 60, .id = 0}));
  const Judgement& j = cap.of(40000);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::refused_by_middlebox);
  CHECK(has_signal(j, "rtt-matches-hop"));
  CHECK(j.hop == 2);
  REQUIRE(j.responder.has_value());
  CHECK(j.responder->to_string() == "198.51.100.2");
}

TEST_CASE("offline: the client's own acts prove a SYN/ACK the capture lost", "[offline][client]") {
  SECTION("the handshake's ACK, in a capture of one direction") {
    Capture cap;
    cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + 40 * ms, pb::make_ack(client, server, 40000, 443, 5001, 900'001));
    const Judgement& j = cap.of(40000);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::open);
    CHECK(j.rule == Rule::client_proves_syn_ack);
    CHECK(has_signal(j, "client-proves-syn-ack"));
    CHECK(j.confidence == Approx(0.9));
  }
  SECTION("data on ISN+1") {
    Capture cap;
    cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + 40 * ms, pb::ip_packet(client, server,
                                       [] {
                                         Tins::TCP t(443, 40000);
                                         t.flags(Tins::TCP::ACK | Tins::TCP::PSH);
                                         t.seq(5001);
                                         t.ack_seq(900'001);
                                         return t / Tins::RawPDU(ByteVec(100, 0x16));
                                       }()));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict == Verdict::open);
    CHECK(has_signal(j, "client-proves-syn-ack"));
  }
  SECTION("a bare RST is weak proof") {
    Capture cap;
    cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + 40 * ms, pb::make_rst(client, server, 40000, 443, 5001, 0, false));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict == Verdict::open);
    CHECK(j.confidence == Approx(0.6));
  }
  SECTION("an ACK of 0 is a crafted segment's, not proof") {
    Capture cap;
    cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + 10 * sec, pb::make_ack(client, server, 40000, 443, 5001, 0));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict != Verdict::open);
    CHECK_FALSE(has_signal(j, "client-proves-syn-ack"));
  }
  SECTION("a segment on another sequence proves nothing") {
    Capture cap;
    cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + 40 * ms, pb::make_ack(client, server, 40000, 443, 999'999, 900'001));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict != Verdict::open);
  }
}

TEST_CASE("offline: a SYN/ACK written before its SYN is matched within the reorder window", "[offline][reorder]") {
  for (const bool v6 : {false, true}) {
    CAPTURE(v6);
    const std::string c = v6 ? client6 : client, s = v6 ? server6 : server;
    Capture cap;
    cap.at(t0, pb::make_syn_ack(s, c, 443, 40000, 900'000, 5001, {.ttl = 60}));
    cap.at(t0 + 260'000, pb::make_syn(c, s, 40000, 443, 5000));  // 260 µs later in the file
    cap.at(t0 + 300'000, pb::make_ack(c, s, 40000, 443, 5001, 900'001));
    const Judgement& j = cap.of(40000);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::open);
    CHECK(j.rule == Rule::syn_ack_acknowledged);
    CHECK(has_signal(j, "reordered-answer"));
    CHECK_FALSE(j.rtt_ms.has_value());  // unknown, not negative
  }
  SECTION("beyond the window it is not") {
    Capture cap;
    cap.at(t0, pb::make_syn_ack(server, client, 443, 40000, 900'000, 5001, {.ttl = 60}));
    cap.at(t0 + AttemptTracker::reorder_window_ns + ms, pb::make_syn(client, server, 40000, 443, 5000));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict != Verdict::open);
  }
  SECTION("a reordered SYN/ACK never becomes the host's fastest round trip") {
    Capture cap;
    cap.at(t0, pb::make_syn_ack(server, client, 443, 40000, 900'000, 5001, {.ttl = 60}));
    cap.at(t0 + 100'000, pb::make_syn(client, server, 40000, 443, 5000));
    cap.host_answers(t0 + sec, 40001, 40.0);
    cap.at(t0 + 2 * sec, pb::make_syn(client, server, 40002, 81, 6000));
    cap.at(t0 + 2 * sec + 38 * ms, pb::make_rst(server, client, 81, 40002, 0, 6001, true, {.ttl = 60, .id = 0}));
    const Judgement& j = cap.of(40002);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::refused_by_host);
  }
}

TEST_CASE("offline: a Fast Open SYN's data may be acknowledged", "[offline][tfo]") {
  Capture cap;
  const ByteVec syn = pb::ip_packet(client, server, [] {
    Tins::TCP t(443, 40000);
    t.flags(Tins::TCP::SYN);
    t.seq(5000);
    return t / Tins::RawPDU(ByteVec(10, 0x16));
  }());
  cap.at(t0, syn);
  cap.at(t0 + 20 * ms, pb::make_syn_ack(server, client, 443, 40000, 900'000, 5011, {.ttl = 60}));
  const Judgement& j = cap.of(40000);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::open);
  CHECK(has_signal(j, "fast-open"));
}

TEST_CASE("offline: the SYN retransmission schedule names the stack", "[offline][schedule]") {
  auto attempt_with_gaps = [](std::initializer_list<double> gaps) {
    Attempt a;
    std::int64_t t = t0;
    a.transmissions.push_back({Timestamp{t}, 64});
    for (const double g : gaps) {
      t += static_cast<std::int64_t>(g * 1e9);
      a.transmissions.push_back({Timestamp{t}, 64});
    }
    return a;
  };
  CHECK_THAT(std::string(syn_schedule(attempt_with_gaps({1.0, 2.0, 4.0}))->fits), Catch::Contains("doubling from 1 s"));
  CHECK_THAT(std::string(syn_schedule(attempt_with_gaps({3.0, 6.0}))->fits), Catch::Contains("doubling from 3 s"));
  CHECK_THAT(std::string(syn_schedule(attempt_with_gaps({1.0, 1.0, 1.0, 1.0, 2.0, 4.0}))->fits),
             Catch::Contains("linear, then doubling"));
  CHECK(syn_schedule(attempt_with_gaps({0.3, 5.0, 0.7}))->fits.empty());
  CHECK_FALSE(syn_schedule(attempt_with_gaps({})).has_value());
}

TEST_CASE("decode: tunnels are opened to the inner connection", "[decode][tunnel]") {
  const ByteVec inner4 = pb::make_syn(client, server, 40000, 443, 5000);
  const ByteVec inner6 = pb::make_syn(client6, server6, 40000, 443, 5000);
  struct Case {
    const char* name;
    ByteVec outer;
    TunnelKind kind;
    bool v6;
  };
  const ByteVec gre_header{0x00, 0x00, 0x08, 0x00};
  const ByteVec gre_keyed{0x20, 0x00, 0x86, 0xdd, 0, 0, 0, 42};
  ByteVec vxlan{0x08, 0, 0, 0, 0, 0, 1, 0};
  vxlan = pb::concat(vxlan, pb::frame(pb::Link::ethernet, inner4));
  const std::vector<Case> cases{
      {"IPIP", with_protocol(pb::ip_packet("198.18.0.1", "198.18.0.2", Tins::RawPDU(inner4)), 4), TunnelKind::ip_in_ip, false},
      {"4in6", with_protocol(pb::ip_packet("2001:db8::a", "2001:db8::b", Tins::RawPDU(inner4)), 4), TunnelKind::ip_in_ip, false},
      {"6in4", with_protocol(pb::ip_packet("198.18.0.1", "198.18.0.2", Tins::RawPDU(inner6)), 41), TunnelKind::ipv6_in_ip, true},
      {"GRE", with_protocol(pb::ip_packet("198.18.0.1", "198.18.0.2", Tins::RawPDU(pb::concat(gre_header, inner4))), 47),
       TunnelKind::gre, false},
      {"GRE with key", with_protocol(pb::ip_packet("198.18.0.1", "198.18.0.2", Tins::RawPDU(pb::concat(gre_keyed, inner6))), 47),
       TunnelKind::gre, true},
      {"VXLAN", pb::ip_packet("198.18.0.1", "198.18.0.2", Tins::UDP(4789, 50000) / Tins::RawPDU(vxlan)), TunnelKind::vxlan, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const auto d = pb::decode(link_type::raw, c.outer);
    CHECK(d.status == DecodeStatus::ok);
    REQUIRE(d.packet.transport == Transport::tcp);
    CHECK(d.packet.tunnel == c.kind);
    CHECK(d.packet.ip.src == pb::addr(c.v6 ? client6 : client));
    CHECK(d.packet.tcp.seq == 5000);
    CHECK(d.packet.tcp.options.has_mss);
    // Cut anywhere, never more than a truncated status.
    for (std::size_t n = 0; n < c.outer.size(); ++n) {
      const auto cut = pb::decode(link_type::raw, ByteVec(c.outer.begin(), c.outer.begin() + static_cast<std::ptrdiff_t>(n)));
      CHECK(cut.status != DecodeStatus::ok);
    }
  }
}

namespace {

// Splits an IPv4 packet's payload at `first` bytes into two fragments (id 77).
std::pair<ByteVec, ByteVec> fragment_v4(const ByteVec& ip, std::size_t first) {
  const std::size_t ihl = (ip[0] & 0x0f) * 4u;
  ByteVec a(ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(ihl + first));
  ByteVec b(ip.begin(), ip.begin() + static_cast<std::ptrdiff_t>(ihl));
  b.insert(b.end(), ip.begin() + static_cast<std::ptrdiff_t>(ihl + first), ip.end());
  pb::put16(a, 2, static_cast<std::uint16_t>(a.size()));
  pb::put16(b, 2, static_cast<std::uint16_t>(b.size()));
  pb::put16(a, 4, 77);
  pb::put16(b, 4, 77);
  pb::put16(a, 6, 0x2000);  // MF, offset 0
  pb::put16(b, 6, static_cast<std::uint16_t>(first / 8));
  return {a, b};
}

// The same for IPv6, with a fragment header (id 77).
std::pair<ByteVec, ByteVec> fragment_v6(const ByteVec& ip, std::size_t first) {
  const std::uint8_t upper = ip[6];
  auto part = [&](std::size_t from, std::size_t to, std::uint16_t offset_field) {
    ByteVec out(ip.begin(), ip.begin() + 40);
    out[6] = 44;
    const ByteVec frag{upper, 0, static_cast<std::uint8_t>(offset_field >> 8), static_cast<std::uint8_t>(offset_field), 0, 0, 0, 77};
    out.insert(out.end(), frag.begin(), frag.end());
    out.insert(out.end(), ip.begin() + static_cast<std::ptrdiff_t>(40 + from), ip.begin() + static_cast<std::ptrdiff_t>(40 + to));
    pb::put16(out, 4, static_cast<std::uint16_t>(out.size() - 40));
    return out;
  };
  const std::size_t payload = ip.size() - 40;
  return {part(0, first, 1), part(first, payload, static_cast<std::uint16_t>(first))};
}

}  // namespace

TEST_CASE("reassembly: a SYN whose TCP header straddles two fragments", "[decode][fragments]") {
  for (const bool v6 : {false, true}) {
    for (const bool reversed : {false, true}) {
      CAPTURE(v6, reversed);
      const ByteVec syn = v6 ? pb::make_syn(client6, server6, 40000, 443, 5000) : pb::make_syn(client, server, 40000, 443, 5000);
      auto [a, b] = v6 ? fragment_v6(syn, 24) : fragment_v4(syn, 24);
      if (reversed) std::swap(a, b);
      FragmentReassembler r;
      auto first = pb::decode(link_type::raw, a);
      REQUIRE(first.packet.ip.is_fragment);
      CHECK(first.packet.transport != Transport::tcp);  // a cut TCP header waits for the rest
      CHECK(reassemble_into(r, a, first.packet) == DecodeStatus::ok);
      CHECK_FALSE(first.packet.reassembled);
      auto second = pb::decode(link_type::raw, b);
      CHECK(reassemble_into(r, b, second.packet) == DecodeStatus::ok);
      REQUIRE(second.packet.reassembled);
      REQUIRE(second.packet.transport == Transport::tcp);
      CHECK(second.packet.tcp.seq == 5000);
      CHECK(second.packet.tcp.options.has_mss);
      CHECK(second.packet.tcp.options.has_timestamps);
      CHECK_FALSE(second.packet.tcp.options.malformed);
      CHECK(r.in_flight() == 0);
    }
  }
  SECTION("fragments that never complete are bounded") {
    FragmentReassembler r;
    const ByteVec syn = pb::make_syn(client, server, 40000, 443, 5000);
    for (std::uint16_t id = 0; id < 200; ++id) {
      auto [a, b] = fragment_v4(syn, 24);
      pb::put16(a, 4, id);
      auto d = pb::decode(link_type::raw, a);
      (void)reassemble_into(r, a, d.packet);
    }
    CHECK(r.in_flight() == FragmentReassembler::max_datagrams);
  }
}

TEST_CASE("offline: silence counts from the first SYN, not from a duplicate", "[offline][silence]") {
  // Two SYNs 1 ms apart (a duplicate, no retransmission timeout) and a capture that ends
  // 0.1 s later: too soon to call it a drop. The same pair watched for 3 s is one.
  for (const std::int64_t end : {100 * ms, 3 * sec}) {
    Capture cap;
    cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + ms, pb::make_syn(client, server, 40000, 443, 5000));
    cap.at(t0 + end, pb::make_syn_ack(server, client, 443, 40001, 1, 2));  // another flow: the capture goes on
    const Judgement& j = cap.of(40000);
    INFO(end << " " << signals_of(j));
    if (end < sec) {
      CHECK(j.verdict == Verdict::inconclusive);
      CHECK(j.rule == Rule::silence_capture_ended);
    } else {
      CHECK(j.verdict == Verdict::dropped);
    }
  }
}

TEST_CASE("offline: a client's FIN with ACK 0 is neither proof nor silence", "[offline][client]") {
  Capture cap;
  cap.at(t0, pb::make_syn(client, server, 40000, 443, 5000));
  cap.at(t0 + 10 * sec, pb::tcp_segment(client, server, 40000, 443, Tins::TCP::FIN | Tins::TCP::ACK, 5001, 0));
  cap.at(t0 + 11 * sec, pb::make_syn_ack(server, client, 443, 40001, 1, 2));  // packets to the client exist
  const Judgement& j = cap.of(40000);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::inconclusive);
  CHECK(j.rule == Rule::silence_client_acted);
  CHECK(has_signal(j, "client-acts-unproven"));
}

TEST_CASE("offline: a TTL sweep that dies after a hop is a drop after that hop", "[offline][sweep]") {
  // One SYN swept with TTL 1..40 (one transmission each, as pathspider and tracebox do):
  // routers 1..6 answer time-exceeded, nothing answers TTL 7..40.
  auto sweep = [](int answering_hops, bool answer_normal) {
    Capture cap;
    for (int ttl = 1; ttl <= 40; ++ttl) {
      const std::int64_t ts = t0 + ttl * 100 * ms;
      const ByteVec syn = pb::make_syn(client, server, 40000, 443, 5000,
                                       {.ttl = static_cast<std::uint8_t>(ttl), .id = static_cast<std::uint16_t>(ttl)});
      cap.at(ts, syn);
      if (ttl <= answering_hops)
        cap.at(ts + ttl * ms, pb::make_icmp_error(fmt::format("198.51.100.{}", ttl), client, 11, 0, syn));
      if (ttl == 40 && answer_normal)
        cap.at(ts + 20 * ms, pb::make_syn_ack(server, client, 443, 40000, 1, 5001, {.ttl = 57}));
    }
    cap.at(t0 + 10 * sec, pb::make_syn_ack(server, client, 443, 40001, 1, 2));  // the capture goes on
    return cap.of(40000);
  };
  const Judgement j = sweep(6, false);
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::dropped);
  CHECK(j.rule == Rule::ttl_sweep_dropped);
  CHECK(j.hop == 6);
  REQUIRE(j.hop_range);
  CHECK(j.hop_range->second == 7);
  REQUIRE(j.responder);
  CHECK(j.responder->to_string() == "198.51.100.6");
  CHECK(has_signal(j, "ttl-sweep-silent"));
  SECTION("a sweep whose normal-TTL SYN is answered is no drop") {
    CHECK(sweep(6, true).verdict == Verdict::open);
  }
}

TEST_CASE("offline: a lone timestamp far ahead does not end the waiting attempts", "[offline][clock]") {
  // pcapng-example's shape: the SYN/ACK's time is decades off, then the client's ACK and
  // the server's data come at the right time. Streaming, as `analyze` runs: a clock that
  // followed the outlier would settle the attempt before the ACK that proves the SYN/ACK.
  Analyzer analyzer;
  std::vector<AttemptResult> results;
  analyzer.stream_to([&](AttemptResult&& r) { results.push_back(std::move(r)); });
  analyzer.add(pb::packet_at(pb::make_syn(client, server, 40000, 443, 5000), t0));
  analyzer.add(pb::packet_at(pb::make_syn_ack(server, client, 443, 40000, 900'000, 5001), t0 + 1'000'000 * sec));
  analyzer.add(pb::packet_at(pb::make_ack(client, server, 40000, 443, 5001, 900'001), t0 + 50'000));
  analyzer.add(pb::packet_at(pb::make_ack(server, client, 443, 40000, 900'001, 5001), t0 + 50 * ms));
  analyzer.flush();
  REQUIRE(results.size() == 1);
  const Judgement& j = results[0].judgement;
  INFO(signals_of(j));
  CHECK(j.verdict == Verdict::open);
  CHECK(j.rule == Rule::client_proves_syn_ack);
  CHECK(has_signal(j, "unmatched-syn-ack"));
}

TEST_CASE("offline: a SYN answered in an earlier connection's terms is not silence", "[offline][reuse]") {
  // The client reuses a half-open 4-tuple with a new ISN; the host, still holding the old
  // connection, retransmits its SYN/ACK for the old ISN (RFC 9293 3.10.7.4).
  Capture cap;
  cap.at(t0, pb::make_syn(client, server, 40000, 443, 3000));
  cap.at(t0 + ms, pb::make_syn_ack(server, client, 443, 40000, 900'000, 3001));
  cap.at(t0 + 100 * ms, pb::make_syn(client, server, 40000, 443, 7'777'777));
  cap.at(t0 + 101 * ms, pb::make_syn_ack(server, client, 443, 40000, 900'000, 3001));
  cap.at(t0 + 5 * sec, pb::make_syn_ack(server, client, 443, 40001, 1, 2));  // the capture goes on
  cap.results = cap.analyzer.finish();
  const AttemptResult* second = nullptr;
  for (const AttemptResult& r : cap.results)
    if (r.attempt.isn == 7'777'777) second = &r;
  REQUIRE(second);
  INFO(signals_of(second->judgement));
  CHECK(second->judgement.verdict == Verdict::inconclusive);
  CHECK(second->judgement.rule == Rule::answered_for_earlier);
}

TEST_CASE("offline: a router's late host-unreachable names an address nobody lives at", "[offline][late]") {
  const std::string stale = "192.0.2.99", router = "198.51.100.3";
  auto syn_at = [&](Capture& cap, std::int64_t ts, std::uint16_t id, const std::string& dst = "192.0.2.99") {
    const ByteVec syn = pb::make_syn(client, dst, 40000, 443, 5000, {.ttl = 64, .id = id});
    cap.at(ts, syn);
    return syn;
  };
  SECTION("three SYNs held 3 s and released together: no device at the address") {
    Capture cap;
    std::vector<ByteVec> syns{syn_at(cap, t0, 1), syn_at(cap, t0 + sec, 2), syn_at(cap, t0 + 3 * sec, 3)};
    for (std::size_t k = 0; k < syns.size(); ++k)
      cap.at(t0 + 3 * sec + 70 * ms + static_cast<std::int64_t>(k) * 20'000,
             pb::make_icmp_unreachable_quoting(syns[k], router, client, 1, {.ttl = 253}));
    const Judgement& j = cap.of(40000);
    INFO(signals_of(j));
    CHECK(j.verdict == Verdict::icmp_unreachable);
    CHECK(j.actor == Actor::router);
    CHECK(j.rule == Rule::icmp_no_neighbour);
    CHECK(j.cause == Cause::no_host_at_address);
    CHECK(has_signal(j, "neighbour-unresolved"));
    REQUIRE(j.rtt_ms);
    CHECK(*j.rtt_ms == Approx(3070.0));  // timed from the SYN its quotation names
  }
  SECTION("the same code at once is a rule's, not a failed resolution") {
    Capture cap;
    const ByteVec syn = syn_at(cap, t0, 1);
    cap.at(t0 + 12 * ms, pb::make_icmp_unreachable_quoting(syn, router, client, 1, {.ttl = 253}));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict == Verdict::icmp_unreachable);
    CHECK(j.cause == Cause::none);
    CHECK(j.rule == Rule::icmp_from_router);
  }
  SECTION("against the router's own round trip from the capture's hop map") {
    for (const std::int64_t late : {1500 * ms, 800 * ms}) {
      Capture cap;
      // A trace's probe expired at the router: its round trip without any hold is 10 ms.
      const ByteVec probe = pb::make_syn(client, stale, 39000, 443, 100, {.ttl = 3, .id = 9});
      cap.at(t0, probe);
      cap.at(t0 + 10 * ms, pb::make_icmp_error(router, client, 11, 0, probe, SIZE_MAX, {.ttl = 253}));
      const ByteVec syn = syn_at(cap, t0 + sec, 1);
      cap.at(t0 + sec + late, pb::make_icmp_unreachable_quoting(syn, router, client, 1, {.ttl = 253}));
      cap.at(t0 + 10 * sec, pb::make_syn_ack(server, client, 443, 40001, 1, 2));
      const Judgement& j = cap.of(40000);
      INFO(late << " " << signals_of(j));
      CHECK(j.verdict == Verdict::icmp_unreachable);
      CHECK((j.cause == Cause::no_host_at_address) == (late >= sec));
    }
  }
  SECTION("one late error and nothing to time the path by: no claim") {
    Capture cap;
    const ByteVec syn = syn_at(cap, t0, 1);
    cap.at(t0 + 3 * sec, pb::make_icmp_unreachable_quoting(syn, router, client, 1, {.ttl = 253}));
    const Judgement& j = cap.of(40000);
    CHECK(j.verdict == Verdict::icmp_unreachable);
    CHECK(j.cause == Cause::none);
  }
}
