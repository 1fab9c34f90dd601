// JSON writer, the JSON and text renderers, and atomic output files.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "capture_writer.hpp"
#include "dissect/decode/error.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "packet_builder.hpp"
#include "python_json.hpp"
#include "reports/atomic_file.hpp"
#include "reports/json_writer.hpp"
#include "reports/renderer.hpp"

using namespace synprobe;
using pb::ms;
using pb::sec;
using pb::t0;

TEST_CASE("json_escape", "[reports][json]") {
  CHECK(json_escape("plain") == "plain");
  CHECK(json_escape("a\"b") == "a\\\"b");
  CHECK(json_escape("back\\slash") == "back\\\\slash");
  CHECK(json_escape("\n\r\t") == "\\n\\r\\t");
  CHECK(json_escape(std::string_view("\x00", 1)) == "\\u0000");
  CHECK(json_escape("\x01\x1f") == "\\u0001\\u001f");
  CHECK(json_escape("\x1b[31m") == "\\u001b[31m");
  CHECK(json_escape("caf\xc3\xa9 \xe2\x86\x92") == "caf\xc3\xa9 \xe2\x86\x92");  // UTF-8 as is
  CHECK(json_escape("/") == "/");
}

TEST_CASE("JsonWriter: nesting, commas and numbers", "[reports][json]") {
  JsonWriter w(false);
  w.begin_object();
  w.field("a", 1);
  w.key("b").begin_array().value(true).null().value("x\"y").value(false).end_array();
  w.key("c").begin_object().end_object();
  w.key("d").begin_array().end_array();
  w.field("e", std::uint64_t{18446744073709551615ull});
  w.field("f", std::int64_t{-9223372036854775807LL - 1});
  w.key("g").begin_array();
  w.number(1.5, 3).number(2.0, 2).number(12.3456, 3).number(-0.0001, 2).number(100, 0);
  w.number(std::numeric_limits<double>::quiet_NaN(), 2).number(std::numeric_limits<double>::infinity(), 2);
  w.end_array();
  w.end_object();
  CHECK(w.str() ==
        "{\"a\":1,\"b\":[true,null,\"x\\\"y\",false],\"c\":{},\"d\":[],"
        "\"e\":18446744073709551615,\"f\":-9223372036854775808,"
        "\"g\":[1.5,2,12.346,0,100,null,null]}\n");
}

