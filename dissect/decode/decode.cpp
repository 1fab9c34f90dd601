#include "dissect/decode/decode.hpp"

#include <algorithm>

namespace synprobe {
namespace {

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88a8;
constexpr std::uint16_t ethertype_qinq_old = 0x9100;
constexpr std::uint16_t ethertype_mpls = 0x8847;
constexpr std::uint16_t ethertype_mpls_multicast = 0x8848;
constexpr std::uint16_t ethertype_pppoe_session = 0x8864;
constexpr std::uint16_t ppp_ipv4 = 0x0021;
constexpr std::uint16_t ppp_ipv6 = 0x0057;

// Bounds against hostile stacks of tags and headers.
constexpr int max_vlan_tags = 8;
constexpr int max_mpls_labels = 16;
constexpr int max_ipv6_extension_headers = 16;

// Where the IP packet starts inside a frame, or why there is none.
struct LinkResult {
  DecodeStatus status = DecodeStatus::ok;
  std::size_t offset = 0;
};

LinkResult fail(DecodeStatus s) { return LinkResult{s, 0}; }

// After the last MPLS label there is no type field: guess by the IP version nibble.
LinkResult after_mpls(ByteReader f, std::size_t offset) {
  for (int i = 0; i < max_mpls_labels; ++i) {
    const auto label = f.be32(offset);
    if (!label) return fail(DecodeStatus::truncated);
    offset += 4;
    if (*label & 0x100u) {  // bottom of stack
      const auto first = f.u8(offset);
      if (!first) return fail(DecodeStatus::truncated);
      const unsigned version = *first >> 4;
      if (version == 4 || version == 6) return LinkResult{DecodeStatus::ok, offset};
      return fail(DecodeStatus::not_ip);
    }
  }
  return fail(DecodeStatus::malformed);
}

LinkResult after_ppp_protocol(std::uint16_t protocol, std::size_t offset) {
  if (protocol == ppp_ipv4 || protocol == ppp_ipv6) return LinkResult{DecodeStatus::ok, offset};
  return fail(DecodeStatus::not_ip);
}

// Follows an ethertype chain (VLAN tags, MPLS, PPPoE) starting at the type field.
LinkResult after_ethertype(ByteReader f, std::size_t type_offset) {
  std::size_t offset = type_offset;
  for (int tags = 0; tags <= max_vlan_tags; ++tags) {
    const auto type = f.be16(offset);
    if (!type) return fail(DecodeStatus::truncated);
    offset += 2;
    switch (*type) {
      case ethertype_ipv4:
      case ethertype_ipv6:
        return LinkResult{DecodeStatus::ok, offset};
      case ethertype_vlan:
      case ethertype_qinq:
      case ethertype_qinq_old:
        offset += 2;  // TCI; the next type follows
        continue;
      case ethertype_mpls:
      case ethertype_mpls_multicast:
        return after_mpls(f, offset);
      case ethertype_pppoe_session: {
        const auto protocol = f.be16(offset + 6);
        if (!protocol) return fail(DecodeStatus::truncated);
        return after_ppp_protocol(*protocol, offset + 8);
      }
      default:
        return fail(DecodeStatus::not_ip);
    }
  }
  return fail(DecodeStatus::malformed);
}

LinkResult by_version_nibble(ByteReader f, std::size_t offset) {
  const auto first = f.u8(offset);
  if (!first) return fail(DecodeStatus::truncated);
  const unsigned version = *first >> 4;
  if (version == 4 || version == 6) return LinkResult{DecodeStatus::ok, offset};
  return fail(DecodeStatus::not_ip);
}

// BSD address families for IPv4 and the several IPv6 values the BSDs and Linux use.
bool is_ip_address_family(std::uint32_t af) {
  return af == 2 || af == 10 || af == 24 || af == 28 || af == 30;
}

LinkResult null_header(ByteReader f, bool network_order) {
  const auto le = f.le32(0);
  const auto be = f.be32(0);
  if (!le || !be) return fail(DecodeStatus::truncated);
  // DLT_NULL's family is in the *capturing* host's order, which the file does not say:
  // accept either order when it names an IP family.
  const bool ip = network_order ? is_ip_address_family(*be)
                                : (is_ip_address_family(*le) || is_ip_address_family(*be));
  return ip ? by_version_nibble(f, 4) : fail(DecodeStatus::not_ip);
}

LinkResult ppp_header(ByteReader f) {
  std::size_t offset = 0;
  if (f.u8(0) == 0xff && f.u8(1) == 0x03) offset = 2;  // HDLC address/control
  const auto first = f.u8(offset);
  if (!first) return fail(DecodeStatus::truncated);
  // The protocol field may be compressed to one byte (odd values end it).
  if (*first & 1) return after_ppp_protocol(*first, offset + 1);
  const auto protocol = f.be16(offset);
  if (!protocol) return fail(DecodeStatus::truncated);
  return after_ppp_protocol(*protocol, offset + 2);
}

// NFLOG: a 4-byte header, then TLVs with lengths in the capturing host's order
// (little-endian on every platform that produces them); the payload TLV holds the packet.
LinkResult nflog_header(ByteReader f) {
  constexpr std::uint16_t tlv_payload = 9;
  std::size_t offset = 4;
  if (!f.has(0, 4)) return fail(DecodeStatus::truncated);
  for (int i = 0; i < 64; ++i) {
    const auto length = f.le16(offset);
    const auto type = f.le16(offset + 2);
    if (!length || !type) return fail(DecodeStatus::truncated);
    if (*length < 4) return fail(DecodeStatus::malformed);
    if ((*type & 0x7fff) == tlv_payload) return by_version_nibble(f, offset + 4);
    offset += (static_cast<std::size_t>(*length) + 3u) & ~std::size_t{3};
  }
  return fail(DecodeStatus::not_ip);
}

LinkResult find_ip(std::uint16_t link, ByteReader f) {
  switch (link) {
    case link_type::ethernet: return after_ethertype(f, 12);
    case link_type::linux_sll: return after_ethertype(f, 14);
    case link_type::linux_sll2: {
      // SLL2 puts the protocol first; reuse the ethertype chain from a copy-free view.
      const auto protocol = f.be16(0);
      if (!protocol) return fail(DecodeStatus::truncated);
      if (!f.has(0, 20)) return fail(DecodeStatus::truncated);
      if (*protocol == ethertype_ipv4 || *protocol == ethertype_ipv6)
        return LinkResult{DecodeStatus::ok, 20};
      if (*protocol == ethertype_vlan || *protocol == ethertype_qinq) {
        LinkResult r = after_ethertype(f, 20 + 2);  // skip the first TCI
        return r;
      }
      return fail(DecodeStatus::not_ip);
    }
    case link_type::raw:
    case link_type::raw_dlt12:
    case link_type::raw_dlt14:
    case link_type::ipv4:
    case link_type::ipv6: return by_version_nibble(f, 0);
    case link_type::null_bsd: return null_header(f, false);
    case link_type::loop: return null_header(f, true);
    case link_type::ppp:
    case link_type::ppp_hdlc: return ppp_header(f);
    case link_type::cisco_hdlc: {
      const auto protocol = f.be16(2);
      if (!protocol) return fail(DecodeStatus::truncated);
      if (*protocol == ethertype_ipv4 || *protocol == ethertype_ipv6)
        return LinkResult{DecodeStatus::ok, 4};
      return fail(DecodeStatus::not_ip);
    }
    case link_type::nflog: return nflog_header(f);
    default: return fail(DecodeStatus::unsupported_link);
  }
}

// ---------------------------------------------------------------- TCP

void decode_tcp_options(ByteReader options, TcpOptions& out) {
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t kind = options.at(i);
    if (out.kind_count < TcpOptions::max_kinds) out.kinds[out.kind_count++] = kind;
    if (kind == 0) break;  // end of option list
    if (kind == 1) { ++i; continue; }
    const auto length = options.u8(i + 1);
    if (!length || *length < 2 || !options.has(i, *length)) {
      out.malformed = true;
      return;
    }
    switch (kind) {
      case 2:
        if (*length == 4) { out.has_mss = true; out.mss = options.load_be16(i + 2); }
        break;
      case 3:
        if (*length == 3) { out.has_window_scale = true; out.window_scale = options.at(i + 2); }
        break;
      case 4: out.sack_permitted = true; break;
      case 8:
        if (*length == 10) {
          out.has_timestamps = true;
          out.ts_value = options.load_be32(i + 2);
          out.ts_echo = options.load_be32(i + 6);
        }
        break;
      default: break;
    }
    i += *length;
  }
}

DecodeStatus decode_tcp(ByteReader segment, TcpHeader& out) {
  if (!segment.has(0, 20)) return DecodeStatus::truncated;
  out.sport = segment.load_be16(0);
  out.dport = segment.load_be16(2);
  out.seq = segment.load_be32(4);
  out.ack = segment.load_be32(8);
  const std::uint8_t offset_words = segment.at(12) >> 4;
  out.flags = segment.at(13);
  out.window = segment.load_be16(14);
  if (offset_words < 5) return DecodeStatus::malformed;
  out.header_length = static_cast<std::uint8_t>(offset_words * 4);
  if (!segment.has(0, out.header_length)) {
    // Cut inside the options (a small snap length): the fixed header is whole, and a SYN
    // or an answer is still one; the options present are kept, marked cut.
    if (out.flags & (tcp_flag::syn | tcp_flag::rst)) decode_tcp_options(segment.from(20), out.options);
    out.options.malformed = true;
    out.payload_length = 0;
    out.payload = {};
    return DecodeStatus::truncated;
  }
  // Options matter on SYNs and their answers only; established traffic skips them.
  if (out.flags & (tcp_flag::syn | tcp_flag::rst))
    decode_tcp_options(segment.slice(20, out.header_length - 20u), out.options);
  out.payload_length = static_cast<std::uint32_t>(segment.size() - out.header_length);
  out.payload = segment.bytes().subspan(out.header_length);
  return DecodeStatus::ok;
}

// ---------------------------------------------------------------- IP

struct IpResult {
  DecodeStatus status = DecodeStatus::ok;
  std::size_t payload_offset = 0;
  std::size_t payload_end = 0;  // min(claimed length, bytes present)
  bool header_valid = false;    // the fixed header (addresses, TTL) can be trusted
};

IpResult decode_ipv4(ByteReader b, IpHeader& ip) {
  if (!b.has(0, 20)) return IpResult{DecodeStatus::truncated};
  const std::uint8_t ihl = static_cast<std::uint8_t>((b.at(0) & 0x0f) * 4);
  if (ihl < 20) return IpResult{DecodeStatus::malformed};
  ip.tos = b.at(1);
  ip.total_length = b.load_be16(2);
  ip.has_ip_id = true;
  ip.ip_id = b.load_be16(4);
  const std::uint16_t fragment = b.load_be16(6);
  ip.dont_fragment = (fragment & 0x4000) != 0;
  ip.is_fragment = (fragment & 0x3fff) != 0;
  ip.is_later_fragment = (fragment & 0x1fff) != 0;
  ip.fragment_id = ip.ip_id;
  ip.fragment_offset = static_cast<std::uint16_t>((fragment & 0x1fff) * 8);
  ip.more_fragments = (fragment & 0x2000) != 0;
  ip.fragment_data_at = ihl;
  ip.ttl = b.at(8);
  ip.protocol = b.at(9);
  ip.src = IpAddress::v4(b.bytes().data() + 12);
  ip.dst = IpAddress::v4(b.bytes().data() + 16);
  ip.header_length = ihl;
  if (!b.has(0, ihl)) return IpResult{DecodeStatus::truncated, 0, 0, true};
  // TSO/GSO captures carry total length 0; trust the captured bytes then.
  std::size_t end = b.size();
  if (ip.total_length != 0) {
    if (ip.total_length < ihl) return IpResult{DecodeStatus::malformed, 0, 0, true};
    end = std::min<std::size_t>(end, ip.total_length);
  }
  return IpResult{DecodeStatus::ok, ihl, end, true};
}

bool is_ipv6_extension(std::uint8_t next) {
  switch (next) {
    case 0:    // hop-by-hop options
    case 43:   // routing
    case 44:   // fragment
    case 51:   // authentication header
    case 60:   // destination options
    case 135:  // mobility
    case 139:  // HIP
    case 140:  // shim6
      return true;
    default:
      return false;
  }
}

IpResult decode_ipv6(ByteReader b, IpHeader& ip) {
  if (!b.has(0, 40)) return IpResult{DecodeStatus::truncated};
  const std::uint32_t first = b.load_be32(0);
  ip.tos = static_cast<std::uint8_t>((first >> 20) & 0xff);
  ip.flow_label = first & 0xfffff;
  const std::uint16_t payload_length = b.load_be16(4);
  ip.ttl = b.at(7);
  ip.src = IpAddress::v6(b.bytes().data() + 8);
  ip.dst = IpAddress::v6(b.bytes().data() + 24);
  // Payload length 0 means a jumbogram or a TSO capture: trust the captured bytes.
  ip.total_length = payload_length ? 40u + payload_length : static_cast<std::uint32_t>(b.size());
  const std::size_t end = std::min<std::size_t>(b.size(), ip.total_length);

  std::uint8_t next = b.at(6);
  std::size_t offset = 40;
  for (int i = 0; i < max_ipv6_extension_headers && is_ipv6_extension(next); ++i) {
    const auto header_next = b.u8(offset);
    const auto length_field = b.u8(offset + 1);
    if (!header_next || !length_field || offset + 2 > end) {
      ip.protocol = next;
      ip.header_length = static_cast<std::uint16_t>(std::min<std::size_t>(offset, 0xffff));
      return IpResult{DecodeStatus::truncated, 0, 0, true};
    }
    std::size_t length = 0;
    if (next == 44) {  // fragment header: fixed 8 bytes
      const auto fragment = b.be16(offset + 2);
      if (!fragment) return IpResult{DecodeStatus::truncated, 0, 0, true};
      // An atomic fragment (offset 0, no more fragments: RFC 6946) is a whole packet.
      ip.is_fragment = (*fragment & 0xfff9) != 0;
      ip.is_later_fragment = (*fragment & 0xfff8) != 0;
      if (ip.is_fragment) ip.fragment_id = b.be32(offset + 4).value_or(0);
      ip.fragment_offset = static_cast<std::uint16_t>(*fragment & 0xfff8);
      ip.more_fragments = (*fragment & 1) != 0;
      ip.fragment_data_at = static_cast<std::uint16_t>(std::min<std::size_t>(offset + 8, 0xffff));
      ip.fragment_next = *header_next;
      length = 8;
    } else if (next == 51) {  // AH counts 4-byte units, minus two
      length = (static_cast<std::size_t>(*length_field) + 2) * 4;
    } else {
      length = (static_cast<std::size_t>(*length_field) + 1) * 8;
    }
    next = *header_next;
    offset += length;
    if (offset > end) {
      ip.protocol = next;
      ip.header_length = static_cast<std::uint16_t>(std::min<std::size_t>(end, 0xffff));
      return IpResult{end < ip.total_length ? DecodeStatus::truncated : DecodeStatus::malformed, 0, 0, true};
    }
  }
  if (is_ipv6_extension(next)) return IpResult{DecodeStatus::malformed, 0, 0, true};
  ip.protocol = next;
  ip.header_length = static_cast<std::uint16_t>(offset);
  return IpResult{DecodeStatus::ok, offset, end, true};
}

IpResult decode_ip_header(ByteReader b, IpHeader& ip) {
  const auto first = b.u8(0);
  if (!first) return IpResult{DecodeStatus::truncated};
  switch (*first >> 4) {
    case 4: return decode_ipv4(b, ip);
    case 6: return decode_ipv6(b, ip);
    default: return IpResult{DecodeStatus::malformed};
  }
}

// ---------------------------------------------------------------- ICMP

bool is_icmp_error(bool v6, std::uint8_t type) {
  if (v6) return type >= 1 && type <= 4;
  return type == icmp_kind::v4_dest_unreachable || type == 4 /* source quench */ ||
         type == 5 /* redirect */ || type == icmp_kind::v4_time_exceeded ||
         type == icmp_kind::v4_parameter_problem;
}

DecodeStatus decode_icmp(ByteReader m, bool v6, IcmpMessage& out) {
  if (!m.has(0, 8)) return DecodeStatus::truncated;
  out.type = m.at(0);
  out.code = m.at(1);
  out.is_error = is_icmp_error(v6, out.type);
  if (!out.is_error) {
    if (out.type == (v6 ? icmp_kind::v6_echo_reply : icmp_kind::v4_echo_reply)) {
      out.echo_id = m.load_be16(4);
      out.echo_seq = m.load_be16(6);
    }
    return DecodeStatus::ok;
  }
  if (v6 && out.type == icmp_kind::v6_packet_too_big) out.mtu = m.load_be32(4);
  if (!v6 && out.type == icmp_kind::v4_dest_unreachable && out.code == 4) out.mtu = m.load_be16(6);
  out.has_quote = decode_quote(m.from(8), out.quote);
  return out.has_quote ? DecodeStatus::ok : DecodeStatus::truncated;
}

}  // namespace

