#pragma once
// A shortcut through decode_frame for the bulk of a busy link: an Ethernet frame (at most
// one 802.1Q tag) carrying IPv4 without options or fragmentation and a whole TCP header
// without SYN or RST. Those packets only feed the senders' baselines (TTL, IP-ID) and the
// flow look-ups; decoding them field by field through the general path cost a quarter of
// the offline analysis.

#include "dissect/decode/byte_reader.hpp"
#include "dissect/decode/packet.hpp"

namespace synprobe {

// Fills `out` exactly as decode_frame would (status ok; `tcp.options` left empty, as
// decode_frame leaves them for segments without SYN or RST; `icmp` untouched, valid only
// for ICMP) and returns true; returns false, touching nothing that matters, for any other
// frame, which then goes through decode_frame. A unit test holds the two paths equal.
[[nodiscard]] bool decode_plain_tcp(std::uint16_t link, Bytes frame, DecodedPacket& out);

}  // namespace synprobe
