// decode_frame / decode_ip / decode_quote: every link type, IPv4/IPv6 fields and
// extension headers, TCP options, ICMP quotes, and what survives truncation and damage.
#include <catch2/catch.hpp>

#include "dissect/decode/decode.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;
using pb::Link;

namespace {

const std::string client4 = "10.0.0.1";
const std::string server4 = "192.0.2.7";
const std::string client6 = "2001:db8::1";
const std::string server6 = "2001:db8:1::7";

constexpr std::uint32_t isn = 0x11223344;

ByteVec syn4(pb::IpOpts o = {.ttl = 61, .id = 4242, .df = true, .tos = 0x28}) {
  return pb::make_syn(client4, server4, 40000, 443, isn, o);
}
ByteVec syn6(std::uint8_t hop_limit = 57) {
  return pb::make_syn(client6, server6, 40001, 8443, isn, {.ttl = hop_limit});
}

// The whole SYN decoded right: what every link-layer test checks after the link header.
void require_syn(const pb::Decoded& d, bool v6) {
  REQUIRE(d.status == DecodeStatus::ok);
  REQUIRE(d.packet.has_ip);
  REQUIRE(d.packet.transport == Transport::tcp);
  CHECK(d.packet.ip.src == pb::addr(v6 ? client6 : client4));
  CHECK(d.packet.ip.dst == pb::addr(v6 ? server6 : server4));
  CHECK(d.packet.ip.protocol == ip_proto::tcp);
  CHECK(d.packet.tcp.sport == (v6 ? 40001 : 40000));
  CHECK(d.packet.tcp.dport == (v6 ? 8443 : 443));
  CHECK(d.packet.tcp.seq == isn);
  CHECK(d.packet.tcp.flags == tcp_flag::syn);
  CHECK(d.packet.tcp.options.has_mss);
}

// A raw TCP header (20 bytes + options) inside an IPv4 packet, for option and offset damage.
ByteVec ip_with_tcp_bytes(std::uint8_t data_offset_words, const ByteVec& options) {
  ByteVec tcp;
  pb::append16(tcp, 40000);
  pb::append16(tcp, 443);
  pb::append32(tcp, isn);
  pb::append32(tcp, 0);
  tcp.push_back(static_cast<std::uint8_t>(data_offset_words << 4));
  tcp.push_back(tcp_flag::syn);
  pb::append16(tcp, 1024);
  pb::append16(tcp, 0);
  pb::append16(tcp, 0);
  tcp.insert(tcp.end(), options.begin(), options.end());
  Tins::IP ip(server4, client4);
  ip.protocol(ip_proto::tcp);
  ip.ttl(64);
  return (ip / Tins::RawPDU(tcp)).serialize();
}

ByteVec cut(const ByteVec& bytes, std::size_t n) { return ByteVec(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)); }

}  // namespace

TEST_CASE("every supported link type carries an IPv4 and an IPv6 SYN", "[decode][link]") {
  const Link link = GENERATE(Link::ethernet, Link::dot1q, Link::qinq, Link::mpls, Link::pppoe,
                             Link::sll, Link::sll2, Link::raw, Link::null_le, Link::null_be,
                             Link::loop, Link::ppp, Link::ppp_no_ff03, Link::cisco_hdlc,
                             Link::nflog);
  const bool v6 = GENERATE(false, true);
  CAPTURE(static_cast<int>(link), v6);
  const ByteVec ip = v6 ? syn6() : syn4();
  const ByteVec f = pb::frame(link, ip);
  REQUIRE(f.size() >= ip.size());
  require_syn(pb::decode(pb::link_type_of(link), f), v6);
  CHECK(is_supported_link_type(pb::link_type_of(link)));
  CHECK_FALSE(link_type_name(pb::link_type_of(link)).empty());
}

TEST_CASE("raw IP link types 101, 12, 14, 228 and 229 start with the IP header", "[decode][link]") {
  const std::uint16_t link = GENERATE(link_type::raw, link_type::raw_dlt12, link_type::raw_dlt14,
                                      link_type::ipv4, link_type::ipv6);
  CAPTURE(link);
  require_syn(pb::decode(link, syn4()), false);
  require_syn(pb::decode(link, syn6()), true);
}

TEST_CASE("Ethernet frames carry the header bytes where the decoder looks", "[decode][link]") {
  // Guards the builder itself: the tags and labels really are in the frame.
  const ByteVec ip = syn4();
  const ByteVec vlan = pb::frame(Link::dot1q, ip);
  CHECK(vlan.size() == 14 + 4 + ip.size());
  CHECK(vlan[12] == 0x81);
  CHECK(vlan[13] == 0x00);
  const ByteVec qinq = pb::frame(Link::qinq, ip);
  CHECK(qinq.size() == 14 + 8 + ip.size());
  CHECK(qinq[12] == 0x88);
  CHECK(qinq[13] == 0xa8);
  const ByteVec mpls = pb::frame(Link::mpls, ip);
  CHECK(mpls.size() == 14 + 8 + ip.size());
  CHECK((mpls[16] & 0x01) == 0);  // first label is not bottom of stack
  CHECK((mpls[20] & 0x01) == 1);  // second label is
  const ByteVec sll2 = pb::frame(Link::sll2, ip);
  CHECK(sll2.size() == 20 + ip.size());
}

