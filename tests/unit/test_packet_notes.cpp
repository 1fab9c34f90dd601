// packet_note(): the pcapng comment beside each packet of a live run.
#include <catch2/catch.hpp>

#include "dissect/decode/icmp_names.hpp"
#include "dissect/verdict/packet_notes.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::t0;

namespace {

const std::string us = "10.0.0.1";
const std::string target = "192.0.2.7";
const std::string router = "198.18.2.2";
constexpr std::uint16_t source_port = 33000;
constexpr std::uint16_t port = 81;          // the target port, judged
constexpr std::uint16_t baseline_port = 443; // a control port, not a target
constexpr std::uint32_t isn = 1234;

// The run's one target: 192.0.2.7:81 refused by a middlebox at hop 2.
std::vector<AttemptResult> run_results() {
  AttemptResult r;
  r.attempt.client = pb::addr(us);
  r.attempt.server = pb::addr(target);
  r.attempt.client_port = source_port;
  r.attempt.server_port = port;
  r.attempt.isn = isn;
  r.judgement.verdict = Verdict::refused_by_middlebox;
  r.judgement.hop = 2;
  return {r};
}

std::string note(const ByteVec& ip) { return packet_note(pb::packet_at(ip, t0), run_results(), source_port); }

}  // namespace

TEST_CASE("packet notes: our probe SYNs", "[notes]") {
  const std::string n = note(pb::make_syn(us, target, source_port, port, isn, {.ttl = 3}));
  CHECK_THAT(n, Catch::StartsWith("probe: SYN"));
  CHECK_THAT(n, Catch::Contains("192.0.2.7:81") && Catch::Contains("TTL 3") && Catch::Contains("seq 1234"));
  CHECK_THAT(n, !Catch::Contains("baseline"));

  const std::string b = note(pb::make_syn(us, target, source_port, baseline_port, 99));
  CHECK_THAT(b, Catch::StartsWith("probe: SYN") && Catch::Contains("192.0.2.7:443") && Catch::Contains("(baseline probe)"));
}

TEST_CASE("packet notes: a SYN/ACK answer carries the target's verdict", "[notes]") {
  // TTL 61 of initial 64: hop 4.
  const std::string n = note(pb::make_syn_ack(target, us, port, source_port, 5000, isn + 1, {.ttl = 61}));
  INFO(n);
  CHECK_THAT(n, Catch::StartsWith("answer: SYN/ACK from 192.0.2.7:81"));
  CHECK_THAT(n, Catch::Contains("TTL 61 = hop 4 of initial 64"));
  CHECK_THAT(n, Catch::Contains("ack 1235"));
  CHECK_THAT(n, Catch::EndsWith("verdict for 192.0.2.7:81: refused-by-middlebox at hop 2"));
}

TEST_CASE("packet notes: a RST from a baseline port has no verdict", "[notes]") {
  const std::string n = note(pb::make_rst(target, us, baseline_port, source_port, 0, 100, true, {.ttl = 61}));
  INFO(n);
  CHECK_THAT(n, Catch::StartsWith("answer: RST"));
  CHECK_THAT(n, Catch::Contains("192.0.2.7:443") && Catch::EndsWith("(baseline probe)"));
}

TEST_CASE("packet notes: our kernel's RST to the SYN/ACK", "[notes]") {
  const std::string n = note(pb::make_rst(us, target, source_port, port, isn + 1, 0, false));
  CHECK_THAT(n, Catch::StartsWith("our kernel's RST"));
}

TEST_CASE("packet notes: an ICMP error quoting our SYN", "[notes][icmp]") {
  // Admin-prohibited from hop 2 (TTL 254 of 255), quoting our SYN with 1 TTL left.
  const ByteVec seen = pb::make_syn(us, target, source_port, port, isn, {.ttl = 1});
  const std::string n = note(pb::make_icmp_unreachable_quoting(seen, router, us, 13, {.ttl = 254}));
  INFO(n);
  CHECK_THAT(n, Catch::StartsWith("ICMP " + std::string(icmp_name(IpFamily::v4, 3, 13)) + " from 198.18.2.2"));
  CHECK_THAT(n, Catch::Contains("TTL 254 = hop 2 of initial 255"));
  CHECK_THAT(n, Catch::Contains("quoting our SYN to 192.0.2.7:81 seq 1234"));
  CHECK_THAT(n, Catch::Contains("with TTL 1 left"));
  CHECK_THAT(n, Catch::EndsWith("verdict for 192.0.2.7:81: refused-by-middlebox at hop 2"));
}

TEST_CASE("packet notes: echo request and reply", "[notes]") {
  const std::string reply = note(pb::make_echo_reply(target, us, 1, 1));
  CHECK(reply == "baseline: echo reply from 192.0.2.7 (TTL 64 = hop 1 of initial 64)");
  Tins::ICMP request(Tins::ICMP::ECHO_REQUEST);
  const std::string req = note(pb::ip_packet(us, target, request));
  CHECK(req == "baseline probe: echo request to 192.0.2.7");
}

TEST_CASE("packet notes: IPv6 endpoints are bracketed", "[notes]") {
  AttemptResult r;
  r.attempt.server = pb::addr("2001:db8::7");
  r.attempt.server_port = port;
  r.judgement.verdict = Verdict::open;
  const std::string n = packet_note(
      pb::packet_at(pb::make_syn_ack("2001:db8::7", "2001:db8::1", port, source_port, 1, isn + 1, {.ttl = 60}), t0),
      {r}, source_port);
  INFO(n);
  CHECK_THAT(n, Catch::StartsWith("answer: SYN/ACK from [2001:db8::7]:81"));
  CHECK_THAT(n, Catch::EndsWith("verdict for [2001:db8::7]:81: open"));  // no hop known: none said
}

TEST_CASE("packet notes: a request run's own packets, told by address (no probe port)", "[notes][request]") {
  const auto request_note = [](const ByteVec& ip) { return packet_note(pb::packet_at(ip, t0), run_results(), 0); };
  CHECK_THAT(request_note(pb::make_syn(us, target, 41000, port, 77)), Catch::StartsWith("our connection: the kernel's SYN"));
  CHECK_THAT(request_note(pb::make_rst(us, target, 41000, port, 78, 5, true)), Catch::StartsWith("our RST, closing"));
  Tins::TCP copy(port, 41000);
  copy.flags(Tins::TCP::PSH | Tins::TCP::ACK);
  copy /= Tins::RawPDU(std::vector<std::uint8_t>(120, 0x16));
  const std::string c = request_note(pb::ip_packet(us, target, copy, {.ttl = 2}));
  CHECK_THAT(c, Catch::StartsWith("our request to 192.0.2.7:81 (120 bytes, TTL 2") && Catch::Contains("TTL-limited copy"));
  // The server's answer is still an answer, with the target's verdict.
  CHECK_THAT(request_note(pb::make_rst(target, us, port, 41000, 5, 79, true, {.ttl = 63})),
             Catch::StartsWith("answer: RST/ACK") && Catch::Contains("refused-by-middlebox at hop 2"));
}
