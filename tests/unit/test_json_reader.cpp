// Hostile JSON handed to `synprobe report` / `diff`: every problem is a Failure (exit 3),
// never another exception (exit 1) or undefined behaviour. The inputs the fuzzer found
// are kept in tests/fuzz/regressions/json_report-* (replayed by CTest fuzz.replay.*).
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dissect/decode/error.hpp"
#include "dissect/decode/timestamp.hpp"
#include "reports/json_reader.hpp"

using namespace synprobe;

namespace {

// The smallest document read_json_report accepts, with one field's text replaceable.
std::string document(const std::string& link_types = R"(["ethernet"])",
                     const std::string& started = R"("2026-01-01T00:00:00Z")") {
  return R"({"tool": "synprobe", "schema_version": "1.0", "mode": "analyze", "version": "0.1.0",
             "command": "synprobe analyze x.pcap", "started": )" + started + R"(,
             "finished": "2026-01-01T00:00:01Z", "interrupted": false,
             "input": {"file": "x.pcap", "format": "pcap", "link_types": )" + link_types + R"(,
                       "filter": null, "packets": 0, "bytes": 24, "filtered_out": 0, "decode": {}},
             "attempts": []})";
}

ExitCode code_of(const std::string& text) {
  try {
    (void)read_json_report(text, "hostile.json");
  } catch (const Failure& e) {
    return e.code();
  }
  return ExitCode::ok;
}

}  // namespace

TEST_CASE("read_json_report: the minimal document is read", "[reports][json][hostile]") {
  CHECK(code_of(document()) == ExitCode::ok);
}

TEST_CASE("read_json_report: a number too big for a double is bad input", "[reports][json][hostile]") {
  // nlohmann throws out_of_range (not parse_error) for it: fuzzer finding json_report-cb29640cdf40.
  CHECK(code_of("1E3535") == ExitCode::input_unreadable);
  CHECK(code_of(document(R"(["ethernet", 1E400])")) == ExitCode::input_unreadable);
}

TEST_CASE("read_json_report: a field of the wrong JSON type is bad input", "[reports][json][hostile]") {
  CHECK(code_of(document("[1]")) == ExitCode::input_unreadable);     // link type not a string
  CHECK(code_of(document("[null]")) == ExitCode::input_unreadable);
}

TEST_CASE("read_json_report: a time outside the 64-bit nanosecond range is bad input", "[reports][json][hostile]") {
  // Year 1012 overflowed seconds * 10^9 (UBSan): fuzzer finding json_report-bd80715498e9.
  CHECK(code_of(document("[]", R"("1012-01-01T00:00:00Z")")) == ExitCode::input_unreadable);
  CHECK(code_of(document("[]", R"("9999-12-31T23:59:59.999999999Z")")) == ExitCode::input_unreadable);
}

TEST_CASE("parse_iso8601: the ends of the Timestamp range", "[timestamp][hostile]") {
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t min = std::numeric_limits<std::int64_t>::min();
  CHECK(parse_iso8601(iso8601(Timestamp{max}))->ns == max);
  CHECK(parse_iso8601(iso8601(Timestamp{min}))->ns == min);
  CHECK(parse_iso8601("2262-04-11T23:47:16.854775807Z")->ns == max);
  CHECK_FALSE(parse_iso8601("2262-04-11T23:47:16.854775808Z"));
  CHECK_FALSE(parse_iso8601("1677-09-21T00:12:43.145224191Z"));
  CHECK_FALSE(parse_iso8601("0000-01-01T00:00:00Z"));
}

TEST_CASE("read_json_report: vantage (schema 1.1) is read, and a file without one still is", "[reports][json][merge]") {
  // A 1.0 file has no vantage: nothing is invented.
  CHECK_FALSE(read_json_report(document(), "old.json").vantage);
  std::string with = document();
  with.insert(with.rfind('}'), R"(, "vantage": {"name": "office", "host": "ws1", "sources": ["198.18.1.1"],
                                   "interfaces": ["eth0"], "first_hop": "198.18.1.2"})");
  const AnalysisReport r = read_json_report(with, "new.json");
  REQUIRE(r.vantage);
  CHECK(r.vantage->name == "office");
  CHECK(r.vantage->host == "ws1");
  CHECK(r.vantage->sources == std::vector<std::string>{"198.18.1.1"});
  CHECK(r.vantage->interfaces == std::vector<std::string>{"eth0"});
  CHECK(r.vantage->first_hop == "198.18.1.2");
  std::string bad = document();
  bad.insert(bad.rfind('}'), R"(, "vantage": {"name": 7})");
  CHECK(code_of(bad) == ExitCode::input_unreadable);
}