TEST_CASE("BSD NULL accepts AF 2/24/28/30 in either byte order, LOOP only in network order",
          "[decode][link]") {
  SECTION("IPv4, AF_INET = 2") {
    require_syn(pb::decode(link_type::null_bsd, pb::frame(Link::null_le, syn4(), 2)), false);
    require_syn(pb::decode(link_type::null_bsd, pb::frame(Link::null_be, syn4(), 2)), false);
    require_syn(pb::decode(link_type::loop, pb::frame(Link::loop, syn4(), 2)), false);
  }
  SECTION("IPv6 under the BSDs' several AF_INET6 values") {
    const std::uint32_t af = GENERATE(24u, 28u, 30u);
    CAPTURE(af);
    require_syn(pb::decode(link_type::null_bsd, pb::frame(Link::null_le, syn6(), af)), true);
    require_syn(pb::decode(link_type::null_bsd, pb::frame(Link::null_be, syn6(), af)), true);
    require_syn(pb::decode(link_type::loop, pb::frame(Link::loop, syn6(), af)), true);
  }
  SECTION("LOOP reads the family in network order only") {
    // 02 00 00 00 read big-endian is 0x02000000: no address family.
    CHECK(pb::decode(link_type::loop, pb::frame(Link::null_le, syn4(), 2)).status ==
          DecodeStatus::not_ip);
  }
  SECTION("a non-IP family is not IP") {
    CHECK(pb::decode(link_type::null_bsd, pb::frame(Link::null_le, syn4(), 7)).status ==
          DecodeStatus::not_ip);
  }
}

TEST_CASE("PPP with a compressed one-byte protocol field", "[decode][link]") {
  ByteVec f{0xff, 0x03, 0x21};
  const ByteVec ip = syn4();
  f.insert(f.end(), ip.begin(), ip.end());
  require_syn(pb::decode(link_type::ppp, f), false);
  CHECK(pb::decode(link_type::ppp_hdlc, f).status == DecodeStatus::ok);
  // LCP (0xc021) is PPP but not IP.
  ByteVec lcp{0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04};
  CHECK(pb::decode(link_type::ppp, lcp).status == DecodeStatus::not_ip);
}

TEST_CASE("NFLOG finds the payload TLV after other TLVs", "[decode][link]") {
  const ByteVec f = pb::frame(Link::nflog, syn4());
  // 4-byte header + hw-protocol TLV (8) + prefix TLV (9 → padded 12) + payload TLV header (4)
  REQUIRE(f.size() == 4 + 8 + 12 + 4 + syn4().size());
  require_syn(pb::decode(link_type::nflog, f), false);

  SECTION("a TLV length below 4 is malformed") {
    ByteVec bad = f;
    bad[4] = 2;  // first TLV claims 2 bytes
    bad[5] = 0;
    CHECK(pb::decode(link_type::nflog, bad).status == DecodeStatus::malformed);
  }
  SECTION("no payload TLV: the TLVs run out") {
    ByteVec only_header = cut(f, 4 + 8);
    CHECK(pb::decode(link_type::nflog, only_header).status == DecodeStatus::truncated);
  }
}

TEST_CASE("frames that carry no IP and link types we do not know", "[decode][link]") {
  SECTION("ARP over Ethernet") {
    const ByteVec arp = (Tins::EthernetII("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01") /
                         Tins::ARP("10.0.0.2", "10.0.0.1", "00:00:00:00:00:00", "02:00:00:00:00:01"))
                            .serialize();
    const auto d = pb::decode(link_type::ethernet, arp);
    CHECK(d.status == DecodeStatus::not_ip);
    CHECK_FALSE(d.packet.has_ip);
  }
  SECTION("ARP under Linux SLL2") {
    ByteVec f = pb::frame(Link::sll2, syn4());
    f[0] = 0x08;
    f[1] = 0x06;
    CHECK(pb::decode(link_type::linux_sll2, f).status == DecodeStatus::not_ip);
  }
  SECTION("MPLS with a non-IP payload after the bottom label") {
    ByteVec f = pb::frame(Link::mpls, syn4());
    f[22] = 0x00;  // first payload byte: version 0
    CHECK(pb::decode(link_type::ethernet, f).status == DecodeStatus::not_ip);
  }
  SECTION("Cisco HDLC keepalive (SLARP)") {
    ByteVec f = pb::frame(Link::cisco_hdlc, syn4());
    f[2] = 0x80;
    f[3] = 0x35;
    CHECK(pb::decode(link_type::cisco_hdlc, f).status == DecodeStatus::not_ip);
  }
  SECTION("raw link with a version nibble that is not 4 or 6") {
    ByteVec ip = syn4();
    ip[0] = 0x55;
    CHECK(pb::decode(link_type::raw, ip).status == DecodeStatus::not_ip);
  }
  SECTION("unsupported link types") {
    const std::uint16_t link = GENERATE(std::uint16_t{105}, std::uint16_t{127}, std::uint16_t{147},
                                        std::uint16_t{0xffff});
    CAPTURE(link);
    const auto d = pb::decode(link, syn4());
    CHECK(d.status == DecodeStatus::unsupported_link);
    CHECK_FALSE(d.packet.has_ip);
    CHECK_FALSE(is_supported_link_type(link));
    CHECK(link_type_name(link).empty());
  }
}

