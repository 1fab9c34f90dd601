// CaptureFileReader on pcap/pcapng files written here byte by byte, and BpfFilter.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "capture/bpf_filter.hpp"
#include "capture/capture_file.hpp"
#include "capture_writer.hpp"
#include "dissect/decode/decode.hpp"
#include "dissect/decode/error.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using cw::ByteVec;

namespace {

constexpr std::uint32_t epoch = 1'767'225'600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t ns_per_s = 1'000'000'000;

ByteVec eth_syn(std::uint16_t dport = 443) {
  return pb::frame(pb::Link::ethernet, pb::make_syn("10.0.0.1", "192.0.2.7", 40000, dport, 1));
}
ByteVec raw_syn(std::uint16_t dport = 443) {
  return pb::make_syn("10.0.0.1", "192.0.2.7", 40000, dport, 1);
}

struct Read {
  std::vector<RawFrame> frames;
  std::vector<ByteVec> data;  // copies: a frame's view dies with the next call
  std::optional<std::string> damage;
  std::string format;
  std::vector<std::uint16_t> link_types;
};

Read read_all(const std::string& path) {
  CaptureFileReader reader(path);
  Read r;
  RawFrame f;
  for (int guard = 0; guard < 10000 && reader.next(f); ++guard) {
    r.frames.push_back(f);
    r.data.emplace_back(f.data.begin(), f.data.end());
  }
  CHECK_FALSE(reader.next(f));  // stays at the end
  r.damage = reader.damage();
  r.format = reader.format();
  r.link_types = reader.link_types();
  return r;
}

void require_unreadable(const std::string& path) {
  try {
    CaptureFileReader reader(path);
    FAIL("no Failure for " << path);
  } catch (const Failure& f) {
    CHECK(f.code() == ExitCode::input_unreadable);
    CHECK(std::string(f.what()).size() > 0);
  }
}

}  // namespace

TEST_CASE("pcap in both byte orders, micro- and nanosecond", "[capture][pcap]") {
  const bool big_endian = GENERATE(false, true);
  const bool nano = GENERATE(false, true);
  CAPTURE(big_endian, nano);
  const std::uint32_t fraction1 = nano ? 123'456'789 : 123'456;
  const std::uint32_t fraction2 = nano ? 999'999'999 : 999'999;
  const std::int64_t unit = nano ? 1 : 1000;
  cw::Pcap pcap(big_endian, nano ? cw::magic_ns : cw::magic_us, link_type::ethernet);
  pcap.record({epoch, fraction1, eth_syn(443), 0});
  pcap.record({epoch + 1, fraction2, eth_syn(80), 1514});
  cw::TempDir dir;
  const Read r = read_all(dir.write("a.pcap", pcap.bytes()));
  CHECK_FALSE(r.damage.has_value());
  CHECK(r.format == "pcap");
  CHECK(r.link_types == std::vector<std::uint16_t>{link_type::ethernet});
  REQUIRE(r.frames.size() == 2);
  CHECK(r.frames[0].ts.ns == epoch * ns_per_s + fraction1 * unit);
  CHECK(r.frames[1].ts.ns == (epoch + 1) * ns_per_s + fraction2 * unit);
  CHECK(r.data[0] == eth_syn(443));
  CHECK(r.data[1] == eth_syn(80));
  CHECK(r.frames[0].link_type == link_type::ethernet);
  CHECK(r.frames[0].wire_length == eth_syn().size());
  CHECK(r.frames[1].wire_length == 1514);
}

TEST_CASE("pcap: the link-type field's FCS bits are not part of the type", "[capture][pcap]") {
  cw::Pcap pcap(false, cw::magic_us, 0x10000000u | link_type::raw);
  pcap.record({epoch, 0, raw_syn(), 0});
  cw::TempDir dir;
  const Read r = read_all(dir.write("fcs.pcap", pcap.bytes()));
  REQUIRE(r.frames.size() == 1);
  CHECK(r.frames[0].link_type == link_type::raw);
}

