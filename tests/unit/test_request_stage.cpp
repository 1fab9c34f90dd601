// The request stage (#14): what the client asked for after the handshake, and who ended
// the connection before it was answered. Each scenario is built packet by packet here;
// the expected values follow from how it is built.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "dissect/decode/request_head.hpp"
#include "dissect/trace/request_payload.hpp"
#include "dissect/trace/request_trace.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::ms;
using pb::sec;
using pb::t0;

namespace {

// ------------------------------------------------------------------ payloads

// A TLS 1.3-style ClientHello naming `name`, with `padding` bytes of a padding extension
// (RFC 7685) before the server_name extension, as some browsers order them.
ByteVec client_hello(const std::string& name, std::size_t padding = 0) {
  ByteVec ext;
  if (padding > 0) {
    pb::append16(ext, 0x0015);
    pb::append16(ext, static_cast<std::uint16_t>(padding));
    ext.insert(ext.end(), padding, 0);
  }
  pb::append16(ext, 0x0000);  // server_name
  pb::append16(ext, static_cast<std::uint16_t>(name.size() + 5));
  pb::append16(ext, static_cast<std::uint16_t>(name.size() + 3));
  ext.push_back(0);  // host_name
  pb::append16(ext, static_cast<std::uint16_t>(name.size()));
  ext.insert(ext.end(), name.begin(), name.end());
  ByteVec body{0x03, 0x03};
  body.insert(body.end(), 32, 0x11);  // random
  body.push_back(32);
  body.insert(body.end(), 32, 0x22);  // session id
  pb::append16(body, 2);
  pb::append16(body, 0x1301);  // TLS_AES_128_GCM_SHA256
  body.push_back(1);
  body.push_back(0);  // null compression
  pb::append16(body, static_cast<std::uint16_t>(ext.size()));
  body.insert(body.end(), ext.begin(), ext.end());
  ByteVec handshake{0x01, 0, static_cast<std::uint8_t>(body.size() >> 8), static_cast<std::uint8_t>(body.size())};
  handshake.insert(handshake.end(), body.begin(), body.end());
  ByteVec record{0x16, 0x03, 0x01};
  pb::append16(record, static_cast<std::uint16_t>(handshake.size()));
  record.insert(record.end(), handshake.begin(), handshake.end());
  return record;
}

ByteVec bytes_of(const std::string& s) { return ByteVec(s.begin(), s.end()); }

RequestHead head_of(const ByteVec& b) { return read_request_head(Bytes(b.data(), b.size())); }

}  // namespace

TEST_CASE("request head: a ClientHello's server name, whole or cut", "[request][decode]") {
  const ByteVec hello = client_hello("blocked.example");
  const RequestHead h = head_of(hello);
  CHECK(h.protocol == RequestProtocol::tls);
  REQUIRE(h.name);
  CHECK(*h.name == "blocked.example");
  CHECK_FALSE(h.needs_more);

  // The name past the first segment's end: more bytes may tell, and none is guessed.
  const ByteVec big = client_hello("late.example", 1500);
  const ByteVec first(big.begin(), big.begin() + 1200);
  const RequestHead cut = head_of(first);
  CHECK(cut.protocol == RequestProtocol::tls);
  CHECK_FALSE(cut.name);
  CHECK(cut.needs_more);
  REQUIRE(head_of(big).name);
  CHECK(*head_of(big).name == "late.example");

  // A ClientHello with no server_name extension names nothing, and asks for nothing more.
  ByteVec no_sni = client_hello("x");
  no_sni.resize(no_sni.size() - 10);  // drop the server_name extension (4 + 5 + 1 bytes)
  const std::uint16_t ext_len = static_cast<std::uint16_t>((no_sni[5 + 4 + 2 + 32 + 1 + 32 + 2 + 2 + 2] << 8 |
                                                              no_sni[5 + 4 + 2 + 32 + 1 + 32 + 2 + 2 + 3]) - 10);
  pb::put16(no_sni, 5 + 4 + 2 + 32 + 1 + 32 + 2 + 2 + 2, ext_len);
  const RequestHead none = head_of(no_sni);
  CHECK(none.protocol == RequestProtocol::tls);
  CHECK_FALSE(none.name);
  CHECK_FALSE(none.needs_more);
}