TEST_CASE("decode_status_name names every status", "[decode]") {
  CHECK(decode_status_name(DecodeStatus::ok) == "ok");
  CHECK(decode_status_name(DecodeStatus::not_ip) == "not-ip");
  CHECK(decode_status_name(DecodeStatus::unsupported_link) == "unsupported-link");
  CHECK(decode_status_name(DecodeStatus::truncated) == "truncated");
  CHECK(decode_status_name(DecodeStatus::malformed) == "malformed");
  CHECK(link_type_name(link_type::linux_sll2) == "linux-sll2");
  CHECK(link_type_name(link_type::raw_dlt12) == "raw");
}

// ------------------------------------------------------------------ IPv4

TEST_CASE("IPv4 header fields", "[decode][ipv4]") {
  const ByteVec ip = syn4({.ttl = 61, .id = 4242, .df = true, .tos = 0x28});
  const auto d = pb::decode(link_type::raw, ip);
  require_syn(d, false);
  CHECK(d.packet.ip.ttl == 61);
  CHECK(d.packet.ip.has_ip_id);
  CHECK(d.packet.ip.ip_id == 4242);
  CHECK(d.packet.ip.dont_fragment);
  CHECK(d.packet.ip.tos == 0x28);
  CHECK_FALSE(d.packet.ip.is_fragment);
  CHECK_FALSE(d.packet.ip.is_later_fragment);
  CHECK(d.packet.ip.header_length == 20);
  CHECK(d.packet.ip.total_length == ip.size());
  CHECK(d.packet.tcp.header_length == ip.size() - 20);
  CHECK(d.packet.tcp.payload_length == 0);

  const auto no_df = pb::decode(link_type::raw, syn4({.ttl = 128, .id = 0, .df = false, .tos = 0}));
  CHECK_FALSE(no_df.packet.ip.dont_fragment);
  CHECK(no_df.packet.ip.ttl == 128);
}

TEST_CASE("IPv4 options move the TCP header", "[decode][ipv4]") {
  ByteVec ip = syn4();
  // Insert one 4-byte option area (NOP NOP NOP EOL) and grow IHL and total length.
  ip.insert(ip.begin() + 20, {0x01, 0x01, 0x01, 0x00});
  ip[0] = 0x46;
  pb::put16(ip, 2, static_cast<std::uint16_t>(ip.size()));
  const auto d = pb::decode(link_type::raw, ip);
  require_syn(d, false);
  CHECK(d.packet.ip.header_length == 24);
}

TEST_CASE("IPv4 fragments: only the first carries the TCP header", "[decode][ipv4]") {
  ByteVec first = syn4({.ttl = 64, .id = 9, .df = false, .tos = 0});
  pb::put16(first, 6, 0x2000);  // MF, offset 0
  const auto d1 = pb::decode(link_type::raw, first);
  require_syn(d1, false);
  CHECK(d1.packet.ip.is_fragment);
  CHECK_FALSE(d1.packet.ip.is_later_fragment);

  ByteVec later = syn4({.ttl = 64, .id = 9, .df = false, .tos = 0});
  pb::put16(later, 6, 0x0003);  // offset 3 (24 bytes), last fragment
  const auto d2 = pb::decode(link_type::raw, later);
  CHECK(d2.status == DecodeStatus::ok);
  CHECK(d2.packet.has_ip);
  CHECK(d2.packet.ip.is_fragment);
  CHECK(d2.packet.ip.is_later_fragment);
  CHECK(d2.packet.transport == Transport::none);
  CHECK(d2.packet.ip.ip_id == 9);
}