bool decode_quote(ByteReader quoted, QuotedPacket& out) {
  out = QuotedPacket{};
  out.quoted_bytes = static_cast<std::uint16_t>(std::min<std::size_t>(quoted.size(), 0xffff));
  const IpResult ip = decode_ip_header(quoted, out.ip);
  // A quote may be cut anywhere; an IP header that stops short of its payload is still useful.
  if (ip.status != DecodeStatus::ok) return ip.header_valid;
  if (out.ip.protocol != ip_proto::tcp || out.ip.is_later_fragment) return true;
  // The quote is what the router saw: do not trust the inner length beyond what is present.
  const ByteReader tcp = quoted.from(ip.payload_offset);
  if (!tcp.has(0, 8)) return true;
  out.has_tcp = true;
  out.tcp.sport = tcp.load_be16(0);
  out.tcp.dport = tcp.load_be16(2);
  out.tcp.seq = tcp.load_be32(4);
  if (!tcp.has(0, 20)) return true;
  out.tcp.has_full_header = true;
  out.tcp.ack = tcp.load_be32(8);
  out.tcp.flags = tcp.at(13);
  out.tcp.window = tcp.load_be16(14);
  const std::size_t header_length = static_cast<std::size_t>(tcp.at(12) >> 4) * 4;
  if (header_length >= 20 && tcp.has(0, header_length)) {
    out.tcp.has_options = true;
    decode_tcp_options(tcp.slice(20, header_length - 20), out.tcp.options);
  }
  return true;
}