TEST_CASE("request head: an HTTP request's Host, and what is not one", "[request][decode]") {
  const RequestHead h = head_of(bytes_of("GET /x HTTP/1.1\r\nUser-Agent: t\r\nhOsT:  shop.example:8080 \r\n\r\n"));
  CHECK(h.protocol == RequestProtocol::http);
  REQUIRE(h.name);
  CHECK(*h.name == "shop.example:8080");

  const RequestHead cut = head_of(bytes_of("POST / HTTP/1.1\r\nAccept: */*\r\n"));
  CHECK(cut.protocol == RequestProtocol::http);
  CHECK_FALSE(cut.name);
  CHECK(cut.needs_more);

  const RequestHead none = head_of(bytes_of("GET / HTTP/1.0\r\n\r\n"));
  CHECK_FALSE(none.name);
  CHECK_FALSE(none.needs_more);

  // Control bytes in a name are not passed on to reports.
  const RequestHead odd = head_of(bytes_of("GET / HTTP/1.1\r\nHost: a\x1b[31mb\r\n\r\n"));
  REQUIRE(odd.name);
  CHECK(*odd.name == "a?[31mb");

  CHECK(head_of(bytes_of("SSH-2.0-OpenSSH_9.2\r\n")).protocol == RequestProtocol::unknown);
  CHECK_FALSE(head_of(bytes_of("SSH-2.0-OpenSSH_9.2\r\n")).name);
  CHECK(head_of(ByteVec{0x16, 0x03}).needs_more);
}

namespace {

const std::string client = "10.0.0.1";
const std::string server = "192.0.2.7";
const std::string client6 = "2001:db8:1::1";
const std::string server6 = "2001:db8:2::7";
constexpr std::uint16_t cport = 40000;
constexpr std::uint32_t isn = 5000;
constexpr std::uint32_t sisn = 900000;

ByteVec segment(const std::string& src, const std::string& dst, std::uint16_t sport, std::uint16_t dport,
                std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, const ByteVec& payload, const pb::IpOpts& o) {
  Tins::TCP tcp(dport, sport);
  tcp.flags(flags);
  tcp.seq(seq);
  tcp.ack_seq(ack);
  tcp.window(502);
  if (!payload.empty()) tcp /= Tins::RawPDU(payload);
  return pb::ip_packet(src, dst, tcp, o);
}

// A connection to port 443 whose handshake completes: the server is at hop 5 (initial TTL
// 64, TTL 60), 20 ms away; its packets on the connection count IP-IDs up from 7000.
struct Connection {
  Analyzer analyzer;
  std::string c, s;
  std::int64_t now = t0;
  std::uint32_t client_next = isn + 1;
  std::uint16_t server_id = 7000;

  explicit Connection(bool v6 = false) : c(v6 ? client6 : client), s(v6 ? server6 : server) {
    add(pb::make_syn(c, s, cport, 443, isn));
    now += 20 * ms;
    add(pb::make_syn_ack(s, c, 443, cport, sisn, isn + 1, {.ttl = 60, .id = 0}));
    now += ms / 10;
    add(pb::make_ack(c, s, cport, 443, isn + 1, sisn + 1));
  }
  void add(const ByteVec& ip) { analyzer.add(pb::packet_at(ip, now)); }
  void after(double ms_later) { now += static_cast<std::int64_t>(ms_later * 1e6); }
  // The client's request (sent again with resend = true).
  void request(const ByteVec& payload, bool resend = false) {
    add(segment(c, s, cport, 443, Tins::TCP::PSH | Tins::TCP::ACK, isn + 1, sisn + 1, payload, {.ttl = 64}));
    if (!resend) client_next = isn + 1 + static_cast<std::uint32_t>(payload.size());
  }
  void server_segment(std::uint8_t flags, std::uint32_t ack, const ByteVec& payload = {}, std::uint8_t ttl = 60) {
    add(segment(s, c, 443, cport, flags, sisn + 1, ack, payload, {.ttl = ttl, .id = ++server_id}));
  }
  void device_reset(std::uint8_t ttl, std::uint16_t id) {
    add(segment(s, c, 443, cport, Tins::TCP::RST | Tins::TCP::ACK, sisn + 1, client_next, {}, {.ttl = ttl, .id = id}));
  }
  AttemptResult result() {
    const std::vector<AttemptResult> all = analyzer.finish();
    REQUIRE(all.size() == 1);
    return all.front();
  }
};

bool has_signal(const Judgement& j, std::string_view name) {
  return std::any_of(j.evidence.begin(), j.evidence.end(),
                     [&](const Evidence& e) { return signal_name(e.signal) == name; });
}

}  // namespace