TEST_CASE("malformed IPv4 headers", "[decode][ipv4][malformed]") {
  SECTION("IHL below 5") {
    const std::uint8_t ihl = GENERATE(std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{4});
    ByteVec ip = syn4();
    ip[0] = static_cast<std::uint8_t>(0x40 | ihl);
    const auto d = pb::decode(link_type::raw, ip);
    CHECK(d.status == DecodeStatus::malformed);
    CHECK(d.packet.transport == Transport::none);
  }
  SECTION("IHL past the captured bytes") {
    ByteVec ip = cut(syn4(), 24);
    ip[0] = 0x4f;  // 60-byte header in 24 bytes
    const auto d = pb::decode(link_type::raw, ip);
    CHECK(d.status == DecodeStatus::truncated);
    CHECK(d.packet.has_ip);  // the fixed header was there
    CHECK(d.packet.ip.src == pb::addr(client4));
  }
  SECTION("total length smaller than the header") {
    ByteVec ip = syn4();
    pb::put16(ip, 2, 12);
    CHECK(pb::decode(link_type::raw, ip).status == DecodeStatus::malformed);
  }
  SECTION("total length 0 (TSO capture) trusts the captured bytes") {
    ByteVec ip = syn4();
    pb::put16(ip, 2, 0);
    require_syn(pb::decode(link_type::raw, ip), false);
  }
  SECTION("Ethernet padding after the IP packet is not TCP payload") {
    ByteVec f = pb::frame(Link::ethernet, syn4());
    f.insert(f.end(), 6, 0);
    const auto d = pb::decode(link_type::ethernet, f);
    require_syn(d, false);
    CHECK(d.packet.tcp.payload_length == 0);
  }
}

// ------------------------------------------------------------------ IPv6

namespace {
const pb::ExtHeader hop_by_hop{0, {1, 4, 0, 0, 0, 0}};        // PadN: 8 bytes
const pb::ExtHeader routing{43, {0, 0, 0, 0, 0, 0}};          // type 0, no segments left
const pb::ExtHeader destination{60, {1, 4, 0, 0, 0, 0}};      // PadN
const pb::ExtHeader atomic_fragment{44, {0, 0, 0, 0, 0, 1}};  // offset 0, M=0, id 1
}  // namespace

TEST_CASE("IPv6 header fields", "[decode][ipv6]") {
  Tins::IPv6 ip(server6, client6);
  ip.hop_limit(57);
  ip.traffic_class(0xb8);
  ip.flow_label(0x12345);
  Tins::TCP tcp(8443, 40001);
  tcp.flags(Tins::TCP::SYN);
  tcp.seq(isn);
  tcp.mss(1440);
  const ByteVec bytes = (ip / tcp).serialize();
  const auto d = pb::decode(link_type::raw, bytes);
  REQUIRE(d.status == DecodeStatus::ok);
  CHECK(d.packet.ip.ttl == 57);
  CHECK(d.packet.ip.tos == 0xb8);
  CHECK(d.packet.ip.flow_label == 0x12345);
  CHECK_FALSE(d.packet.ip.has_ip_id);
  CHECK(d.packet.ip.header_length == 40);
  CHECK(d.packet.ip.total_length == bytes.size());
  CHECK(d.packet.tcp.options.mss == 1440);
}

TEST_CASE("IPv6 extension headers are walked to TCP", "[decode][ipv6]") {
  const ByteVec ip = pb::with_ipv6_extensions(syn6(), {hop_by_hop, routing, destination, atomic_fragment});
  REQUIRE(ip.size() == syn6().size() + 32);
  const auto d = pb::decode(link_type::raw, ip);
  require_syn(d, true);
  CHECK(d.packet.ip.header_length == 40 + 32);
  // An atomic fragment (offset 0, M clear: RFC 6946) is a whole packet, not a fragment.
  CHECK_FALSE(d.packet.ip.is_fragment);
  CHECK_FALSE(d.packet.ip.is_later_fragment);

  SECTION("an authentication header counts 4-byte units") {
    ByteVec ah_body(22, 0xaa);  // reserved, SPI, sequence, 12-byte ICV
    const ByteVec with_ah = pb::with_ipv6_extensions(syn6(), {hop_by_hop, {51, ah_body}});
    const auto a = pb::decode(link_type::raw, with_ah);
    require_syn(a, true);
    CHECK(a.packet.ip.header_length == 40 + 8 + 24);
  }
  SECTION("a later fragment has no transport header") {
    const ByteVec later = pb::with_ipv6_extensions(syn6(), {{44, {0, 0x50, 0, 0, 0, 1}}});
    const auto l = pb::decode(link_type::raw, later);
    CHECK(l.status == DecodeStatus::ok);
    CHECK(l.packet.ip.is_later_fragment);
    CHECK(l.packet.transport == Transport::none);
  }
  SECTION("a chain that runs past the end of a complete packet is malformed") {
    ByteVec bad = pb::with_ipv6_extensions(syn6(), {hop_by_hop, destination});
    bad[41] = 40;  // hop-by-hop claims 328 bytes
    CHECK(pb::decode(link_type::raw, bad).status == DecodeStatus::malformed);
  }
  SECTION("seventeen extension headers are too many") {
    std::vector<pb::ExtHeader> many(17, destination);
    const auto m = pb::decode(link_type::raw, pb::with_ipv6_extensions(syn6(), many));
    CHECK(m.status == DecodeStatus::malformed);
  }
}