// number() prints most values by integer arithmetic: it must round exactly as fmt does,
// trailing zeros trimmed, "-0" as "0".
TEST_CASE("JsonWriter: number() agrees with fmt's fixed-point", "[reports][json]") {
  auto via_fmt = [](double d, int decimals) {
    std::string text = fmt::format("{:.{}f}", d, decimals);
    if (text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
    return text == "-0" ? std::string("0") : text;
  };
  std::uint64_t state = 42;
  auto next = [&] {  // splitmix64: reproducible without <random>'s distributions
    state += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  for (int i = 0; i < 200000; ++i) {
    const int decimals = static_cast<int>(next() % 7);
    const double magnitude = std::pow(10.0, static_cast<double>(next() % 14) - 4);
    double d = static_cast<double>(next() >> 11) / 9007199254740992.0 * magnitude;
    if (next() % 3 == 0) d = std::round(d * 2000) / 2000;  // ties and near-ties
    if (next() % 4 == 0) d = -d;
    JsonWriter w(false);
    w.number(d, decimals);
    INFO(fmt::format("{:.17g} with {} decimals", d, decimals));
    REQUIRE(std::string(w.pending()) == via_fmt(d, decimals));
  }
}

TEST_CASE("JsonWriter: pretty output is valid JSON with the same content", "[reports][json]") {
  JsonWriter w(true);
  w.begin_object().field("name", "tab\there").key("list").begin_array();
  for (int i = 0; i < 3; ++i) w.begin_object().field("i", i).end_object();
  w.end_array().optional_field("none", std::optional<std::string>{}).end_object();
  const std::string text = w.str();
  CHECK(text.find('\n') < text.size() - 1);  // several lines
  cw::TempDir dir;
  const std::string path = dir.file("pretty.json");
  std::ofstream(path) << text;
  const auto r = pyjson::check(path, R"(
assert d == {"name": "tab\there", "list": [{"i": 0}, {"i": 1}, {"i": 2}], "none": None}, d
)");
  CHECK(r.output == "");
  CHECK(r.ok);
}

namespace {

// A small analysed capture: an IPv4 refusal by the host and an IPv6 open port.
AnalysisReport small_report() {
  Analyzer a;
  auto at = [&](std::int64_t ts, const pb::ByteVec& ip) { a.add(pb::packet_at(ip, ts)); };
  at(t0, pb::make_syn("10.0.0.1", "192.0.2.7", 40000, 81, 100));
  at(t0 + 20 * ms, pb::make_rst("192.0.2.7", "10.0.0.1", 81, 40000, 0, 101, true, {.ttl = 60}));
  at(t0 + 1 * sec, pb::make_syn("2001:db8:0:0::1", "2001:db8:1:0:0:0:0:7", 40001, 443, 500));
  at(t0 + 1 * sec + 30 * ms,
     pb::make_syn_ack("2001:db8:1::7", "2001:db8::1", 443, 40001, 9000, 501, {.ttl = 57}));
  AnalysisReport r;
  r.run.mode = "analyze";
  r.run.version = "9.8.7";
  r.run.command_line = "synprobe analyze 'x y.pcap'";
  r.run.started = Timestamp{t0};
  r.run.finished = Timestamp{t0 + 1};
  r.input.path = "x y.pcap";
  r.input.format = "pcap";
  r.input.link_types = {"raw"};
  r.input.packets = 4;
  r.input.decode[0] = 4;
  r.input.first_packet = a.first_packet();
  r.input.last_packet = a.last_packet();
  r.attempts = a.finish();
  return r;
}

}  // namespace

TEST_CASE("render_json keeps the contract", "[reports][json]") {
  const AnalysisReport report = small_report();
  REQUIRE(report.attempts.size() == 2);
  const std::string json = render_json(report, RenderOptions{});
  cw::TempDir dir;
  const std::string path = dir.file("report.json");
  std::ofstream(path) << json;
  const auto r = pyjson::check(path, R"(
num = (int, float)
assert d["tool"] == "synprobe", d["tool"]
assert d["version"] == "9.8.7"
assert d["mode"] == "analyze"
assert isinstance(d["attempts"], list) and len(d["attempts"]) == 2
assert d["input"]["complete"] is True
assert d["summary"]["attempts"] == 2
assert d["summary"]["by_verdict"]["refused-by-host"] == 1
assert d["summary"]["by_verdict"]["open"] == 1
for a in d["attempts"]:
    for k, t in [("src", str), ("sport", int), ("dst", str), ("dport", int), ("family", int),
                 ("syn_count", int), ("first_seen", str), ("verdict", str), ("actor", str),
                 ("confidence", num), ("evidence", list)]:
        assert isinstance(a[k], t), (k, a[k])
    for k in ["responder", "hop", "icmp", "rtt_ms"]:
        assert k in a, k
    assert a["responder"] is None or isinstance(a["responder"], str)
    assert a["hop"] is None or isinstance(a["hop"], int)
    assert a["icmp"] is None or isinstance(a["icmp"], dict)
    assert a["rtt_ms"] is None or isinstance(a["rtt_ms"], num)
    assert 0 <= a["confidence"] <= 1
    assert a["first_seen"].endswith("Z")
    for e in a["evidence"]:
        assert isinstance(e["signal"], str) and isinstance(e["detail"], str), e
v4, v6 = d["attempts"]
assert (v4["src"], v4["sport"], v4["dst"], v4["dport"], v4["family"]) == ("10.0.0.1", 40000, "192.0.2.7", 81, 4), v4
assert v4["verdict"] == "refused-by-host" and v4["actor"] == "host" and v4["hop"] == 5, v4
assert v4["responder"] == "192.0.2.7"
assert abs(v4["rtt_ms"] - 20.0) < 1e-6
assert v4["syn_count"] == 1
assert (v6["src"], v6["dst"], v6["family"]) == ("2001:db8::1", "2001:db8:1::7", 6), v6
assert v6["verdict"] == "open" and v6["hop"] == 64 - 57 + 1, v6
assert abs(v6["rtt_ms"] - 30.0) < 1e-6
)");
  INFO(r.output);
  CHECK(r.ok);
}

TEST_CASE("render_text: one line per attempt, then the summary", "[reports][text]") {
  const AnalysisReport report = small_report();
  const std::string plain = render_text(report, RenderOptions{false, false});
  CHECK(plain.find('\x1b') == std::string::npos);
  std::istringstream in(plain);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  std::size_t attempt_lines = 0;
  for (const std::string& l : lines)
    if (l.find(" \xe2\x86\x92 ") != std::string::npos) ++attempt_lines;  // " → "
  CHECK(attempt_lines == report.attempts.size());
  // Without -v, each attempt line is followed by its reason, in a few words.
  std::size_t reasons = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
    if (lines[i].find(" \xe2\x86\x92 ") != std::string::npos && lines[i + 1].rfind("    reason: ", 0) == 0) ++reasons;
  CHECK(reasons == report.attempts.size());
  CHECK(plain.find("    reason: syn-ack") != std::string::npos);
  CHECK(plain.find("    reason: a reset, weighed as the host's (no-baseline)") != std::string::npos);
  CHECK(plain.find("[2001:db8::1]:40001") != std::string::npos);
  CHECK(plain.find("10.0.0.1:40000") != std::string::npos);
  CHECK(plain.find("2 connection attempts: 1 open, 1 refused-by-host") != std::string::npos);
  CHECK(plain.find("read 4 packets") != std::string::npos);

  const std::string coloured = render_text(report, RenderOptions{true, false});
  CHECK(coloured.find('\x1b') != std::string::npos);

  const std::string verbose = render_text(report, RenderOptions{false, true});
  CHECK(verbose.find("- ttl-") == std::string::npos);  // no baseline in this capture
  CHECK(verbose.find("- no-baseline:") != std::string::npos);
  CHECK(verbose.find("confidence") != std::string::npos);
}

TEST_CASE("render_text of an empty capture", "[reports][text]") {
  AnalysisReport empty;
  empty.run.mode = "analyze";
  empty.input.path = "e.pcap";
  empty.input.format = "pcap";
  const std::string text = render_text(empty, RenderOptions{});
  CHECK(text.find("0 connection attempts") == 0);
  CHECK(text.find("\xe2\x86\x92") == std::string::npos);
}

TEST_CASE("renderers are listed and found by name", "[reports]") {
  REQUIRE(find_renderer("json") != nullptr);
  REQUIRE(find_renderer("text") != nullptr);
  CHECK(find_renderer("bogus") == nullptr);
  CHECK(renderers().size() >= 2);
}

TEST_CASE("write_file_atomically", "[reports][output]") {
  cw::TempDir dir;
  const std::string path = dir.file("out.json");
  auto read = [](const std::string& p) { return cw::read_file(p); };
  auto entries = [&]() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++n;
    return n;
  };
  const std::string big(1 << 20, 'x');
  write_file_atomically(path, big);
  CHECK(read(path) == big);
  write_file_atomically(path, "second\n");
  CHECK(read(path) == "second\n");
  CHECK(entries() == 1);  // no temporary left beside it

  SECTION("a path in a missing directory") {
    try {
      write_file_atomically(dir.file("missing/out.json"), "x");
      FAIL("no Failure");
    } catch (const Failure& f) {
      CHECK(f.code() == ExitCode::output);
      CHECK(std::string(f.what()).find("missing/out.json") != std::string::npos);
    }
    CHECK(entries() == 1);
  }
  SECTION("a failed replacement leaves the old content and no temporary") {
    // The target is a non-empty directory: the rename fails after the data was written.
    const std::string target = dir.file("taken");
    std::filesystem::create_directory(target);
    std::ofstream(target + "/keep") << "old";
    CHECK_THROWS_AS(write_file_atomically(target, "new"), Failure);
    CHECK(read(target + "/keep") == "old");
    CHECK(entries() == 2);
  }
}