namespace {

constexpr int max_tunnel_depth = 4;
constexpr std::uint16_t vxlan_port = 4789;  // IANA
constexpr std::uint16_t ethertype_transparent_bridging = 0x6558;

DecodeStatus decode_ip_at(ByteReader frame, std::size_t at, int depth, DecodedPacket& out);

// The packet a tunnel carries, decoded in place of the outer one: the connection is the
// inner packet's; the outer header is the tunnel's.
DecodeStatus decode_inner(ByteReader frame, std::size_t at, int depth, TunnelKind kind, DecodedPacket& out) {
  if (depth >= max_tunnel_depth) return DecodeStatus::malformed;
  if (out.tunnel == TunnelKind::none) out.tunnel = kind;
  out.ip = IpHeader{};
  out.has_ip = false;
  return decode_ip_at(frame, at, depth + 1, out);
}

// An Ethernet frame inside a tunnel (GRE's transparent bridging, VXLAN): its IP packet.
DecodeStatus decode_bridged(ByteReader frame, std::size_t at, int depth, TunnelKind kind, DecodedPacket& out) {
  const LinkResult l = find_ip(link_type::ethernet, frame.from(at));
  if (l.status != DecodeStatus::ok) {
    out.transport = Transport::other;
    return l.status == DecodeStatus::not_ip ? DecodeStatus::ok : l.status;
  }
  return decode_inner(frame, at + l.offset, depth, kind, out);
}

// GRE (RFC 2784/2890): flags and version, protocol type, then the optional checksum, key
// and sequence words; IPv4, IPv6 or a bridged Ethernet frame inside.
DecodeStatus decode_gre(ByteReader frame, std::size_t at, int depth, DecodedPacket& out) {
  const auto flags = frame.be16(at);
  const auto protocol = frame.be16(at + 2);
  if (!flags || !protocol) return DecodeStatus::truncated;
  if ((*flags & 0x0007) != 0 || (*flags & 0x4000) != 0) {  // version 1 (PPTP) or source routing
    out.transport = Transport::other;
    return DecodeStatus::ok;
  }
  std::size_t inner = at + 4;
  if (*flags & 0x8000) inner += 4;  // checksum + reserved
  if (*flags & 0x2000) inner += 4;  // key
  if (*flags & 0x1000) inner += 4;  // sequence number
  if (*protocol == ethertype_ipv4 || *protocol == ethertype_ipv6)
    return decode_inner(frame, inner, depth, TunnelKind::gre, out);
  if (*protocol == ethertype_transparent_bridging) return decode_bridged(frame, inner, depth, TunnelKind::gre, out);
  out.transport = Transport::other;
  return DecodeStatus::ok;
}

// VXLAN (RFC 7348) on its IANA port: an 8-byte header with the I flag, then Ethernet.
DecodeStatus decode_vxlan(ByteReader frame, std::size_t udp, int depth, DecodedPacket& out) {
  const auto flags = frame.u8(udp + 8);
  if (!flags) return DecodeStatus::truncated;
  if ((*flags & 0x08) == 0) {
    out.transport = Transport::other;
    return DecodeStatus::ok;
  }
  return decode_bridged(frame, udp + 16, depth, TunnelKind::vxlan, out);
}

// What a non-fragment carries other than TCP or ICMP: a tunnel's inner packet, or nothing
// of ours. `outer` ends where the outer packet does, and so does the inner one.
DecodeStatus decode_carried(ByteReader outer, ByteReader payload, std::size_t payload_at, int depth,
                            DecodedPacket& out) {
  switch (out.ip.protocol) {
    case ip_proto::ipv4_in_ip: return decode_inner(outer, payload_at, depth, TunnelKind::ip_in_ip, out);
    case ip_proto::ipv6_in_ip: return decode_inner(outer, payload_at, depth, TunnelKind::ipv6_in_ip, out);
    case ip_proto::gre: return decode_gre(outer, payload_at, depth, out);
    case ip_proto::udp:
      if (!payload.has(0, 8)) return DecodeStatus::truncated;
      if (payload.load_be16(2) == vxlan_port) return decode_vxlan(outer, payload_at, depth, out);
      break;
    default: break;
  }
  out.transport = Transport::other;
  return DecodeStatus::ok;
}

DecodeStatus decode_ip_at(ByteReader frame, std::size_t at, int depth, DecodedPacket& out) {
  const ByteReader bytes = frame.from(at);
  const IpResult ip = decode_ip_header(bytes, out.ip);
  out.has_ip = ip.header_valid;
  out.ip_offset = static_cast<std::uint16_t>(std::min<std::size_t>(at, 0xffff));
  if (ip.status != DecodeStatus::ok) return ip.status;
  if (out.ip.is_later_fragment) return DecodeStatus::ok;  // no upper-layer header here

  const ByteReader payload = bytes.slice(ip.payload_offset, ip.payload_end - ip.payload_offset);
  const std::size_t payload_at = at + ip.payload_offset;
  const bool v6 = !out.ip.src.is_v4();
  switch (out.ip.protocol) {
    case ip_proto::tcp: {
      const DecodeStatus s = decode_tcp(payload, out.tcp);
      // A first fragment that cuts the TCP header waits for reassembly; a snap length
      // that cuts the options still leaves a TCP segment.
      if (s == DecodeStatus::ok || (s == DecodeStatus::truncated && out.tcp.header_length != 0 && !out.ip.is_fragment))
        out.transport = Transport::tcp;
      return s;
    }
    case ip_proto::icmp:
    case ip_proto::icmpv6: {
      if ((out.ip.protocol == ip_proto::icmpv6) != v6) {
        out.transport = Transport::other;  // ICMPv6 inside IPv4 or the reverse: not ours
        return DecodeStatus::ok;
      }
      const DecodeStatus s = decode_icmp(payload, v6, out.icmp);
      if (s == DecodeStatus::ok) out.transport = Transport::icmp;
      return s;
    }
    default:
      if (out.ip.is_fragment) break;  // a first fragment holds no whole tunnel
      return decode_carried(frame.slice(0, payload_at + payload.size()), payload, payload_at, depth, out);
  }
  out.transport = Transport::other;
  return DecodeStatus::ok;
}

}  // namespace