// ------------------------------------------------------------------ TCP

TEST_CASE("TCP options of a SYN", "[decode][tcp]") {
  const ByteVec ip = pb::make_syn(client4, server4, 1, 2, 3, {},
                                  {.present = true, .mss = 1380, .window_scale = 9,
                                   .ts_value = 0xdeadbeef, .ts_echo = 0x01020304});
  const auto d = pb::decode(link_type::raw, ip);
  REQUIRE(d.status == DecodeStatus::ok);
  const TcpOptions& o = d.packet.tcp.options;
  CHECK(o.has_mss);
  CHECK(o.mss == 1380);
  CHECK(o.has_window_scale);
  CHECK(o.window_scale == 9);
  CHECK(o.sack_permitted);
  CHECK(o.has_timestamps);
  CHECK(o.ts_value == 0xdeadbeef);
  CHECK(o.ts_echo == 0x01020304);
  CHECK_FALSE(o.malformed);
  REQUIRE(o.kind_count >= 4);
  CHECK(o.kinds[0] == 2);
  CHECK(o.kinds[1] == 4);
  CHECK(o.kinds[2] == 8);
  CHECK(o.kinds[3] == 3);
}

TEST_CASE("TCP option damage", "[decode][tcp][malformed]") {
  SECTION("option length 0 or 1") {
    const std::uint8_t length = GENERATE(std::uint8_t{0}, std::uint8_t{1});
    // MSS first (kept), then a window-scale option with an impossible length.
    const auto d = pb::decode(link_type::raw, ip_with_tcp_bytes(7, {2, 4, 0x05, 0xb4, 3, length, 7, 0}));
    CHECK(d.status == DecodeStatus::ok);
    CHECK(d.packet.transport == Transport::tcp);
    CHECK(d.packet.tcp.options.malformed);
    CHECK(d.packet.tcp.options.has_mss);
    CHECK(d.packet.tcp.options.mss == 1460);
    CHECK_FALSE(d.packet.tcp.options.has_window_scale);
  }
  SECTION("option running past the header") {
    const auto d = pb::decode(link_type::raw, ip_with_tcp_bytes(6, {1, 8, 10, 0}));
    CHECK(d.packet.tcp.options.malformed);
    CHECK_FALSE(d.packet.tcp.options.has_timestamps);
    CHECK(d.packet.tcp.options.kinds[0] == 1);
  }
  SECTION("a kind whose length field is cut off") {
    const auto d = pb::decode(link_type::raw, ip_with_tcp_bytes(6, {1, 1, 1, 2}));
    CHECK(d.packet.tcp.options.malformed);
  }
  SECTION("EOL ends the list; NOPs are skipped") {
    const auto d = pb::decode(link_type::raw, ip_with_tcp_bytes(7, {1, 1, 4, 2, 0, 2, 4, 1}));
    CHECK_FALSE(d.packet.tcp.options.malformed);
    CHECK(d.packet.tcp.options.sack_permitted);
    CHECK_FALSE(d.packet.tcp.options.has_mss);  // after EOL
  }
  SECTION("data offset below 5") {
    const std::uint8_t words = GENERATE(std::uint8_t{0}, std::uint8_t{4});
    const auto d = pb::decode(link_type::raw, ip_with_tcp_bytes(words, {}));
    CHECK(d.status == DecodeStatus::malformed);
    CHECK(d.packet.transport != Transport::tcp);
    CHECK(d.packet.has_ip);
    CHECK(d.packet.tcp.sport == 40000);  // what came before the bad field
    CHECK(d.packet.tcp.seq == isn);
  }
  SECTION("data offset past the segment: cut inside the options, still a TCP segment") {
    const auto d = pb::decode(link_type::raw, ip_with_tcp_bytes(15, {1, 1, 1, 1}));
    CHECK(d.status == DecodeStatus::truncated);
    CHECK(d.packet.transport == Transport::tcp);
    CHECK(d.packet.tcp.options.malformed);
    CHECK(d.packet.tcp.payload_length == 0);
  }
}

TEST_CASE("tcp_flags_text", "[decode][tcp]") {
  CHECK(tcp_flags_text(tcp_flag::syn) == "SYN");
  CHECK(tcp_flags_text(tcp_flag::syn | tcp_flag::ack) == "SYN/ACK");
  CHECK(tcp_flags_text(tcp_flag::rst | tcp_flag::ack) == "RST/ACK");
}

// ------------------------------------------------------------------ ICMP