TEST_CASE("Kuznetsov's modified pcap", "[capture][pcap]") {
  const bool big_endian = GENERATE(false, true);
  cw::Pcap pcap(big_endian, cw::magic_kuznetsov, link_type::ethernet);
  pcap.record({epoch, 250'000, eth_syn(443), 0});
  pcap.record({epoch, 500'000, eth_syn(80), 0});
  cw::TempDir dir;
  const Read r = read_all(dir.write("k.pcap", pcap.bytes()));
  CHECK_FALSE(r.damage.has_value());
  REQUIRE(r.frames.size() == 2);
  CHECK(r.data[0] == eth_syn(443));
  CHECK(r.data[1] == eth_syn(80));
  CHECK(r.frames[1].ts.ns == epoch * ns_per_s + 500'000'000);
}

TEST_CASE("pcapng: two sections of different byte order", "[capture][pcapng]") {
  cw::Pcapng ng(false);
  ng.interface(link_type::ethernet);
  ng.enhanced(0, static_cast<std::uint64_t>(epoch) * 1'000'000 + 1, eth_syn(443));
  ng.section(true);
  ng.interface(link_type::raw);
  ng.enhanced(0, static_cast<std::uint64_t>(epoch) * 1'000'000 + 2, raw_syn(80));
  cw::TempDir dir;
  const Read r = read_all(dir.write("two-sections.pcapng", ng.bytes()));
  CHECK_FALSE(r.damage.has_value());
  CHECK(r.format == "pcapng");
  REQUIRE(r.frames.size() == 2);
  CHECK(r.frames[0].link_type == link_type::ethernet);
  CHECK(r.frames[1].link_type == link_type::raw);
  CHECK(r.data[0] == eth_syn(443));
  CHECK(r.data[1] == raw_syn(80));
  CHECK(r.frames[0].ts.ns == epoch * ns_per_s + 1000);
  CHECK(r.frames[1].ts.ns == epoch * ns_per_s + 2000);
  CHECK(r.link_types.size() == 2);
}

TEST_CASE("pcapng: two interfaces with their own link type, resolution and offset",
          "[capture][pcapng]") {
  const bool big_endian = GENERATE(false, true);
  CAPTURE(big_endian);
  cw::Pcapng ng(big_endian);
  cw::Out offset = ng.out();
  offset.u64(100);  // if_tsoffset: 100 s
  ng.interface(link_type::ethernet, 262144, {{9, {9}}});            // if_tsresol 10^-9
  ng.interface(link_type::raw, 262144, {{9, {0x80 | 20}}, {14, offset.bytes}});  // 2^-20, +100 s
  const std::uint64_t ns_units = static_cast<std::uint64_t>(epoch) * 1'000'000'000 + 123'456'789;
  const std::uint64_t binary_units = (static_cast<std::uint64_t>(epoch) << 20) + (1u << 19);  // +0.5 s
  ng.enhanced(0, ns_units, eth_syn(443));
  ng.enhanced(1, binary_units, raw_syn(80));
  cw::TempDir dir;
  const Read r = read_all(dir.write("two-interfaces.pcapng", ng.bytes()));
  CHECK_FALSE(r.damage.has_value());
  REQUIRE(r.frames.size() == 2);
  CHECK(r.frames[0].link_type == link_type::ethernet);
  CHECK(r.frames[0].interface_id == 0);
  CHECK(r.frames[0].ts.ns == epoch * ns_per_s + 123'456'789);
  CHECK(r.frames[1].link_type == link_type::raw);
  CHECK(r.frames[1].interface_id == 1);
  CHECK(r.frames[1].ts.ns == (epoch + 100) * ns_per_s + 500'000'000);
  CHECK(r.data[1] == raw_syn(80));
  CHECK(r.link_types == std::vector<std::uint16_t>{link_type::ethernet, link_type::raw});
}

TEST_CASE("pcapng: simple and obsolete packet blocks, unknown blocks skipped",
          "[capture][pcapng]") {
  cw::Pcapng ng(false);
  ng.interface(link_type::raw);
  ng.block(0x0badf00d, ByteVec(8, 0xee));  // some custom block: skipped
  const ByteVec odd = raw_syn(443);        // 60 bytes; make it 61 to exercise padding
  ByteVec odd61 = odd;
  odd61.push_back(0xab);
  ng.simple(odd61);
  ng.obsolete(0, static_cast<std::uint64_t>(epoch) * 1'000'000 + 7, raw_syn(80));
  cw::TempDir dir;
  const Read r = read_all(dir.write("spb-opb.pcapng", ng.bytes()));
  CHECK_FALSE(r.damage.has_value());
  REQUIRE(r.frames.size() == 2);
  CHECK(r.data[0] == odd61);  // the padding is not data
  CHECK(r.frames[0].link_type == link_type::raw);
  CHECK(r.frames[1].ts.ns == epoch * ns_per_s + 7000);
  CHECK(r.data[1] == raw_syn(80));
}

TEST_CASE("pcapng: a simple packet block cut by the snapshot length keeps no padding",
          "[capture][pcapng]") {
  // RFC draft: captured length = min(original length, snaplen). 50 bytes are stored (padded
  // to 52); the packet was 60 bytes on the wire.
  cw::Pcapng ng(false);
  ng.interface(link_type::raw, 50);
  const ByteVec full = raw_syn(443);
  const ByteVec cut(full.begin(), full.begin() + 50);
  ng.simple(cut, static_cast<std::uint32_t>(full.size()));
  cw::TempDir dir;
  const Read r = read_all(dir.write("spb-snaplen.pcapng", ng.bytes()));
  REQUIRE(r.frames.size() == 1);
  CHECK(r.data[0].size() == 50);
  CHECK(r.frames[0].wire_length == full.size());
}

TEST_CASE("damage part-way keeps the packets before it", "[capture][damage]") {
  cw::TempDir dir;
  SECTION("pcap: the last record is cut short") {
    cw::Pcap pcap(false, cw::magic_us, link_type::ethernet);
    pcap.record({epoch, 1, eth_syn(443), 0});
    pcap.record({epoch, 2, eth_syn(80), 0});
    ByteVec bytes = pcap.bytes();
    bytes.resize(bytes.size() - 10);
    const Read r = read_all(dir.write("cut.pcap", bytes));
    REQUIRE(r.frames.size() == 1);
    CHECK(r.data[0] == eth_syn(443));
    REQUIRE(r.damage.has_value());
    CHECK(r.damage->find("after 1 packet") != std::string::npos);
  }
  SECTION("pcap: the file ends inside a record header") {
    cw::Pcap pcap(false, cw::magic_us, link_type::ethernet);
    pcap.record({epoch, 1, eth_syn(443), 0});
    ByteVec bytes = pcap.bytes();
    bytes.insert(bytes.end(), {1, 2, 3, 4, 5});
    const Read r = read_all(dir.write("cut-header.pcap", bytes));
    CHECK(r.frames.size() == 1);
    CHECK(r.damage.has_value());
  }
  SECTION("pcap: a bogus captured length") {
    cw::Pcap pcap(false, cw::magic_us, link_type::ethernet, 65535);
    pcap.record({epoch, 1, eth_syn(443), 0});
    pcap.record_with_caplen({epoch, 2, eth_syn(80), 0}, 0x7fffffff);
    const Read r = read_all(dir.write("bogus.pcap", pcap.bytes()));
    REQUIRE(r.frames.size() == 1);
    REQUIRE(r.damage.has_value());
    CHECK(r.damage->find("2147483647") != std::string::npos);
  }
  SECTION("pcapng: a block length that is not a multiple of 4") {
    cw::Pcapng ng(false);
    ng.interface(link_type::raw);
    ng.enhanced(0, 1, raw_syn(443));
    ng.block(6, ByteVec(30, 0), 42, 42);
    ng.enhanced(0, 2, raw_syn(80));
    const Read r = read_all(dir.write("len.pcapng", ng.bytes()));
    REQUIRE(r.frames.size() == 1);
    CHECK(r.data[0] == raw_syn(443));
    CHECK(r.damage.has_value());
  }
  SECTION("pcapng: mismatched trailing length") {
    cw::Pcapng ng(false);
    ng.interface(link_type::raw);
    ng.enhanced(0, 1, raw_syn(443));
    ng.block(6, ByteVec(32, 0), 0, 48);
    const Read r = read_all(dir.write("trail.pcapng", ng.bytes()));
    CHECK(r.frames.size() == 1);
    REQUIRE(r.damage.has_value());
    CHECK(r.damage->find("mismatched") != std::string::npos);
  }
  SECTION("pcapng: a packet names an interface the section never described") {
    cw::Pcapng ng(false);
    ng.interface(link_type::raw);
    ng.enhanced(0, 1, raw_syn(443));
    ng.enhanced(5, 2, raw_syn(80));
    const Read r = read_all(dir.write("iface.pcapng", ng.bytes()));
    CHECK(r.frames.size() == 1);
    REQUIRE(r.damage.has_value());
    CHECK(r.damage->find("interface 5") != std::string::npos);
  }
  SECTION("pcapng: interface ids restart in a new section") {
    cw::Pcapng ng(false);
    ng.interface(link_type::raw);
    ng.interface(link_type::ethernet);
    ng.enhanced(1, 1, eth_syn(443));
    ng.section(false);
    ng.interface(link_type::raw);
    ng.enhanced(1, 2, raw_syn(80));  // only interface 0 exists here
    const Read r = read_all(dir.write("restart.pcapng", ng.bytes()));
    CHECK(r.frames.size() == 1);
    CHECK(r.damage.has_value());
  }
  SECTION("pcapng: an EPB claiming more bytes than it holds") {
    cw::Pcapng ng(false);
    ng.interface(link_type::raw);
    cw::Out body = ng.out();
    body.u32(0);
    body.u32(0);
    body.u32(1);
    body.u32(4000);  // captured length
    body.u32(4000);
    body.raw(ByteVec(16, 0x45));
    ng.block(6, body.bytes);
    const Read r = read_all(dir.write("claims.pcapng", ng.bytes()));
    CHECK(r.frames.empty());
    CHECK(r.damage.has_value());
  }
}

TEST_CASE("files that are not captures are refused with input_unreadable", "[capture][errors]") {
  cw::TempDir dir;
  SECTION("empty file") { require_unreadable(dir.write("empty", {})); }
  SECTION("three bytes") { require_unreadable(dir.write("three", {0xd4, 0xc3, 0xb2})); }
  SECTION("unknown magic") {
    require_unreadable(dir.write("text", ByteVec{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'}));
  }
  SECTION("a pcap header cut short") {
    cw::Pcap pcap(false, cw::magic_us, link_type::ethernet);
    ByteVec head(pcap.bytes().begin(), pcap.bytes().begin() + 10);
    require_unreadable(dir.write("short.pcap", head));
  }
  SECTION("pcap version 1") {
    cw::Pcap pcap(false, cw::magic_us, link_type::ethernet);
    ByteVec bytes = pcap.bytes();
    bytes[4] = 1;
    require_unreadable(dir.write("v1.pcap", bytes));
  }
  SECTION("a directory") { require_unreadable(dir.path().string()); }
  SECTION("a missing file") { require_unreadable(dir.file("does-not-exist.pcap")); }
}

// ------------------------------------------------------------------ BPF

namespace {
RawFrame frame_of(const ByteVec& bytes, std::uint16_t link) {
  RawFrame f;
  f.link_type = link;
  f.data = Bytes(bytes.data(), bytes.size());
  f.wire_length = static_cast<std::uint32_t>(bytes.size());
  return f;
}
}  // namespace

TEST_CASE("BPF filters match per link type", "[capture][bpf]") {
  BpfFilter filter("tcp dst port 443 and host 192.0.2.7");
  CHECK(filter.expression() == "tcp dst port 443 and host 192.0.2.7");
  const ByteVec e443 = eth_syn(443), e80 = eth_syn(80);
  CHECK(filter.matches(frame_of(e443, link_type::ethernet)));
  CHECK_FALSE(filter.matches(frame_of(e80, link_type::ethernet)));

  SECTION("raw IP links (DLT_RAW 12 and LINKTYPE_RAW 101)") {
    const ByteVec r443 = raw_syn(443), r80 = raw_syn(80);
    CHECK(filter.matches(frame_of(r443, link_type::raw_dlt12)));
    CHECK_FALSE(filter.matches(frame_of(r80, link_type::raw_dlt12)));
    CHECK(filter.matches(frame_of(r443, link_type::raw)));
    CHECK_FALSE(filter.matches(frame_of(r80, link_type::raw)));
  }
  SECTION("raw IPv4 link (228)") {
    const ByteVec r443 = raw_syn(443), r80 = raw_syn(80);
    CHECK(filter.matches(frame_of(r443, link_type::ipv4)));
    CHECK_FALSE(filter.matches(frame_of(r80, link_type::ipv4)));
  }
  SECTION("Linux cooked capture") {
    const ByteVec s443 = pb::frame(pb::Link::sll, raw_syn(443));
    CHECK(filter.matches(frame_of(s443, link_type::linux_sll)));
  }
}

TEST_CASE("BPF: an expression that does not apply to a link type matches nothing there",
          "[capture][bpf]") {
  BpfFilter vlan("vlan");
  const ByteVec tagged = pb::frame(pb::Link::dot1q, raw_syn());
  CHECK(vlan.matches(frame_of(tagged, link_type::ethernet)));
  const ByteVec r = raw_syn();
  CHECK_FALSE(vlan.matches(frame_of(r, link_type::raw_dlt12)));
  CHECK_FALSE(vlan.matches(frame_of(r, link_type::raw)));
}

TEST_CASE("BPF: a bad expression is a usage error", "[capture][bpf]") {
  const std::string bad = GENERATE(std::string("tcp port"), std::string("host 999.1.1.1"),
                                   std::string("nonsense words here"));
  CAPTURE(bad);
  try {
    BpfFilter f(bad);
    FAIL("no Failure");
  } catch (const Failure& e) {
    CHECK(e.code() == ExitCode::usage);
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
  }
}
