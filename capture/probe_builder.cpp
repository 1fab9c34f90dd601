#include "probe_builder.hpp"

#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>

#include <cstring>

namespace synprobe {
namespace {

Tins::IPv4Address tins_v4(const IpAddress& a) {
  const auto& b = a.bytes();
  // IPv4Address takes the address in network byte order as it sits in memory.
  std::uint32_t raw = 0;
  std::memcpy(&raw, b.data(), 4);
  return Tins::IPv4Address(raw);
}

Tins::IPv6Address tins_v6(const IpAddress& a) { return Tins::IPv6Address(a.bytes().data()); }

Tins::TCP linux_like_syn(const SynSpec& s, bool v6) {
  Tins::TCP tcp(s.destination_port, s.source_port);
  tcp.flags(Tins::TCP::SYN);
  tcp.seq(s.seq);
  tcp.window(64240);
  tcp.mss(v6 ? 1440 : 1460);
  tcp.sack_permitted();
  tcp.timestamp(s.ts_value, 0);
  tcp.add_option(Tins::TCP::option(Tins::TCP::NOP));
  tcp.winscale(7);
  return tcp;
}

}  // namespace

std::vector<std::uint8_t> build_syn(const SynSpec& s) {
  if (s.destination.is_v4()) {
    Tins::IP ip(tins_v4(s.destination), tins_v4(s.source));
    ip.ttl(s.ttl);
    ip.id(s.ip_id);
    ip.flags(Tins::IP::DONT_FRAGMENT);
    Tins::IP packet = ip / linux_like_syn(s, false);
    return packet.serialize();
  }
  Tins::IPv6 ip(tins_v6(s.destination), tins_v6(s.source));
  ip.hop_limit(s.ttl);
  Tins::IPv6 packet = ip / linux_like_syn(s, true);
  return packet.serialize();
}

std::vector<std::uint8_t> build_request_copy(const RequestCopySpec& s, const std::vector<std::uint8_t>& payload) {
  Tins::TCP tcp(s.destination_port, s.source_port);
  tcp.flags(Tins::TCP::PSH | Tins::TCP::ACK);
  tcp.seq(s.seq);
  tcp.ack_seq(s.ack);
  tcp.window(502);
  if (s.destination.is_v4()) {
    Tins::IP ip(tins_v4(s.destination), tins_v4(s.source));
    ip.ttl(s.ttl);
    ip.id(s.ip_id);
    ip.flags(Tins::IP::DONT_FRAGMENT);
    Tins::IP packet = ip / tcp / Tins::RawPDU(payload);
    return packet.serialize();
  }
  Tins::IPv6 ip(tins_v6(s.destination), tins_v6(s.source));
  ip.hop_limit(s.ttl);
  Tins::IPv6 packet = ip / tcp / Tins::RawPDU(payload);
  return packet.serialize();
}

std::vector<std::uint8_t> build_echo_request(const IpAddress& source, const IpAddress& destination,
                                             std::uint16_t id, std::uint16_t seq, std::uint8_t ttl) {
  const std::vector<std::uint8_t> payload(32, 0x5a);
  if (destination.is_v4()) {
    Tins::IP ip(tins_v4(destination), tins_v4(source));
    ip.ttl(ttl);
    ip.id(static_cast<std::uint16_t>(id ^ seq));
    Tins::ICMP icmp(Tins::ICMP::ECHO_REQUEST);
    icmp.id(id);
    icmp.sequence(seq);
    Tins::IP packet = ip / icmp / Tins::RawPDU(payload);
    return packet.serialize();
  }
  Tins::IPv6 ip(tins_v6(destination), tins_v6(source));
  ip.hop_limit(ttl);
  Tins::ICMPv6 icmp(Tins::ICMPv6::ECHO_REQUEST);
  icmp.identifier(id);
  icmp.sequence(seq);
  Tins::IPv6 packet = ip / icmp / Tins::RawPDU(payload);
  return packet.serialize();
}

}  // namespace synprobe