TEST_CASE("ICMPv4 errors quoting a SYN", "[decode][icmp]") {
  const ByteVec syn = syn4();
  const std::uint8_t type = GENERATE(std::uint8_t{3}, std::uint8_t{11});
  const std::uint8_t code = type == 3 ? 13 : 0;
  CAPTURE(type);

  SECTION("the whole SYN quoted (RFC 1812)") {
    const auto d = pb::decode(link_type::raw,
                              pb::make_icmp_error("198.51.100.1", client4, type, code, syn, SIZE_MAX, {.ttl = 250}));
    REQUIRE(d.status == DecodeStatus::ok);
    REQUIRE(d.packet.transport == Transport::icmp);
    const IcmpMessage& m = d.packet.icmp;
    CHECK(m.type == type);
    CHECK(m.code == code);
    CHECK(m.is_error);
    REQUIRE(m.has_quote);
    CHECK(m.quote.ip.src == pb::addr(client4));
    CHECK(m.quote.ip.dst == pb::addr(server4));
    CHECK(m.quote.ip.ttl == 61);
    CHECK(m.quote.ip.ip_id == 4242);
    CHECK(m.quote.quoted_bytes == syn.size());
    REQUIRE(m.quote.has_tcp);
    CHECK(m.quote.tcp.sport == 40000);
    CHECK(m.quote.tcp.dport == 443);
    CHECK(m.quote.tcp.seq == isn);
    CHECK(m.quote.tcp.has_full_header);
    CHECK(m.quote.tcp.flags == tcp_flag::syn);
    CHECK(m.quote.tcp.has_options);
    CHECK(m.quote.tcp.options.mss == 1460);
    CHECK(d.packet.ip.ttl == 250);
  }
  SECTION("RFC 792 minimum: IP header and 8 bytes (partial TCP)") {
    const auto d = pb::decode(link_type::raw, pb::make_icmp_error("198.51.100.1", client4, type, code, syn, 28));
    REQUIRE(d.status == DecodeStatus::ok);
    const QuotedPacket& q = d.packet.icmp.quote;
    REQUIRE(d.packet.icmp.has_quote);
    CHECK(q.quoted_bytes == 28);
    REQUIRE(q.has_tcp);
    CHECK(q.tcp.sport == 40000);
    CHECK(q.tcp.dport == 443);
    CHECK(q.tcp.seq == isn);
    CHECK_FALSE(q.tcp.has_full_header);
    CHECK_FALSE(q.tcp.has_options);
  }
  SECTION("a full TCP header but its options cut off") {
    const auto d = pb::decode(link_type::raw, pb::make_icmp_error("198.51.100.1", client4, type, code, syn, 40));
    const QuotedPacket& q = d.packet.icmp.quote;
    CHECK(q.tcp.has_full_header);
    CHECK_FALSE(q.tcp.has_options);
  }
  SECTION("fewer than 8 bytes of TCP: no ports") {
    const auto d = pb::decode(link_type::raw, pb::make_icmp_error("198.51.100.1", client4, type, code, syn, 24));
    CHECK(d.packet.icmp.has_quote);
    CHECK_FALSE(d.packet.icmp.quote.has_tcp);
  }
  SECTION("no quote at all") {
    const auto d = pb::decode(link_type::raw, pb::make_icmp_error("198.51.100.1", client4, type, code, syn, 0));
    CHECK(d.status == DecodeStatus::truncated);
    CHECK_FALSE(d.packet.icmp.has_quote);
  }
}

TEST_CASE("ICMPv4 fragmentation-needed carries the next-hop MTU", "[decode][icmp]") {
  const auto d = pb::decode(link_type::raw,
                            pb::make_icmp_error("198.51.100.1", client4, 3, 4, syn4(), SIZE_MAX, {}, 1400));
  REQUIRE(d.packet.transport == Transport::icmp);
  CHECK(d.packet.icmp.mtu == 1400);
  CHECK(d.packet.icmp.quote.tcp.seq == isn);
}

TEST_CASE("ICMPv4 quote with IHL below 5 is no quote", "[decode][icmp][malformed]") {
  ByteVec syn = syn4();
  syn[0] = 0x43;
  const auto d = pb::decode(link_type::raw, pb::make_icmp_error("198.51.100.1", client4, 3, 1, syn));
  CHECK_FALSE(d.packet.icmp.has_quote);
  CHECK(d.status == DecodeStatus::truncated);
}

