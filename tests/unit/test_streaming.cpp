// Streaming analysis (constant memory): attempts are judged once settled, handed over in
// order of first appearance and forgotten; the verdicts match the keep-everything mode
// when the baselines are the same. Also the streaming renderers and the progress line.
#include <catch2/catch.hpp>

#include <ctime>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "analyze_command.hpp"
#include "capture/capture_file.hpp"
#include "capture/input_buffer.hpp"
#include "capture/offline_analysis.hpp"
#include "capture_writer.hpp"
#include "dissect/decode/decode.hpp"
#include "dissect/decode/plain_tcp.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "packet_builder.hpp"
#include "reports/renderer.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::ms;
using pb::sec;
using pb::t0;

namespace {

const std::string client = "10.0.0.1";
const std::string server = "192.0.2.7";
constexpr std::uint16_t sport = 443;

// One open attempt (SYN, SYN/ACK, ACK) from client port `cport` at `ts`, the server's
// data packet before it as its baseline, and one data packet back to the client.
std::vector<std::pair<std::int64_t, ByteVec>> open_attempt(std::int64_t ts, std::uint16_t cport) {
  const std::uint32_t isn = 1000u * cport;
  return {
      {ts, pb::make_ack(server, client, sport, 50000, 1, 1, {.ttl = 60, .id = 7})},
      {ts + 1 * ms, pb::make_syn(client, server, cport, sport, isn)},
      {ts + 21 * ms, pb::make_syn_ack(server, client, sport, cport, 99, isn + 1, {.ttl = 60, .id = 8})},
      {ts + 22 * ms, pb::make_ack(client, server, cport, sport, isn + 1, 100)},
  };
}

// A SYN nobody answers, sent three times (0, 1 s, 3 s).
std::vector<std::pair<std::int64_t, ByteVec>> dropped_attempt(std::int64_t ts, std::uint16_t cport) {
  const std::uint32_t isn = 1000u * cport;
  return {{ts, pb::make_syn(client, server, cport, sport, isn)},
          {ts + 1 * sec, pb::make_syn(client, server, cport, sport, isn)},
          {ts + 3 * sec, pb::make_syn(client, server, cport, sport, isn)}};
}

struct Streamed {
  Analyzer analyzer;
  std::vector<AttemptResult> results;
  std::size_t most_held = 0;  // the largest attempt table seen while feeding

  Streamed() {
    analyzer.stream_to([this](AttemptResult&& r) { results.push_back(std::move(r)); });
  }
  void feed(const std::vector<std::pair<std::int64_t, ByteVec>>& packets) {
    for (const auto& [ts, bytes] : packets) {
      analyzer.add(pb::packet_at(bytes, ts));
      std::size_t held = 0;
      for (const Attempt& a : analyzer.attempts()) held += a.id != 0;
      most_held = std::max(most_held, held);
    }
  }
};

// SYN number `i` of a scan from `client`: its own target port (60,000 to an address from
// 192.0.2.10 on), ISN i, at `at`. Sent again with the same i, it is a retransmission.
void add_scan_syn(Analyzer& analyzer, std::size_t i, std::int64_t at) {
  const std::string target = fmt::format("192.0.2.{}", 10 + i / 60000);
  const auto port = static_cast<std::uint16_t>(1024 + i % 60000);
  analyzer.add(pb::packet_at(pb::make_syn(client, target, 50000, port, static_cast<std::uint32_t>(i)), at));
}

}  // namespace

TEST_CASE("streaming hands over settled attempts during the capture, in order", "[analyzer][stream]") {
  Streamed s;
  // 200 open attempts one minute apart: each is settled (answered + 10 s) long before the
  // next one, so the table never holds more than one or two.
  for (std::uint16_t i = 0; i < 200; ++i) s.feed(open_attempt(t0 + i * 60 * sec, static_cast<std::uint16_t>(40000 + i)));
  CHECK(s.results.size() == 199);  // the last one is still within its quiet time
  CHECK(s.most_held <= 2);
  s.analyzer.flush();
  REQUIRE(s.results.size() == 200);
  for (std::size_t i = 0; i < s.results.size(); ++i) {
    CHECK(s.results[i].attempt.id == i + 1);
    CHECK(s.results[i].judgement.verdict == Verdict::open);
  }
}