TEST_CASE("request stage: the answered request is open at stage request, its trigger named", "[request]") {
  Connection k;
  k.after(1);
  k.request(client_hello("allowed.example"));
  k.after(21);
  k.server_segment(Tins::TCP::PSH | Tins::TCP::ACK, k.client_next, ByteVec(100, 0x16));
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::open);
  CHECK(r.judgement.stage == Stage::request);
  CHECK(r.judgement.rule == Rule::request_answered);
  REQUIRE(r.judgement.trigger);
  CHECK(*r.judgement.trigger == "allowed.example");
}

TEST_CASE("request stage: a reset from two hops nearer, sooner than the server can answer", "[request][middlebox]") {
  for (const bool v6 : {false, true}) {
    INFO("IPv6: " << v6);
    Connection k(v6);
    k.after(1);
    k.request(client_hello("blocked.example"));
    k.after(8);  // a firewall at hop 3 (TTL 62), 8 ms away; the server's round trip is 20 ms
    k.device_reset(62, 0);
    const AttemptResult r = k.result();
    CHECK(r.judgement.verdict == Verdict::refused_by_middlebox);
    CHECK(r.judgement.stage == Stage::request);
    CHECK(r.judgement.rule == Rule::request_reset_nearer);
    CHECK(r.judgement.actor == Actor::middlebox);
    CHECK(r.judgement.hop == 3);
    CHECK(has_signal(r.judgement, "early-reset"));
    CHECK(has_signal(r.judgement, "ttl-hop-differs"));
    REQUIRE(r.judgement.trigger);
    CHECK(*r.judgement.trigger == "blocked.example");
  }
}

TEST_CASE("request stage: the server's own reset continues its IP-ID and TTL", "[request][host]") {
  Connection k;
  k.after(1);
  k.request(bytes_of("GET / HTTP/1.1\r\nHost: nobackend.example\r\n\r\n"));
  k.after(20.5);
  k.server_segment(Tins::TCP::ACK, k.client_next);  // its TCP got the request
  k.after(3);
  k.server_segment(Tins::TCP::RST | Tins::TCP::ACK, k.client_next);  // then the proxy gives up
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::refused_by_host);
  CHECK(r.judgement.stage == Stage::request);
  CHECK(r.judgement.rule == Rule::request_reset_weighed);
  CHECK(r.judgement.actor == Actor::host);
  CHECK(r.judgement.hop == 5);
  CHECK(has_signal(r.judgement, "ip-id-follows-flow"));
  CHECK(has_signal(r.judgement, "ttl-matches-host"));
  REQUIRE(r.judgement.trigger);
  CHECK(*r.judgement.trigger == "nobackend.example");
}

TEST_CASE("request stage: a FIN instead of an answer is the server closing without response", "[request][host]") {
  Connection k;
  k.after(1);
  k.request(bytes_of("GET / HTTP/1.1\r\nHost: closed.example\r\n\r\n"));
  k.after(21);
  k.server_segment(Tins::TCP::FIN | Tins::TCP::ACK, k.client_next);
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::refused_by_host);
  CHECK(r.judgement.stage == Stage::request);
  CHECK(r.judgement.rule == Rule::request_closed);
  CHECK(r.judgement.cause == Cause::closed_without_response);
}