TEST_CASE("ICMPv6 errors quoting an IPv6 SYN", "[decode][icmp][ipv6]") {
  const ByteVec syn = syn6();
  SECTION("destination unreachable, admin-prohibited") {
    const auto d = pb::decode(link_type::raw,
                              pb::make_icmp_error("2001:db8:ffff::1", client6, 1, 1, syn, SIZE_MAX, {.ttl = 60}));
    REQUIRE(d.status == DecodeStatus::ok);
    REQUIRE(d.packet.transport == Transport::icmp);
    CHECK(d.packet.icmp.type == icmp_kind::v6_dest_unreachable);
    CHECK(d.packet.icmp.code == 1);
    CHECK(d.packet.icmp.is_error);
    REQUIRE(d.packet.icmp.quote.has_tcp);
    CHECK(d.packet.icmp.quote.ip.src == pb::addr(client6));
    CHECK(d.packet.icmp.quote.ip.dst == pb::addr(server6));
    CHECK(d.packet.icmp.quote.ip.ttl == 57);
    CHECK(d.packet.icmp.quote.tcp.sport == 40001);
    CHECK(d.packet.icmp.quote.tcp.seq == isn);
    CHECK(d.packet.icmp.quote.tcp.has_full_header);
  }
  SECTION("time exceeded") {
    const auto d = pb::decode(link_type::raw, pb::make_icmp_error("2001:db8:ffff::1", client6, 3, 0, syn));
    CHECK(d.packet.icmp.type == icmp_kind::v6_time_exceeded);
    CHECK(d.packet.icmp.quote.tcp.seq == isn);
  }
  SECTION("packet too big carries the MTU") {
    const auto d = pb::decode(link_type::raw,
                              pb::make_icmp_error("2001:db8:ffff::1", client6, 2, 0, syn, SIZE_MAX, {}, 1280));
    CHECK(d.packet.icmp.type == icmp_kind::v6_packet_too_big);
    CHECK(d.packet.icmp.mtu == 1280);
    CHECK(d.packet.icmp.quote.tcp.dport == 8443);
  }
  SECTION("quote with extension headers before the TCP header") {
    const ByteVec ext = pb::with_ipv6_extensions(syn, {hop_by_hop, destination});
    const auto d = pb::decode(link_type::raw, pb::make_icmp_error("2001:db8:ffff::1", client6, 1, 4, ext));
    REQUIRE(d.packet.icmp.quote.has_tcp);
    CHECK(d.packet.icmp.quote.ip.protocol == ip_proto::tcp);
    CHECK(d.packet.icmp.quote.tcp.seq == isn);
  }
  SECTION("ICMPv6 inside IPv4 is not ours") {
    Tins::IP ip(client4, "198.51.100.1");
    ip.protocol(ip_proto::icmpv6);
    const ByteVec bytes = (ip / Tins::RawPDU(ByteVec(8, 1))).serialize();
    const auto d = pb::decode(link_type::raw, bytes);
    CHECK(d.status == DecodeStatus::ok);
    CHECK(d.packet.transport == Transport::other);
  }
}

TEST_CASE("echo replies carry identifier and sequence", "[decode][icmp]") {
  const auto v4 = pb::decode(link_type::raw, pb::make_echo_reply(server4, client4, 0x1234, 7));
  REQUIRE(v4.packet.transport == Transport::icmp);
  CHECK(v4.packet.icmp.type == icmp_kind::v4_echo_reply);
  CHECK_FALSE(v4.packet.icmp.is_error);
  CHECK(v4.packet.icmp.echo_id == 0x1234);
  CHECK(v4.packet.icmp.echo_seq == 7);
  const auto v6 = pb::decode(link_type::raw, pb::make_echo_reply(server6, client6, 0xbeef, 9));
  REQUIRE(v6.packet.transport == Transport::icmp);
  CHECK(v6.packet.icmp.type == icmp_kind::v6_echo_reply);
  CHECK(v6.packet.icmp.echo_id == 0xbeef);
  CHECK(v6.packet.icmp.echo_seq == 9);
}

TEST_CASE("UDP is decoded as 'other' transport", "[decode]") {
  const ByteVec udp = pb::ip_packet(client4, server4, Tins::UDP(53, 5353) / Tins::RawPDU(ByteVec(4, 0)));
  const auto d = pb::decode(link_type::raw, udp);
  CHECK(d.status == DecodeStatus::ok);
  CHECK(d.packet.has_ip);
  CHECK(d.packet.transport == Transport::other);
  CHECK(d.packet.ip.protocol == ip_proto::udp);
}

// ------------------------------------------------------------------ truncation

namespace {

// Cuts `f` at every length below its size: never ok, and whatever came before the cut stays
// right. `link_header` is where the IP packet starts; `ip_fixed` its fixed header size.
void every_cut(std::uint16_t link, const ByteVec& f, std::size_t link_header, bool v6) {
  const std::size_t ip_fixed = v6 ? 40 : 20;
  const auto full = pb::decode(link, f);
  REQUIRE(full.status == DecodeStatus::ok);
  for (std::size_t n = 0; n < f.size(); ++n) {
    CAPTURE(n, f.size());
    const auto d = pb::decode(link, cut(f, n));
    // A SYN carries no payload: every cut loses part of a header. (One exception: PPP's
    // lone 0xff address byte reads as a compressed one-byte protocol 0xff, not IP.)
    if (link == link_type::ppp && n == 1 && f[0] == 0xff) {
      CHECK(d.status == DecodeStatus::not_ip);
    } else {
      CHECK(d.status == DecodeStatus::truncated);
    }
    // Cut inside the TCP options, a segment is still one (its fixed header is whole).
    if (n >= link_header + full.packet.ip.header_length + 20u) {
      CHECK(d.packet.transport == Transport::tcp);
      CHECK(d.packet.tcp.options.malformed);
      CHECK(d.packet.tcp.seq == full.packet.tcp.seq);
      CHECK(d.packet.tcp.flags == full.packet.tcp.flags);
    } else {
      CHECK(d.packet.transport != Transport::tcp);
    }
    if (n >= link_header + ip_fixed) {
      CHECK(d.packet.has_ip);
      CHECK(d.packet.ip.src == full.packet.ip.src);
      CHECK(d.packet.ip.dst == full.packet.ip.dst);
      CHECK(d.packet.ip.ttl == full.packet.ip.ttl);
    } else {
      CHECK_FALSE(d.packet.has_ip);
    }
  }
}

}  // namespace