TEST_CASE("an unanswered attempt is held while it may still be retransmitted", "[analyzer][stream]") {
  Streamed s;
  s.feed(open_attempt(t0, 40000));           // the capture shows packets to the client
  s.feed(dropped_attempt(t0 + 1 * sec, 40001));  // SYNs at 1, 2 and 4 s
  s.feed(open_attempt(t0 + 5 * sec, 40002));
  // Its last SYN at 4 s, then 2 × 3 s + 10 s of quiet: settled after 20 s. At 19 s it
  // waits, and the open attempt of 5 s (settled at 15 s) waits behind it, to keep the order.
  s.feed(open_attempt(t0 + 19 * sec, 40003));
  CHECK(s.results.size() == 1);
  s.feed(open_attempt(t0 + 25 * sec, 40004));
  REQUIRE(s.results.size() == 3);
  CHECK(s.results[1].judgement.verdict == Verdict::dropped);
  CHECK(s.results[1].attempt.syn_count == 3);
  CHECK(s.results[2].attempt.id == 3);
}

TEST_CASE("a retransmission after the attempt settled would start a new attempt", "[analyzer][stream]") {
  // The rule's cost, pinned: a SYN retransmitted later than the settling rule allows
  // (here 40 s after a single SYN, wait 10 s) counts as a second attempt. The
  // keep-everything mode, with its 180 s window, sees one.
  const std::uint32_t isn = 5;
  const std::vector<std::pair<std::int64_t, ByteVec>> late = {
      {t0, pb::make_ack(server, client, sport, 50000, 1, 1)},
      {t0 + 1 * sec, pb::make_syn(client, server, 40000, sport, isn)},
      {t0 + 30 * sec, pb::make_ack(server, client, sport, 50000, 2, 1)},
      {t0 + 41 * sec, pb::make_syn(client, server, 40000, sport, isn)},
  };
  Streamed s;
  s.feed(late);
  s.analyzer.flush();
  CHECK(s.results.size() == 2);
  Analyzer whole;
  for (const auto& [ts, bytes] : late) whole.add(pb::packet_at(bytes, ts));
  CHECK(whole.finish().size() == 1);
}

TEST_CASE("streamed verdicts equal the keep-everything ones on a short capture", "[analyzer][stream]") {
  std::vector<std::pair<std::int64_t, ByteVec>> packets = open_attempt(t0, 40000);
  for (auto& p : dropped_attempt(t0 + 1 * sec, 40001)) packets.push_back(p);
  packets.push_back({t0 + 5 * sec, pb::make_syn(client, server, 40002, sport, 77)});
  packets.push_back({t0 + 5 * sec + 2 * ms, pb::make_rst(server, client, sport, 40002, 0, 78, true, {.ttl = 60})});
  Streamed s;
  s.feed(packets);
  s.analyzer.flush();
  Analyzer whole;
  for (const auto& [ts, bytes] : packets) whole.add(pb::packet_at(bytes, ts));
  const std::vector<AttemptResult> expected = whole.finish();
  REQUIRE(s.results.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(s.results[i].judgement.verdict == expected[i].judgement.verdict);
    CHECK(s.results[i].judgement.evidence.size() == expected[i].judgement.evidence.size());
    CHECK(s.results[i].attempt.id == expected[i].attempt.id);
  }
}

TEST_CASE("the streaming renderers write as they go and equal the whole renderers", "[reports][stream]") {
  Streamed s;
  for (std::uint16_t i = 0; i < 3; ++i) s.feed(open_attempt(t0 + i * 60 * sec, static_cast<std::uint16_t>(40000 + i)));
  s.analyzer.flush();
  REQUIRE(s.results.size() == 3);
  // Enough attempts to pass the text table's look-ahead and the JSON writer's flush size.
  AnalysisReport report;
  report.run.mode = "analyze";
  for (std::uint64_t i = 0; i < 1100; ++i) {
    report.attempts.push_back(s.results[i % 3]);
    report.attempts.back().attempt.id = i + 1;
  }
  for (const std::string_view name : {"json", "text"}) {
    INFO(name);
    const Renderer* renderer = find_renderer(name);
    REQUIRE(renderer->stream);
    std::string out;
    std::size_t pieces = 0;
    auto st = renderer->stream(RenderOptions{}, [&](std::string_view t) { out += t; ++pieces; });
    st->begin(report);
    st->add(report.attempts[0]);
    CHECK(pieces == 0);  // held back: the JSON head with the first attempt, or the text look-ahead
    for (std::size_t i = 1; i < report.attempts.size(); ++i) st->add(report.attempts[i]);
    CHECK(pieces >= 2);  // already written, before the end
    st->end(report);
    CHECK(out == renderer->render(report, RenderOptions{}));
  }
}

