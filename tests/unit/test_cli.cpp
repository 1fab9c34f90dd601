// The command line in-process: exit codes, stdout/stderr, output files and colour.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "capture_writer.hpp"
#include "cli.hpp"
#include "dissect/decode/decode.hpp"
#include "packet_builder.hpp"
#include "python_json.hpp"

using namespace synprobe;
using pb::ms;

namespace {

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

Run cli(const std::vector<std::string>& args, bool no_color = false, bool terminal = false) {
  std::ostringstream out, err;
  Environment env{out, err, terminal, no_color, false};
  Run r;
  r.code = run(args, env);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::size_t lines_in(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

constexpr std::uint32_t epoch = 1'767'225'600;

// A raw-IP pcap: SYN to port 81 answered by RST/ACK with TTL 60 (host at hop 5, no baseline
// → refused-by-host), and a SYN to 443 answered by SYN/ACK (open).
cw::ByteVec scenario_pcap() {
  cw::Pcap pcap(false, cw::magic_us, link_type::raw);
  pcap.record({epoch, 0, pb::make_syn("10.0.0.1", "192.0.2.7", 40000, 81, 100), 0});
  pcap.record({epoch, 20'000, pb::make_rst("192.0.2.7", "10.0.0.1", 81, 40000, 0, 101, true, {.ttl = 60}), 0});
  pcap.record({epoch + 1, 0, pb::make_syn("10.0.0.1", "192.0.2.7", 40001, 443, 500), 0});
  pcap.record({epoch + 1, 30'000, pb::make_syn_ack("192.0.2.7", "10.0.0.1", 443, 40001, 9000, 501, {.ttl = 60}), 0});
  return pcap.bytes();
}

}  // namespace

TEST_CASE("cli: --version and --help", "[cli]") {
  const Run v = cli({"--version"});
  CHECK(v.code == 0);
  CHECK(std::regex_search(v.out, std::regex(R"(^synprobe \d+\.\d+\.\d+\n)")));
  // Then the libraries: libpcap's own words (pcap_lib_version()), libtins, fmt.
  CHECK(std::regex_search(v.out, std::regex(R"(\nlibpcap version \d+\.\d+)")));
  CHECK(std::regex_search(v.out, std::regex(R"(\nlibtins \d+\.\d+)")));
  CHECK(std::regex_search(v.out, std::regex(R"(\nfmt \d+\.\d+\.\d+\n$)")));
  CHECK(v.err.empty());

  const Run h = cli({"--help"});
  CHECK(h.code == 0);
  CHECK(h.out.find("Exit codes") != std::string::npos);
  CHECK(h.out.find("analyze") != std::string::npos);
  for (const char* code : {"  2 ", "  3 ", "  4 ", "  7 "}) CHECK(h.out.find(code) != std::string::npos);

  const Run sub = cli({"analyze", "--help"});
  CHECK(sub.code == 0);
  CHECK(sub.out.find("Exit codes") != std::string::npos);
  CHECK(sub.out.find("--json") != std::string::npos);
}

TEST_CASE("cli: tcpdump's habits: -r FILE and -n", "[cli]") {
  cw::TempDir dir;
  const std::string capture = dir.write("s.pcap", scenario_pcap());
  const Run plain = cli({"analyze", capture});
  REQUIRE(plain.code == 0);
  CHECK(plain.out.find("2 connection attempts") != std::string::npos);

  // -r FILE reads the same file; -n changes nothing (addresses are always numeric).
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"analyze", "-r", capture}, {"analyze", "--read", capture}, {"analyze", capture, "-n"},
           {"analyze", "-n", "-r", capture}, {"analyze", capture, "--numeric"}}) {
    const Run r = cli(args);
    CHECK(r.code == 0);
    CHECK(r.out == plain.out);
    CHECK(r.err.empty());
  }
  // With -r, every positional word is filter, the first one included.
  const Run filtered = cli({"analyze", "-r", capture, "port", "81"});
  CHECK(filtered.code == 0);
  CHECK(filtered.out.find("1 connection attempt: 1 refused-by-host") != std::string::npos);
  CHECK(filtered.out.find("filter 'port 81' kept 2") != std::string::npos);
  // -r with -f and trailing words, or no file at all: usage errors.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"analyze", "-r", capture, "-f", "port 81", "tcp"}, {"analyze", "-n"}}) {
    const Run r = cli(args);
    CHECK(r.code == 2);
    CHECK(lines_in(r.err) == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli: usage errors exit 2 with one line on stderr", "[cli]") {
  cw::TempDir dir;
  const std::string capture = dir.write("s.pcap", scenario_pcap());
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"analyze"},
      {"analyze", capture, "--bogus"},
      {"bogus-command"},
      {"analyze", capture, "tcp", "port"},
      {"analyze", capture, "-f", "tcp port"},
      {"analyze", capture, "-f", "tcp", "port", "80"},  // both -f and trailing words
      {"analyze", capture, "--format", "bogus"},
      {"analyze", capture, "--color", "sometimes"},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    CAPTURE(joined);
    const Run r = cli(args);
    CHECK(r.code == 2);
    CHECK(lines_in(r.err) == 1);
    CHECK(r.err.rfind("synprobe: ", 0) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli: unreadable input exits 3", "[cli]") {
  cw::TempDir dir;
  const std::string text = dir.write("notes.txt", cw::ByteVec{'n', 'o', 't', ' ', 'a', ' ', 'c', 'a', 'p', 't', 'u', 'r', 'e', '\n'});
  for (const std::string& path : {dir.file("missing.pcap"), text, dir.path().string()}) {
    CAPTURE(path);
    const Run r = cli({"analyze", path});
    CHECK(r.code == 3);
    CHECK(lines_in(r.err) == 1);
    CHECK(r.err.find(path) != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("an unsupported link type") {
    cw::Pcap pcap(false, cw::magic_us, 105 /* 802.11 */);
    pcap.record({epoch, 0, cw::ByteVec(40, 0), 0});
    const Run r = cli({"analyze", dir.write("wifi.pcap", pcap.bytes())});
    CHECK(r.code == 3);
    CHECK(r.err.find("unsupported link type") != std::string::npos);
  }
}

TEST_CASE("cli: a damaged capture exits 4 after complete output", "[cli]") {
  cw::TempDir dir;
  cw::ByteVec bytes = scenario_pcap();
  bytes.resize(bytes.size() - 7);  // the last record (the SYN/ACK) is cut
  const std::string path = dir.write("cut.pcap", bytes);
  const Run r = cli({"analyze", path});
  CHECK(r.code == 4);
  CHECK(r.out.find("2 connection attempts") != std::string::npos);
  CHECK(r.out.find("input damaged") != std::string::npos);
  CHECK(lines_in(r.err) == 1);

  const Run j = cli({"analyze", path, "--json", "-o", dir.file("cut.json")});
  CHECK(j.code == 4);
  const auto check = pyjson::check(dir.file("cut.json"), R"(
assert d["input"]["complete"] is False
assert isinstance(d["input"]["damage"], str)
assert len(d["attempts"]) == 2
)");
  INFO(check.output);
  CHECK(check.ok);
}

TEST_CASE("cli: --json on a capture", "[cli]") {
  cw::TempDir dir;
  const std::string path = dir.write("s.pcap", scenario_pcap());
  const Run r = cli({"analyze", path, "--json"});
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  std::ofstream(dir.file("out.json")) << r.out;
  const auto check = pyjson::check(dir.file("out.json"), R"(
assert d["tool"] == "synprobe" and d["mode"] == "analyze"
a = {x["dport"]: x for x in d["attempts"]}
assert a[81]["verdict"] == "refused-by-host" and a[81]["hop"] == 5 and a[81]["actor"] == "host", a[81]
assert abs(a[81]["rtt_ms"] - 20.0) < 1e-6
assert a[443]["verdict"] == "open" and a[443]["hop"] == 5, a[443]
assert d["input"]["packets"] == 4 and d["input"]["complete"] is True
assert d["input"]["link_types"] == ["raw"], d["input"]["link_types"]
)");
  INFO(check.output);
  CHECK(check.ok);

  SECTION("--format json is the same renderer") {
    const Run f = cli({"analyze", path, "--format", "json"});
    CHECK(f.code == 0);
    CHECK(f.out.find("\"tool\": \"synprobe\"") != std::string::npos);
  }
  SECTION("a BPF filter as trailing words keeps only the matching attempt") {
    const Run f = cli({"analyze", path, "--json", "tcp", "port", "443"});
    REQUIRE(f.code == 0);
    std::ofstream(dir.file("filtered.json")) << f.out;
    const auto c = pyjson::check(dir.file("filtered.json"), R"(
assert [x["dport"] for x in d["attempts"]] == [443], d["attempts"]
assert d["input"]["filtered_out"] == 2 and d["input"]["filter"] == "tcp port 443", d["input"]
)");
    INFO(c.output);
    CHECK(c.ok);
  }
}

TEST_CASE("cli: --summary counts instead of listing", "[cli]") {
  cw::TempDir dir;
  const std::string path = dir.write("s.pcap", scenario_pcap());
  const Run text = cli({"analyze", path, "--summary"});
  REQUIRE(text.code == 0);
  CHECK(text.err.empty());
  CHECK(text.out.find("2 connection attempts; read 4 packets") == 0);
  CHECK(text.out.find("→") == std::string::npos);  // no line per attempt
  CHECK(text.out.find("\nrefused-by-host                  1   50.0%\n") != std::string::npos);
  CHECK(text.out.find("\n1 destination, the most attempts first:\n") != std::string::npos);
  CHECK(text.out.find("\n192.0.2.7             2     1") != std::string::npos);
  CHECK(text.out.find("\nhost           5  refused-by-host                  1  192.0.2.7\n") != std::string::npos);

  const Run json = cli({"analyze", path, "--summary", "--json"});
  REQUIRE(json.code == 0);
  std::ofstream(dir.file("summary.json")) << json.out;
  const auto check = pyjson::check(dir.file("summary.json"), R"(
s = d["summary"]
assert d["attempts"] == [] and s["attempts_listed"] is False, d
assert s["attempts"] == 2 and s["by_verdict"]["open"] == 1 and s["by_verdict"]["refused-by-host"] == 1, s
dst = s["destinations"]
assert dst["tracked"] == 1 and dst["untracked_attempts"] == 0 and dst["other_attempts"] == 0, dst
assert dst["top"] == [{"address": "192.0.2.7", "attempts": 2, "by_verdict": {"open": 1, "refused-by-host": 1,
    "refused-by-middlebox": 0, "injected-reset": 0, "icmp-unreachable": 0, "dropped": 0, "inconclusive": 0}}], dst
assert s["refusers"] == [{"actor": "host", "hop": 5, "verdict": "refused-by-host", "attempts": 1,
    "responders": ["192.0.2.7"], "more_responders": False}], s["refusers"]
assert d["input"]["packets"] == 4, d["input"]
)");
  INFO(check.output);
  CHECK(check.ok);

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"analyze", path, "--summary", "-F", "md"},
        std::vector<std::string>{"analyze", path, "--summary", "--report", dir.file("r.html")}}) {
    const Run r = cli(bad);
    CHECK(r.code == 2);
    CHECK(lines_in(r.err) == 1);
  }
}

TEST_CASE("cli: -o writes the file and nothing to stdout", "[cli]") {
  cw::TempDir dir;
  const std::string path = dir.write("s.pcap", scenario_pcap());
  const std::string out = dir.file("result.txt");
  const Run r = cli({"analyze", path, "-o", out});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  const std::string text = cw::read_file(out);
  CHECK(text.find("2 connection attempts: 1 open, 1 refused-by-host") != std::string::npos);

  const Run bad = cli({"analyze", path, "-o", dir.file("no/such/dir/result.txt")});
  CHECK(bad.code == 7);
  CHECK(lines_in(bad.err) == 1);
}

TEST_CASE("cli: colour", "[cli]") {
  cw::TempDir dir;
  const std::string path = dir.write("s.pcap", scenario_pcap());
  CHECK(cli({"analyze", path, "--color", "always"}, false).out.find('\x1b') != std::string::npos);
  CHECK(cli({"analyze", path, "--color", "always"}, true).out.find('\x1b') == std::string::npos);
  CHECK(cli({"analyze", path, "--color", "never"}, false, true).out.find('\x1b') == std::string::npos);
  CHECK(cli({"analyze", path}, false, true).out.find('\x1b') != std::string::npos);   // auto, terminal
  CHECK(cli({"analyze", path}, false, false).out.find('\x1b') == std::string::npos);  // auto, pipe
  CHECK(cli({"analyze", path, "--json", "--color", "always"}).out.find('\x1b') == std::string::npos);
}