TEST_CASE("request stage: a reset raced by the server's own answer is injected", "[request][injector]") {
  Connection k;
  k.after(1);
  k.request(bytes_of("GET / HTTP/1.1\r\nHost: censored.example\r\n\r\n"));
  k.after(6);
  k.device_reset(63, 1234);  // an on-path box at hop 2, 6 ms away
  k.after(15);
  k.server_segment(Tins::TCP::PSH | Tins::TCP::ACK, k.client_next, bytes_of("HTTP/1.1 200 OK\r\n\r\n"));
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::injected_reset);
  CHECK(r.judgement.stage == Stage::request);
  CHECK(r.judgement.rule == Rule::request_reset_races_reply);
  CHECK(r.judgement.hop == 2);
  CHECK(r.judgement.confidence == Approx(0.9));
  CHECK(has_signal(r.judgement, "reset-races-reply"));
}

TEST_CASE("request stage: a request sent again and never acknowledged was dropped", "[request][drop]") {
  Connection k;
  k.after(1);
  const ByteVec hello = client_hello("dropped.example");
  k.request(hello);
  for (const double backoff : {210.0, 420.0, 840.0}) {
    k.after(backoff);
    k.request(hello, true);
  }
  k.after(2000);
  k.add(segment(k.c, k.s, cport, 443, Tins::TCP::RST | Tins::TCP::ACK, k.client_next, sisn + 1, {}, {.ttl = 64}));
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::dropped);
  CHECK(r.judgement.stage == Stage::request);
  CHECK(r.judgement.rule == Rule::request_dropped);
  CHECK(r.judgement.confidence == Approx(0.9));  // four transmissions
  CHECK_FALSE(r.judgement.hop);
  REQUIRE(r.judgement.trigger);
  CHECK(*r.judgement.trigger == "dropped.example");
}

TEST_CASE("request stage: an upload the server acknowledged, then a reset, is not a refusal", "[request][teardown]") {
  Connection k;
  k.after(1);
  k.request(ByteVec(1000, 'a'));
  k.after(20.5);
  k.server_segment(Tins::TCP::ACK, k.client_next);
  k.after(0.2);
  k.add(segment(k.c, k.s, cport, 443, Tins::TCP::ACK, k.client_next, sisn + 1, ByteVec(1000, 'b'), {.ttl = 64}));
  k.after(30);
  k.server_segment(Tins::TCP::RST | Tins::TCP::ACK, k.client_next + 1000);
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::open);
  CHECK(r.judgement.rule == Rule::request_acknowledged);
}

TEST_CASE("request stage: the answer written before its request still answers it", "[request][reordered]") {
  Connection k;
  const ByteVec request = bytes_of("GET /bad.html\r\n");
  const std::uint32_t end = isn + 1 + static_cast<std::uint32_t>(request.size());
  k.after(20);
  k.server_segment(Tins::TCP::PSH | Tins::TCP::ACK, end, ByteVec(88, 'h'));  // written first
  k.server_segment(Tins::TCP::FIN | Tins::TCP::ACK, end);
  k.now -= 21 * ms;  // the request's own timestamp is earlier
  k.request(request);
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::open);
  CHECK(r.judgement.stage == Stage::request);
  CHECK(r.judgement.rule == Rule::request_answered);
}

TEST_CASE("request stage: what follows the client's own close is not a refusal", "[request][teardown]") {
  Connection k;
  k.after(1);
  k.add(segment(k.c, k.s, cport, 443, Tins::TCP::FIN | Tins::TCP::ACK, isn + 1, sisn + 1, {}, {.ttl = 64}));
  k.after(20);
  k.server_segment(Tins::TCP::FIN | Tins::TCP::ACK, isn + 2);
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::open);
  CHECK(r.judgement.stage == Stage::syn);
  CHECK(r.judgement.rule == Rule::syn_ack_acknowledged);
}

// ------------------------------------------------------------------ live: what is sent, and the sweep

