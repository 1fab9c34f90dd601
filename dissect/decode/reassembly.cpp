#include "dissect/decode/reassembly.hpp"

#include <algorithm>

namespace synprobe {

void FragmentReassembler::expire(Timestamp now) {
  datagrams_.erase(std::remove_if(datagrams_.begin(), datagrams_.end(),
                                  [&](const Datagram& d) { return now.ns - d.first_seen.ns > datagram_lifetime_ns; }),
                   datagrams_.end());
}

FragmentReassembler::Datagram& FragmentReassembler::find_or_add(const DecodedPacket& p) {
  const std::uint8_t protocol = p.ip.src.is_v4() ? p.ip.protocol : p.ip.fragment_next;
  for (Datagram& d : datagrams_)
    if (d.id == p.ip.fragment_id && d.protocol == protocol && d.src == p.ip.src && d.dst == p.ip.dst) return d;
  if (datagrams_.size() == max_datagrams) datagrams_.erase(datagrams_.begin());
  Datagram& d = datagrams_.emplace_back();
  d.src = p.ip.src;
  d.dst = p.ip.dst;
  d.id = p.ip.fragment_id;
  d.protocol = protocol;
  d.first_seen = p.ts;
  return d;
}

// Complete when the first fragment's header is known and every byte up to kept_bytes (or
// to the datagram's end, if shorter) has come.
bool FragmentReassembler::complete(const Datagram& d) const {
  if (d.header.empty()) return false;
  const std::size_t need = d.total ? std::min(*d.total, kept_bytes) : kept_bytes;
  return std::all_of(d.present.begin(), d.present.begin() + static_cast<std::ptrdiff_t>(need), [](bool b) { return b; });
}

void FragmentReassembler::build(const Datagram& d, bool v6) {
  const std::size_t length = d.total ? std::min(*d.total, kept_bytes) : kept_bytes;
  rebuilt_.assign(d.header.begin(), d.header.end());
  rebuilt_.insert(rebuilt_.end(), d.data.begin(), d.data.begin() + static_cast<std::ptrdiff_t>(length));
  // The whole datagram's length goes in the header (the rest of its data is not kept): a
  // TCP segment's payload length then reads true.
  const std::size_t claimed = d.total.value_or(length);
  if (v6) {
    rebuilt_[6] = d.protocol;  // the fragment header is gone: its next header moves up
    const auto payload = static_cast<std::uint16_t>(std::min<std::size_t>(claimed, 0xffff));
    rebuilt_[4] = static_cast<std::uint8_t>(payload >> 8);
    rebuilt_[5] = static_cast<std::uint8_t>(payload);
  } else {
    const auto total = static_cast<std::uint16_t>(std::min<std::size_t>(d.header.size() + claimed, 0xffff));
    rebuilt_[2] = static_cast<std::uint8_t>(total >> 8);
    rebuilt_[3] = static_cast<std::uint8_t>(total);
    rebuilt_[6] &= 0x40;  // keep DF; clear MF and the offset
    rebuilt_[7] = 0;
  }
}

std::optional<std::span<const std::uint8_t>> FragmentReassembler::add(std::span<const std::uint8_t> ip_packet,
                                                                        const DecodedPacket& p) {
  expire(p.ts);
  const bool v6 = !p.ip.src.is_v4();
  const std::size_t data_at = p.ip.fragment_data_at;
  if (data_at == 0 || data_at > ip_packet.size()) return std::nullopt;
  const std::size_t end = std::min<std::size_t>(ip_packet.size(), p.ip.total_length ? p.ip.total_length : ip_packet.size());
  if (end < data_at) return std::nullopt;
  Datagram& d = find_or_add(p);
  const std::size_t offset = p.ip.fragment_offset;
  const std::size_t length = end - data_at;
  if (offset == 0) {
    // The IP header without the fragment header (IPv6 keeps only its fixed 40 bytes; any
    // extension header before the fragment header is routing matter, not the datagram's).
    const std::size_t header = v6 ? 40 : data_at;
    d.header.assign(ip_packet.begin(), ip_packet.begin() + static_cast<std::ptrdiff_t>(header));
  }
  if (!p.ip.more_fragments) d.total = offset + length;
  for (std::size_t i = 0; i < length && offset + i < kept_bytes; ++i) {
    d.data[offset + i] = ip_packet[data_at + i];
    d.present[offset + i] = true;
  }
  if (!complete(d)) return std::nullopt;
  build(d, v6);
  datagrams_.erase(datagrams_.begin() + (&d - datagrams_.data()));
  return std::span<const std::uint8_t>(rebuilt_);
}

DecodeStatus reassemble_into(FragmentReassembler& reassembler, std::span<const std::uint8_t> frame, DecodedPacket& p) {
  if (p.ip_offset > frame.size()) return DecodeStatus::malformed;
  const auto rebuilt = reassembler.add(frame.subspan(p.ip_offset), p);
  if (!rebuilt) return DecodeStatus::ok;
  const TunnelKind tunnel = p.tunnel;
  p.ip = IpHeader{};
  p.tcp = TcpHeader{};
  p.icmp = IcmpMessage{};
  p.transport = Transport::none;
  const DecodeStatus s = decode_ip(ByteReader{*rebuilt}, p);
  p.tunnel = tunnel;
  p.reassembled = true;
  p.ip_offset = 0;
  return s;
}

}  // namespace synprobe