TEST_CASE("a SYN cut at every length, under every link type", "[decode][truncated]") {
  const Link link = GENERATE(Link::ethernet, Link::dot1q, Link::qinq, Link::mpls, Link::pppoe,
                             Link::sll, Link::sll2, Link::raw, Link::null_le, Link::loop,
                             Link::ppp, Link::ppp_no_ff03, Link::cisco_hdlc, Link::nflog);
  const bool v6 = GENERATE(false, true);
  CAPTURE(static_cast<int>(link), v6);
  const ByteVec ip = v6 ? pb::with_ipv6_extensions(syn6(), {hop_by_hop, routing, atomic_fragment}) : syn4();
  const ByteVec f = pb::frame(link, ip);
  every_cut(pb::link_type_of(link), f, f.size() - ip.size(), v6);
}

TEST_CASE("an ICMP error cut at every length", "[decode][truncated][icmp]") {
  const bool v6 = GENERATE(false, true);
  CAPTURE(v6);
  const ByteVec syn = v6 ? syn6() : syn4();
  const ByteVec icmp = v6 ? pb::make_icmp_error("2001:db8:ffff::1", client6, 1, 1, syn)
                          : pb::make_icmp_error("198.51.100.1", client4, 3, 13, syn);
  const ByteVec f = pb::frame(Link::ethernet, icmp);
  const std::size_t ip_start = 14;
  const std::size_t outer = v6 ? 40 : 20;
  const std::size_t quote_start = ip_start + outer + 8;
  const std::size_t inner = v6 ? 40 : 20;
  for (std::size_t n = 0; n < f.size(); ++n) {
    CAPTURE(n);
    const auto d = pb::decode(link_type::ethernet, cut(f, n));
    if (n < quote_start + inner) {
      CHECK(d.status == DecodeStatus::truncated);
      CHECK(d.packet.transport != Transport::icmp);
      continue;
    }
    // The quoted IP header is whole: a short quote is normal for ICMP, not damage.
    REQUIRE(d.packet.transport == Transport::icmp);
    REQUIRE(d.packet.icmp.has_quote);
    CHECK(d.packet.icmp.quote.ip.src == pb::addr(v6 ? client6 : client4));
    CHECK(d.packet.icmp.quote.ip.dst == pb::addr(v6 ? server6 : server4));
    CHECK(d.packet.icmp.quote.has_tcp == (n >= quote_start + inner + 8));
    if (d.packet.icmp.quote.has_tcp) CHECK(d.packet.icmp.quote.tcp.seq == isn);
    CHECK(d.packet.icmp.quote.tcp.has_full_header == (n >= quote_start + inner + 20));
  }
}

TEST_CASE("decode_quote on its own, cut at every length", "[decode][truncated][icmp]") {
  const ByteVec syn = syn4();
  for (std::size_t n = 0; n <= syn.size(); ++n) {
    CAPTURE(n);
    QuotedPacket q;
    q.has_tcp = true;  // must be reset by the call
    const ByteVec part = cut(syn, n);
    const bool ok = decode_quote(ByteReader(Bytes(part.data(), part.size())), q);
    CHECK(ok == (n >= 20));
    CHECK(q.has_tcp == (n >= 28));
    CHECK(q.quoted_bytes == n);
    if (q.has_tcp) CHECK(q.tcp.seq == isn);
  }
}

TEST_CASE("decode_ip resets nothing it did not decode: a reused DecodedPacket", "[decode]") {
  // decode_frame clears the previous packet's fields before decoding the next one.
  DecodedPacket p;
  const ByteVec syn = pb::frame(Link::ethernet, syn4());
  REQUIRE(decode_frame(link_type::ethernet, Bytes(syn.data(), syn.size()), p) == DecodeStatus::ok);
  REQUIRE(p.transport == Transport::tcp);
  const ByteVec arp = (Tins::EthernetII() / Tins::ARP("10.0.0.2", "10.0.0.1")).serialize();
  CHECK(decode_frame(link_type::ethernet, Bytes(arp.data(), arp.size()), p) == DecodeStatus::not_ip);
  CHECK_FALSE(p.has_ip);
  CHECK(p.transport == Transport::none);
  CHECK(p.tcp.seq == 0);
}