TEST_CASE("request payloads: what probe sends names exactly the trigger", "[request][payload]") {
  const std::vector<std::uint8_t> hello = tls_client_hello("blocked.example");
  const RequestHead h = read_request_head(Bytes(hello.data(), hello.size()));
  CHECK(h.protocol == RequestProtocol::tls);
  REQUIRE(h.name);
  CHECK(*h.name == "blocked.example");
  CHECK(hello.size() == 214 + std::string("blocked.example").size());  // docs/probing.md says so
  CHECK(hello == tls_client_hello("blocked.example"));  // nothing random: the same bytes every run

  const std::vector<std::uint8_t> get = http_get("shop.example");
  const RequestHead g = read_request_head(Bytes(get.data(), get.size()));
  CHECK(g.protocol == RequestProtocol::http);
  REQUIRE(g.name);
  CHECK(*g.name == "shop.example");

  CHECK(trigger_name_problem("ok.example").empty());
  CHECK_FALSE(trigger_name_problem("").empty());
  CHECK_FALSE(trigger_name_problem("a b").empty());
  CHECK_FALSE(trigger_name_problem("a\r\nX-Injected: 1").empty());
  CHECK_FALSE(trigger_name_problem(std::string(254, 'a')).empty());
}

namespace {

// One TTL-limited copy of the request on a fresh connection from port 50000, and what it drew.
enum class Drew { time_exceeded, reset, both, host, nothing };

struct Sweep {
  Analyzer analyzer;
  std::int64_t now = t0;
  std::uint32_t next_isn = 100000;

  void copy(int ttl, Drew drew, bool v6 = false) {
    const std::string c = v6 ? client6 : client, s = v6 ? server6 : server;
    const std::uint32_t copy_isn = next_isn += 1000;
    const auto at = [&](const ByteVec& ip) { analyzer.add(pb::packet_at(ip, now)); };
    at(pb::make_syn(c, s, 50000, 443, copy_isn));
    now += 20 * ms;
    at(pb::make_syn_ack(s, c, 443, 50000, sisn, copy_isn + 1, {.ttl = 60}));
    at(pb::make_ack(c, s, 50000, 443, copy_isn + 1, sisn + 1));
    const ByteVec request = segment(c, s, 50000, 443, Tins::TCP::PSH | Tins::TCP::ACK, copy_isn + 1, sisn + 1,
                                    client_hello("blocked.example"), {.ttl = static_cast<std::uint8_t>(ttl)});
    at(request);
    now += static_cast<std::int64_t>(ttl) * 2 * ms;
    const std::string router = v6 ? fmt::format("2001:db8:{}::1", ttl) : fmt::format("10.0.{}.1", ttl);
    if (drew == Drew::time_exceeded || drew == Drew::both)
      at(pb::make_icmp_error(router, c, v6 ? 3 : 11, 0, request));
    if (drew == Drew::reset || drew == Drew::both)
      at(segment(s, c, 443, 50000, Tins::TCP::RST, sisn + 1, 0, {}, {.ttl = static_cast<std::uint8_t>(65 - 2)}));
    if (drew == Drew::host)
      at(segment(s, c, 443, 50000, Tins::TCP::ACK | Tins::TCP::PSH, sisn + 1, copy_isn + 1 + 300, ByteVec(90, 0x16), {.ttl = 60}));
    now += 300 * ms;
  }
  std::vector<const Attempt*> attempts() const {
    std::vector<const Attempt*> out;
    for (const Attempt& a : analyzer.attempts()) out.push_back(&a);
    return out;
  }
};

AttemptResult plain_result(Verdict v, std::optional<int> hop) {
  AttemptResult r;
  r.judgement.verdict = v;
  r.judgement.stage = Stage::request;
  r.judgement.hop = hop;
  r.judgement.confidence = 0.8;
  r.judgement.actor = v == Verdict::refused_by_host ? Actor::host : Actor::middlebox;
  return r;
}

}  // namespace

TEST_CASE("request sweep: RSTs from TTL t on place the device at the hop before", "[request][sweep]") {
  for (const bool v6 : {false, true}) {
    INFO("IPv6: " << v6);
    Sweep s;
    s.copy(1, Drew::time_exceeded, v6);
    s.copy(2, Drew::time_exceeded, v6);
    s.copy(3, Drew::reset, v6);
    s.copy(4, Drew::reset, v6);
    const Trace t = build_request_trace(s.attempts());
    REQUIRE(t.hops.size() == 4);
    CHECK(t.hops[1].majority == HopAnswer::time_exceeded);
    CHECK(t.hops[2].majority == HopAnswer::reset);
    AttemptResult r = plain_result(Verdict::refused_by_middlebox, 2);
    locate_request(r, t);
    CHECK(r.judgement.rule == Rule::trace_located);
    CHECK(r.judgement.hop == 2);
    REQUIRE(r.judgement.responder);
    CHECK(r.judgement.responder->to_string() == (v6 ? "2001:db8:2::1" : "10.0.2.1"));
    CHECK(has_signal(r.judgement, "reset-before-host"));
    CHECK_FALSE(has_signal(r.judgement, "ttl-forged"));
  }
}

