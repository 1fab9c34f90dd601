#include "dissect/decode/plain_tcp.hpp"

#include <algorithm>
#include <cstring>

#include "dissect/decode/decode.hpp"

namespace synprobe {
namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

std::uint32_t be32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

// Where the IPv4 header starts: after the Ethernet header and at most one VLAN tag.
std::size_t ipv4_offset(const std::uint8_t* f, std::size_t size) {
  if (size < 14) return 0;
  const std::uint16_t type = be16(f + 12);
  if (type == 0x0800) return 14;
  if (type == 0x8100 && size >= 18 && be16(f + 16) == 0x0800) return 18;
  return 0;
}

}  // namespace

bool decode_plain_tcp(std::uint16_t link, Bytes frame, DecodedPacket& out) {
  if (link != link_type::ethernet) return false;
  const std::uint8_t* f = frame.data();
  const std::size_t offset = ipv4_offset(f, frame.size());
  if (offset == 0 || frame.size() < offset + 40) return false;
  const std::uint8_t* ip = f + offset;
  const std::uint16_t total_length = be16(ip + 2);
  const std::uint16_t fragment = be16(ip + 6);
  // Version 4, no options; TCP; not a fragment; a length that covers both headers
  // (0, as TSO captures write, takes the general path).
  if (ip[0] != 0x45 || ip[9] != ip_proto::tcp || (fragment & 0x3fff) != 0 || total_length < 40) return false;
  const std::size_t ip_end = std::min<std::size_t>(frame.size() - offset, total_length);
  const std::uint8_t* tcp = ip + 20;
  const std::size_t segment = ip_end - 20;
  const std::uint8_t tcp_header = static_cast<std::uint8_t>((tcp[12] >> 4) * 4);
  const std::uint8_t flags = tcp[13];
  if (segment < 20 || tcp_header < 20 || tcp_header > segment) return false;
  if (flags & (tcp_flag::syn | tcp_flag::rst)) return false;

  out.has_ip = true;
  out.transport = Transport::tcp;
  IpHeader& h = out.ip;
  h.src = IpAddress::v4(ip + 12);
  h.dst = IpAddress::v4(ip + 16);
  h.ttl = ip[8];
  h.tos = ip[1];
  h.protocol = ip_proto::tcp;
  h.has_ip_id = true;
  h.ip_id = be16(ip + 4);
  h.dont_fragment = (fragment & 0x4000) != 0;
  h.is_fragment = false;
  h.is_later_fragment = false;
  h.flow_label = 0;
  h.header_length = 20;
  h.total_length = total_length;
  TcpHeader& t = out.tcp;
  t.sport = be16(tcp);
  t.dport = be16(tcp + 2);
  t.seq = be32(tcp + 4);
  t.ack = be32(tcp + 8);
  t.flags = flags;
  t.window = be16(tcp + 14);
  t.header_length = tcp_header;
  t.payload_length = static_cast<std::uint32_t>(segment - tcp_header);
  t.payload = Bytes(tcp + tcp_header, segment - tcp_header);
  t.options = TcpOptions{};
  return true;
}

}  // namespace synprobe
