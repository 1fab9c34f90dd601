// PcapngWriter: the evidence file of a live run, read back by the project's own reader and,
// when it is installed, by tshark.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "capture/capture_file.hpp"
#include "capture/pcapng_writer.hpp"
#include "capture_writer.hpp"
#include "dissect/decode/decode.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::t0;

namespace {

struct Written {
  std::uint32_t interface;
  std::uint16_t link_type;
  std::int64_t ts_ns;
  ByteVec data;
  std::uint32_t wire_length;
  std::string comment;
};

std::vector<Written> sample_packets(std::uint32_t eth, std::uint32_t raw) {
  const ByteVec syn = pb::make_syn("10.0.0.1", "192.0.2.7", 33000, 81, 1000);
  const ByteVec rst = pb::make_rst("192.0.2.7", "10.0.0.1", 81, 33000, 0, 1001, true, {.ttl = 61});
  return {
      // Nanosecond timestamps that microseconds would lose; comments of lengths 4k, 4k+1..4k+3 for padding.
      {eth, link_type::ethernet, t0 + 123'456'789, pb::frame(pb::Link::ethernet, syn),
       static_cast<std::uint32_t>(pb::frame(pb::Link::ethernet, syn).size()), "probe: SYN to 192.0.2.7:81"},
      {raw, link_type::raw, t0 + 123'456'790, rst, static_cast<std::uint32_t>(rst.size()), "answer: RST/ACK"},
      {raw, link_type::raw, t0 + 2'000'000'001, syn, static_cast<std::uint32_t>(syn.size()), ""},
      // Snapped: 20 bytes kept of the whole SYN.
      {eth, link_type::ethernet, t0 + 3'000'000'003, ByteVec(syn.begin(), syn.begin() + 20),
       static_cast<std::uint32_t>(syn.size() + 14), "snapped; odd-length comment: é"},
  };
}

// Runs a command and returns its standard output.
std::string output_of(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
  ::pclose(p);
  return out;
}

bool on_path(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("pcapng writer: two link types, nanosecond times and bytes read back", "[pcapng]") {
  PcapngWriter w("synprobe test");
  const std::uint32_t eth = w.add_interface(link_type::ethernet, "eth0");
  const std::uint32_t raw = w.add_interface(link_type::raw, "tun0");
  CHECK(eth == 0);
  CHECK(raw == 1);
  const auto packets = sample_packets(eth, raw);
  for (const Written& p : packets)
    w.add_packet(p.interface, Timestamp{p.ts_ns}, Bytes(p.data.data(), p.data.size()), p.wire_length, p.comment);
  CHECK(w.view().size() == w.bytes().size());
  CHECK(w.bytes().size() % 4 == 0);  // every block is padded to 32 bits

  cw::TempDir dir;
  const std::string path = dir.write("run.pcapng", w.bytes());
  CaptureFileReader reader(path);
  CHECK(std::string(reader.format()) == "pcapng");
  RawFrame f;
  for (const Written& p : packets) {
    INFO("packet at " << p.ts_ns);
    REQUIRE(reader.next(f));
    CHECK(f.ts.ns == p.ts_ns);
    CHECK(f.interface_id == p.interface);
    CHECK(f.link_type == p.link_type);
    CHECK(f.wire_length == p.wire_length);
    CHECK(ByteVec(f.data.begin(), f.data.end()) == p.data);
  }
  CHECK_FALSE(reader.next(f));
  CHECK_FALSE(reader.damage().has_value());
  CHECK(reader.link_types() == std::vector<std::uint16_t>{link_type::ethernet, link_type::raw});
  CHECK(reader.bytes_consumed() == w.bytes().size());

  // The frames decode to the packets written.
  RawFrame none;
  CaptureFileReader again(path);
  REQUIRE(again.next(none));
  DecodedPacket d;
  CHECK(decode_frame(none.link_type, none.data, d) == DecodeStatus::ok);
  CHECK(d.tcp.dport == 81);
}

TEST_CASE("pcapng writer: a wire length shorter than the data is raised to it", "[pcapng]") {
  PcapngWriter w("synprobe test");
  const std::uint32_t raw = w.add_interface(link_type::raw, "");
  const ByteVec syn = pb::make_syn("10.0.0.1", "192.0.2.7", 33000, 81, 1000);
  w.add_packet(raw, Timestamp{t0}, Bytes(syn.data(), syn.size()), 0);
  cw::TempDir dir;
  CaptureFileReader reader(dir.write("short.pcapng", w.bytes()));
  RawFrame f;
  REQUIRE(reader.next(f));
  CHECK(f.wire_length == syn.size());
  CHECK(f.data.size() == syn.size());
}

TEST_CASE("pcapng writer: tshark reads the packet comments", "[pcapng][tshark]") {
  if (!on_path("tshark")) {
    WARN("tshark is not installed: comment check skipped");
    SUCCEED();
    return;
  }
  PcapngWriter w("synprobe test");
  const std::uint32_t eth = w.add_interface(link_type::ethernet, "eth0");
  const std::uint32_t raw = w.add_interface(link_type::raw, "tun0");
  const auto packets = sample_packets(eth, raw);
  for (const Written& p : packets)
    w.add_packet(p.interface, Timestamp{p.ts_ns}, Bytes(p.data.data(), p.data.size()), p.wire_length, p.comment);
  cw::TempDir dir;
  const std::string path = dir.write("run.pcapng", w.bytes());
  const std::string out = output_of("tshark -n -r '" + path + "' -T fields -e frame.comment 2>/dev/null");
  std::istringstream lines(out);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  INFO(out);
  REQUIRE(got.size() == packets.size());
  for (std::size_t i = 0; i < packets.size(); ++i) CHECK(got[i] == packets[i].comment);

  // And the nanosecond timestamps, which tshark prints as epoch seconds with 9 decimals.
  const std::string times = output_of("tshark -n -r '" + path + "' -T fields -e frame.time_epoch 2>/dev/null");
  CHECK_THAT(times, Catch::Contains("1767225600.123456789"));
  CHECK_THAT(times, Catch::Contains("1767225602.000000001"));
}