TEST_CASE("request sweep: a TTL that draws both a time-exceeded and a RST is an on-path injector's", "[request][sweep]") {
  Sweep s;
  s.copy(1, Drew::time_exceeded);
  s.copy(2, Drew::both);
  s.copy(3, Drew::both);
  s.copy(4, Drew::reset);
  AttemptResult r = plain_result(Verdict::injected_reset, 2);
  locate_request(r, build_request_trace(s.attempts()));
  CHECK(r.judgement.hop == 2);
  CHECK(r.judgement.responder->to_string() == "10.0.2.1");
  CHECK(has_signal(r.judgement, "on-path-injector"));
}

TEST_CASE("request sweep: copies that vanish after a hop locate a dropped request", "[request][sweep]") {
  Sweep s;
  s.copy(1, Drew::time_exceeded);
  s.copy(2, Drew::time_exceeded);
  s.copy(3, Drew::nothing);
  s.copy(4, Drew::nothing);
  AttemptResult r = plain_result(Verdict::dropped, std::nullopt);
  r.judgement.actor = Actor::unknown;
  locate_request(r, build_request_trace(s.attempts()));
  CHECK(r.judgement.hop == 2);
  REQUIRE(r.judgement.hop_range);
  CHECK(*r.judgement.hop_range == std::make_pair(2, 3));
  CHECK(has_signal(r.judgement, "dropped-after-hop"));
}

TEST_CASE("request sweep: a RST weighed as the server's but drawn before the server's hop is a device's", "[request][sweep]") {
  Sweep s;
  s.copy(1, Drew::time_exceeded);
  s.copy(2, Drew::reset);  // the server is at hop 5: a copy with TTL 2 cannot reach it
  s.copy(3, Drew::reset);
  AttemptResult r = plain_result(Verdict::refused_by_host, 5);
  locate_request(r, build_request_trace(s.attempts()));
  CHECK(r.judgement.verdict == Verdict::refused_by_middlebox);
  CHECK(r.judgement.actor == Actor::middlebox);
  CHECK(r.judgement.hop == 1);
  CHECK(has_signal(r.judgement, "ttl-forged"));
}

TEST_CASE("request sweep: copies that reach the server confirm the server's own refusal", "[request][sweep]") {
  Sweep s;
  for (int ttl = 1; ttl <= 4; ++ttl) s.copy(ttl, Drew::time_exceeded);
  s.copy(5, Drew::host);
  AttemptResult r = plain_result(Verdict::refused_by_host, 5);
  const Rule before = r.judgement.rule;
  locate_request(r, build_request_trace(s.attempts()));
  CHECK(r.judgement.verdict == Verdict::refused_by_host);
  CHECK(r.judgement.hop == 5);
  CHECK(r.judgement.rule == before);
  CHECK(has_signal(r.judgement, "trace-reached-host"));
}

TEST_CASE("request stage: a server that sent data, then reset, with no request, refused nothing", "[request][teardown]") {
  Connection k;
  k.after(1);
  k.server_segment(Tins::TCP::PSH | Tins::TCP::ACK, isn + 1, ByteVec(1448, 'd'));  // a download or a banner
  k.after(0.1);
  k.add(segment(k.c, k.s, cport, 443, Tins::TCP::ACK, isn + 1, sisn + 1 + 1448, {}, {.ttl = 64}));
  k.after(40);
  k.add(segment(k.s, k.c, 443, cport, Tins::TCP::RST | Tins::TCP::ACK, sisn + 1 + 1448, isn + 1, {}, {.ttl = 60}));
  const AttemptResult r = k.result();
  CHECK(r.judgement.verdict == Verdict::open);
  CHECK(r.judgement.stage == Stage::syn);
}