DecodeStatus decode_ip(ByteReader bytes, DecodedPacket& out) { return decode_ip_at(bytes, 0, 0, out); }

DecodeStatus decode_frame(std::uint16_t link, Bytes frame, DecodedPacket& out) {
  out.has_ip = false;
  out.transport = Transport::none;
  out.ip = IpHeader{};
  out.tcp = TcpHeader{};
  out.icmp = IcmpMessage{};
  out.tunnel = TunnelKind::none;
  out.reassembled = false;
  const ByteReader f{frame};
  const LinkResult l = find_ip(link, f);
  if (l.status != DecodeStatus::ok) return l.status;
  return decode_ip_at(f, l.offset, 0, out);
}

bool is_supported_link_type(std::uint16_t link) { return !link_type_name(link).empty(); }

std::string_view link_type_name(std::uint16_t link) {
  switch (link) {
    case link_type::null_bsd: return "null";
    case link_type::ethernet: return "ethernet";
    case link_type::ppp: return "ppp";
    case link_type::raw_dlt12:
    case link_type::raw_dlt14:
    case link_type::raw: return "raw";
    case link_type::ppp_hdlc: return "ppp-hdlc";
    case link_type::cisco_hdlc: return "cisco-hdlc";
    case link_type::loop: return "loop";
    case link_type::linux_sll: return "linux-sll";
    case link_type::nflog: return "nflog";
    case link_type::ipv4: return "ipv4";
    case link_type::ipv6: return "ipv6";
    case link_type::linux_sll2: return "linux-sll2";
    default: return "";
  }
}

std::string_view decode_status_name(DecodeStatus status) {
  switch (status) {
    case DecodeStatus::ok: return "ok";
    case DecodeStatus::not_ip: return "not-ip";
    case DecodeStatus::unsupported_link: return "unsupported-link";
    case DecodeStatus::truncated: return "truncated";
    case DecodeStatus::malformed: return "malformed";
  }
  return "unknown";
}

}  // namespace synprobe