TEST_CASE("progress_text: done, size, rate and time left", "[cli][progress]") {
  CHECK(progress_text(500'000'000, 2'000'000'000, 1.0) == "synprobe: 500 MB of 2.0 GB (25%), 500 MB/s, 3 s left");
  CHECK(progress_text(2'000'000'000, 2'000'000'000, 4.0) == "synprobe: 2.0 GB of 2.0 GB (100%), 500 MB/s");
  CHECK(progress_text(300'000, std::nullopt, 2.0) == "synprobe: 300 kB read, 150 kB/s");
}

TEST_CASE("the progress line shows only on a terminal, after its delay, and clears", "[cli][progress]") {
  std::ostringstream err;
  {
    ProgressLine quiet(err, false, std::chrono::milliseconds(0));
    quiet.update(1000, 2000);
  }
  CHECK(err.str().empty());
  {
    ProgressLine later(err, true, std::chrono::hours(1));
    later.update(1000, 2000);
  }
  CHECK(err.str().empty());
  {
    ProgressLine shown(err, true, std::chrono::milliseconds(0));
    shown.update(1000, 2000);
    CHECK(err.str().find("synprobe: 1 kB of 2 kB (50%)") != std::string::npos);
    shown.clear();
    CHECK(err.str().substr(err.str().size() - 4) == "\r\x1b[K");
  }
}

TEST_CASE("iso8601 (civil-date arithmetic) agrees with gmtime_r", "[timestamp]") {
  auto reference = [](std::int64_t ns) {
    std::int64_t seconds = ns / 1'000'000'000, fraction = ns % 1'000'000'000;
    if (fraction < 0) { fraction += 1'000'000'000; --seconds; }
    const auto tt = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
  };
  // Leap days, century rules, the epoch and before it, and a spread of ordinary times.
  std::vector<std::int64_t> cases = {0, -1, 951'782'400LL * sec, 951'868'799LL * sec + 999'999'999,
                                     4'107'542'400LL * sec, -2'208'988'800LL * sec, t0, t0 + 123'456'789};
  std::uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 2000; ++i) {
    // xorshift over 9e18 ns from 1900 (to 2185): nanoseconds since 1970 fit in 64 bits
    // only up to 2262, and the sum must not overflow.
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    cases.push_back(-2'208'988'800LL * sec + static_cast<std::int64_t>(x % (9'000'000'000ull * 1'000'000'000ull)));
  }
  for (const std::int64_t ns : cases) {
    INFO(ns);
    CHECK(iso8601(Timestamp{ns}) == reference(ns));
  }
}

namespace {

// The fields decode_frame promises for a packet (icmp only for ICMP, options only when
// set), compared one by one.
void require_same_decode(const DecodedPacket& fast, const DecodedPacket& full) {
  REQUIRE(fast.has_ip == full.has_ip);
  REQUIRE(fast.transport == full.transport);
  CHECK(fast.ip.src == full.ip.src);
  CHECK(fast.ip.dst == full.ip.dst);
  CHECK(fast.ip.ttl == full.ip.ttl);
  CHECK(fast.ip.tos == full.ip.tos);
  CHECK(fast.ip.protocol == full.ip.protocol);
  CHECK(fast.ip.has_ip_id == full.ip.has_ip_id);
  CHECK(fast.ip.ip_id == full.ip.ip_id);
  CHECK(fast.ip.dont_fragment == full.ip.dont_fragment);
  CHECK(fast.ip.is_fragment == full.ip.is_fragment);
  CHECK(fast.ip.is_later_fragment == full.ip.is_later_fragment);
  CHECK(fast.ip.flow_label == full.ip.flow_label);
  CHECK(fast.ip.header_length == full.ip.header_length);
  CHECK(fast.ip.total_length == full.ip.total_length);
  CHECK(fast.tcp.sport == full.tcp.sport);
  CHECK(fast.tcp.dport == full.tcp.dport);
  CHECK(fast.tcp.seq == full.tcp.seq);
  CHECK(fast.tcp.ack == full.tcp.ack);
  CHECK(fast.tcp.flags == full.tcp.flags);
  CHECK(fast.tcp.window == full.tcp.window);
  CHECK(fast.tcp.header_length == full.tcp.header_length);
  CHECK(fast.tcp.payload_length == full.tcp.payload_length);
  CHECK(fast.tcp.payload.data() == full.tcp.payload.data());  // the same bytes of the same frame
  CHECK(fast.tcp.payload.size() == full.tcp.payload.size());
  CHECK(fast.tcp.options == full.tcp.options);
}

// Decodes `frame` both ways; returns whether the shortcut took it.
bool compare_decoders(std::uint16_t link, const ByteVec& frame) {
  DecodedPacket fast, full;
  const Bytes bytes(frame.data(), frame.size());
  if (!decode_plain_tcp(link, bytes, fast)) return false;
  REQUIRE(decode_frame(link, bytes, full) == DecodeStatus::ok);
  require_same_decode(fast, full);
  return true;
}

ByteVec with_vlan(const ByteVec& ethernet_frame) {
  ByteVec tagged(ethernet_frame.begin(), ethernet_frame.begin() + 12);
  for (const int b : {0x81, 0x00, 0x00, 0x0a}) tagged.push_back(static_cast<std::uint8_t>(b));
  tagged.insert(tagged.end(), ethernet_frame.begin() + 12, ethernet_frame.end());
  return tagged;
}

}  // namespace

TEST_CASE("decode_plain_tcp takes plain segments and equals decode_frame on them", "[decode][fast]") {
  const ByteVec data = pb::make_ack(client, server, 40000, sport, 1234, 5678, {.ttl = 57, .id = 4242});
  const ByteVec frame = pb::frame(pb::Link::ethernet, data);
  CHECK(compare_decoders(link_type::ethernet, frame));
  CHECK(compare_decoders(link_type::ethernet, with_vlan(frame)));
  // Ethernet padding after a short IP packet: the IP length rules.
  ByteVec padded = frame;
  padded.resize(padded.size() + 6, 0);
  CHECK(compare_decoders(link_type::ethernet, padded));
}

TEST_CASE("decode_plain_tcp leaves everything else to decode_frame", "[decode][fast]") {
  DecodedPacket p;
  auto declined = [&](std::uint16_t link, const ByteVec& frame) {
    return !decode_plain_tcp(link, Bytes(frame.data(), frame.size()), p);
  };
  const ByteVec ack = pb::make_ack(client, server, 40000, sport, 1, 2);
  CHECK(declined(link_type::ethernet, pb::frame(pb::Link::ethernet, pb::make_syn(client, server, 40000, sport, 1))));
  CHECK(declined(link_type::ethernet, pb::frame(pb::Link::ethernet, pb::make_rst(server, client, sport, 40000, 1, 2, true))));
  CHECK(declined(link_type::ethernet, pb::frame(pb::Link::ethernet, pb::make_ack("2001:db8::1", "2001:db8::2", 1, 2, 3, 4))));
  CHECK(declined(link_type::raw, ack));
  ByteVec cut = pb::frame(pb::Link::ethernet, ack);
  cut.resize(14 + 20 + 19);  // the TCP header is cut short (the frame was padded to 60)
  CHECK(declined(link_type::ethernet, cut));
  ByteVec fragment = pb::frame(pb::Link::ethernet, ack);
  fragment[14 + 6] |= 0x20;  // more fragments
  CHECK(declined(link_type::ethernet, fragment));
  ByteVec tso = pb::frame(pb::Link::ethernet, ack);
  tso[14 + 2] = tso[14 + 3] = 0;  // total length 0
  CHECK(declined(link_type::ethernet, tso));
}

TEST_CASE("decode_plain_tcp equals decode_frame on every sample capture", "[decode][fast]") {
  std::size_t taken = 0, frames = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SYNPROBE_SOURCE_DIR "/samples")) {
    const std::filesystem::path file = entry.path() / "capture.pcapng";
    if (!std::filesystem::exists(file)) continue;
    CaptureFileReader reader(file.string());
    RawFrame frame;
    while (reader.next(frame)) {
      ++frames;
      taken += compare_decoders(frame.link_type, ByteVec(frame.data.begin(), frame.data.end()));
    }
  }
  CHECK(frames > 100);
  CHECK(taken > 0);
}

TEST_CASE("streaming holds at most max_held_attempts: beyond, the oldest are judged early", "[analyzer][stream]") {
  Analyzer analyzer;
  std::vector<AttemptResult> results;
  analyzer.stream_to([&](AttemptResult&& r) { results.push_back(std::move(r)); });
  for (const auto& [ts, bytes] : open_attempt(t0, 40000)) analyzer.add(pb::packet_at(bytes, ts));
  // Then a SYN scan: more unanswered SYNs within a second than the bound, none settled.
  const std::size_t n = Analyzer::max_held_attempts + 100;
  for (std::size_t i = 0; i < n; ++i) add_scan_syn(analyzer, i, t0 + 1 * sec + static_cast<std::int64_t>(i) * 1000);
  // One held attempt more than the bound releases one: the open attempt, then 100 SYNs.
  CHECK(analyzer.attempts_judged_early() == 101);
  REQUIRE(results.size() == 101);
  CHECK(results[0].judgement.verdict == Verdict::open);
  for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].attempt.id == i + 1);
  // The first scanned SYN, retransmitted after it was judged: counted, not a new attempt.
  add_scan_syn(analyzer, 0, t0 + 2 * sec);
  CHECK(analyzer.late_syns() == 1);
  // The same flow with another ISN is a new connection (the port reused), not a late SYN.
  analyzer.add(pb::packet_at(pb::make_syn(client, "192.0.2.10", 50000, 1024, 777777), t0 + 2 * sec + 1000));
  CHECK(analyzer.late_syns() == 1);
  analyzer.flush();
  REQUIRE(results.size() == n + 2);
  CHECK(results.back().attempt.id == n + 2);
  CHECK(results.back().attempt.isn == 777777);
  // One more judged early for the room the new attempt took; the end of the capture is not early.
  CHECK(analyzer.attempts_judged_early() == 102);
}

// The flows judged early are remembered in a ring of AttemptTracker::judged_early_kept:
// past it, the oldest is forgotten (its retransmission starts a new attempt), and every
// newer one is still recognised.
TEST_CASE("the flows judged early are remembered for the last judged_early_kept of them", "[analyzer][stream]") {
  Analyzer analyzer;
  std::uint64_t handed_over = 0;
  analyzer.stream_to([&](AttemptResult&&) { ++handed_over; });
  const std::size_t n = Analyzer::max_held_attempts + AttemptTracker::judged_early_kept + 100;
  for (std::size_t i = 0; i < n; ++i) add_scan_syn(analyzer, i, t0 + static_cast<std::int64_t>(i) * 1000);
  // SYNs 0 .. n - max_held - 1 were judged early; the ring kept the newest judged_early_kept.
  const std::size_t judged = n - Analyzer::max_held_attempts;
  REQUIRE(analyzer.attempts_judged_early() == judged);
  const std::size_t oldest_kept = judged - AttemptTracker::judged_early_kept;
  const std::int64_t later = t0 + 2 * sec;
  add_scan_syn(analyzer, oldest_kept, later);  // still remembered
  add_scan_syn(analyzer, judged - 1, later);   // the newest judged early
  CHECK(analyzer.late_syns() == 2);
  add_scan_syn(analyzer, oldest_kept - 1, later);  // forgotten: a new attempt
  CHECK(analyzer.late_syns() == 2);
  analyzer.flush();
  CHECK(handed_over == n + 1);
}

// The reader maps the file a window (InputBuffer::map_window) at a time, and a decoded
// packet's payload is a view into that window. The offline loop decodes two packets ahead
// of the analyzer, so the request stage once read a client's first data segment from a
// window already unmapped when the two packets after it did not fit (a crash at 10^6
// attempts per GiB, where requests end near a window's edge now and then). Here the
// request's record ends just before the window's end and the next record crosses it: the
// trigger must still be read from the request's bytes.
TEST_CASE("the request's bytes are read before the input window slides past them", "[request][stream]") {
  constexpr std::size_t window = InputBuffer::map_window;
  constexpr std::uint16_t cport = 41000;
  constexpr std::uint32_t isn = 7000, sisn = 500000;
  const std::string request = "GET / HTTP/1.1\r\nHost: window-edge.example\r\nAccept: */*\r\n\r\n";
  const ByteVec request_bytes(request.begin(), request.end());
  // An Ethernet frame of an experimental EtherType: nothing for synprobe but bytes.
  const auto filler = [](std::size_t size) {
    ByteVec f(size, 0xee);
    f[12] = 0x88;
    f[13] = 0xb5;
    return f;
  };
  for (const bool v6 : {false, true}) {
    const std::string c = v6 ? "2001:db8:1::1" : client, s = v6 ? "2001:db8:2::7" : server;
    const auto data = [&](const std::string& from, const std::string& to, std::uint16_t sp, std::uint16_t dp,
                          std::uint32_t seq, std::uint32_t ack, const ByteVec& payload, std::uint8_t ttl) {
      Tins::TCP tcp(dp, sp);
      tcp.flags(Tins::TCP::PSH | Tins::TCP::ACK);
      tcp.seq(seq);
      tcp.ack_seq(ack);
      tcp /= Tins::RawPDU(payload);
      return pb::frame(pb::Link::ethernet, pb::ip_packet(from, to, tcp, {.ttl = ttl}));
    };
    cw::Pcap pcap(false, cw::magic_ns, link_type::ethernet, 262144);
    std::int64_t now = t0;
    std::size_t end = 24;  // the file header
    const auto put = [&](const ByteVec& frame, std::int64_t after_ns) {
      now += after_ns;
      pcap.record({static_cast<std::uint32_t>(now / sec), static_cast<std::uint32_t>(now % sec), frame});
      end += 16 + frame.size();
    };
    put(pb::frame(pb::Link::ethernet, pb::make_syn(c, s, cport, sport, isn)), 0);
    put(pb::frame(pb::Link::ethernet, pb::make_syn_ack(s, c, sport, cport, sisn, isn + 1, {.ttl = 60, .id = 0})), 20 * ms);
    put(pb::frame(pb::Link::ethernet, pb::make_ack(c, s, cport, sport, isn + 1, sisn + 1)), ms / 10);
    const ByteVec request_frame = data(c, s, cport, sport, isn + 1, sisn + 1, request_bytes, 64);
    const std::size_t request_end = window - 40;  // the next record cannot fit after it
    while (end + 16 + 60000 + 16 + request_frame.size() <= request_end) put(filler(60000), 10);
    put(filler(request_end - end - 16 - 16 - request_frame.size()), 10);
    put(request_frame, ms);
    REQUIRE(end == request_end);
    put(filler(60000), 10);
    put(filler(60000), 10);
    const std::string reply = "HTTP/1.1 200 OK\r\n\r\n";
    put(data(s, c, sport, cport, sisn + 1, isn + 1 + static_cast<std::uint32_t>(request.size()),
             ByteVec(reply.begin(), reply.end()), 60),
        20 * ms);
    cw::TempDir dir;
    const std::string path = dir.write("edge.pcap", pcap.bytes());
    const AnalysisReport report = analyze_capture(OfflineOptions{path, std::nullopt});
    REQUIRE(report.attempts.size() == 1);
    const Judgement& j = report.attempts.front().judgement;
    CHECK(j.verdict == Verdict::open);
    CHECK(j.stage == Stage::request);
    REQUIRE(j.trigger);
    CHECK(*j.trigger == "window-edge.example");
  }
}

// Without details (a listing without -v, a summary) judging writes no sentences; what it
// decides must not change: the same verdict, rule, actor, hop, confidence and signals, in
// the same order, on every sample capture.
TEST_CASE("judging without the evidence's sentences decides exactly as with them", "[analyzer][details]") {
  std::size_t attempts = 0, sentences = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SYNPROBE_SOURCE_DIR "/samples")) {
    const std::filesystem::path file = entry.path() / "capture.pcapng";
    if (!std::filesystem::exists(file)) continue;
    OfflineOptions with{file.string(), std::nullopt};
    OfflineOptions without = with;
    without.details = false;
    const AnalysisReport a = analyze_capture(with), b = analyze_capture(without);
    REQUIRE(a.attempts.size() == b.attempts.size());
    for (std::size_t i = 0; i < a.attempts.size(); ++i) {
      const Judgement& x = a.attempts[i].judgement;
      const Judgement& y = b.attempts[i].judgement;
      INFO(file.string() << " attempt " << i + 1);
      CHECK(x.verdict == y.verdict);
      CHECK(x.rule == y.rule);
      CHECK(x.stage == y.stage);
      CHECK(x.actor == y.actor);
      CHECK(x.hop == y.hop);
      CHECK(x.responder == y.responder);
      CHECK(x.confidence == y.confidence);
      CHECK(x.cause == y.cause);
      REQUIRE(x.evidence.size() == y.evidence.size());
      for (std::size_t k = 0; k < x.evidence.size(); ++k) {
        CHECK(x.evidence[k].signal == y.evidence[k].signal);
        CHECK(!x.evidence[k].detail.empty());
        CHECK(y.evidence[k].detail.empty());
        ++sentences;
      }
      CHECK(y.to_settle.empty());
      ++attempts;
    }
  }
  CHECK(attempts > 50);
  CHECK(sentences > 150);
}
