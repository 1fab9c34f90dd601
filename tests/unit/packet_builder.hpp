#pragma once
// Test packets built with libtins (and, where libtins has no class for a header, by hand
// in front of a libtins-serialized IP packet), so that tests read like the scenario:
//
//   const auto syn = pb::make_syn("10.0.0.1", "192.0.2.7", 40000, 443, 1000, {.ttl = 64});
//   const auto rst = pb::make_rst("192.0.2.7", "10.0.0.1", 443, 40000, 0, 1001, true, {.ttl = 62});
//   DecodedPacket p = pb::decode(pb::frame(pb::Link::ethernet, syn), 1'000'000);

#include <tins/tins.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "dissect/decode/decode.hpp"
#include "dissect/decode/packet.hpp"

namespace pb {

using ByteVec = std::vector<std::uint8_t>;

inline bool is_v6(const std::string& address) { return address.find(':') != std::string::npos; }

// What the IP header of a built packet carries.
struct IpOpts {
  std::uint8_t ttl = 64;
  std::uint16_t id = 0;
  bool df = true;
  std::uint8_t tos = 0;
};

// TCP options a SYN carries, written in this order of kinds: MSS (2), SACK-permitted (4),
// timestamps (8), window scale (3); the tests read that order back.
struct SynOptions {
  bool present = true;
  std::uint16_t mss = 1460;
  std::uint8_t window_scale = 7;
  std::uint32_t ts_value = 123456;
  std::uint32_t ts_echo = 0;
};

inline void put16(ByteVec& v, std::size_t at, std::uint16_t x) {
  v[at] = static_cast<std::uint8_t>(x >> 8);
  v[at + 1] = static_cast<std::uint8_t>(x);
}
inline void put32(ByteVec& v, std::size_t at, std::uint32_t x) {
  for (std::size_t i = 0; i < 4; ++i) v[at + i] = static_cast<std::uint8_t>(x >> (24 - 8 * i));
}
inline void append16(ByteVec& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}
inline void append16le(ByteVec& v, std::uint16_t x) {
  v.push_back(static_cast<std::uint8_t>(x));
  v.push_back(static_cast<std::uint8_t>(x >> 8));
}
inline void append32(ByteVec& v, std::uint32_t x) {
  for (int i = 3; i >= 0; --i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}
inline void append32le(ByteVec& v, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<std::uint8_t>(x >> (8 * i)));
}
inline ByteVec concat(ByteVec head, const ByteVec& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// An IP packet (family chosen by the address text) around an upper-layer PDU.
inline ByteVec ip_packet(const std::string& src, const std::string& dst, const Tins::PDU& upper,
                         const IpOpts& o = {}) {
  if (is_v6(src)) {
    Tins::IPv6 ip(dst, src);
    ip.hop_limit(o.ttl);
    ip.traffic_class(o.tos);
    Tins::PDU* inner = upper.clone();
    ip.inner_pdu(inner);
    return ip.serialize();
  }
  Tins::IP ip(dst, src);
  ip.ttl(o.ttl);
  ip.id(o.id);
  ip.tos(o.tos);
  ip.flags(o.df ? Tins::IP::DONT_FRAGMENT : Tins::IP::Flags{});
  ip.inner_pdu(upper.clone());
  return ip.serialize();
}

inline ByteVec tcp_segment(const std::string& src, const std::string& dst, std::uint16_t sport,
                           std::uint16_t dport, std::uint8_t flags, std::uint32_t seq,
                           std::uint32_t ack, const IpOpts& o = {},
                           const SynOptions& opts = SynOptions{false}) {
  Tins::TCP tcp(dport, sport);
  tcp.flags(flags);
  tcp.seq(seq);
  tcp.ack_seq(ack);
  tcp.window(64240);
  if (opts.present) {
    tcp.mss(opts.mss);
    tcp.sack_permitted();
    tcp.timestamp(opts.ts_value, opts.ts_echo);
    tcp.winscale(opts.window_scale);
  }
  return ip_packet(src, dst, tcp, o);
}

inline ByteVec make_syn(const std::string& client, const std::string& server,
                        std::uint16_t sport, std::uint16_t dport, std::uint32_t isn,
                        const IpOpts& o = {}, const SynOptions& opts = {}) {
  return tcp_segment(client, server, sport, dport, Tins::TCP::SYN, isn, 0, o, opts);
}

// From the server's point of view: sport is the server's port.
inline ByteVec make_syn_ack(const std::string& server, const std::string& client,
                            std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                            std::uint32_t ack, const IpOpts& o = {}) {
  return tcp_segment(server, client, sport, dport, Tins::TCP::SYN | Tins::TCP::ACK, seq, ack, o,
                     SynOptions{true, 1400, 8, 99, 123456});
}

inline ByteVec make_rst(const std::string& from, const std::string& to, std::uint16_t sport,
                        std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, bool with_ack,
                        const IpOpts& o = {}) {
  const auto flags = static_cast<std::uint8_t>(Tins::TCP::RST | (with_ack ? Tins::TCP::ACK : 0));
  return tcp_segment(from, to, sport, dport, flags, seq, with_ack ? ack : 0, o);
}

inline ByteVec make_ack(const std::string& from, const std::string& to, std::uint16_t sport,
                        std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                        const IpOpts& o = {}) {
  return tcp_segment(from, to, sport, dport, Tins::TCP::ACK, seq, ack, o);
}

// An ICMP (v4) or ICMPv6 error from `from` to `to` quoting the first `quote_len` bytes of
// `quoted` (the whole packet by default). For packet-too-big / fragmentation-needed, `mtu`
// goes in the header.
inline ByteVec make_icmp_error(const std::string& from, const std::string& to, std::uint8_t type,
                               std::uint8_t code, const ByteVec& quoted,
                               std::size_t quote_len = SIZE_MAX, const IpOpts& o = {},
                               std::uint32_t mtu = 0) {
  const ByteVec quote(quoted.begin(),
                      quoted.begin() + static_cast<std::ptrdiff_t>(std::min(quote_len, quoted.size())));
  if (is_v6(from)) {
    Tins::ICMPv6 icmp(static_cast<Tins::ICMPv6::Types>(type));
    icmp.code(code);
    ByteVec bytes = ip_packet(from, to, icmp / Tins::RawPDU(quote), o);
    if (mtu) put32(bytes, 40 + 4, mtu);  // ICMPv6 header starts after the fixed header
    return bytes;
  }
  Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
  icmp.code(code);
  if (mtu) icmp.mtu(static_cast<std::uint16_t>(mtu));
  return ip_packet(from, to, icmp / Tins::RawPDU(quote), o);
}

// Shorthand: the ICMP destination-unreachable error quoting a SYN.
inline ByteVec make_icmp_unreachable_quoting(const ByteVec& syn, const std::string& from,
                                             const std::string& to, std::uint8_t code,
                                             const IpOpts& o = {},
                                             std::size_t quote_len = SIZE_MAX) {
  return make_icmp_error(from, to, is_v6(from) ? 1 : 3, code, syn, quote_len, o);
}

inline ByteVec make_echo_reply(const std::string& from, const std::string& to, std::uint16_t id,
                               std::uint16_t seq) {
  if (is_v6(from)) {
    Tins::ICMPv6 icmp(Tins::ICMPv6::ECHO_REPLY);
    icmp.identifier(id);
    icmp.sequence(seq);
    return ip_packet(from, to, icmp);
  }
  Tins::ICMP icmp(Tins::ICMP::ECHO_REPLY);
  icmp.id(id);
  icmp.sequence(seq);
  return ip_packet(from, to, icmp);
}

// One IPv6 extension header to splice in: its type (next-header value naming it) and body
// after the two bytes of next-header/length (the length field is computed).
struct ExtHeader {
  std::uint8_t type = 0;
  ByteVec body;  // for AH counted in 4-byte units, for the others in 8-byte units
};

// Inserts extension headers between the fixed IPv6 header and the upper layer of a
// libtins-serialized IPv6 packet, fixing next-header chain and payload length.
inline ByteVec with_ipv6_extensions(const ByteVec& packet, const std::vector<ExtHeader>& headers) {
  ByteVec out(packet.begin(), packet.begin() + 40);
  std::uint8_t upper = packet[6];
  ByteVec chain;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const ExtHeader& h = headers[i];
    const std::uint8_t next = i + 1 < headers.size() ? headers[i + 1].type : upper;
    const std::size_t total = 2 + h.body.size();
    std::uint8_t length_field = 0;
    if (h.type == 51) length_field = static_cast<std::uint8_t>(total / 4 - 2);
    else if (h.type != 44) length_field = static_cast<std::uint8_t>(total / 8 - 1);
    chain.push_back(next);
    chain.push_back(length_field);
    chain.insert(chain.end(), h.body.begin(), h.body.end());
  }
  if (!headers.empty()) out[6] = headers.front().type;
  out.insert(out.end(), chain.begin(), chain.end());
  out.insert(out.end(), packet.begin() + 40, packet.end());
  put16(out, 4, static_cast<std::uint16_t>(out.size() - 40));
  return out;
}

// ------------------------------------------------------------------ link layers

enum class Link {
  ethernet, dot1q, qinq, mpls, pppoe, sll, sll2, raw, null_le, null_be, loop, ppp, ppp_no_ff03,
  cisco_hdlc, nflog,
};

inline const ByteVec& mac_pair() {
  static const ByteVec m{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  return m;
}

// The ethertype for an IP packet, by its version nibble.
inline std::uint16_t ethertype_of(const ByteVec& ip) {
  return !ip.empty() && (ip[0] >> 4) == 6 ? 0x86dd : 0x0800;
}

// The frame carrying `ip` with the chosen link header; `af` is the BSD address family
// for null/loop headers (0: 2 for IPv4, 24 for IPv6).
inline ByteVec frame(Link link, const ByteVec& ip, std::uint32_t af = 0) {
  const std::uint16_t type = ethertype_of(ip);
  if (af == 0) af = type == 0x0800 ? 2 : 24;
  ByteVec h;
  switch (link) {
    case Link::ethernet: {
      Tins::EthernetII eth("02:00:00:00:00:02", "02:00:00:00:00:01");
      eth.payload_type(type);
      return (eth / Tins::RawPDU(ip)).serialize();
    }
    case Link::dot1q: {
      Tins::Dot1Q tag(100, false);
      tag.payload_type(type);
      return (Tins::EthernetII("02:00:00:00:00:02", "02:00:00:00:00:01") / tag / Tins::RawPDU(ip))
          .serialize();
    }
    case Link::qinq:  // 802.1ad outer tag (0x88a8), then an 802.1Q inner tag
      h = mac_pair();
      append16(h, 0x88a8);
      append16(h, 10);
      append16(h, 0x8100);
      append16(h, 20);
      append16(h, type);
      return concat(h, ip);
    case Link::mpls:  // two labels, the second with bottom-of-stack
      h = mac_pair();
      append16(h, 0x8847);
      append32(h, (1000u << 12) | 64u);
      append32(h, (2000u << 12) | 0x100u | 64u);
      return concat(h, ip);
    case Link::pppoe:
      h = mac_pair();
      append16(h, 0x8864);
      h.push_back(0x11);  // version 1, type 1
      h.push_back(0x00);  // session data
      append16(h, 0x1234);
      append16(h, static_cast<std::uint16_t>(ip.size() + 2));
      append16(h, type == 0x0800 ? 0x0021 : 0x0057);
      return concat(h, ip);
    case Link::sll:  // packet type, ARPHRD, address length, address (8), protocol
      // (by hand: libtins' SLL overwrites the protocol with 0 in front of a RawPDU)
      append16(h, 0);
      append16(h, 1);
      append16(h, 6);
      h.insert(h.end(), {2, 0, 0, 0, 0, 1, 0, 0});
      append16(h, type);
      return concat(h, ip);
    case Link::sll2:  // protocol, reserved, ifindex, ARPHRD, packet type, address length, address
      append16(h, type);
      append16(h, 0);
      append32(h, 3);
      append16(h, 1);
      h.push_back(0);
      h.push_back(6);
      h.insert(h.end(), {2, 0, 0, 0, 0, 1, 0, 0});
      return concat(h, ip);
    case Link::raw:
      return ip;
    case Link::null_le:
      append32le(h, af);
      return concat(h, ip);
    case Link::null_be:
    case Link::loop:
      append32(h, af);
      return concat(h, ip);
    case Link::ppp:
      h = {0xff, 0x03};
      append16(h, type == 0x0800 ? 0x0021 : 0x0057);
      return concat(h, ip);
    case Link::ppp_no_ff03:
      append16(h, type == 0x0800 ? 0x0021 : 0x0057);
      return concat(h, ip);
    case Link::cisco_hdlc:
      h = {0x0f, 0x00};
      append16(h, type);
      return concat(h, ip);
    case Link::nflog: {
      h = {type == 0x0800 ? std::uint8_t{2} : std::uint8_t{10}, 0};
      append16(h, 7);  // resource id (group)
      // TLV: hardware protocol (type 1, 4 bytes of value), then a prefix string
      // (type 10, 5 bytes, padded to 4), then the payload (type 9).
      append16le(h, 8);
      append16le(h, 1);
      append16(h, type);
      append16(h, 0);
      append16le(h, 9);
      append16le(h, 10);
      h.insert(h.end(), {'d', 'r', 'o', 'p', 0, 0, 0, 0});
      append16le(h, static_cast<std::uint16_t>(4 + ip.size()));
      append16le(h, 9);
      return concat(h, ip);
    }
  }
  throw std::logic_error("unknown link");
}

inline std::uint16_t link_type_of(Link link) {
  using namespace synprobe::link_type;
  switch (link) {
    case Link::ethernet:
    case Link::dot1q:
    case Link::qinq:
    case Link::mpls:
    case Link::pppoe: return ethernet;
    case Link::sll: return linux_sll;
    case Link::sll2: return linux_sll2;
    case Link::raw: return raw;
    case Link::null_le:
    case Link::null_be: return null_bsd;
    case Link::loop: return loop;
    case Link::ppp:
    case Link::ppp_no_ff03: return ppp;
    case Link::cisco_hdlc: return cisco_hdlc;
    case Link::nflog: return nflog;
  }
  return 0xffff;
}

// ------------------------------------------------------------------ decoding

struct Decoded {
  synprobe::DecodeStatus status = synprobe::DecodeStatus::ok;
  synprobe::DecodedPacket packet;
};

inline Decoded decode(std::uint16_t link, const ByteVec& bytes, std::int64_t ts_ns = 0) {
  Decoded d;
  d.packet.ts = synprobe::Timestamp{ts_ns};
  d.packet.captured_length = static_cast<std::uint32_t>(bytes.size());
  d.packet.wire_length = d.packet.captured_length;
  d.status = synprobe::decode_frame(link, synprobe::Bytes(bytes.data(), bytes.size()), d.packet);
  return d;
}

// Decodes a bare IP packet (raw link) stamped with `ts_ns`.
inline synprobe::DecodedPacket packet_at(const ByteVec& ip, std::int64_t ts_ns) {
  return decode(synprobe::link_type::raw, ip, ts_ns).packet;
}

inline constexpr std::int64_t ms = 1'000'000;
inline constexpr std::int64_t sec = 1'000'000'000;
// A plausible capture start (2026-01-01T00:00:00Z) so that times are not near zero.
inline constexpr std::int64_t t0 = 1'767'225'600LL * sec;

inline synprobe::IpAddress addr(const std::string& text) {
  const auto a = synprobe::IpAddress::parse(text);
  if (!a) throw std::invalid_argument("bad address " + text);
  return *a;
}

}  // namespace pb
