#pragma once
// IP fragment reassembly, as far as a transport header needs. A SYN cut into fragments
// (on purpose by an evasion test, or by a tunnel's small MTU) still opens a connection,
// and its TCP header may straddle two fragments. This keeps the first bytes of each
// datagram's data (enough for a TCP header with every option, or an ICMP error's quote)
// and hands back a whole unfragmented IP packet once they are all there.
//
// Bounded, as a capture may hold any number of fragments that never complete: at most
// max_datagrams in flight (the oldest forgotten first) and each forgotten after
// datagram_lifetime_ns, Linux's ipfrag_time (30 s). Pure: no clock but the packets'.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dissect/decode/decode.hpp"
#include "dissect/decode/ip_address.hpp"
#include "dissect/decode/packet.hpp"
#include "dissect/decode/timestamp.hpp"

namespace synprobe {

class FragmentReassembler {
 public:
  static constexpr std::size_t max_datagrams = 64;
  static constexpr std::size_t kept_bytes = 128;  // of each datagram's data: TCP header (60) and more
  static constexpr std::int64_t datagram_lifetime_ns = 30'000'000'000;

  // Feeds a fragment: `ip_packet` starts at its IP header and `p` is its decoding (with
  // p.ip.is_fragment). Returns the rebuilt packet (IP header without fragmentation, then
  // the datagram's first bytes) once they are complete; the span is valid until the
  // next call.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> add(std::span<const std::uint8_t> ip_packet,
                                                                  const DecodedPacket& p);
  [[nodiscard]] std::size_t in_flight() const { return datagrams_.size(); }

 private:
  struct Datagram {
    IpAddress src, dst;
    std::uint32_t id = 0;
    std::uint8_t protocol = 0;
    Timestamp first_seen;
    std::vector<std::uint8_t> header;  // the first fragment's IP header, when seen
    std::array<std::uint8_t, kept_bytes> data{};
    std::array<bool, kept_bytes> present{};
    std::optional<std::size_t> total;  // the datagram's data length, once the last fragment came
  };

  Datagram& find_or_add(const DecodedPacket& p);
  [[nodiscard]] bool complete(const Datagram& d) const;
  void build(const Datagram& d, bool v6);
  void expire(Timestamp now);

  std::vector<Datagram> datagrams_;
  std::vector<std::uint8_t> rebuilt_;
};

// For a decoded fragment that carried no whole transport header: feeds it to the
// reassembler and, once its datagram's first bytes are complete, decodes the rebuilt
// packet into `p` in its place (p.reassembled; timestamp and tunnel kept). Returns the
// decode status of what `p` now holds: ok for a fragment still waiting for the others.
DecodeStatus reassemble_into(FragmentReassembler& reassembler, std::span<const std::uint8_t> frame, DecodedPacket& p);

}  // namespace synprobe
