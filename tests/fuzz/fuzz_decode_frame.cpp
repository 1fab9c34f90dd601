// libFuzzer target: one hostile frame through decode_frame(), then the Analyzer.
//
// Input: 2 bytes choose the link type, the rest is the frame. With the top bit clear the
// 2 bytes index the table below (every supported link type and a few unsupported ones);
// with it set, the low 15 bits are used as the link type as they are.
//
// Every input is also judged alone (a fresh Analyzer, finish() at once), so that a crash
// in judge() reproduces from one file. A long-lived Analyzer gathers the inputs of a run
// and is judged and replaced every `batch` inputs: that is where hostile SYNs meet hostile
// answers (a crash there needs the inputs of the batch; the stack trace names judge()).
// A TCP payload is also read as a request's first bytes (TLS ClientHello, HTTP request),
// as the tracker reads them after a handshake that hostile frames rarely complete.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dissect/decode/decode.hpp"
#include "dissect/decode/request_head.hpp"
#include "dissect/verdict/analyzer.hpp"

namespace {

using namespace synprobe;

constexpr std::array<std::uint16_t, 20> links = {
    link_type::null_bsd, link_type::ethernet,   link_type::ppp,       link_type::raw_dlt12,
    link_type::raw_dlt14, link_type::ppp_hdlc,  link_type::raw,       link_type::cisco_hdlc,
    link_type::loop,     link_type::linux_sll,  link_type::nflog,     link_type::ipv4,
    link_type::ipv6,     link_type::linux_sll2,
    // unsupported: 802.11, radiotap, USER0, Linux cooked v1 typo, 0xffff, PPPoE
    105, 127, 147, 114, 0xffff, 51};

constexpr std::size_t batch = 64;

std::unique_ptr<Analyzer> shared_analyzer;
std::size_t inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto selector = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  const std::uint16_t link =
      (selector & 0x8000u) ? static_cast<std::uint16_t>(selector & 0x7fffu) : links[selector % links.size()];
  const Bytes frame(data + 2, size - 2);

  DecodedPacket packet;
  packet.ts = Timestamp{static_cast<std::int64_t>(inputs % batch) * 1'000'000};  // 1 ms apart
  packet.captured_length = static_cast<std::uint32_t>(frame.size());
  packet.wire_length = packet.captured_length;
  const DecodeStatus status = decode_frame(link, frame, packet);
  (void)decode_status_name(status);
  (void)link_type_name(link);
  if (packet.transport == Transport::tcp) (void)read_request_head(packet.tcp.payload);

  // The offline pipeline feeds every packet, whatever its status (offline_analysis.cpp).
  Analyzer alone;
  alone.add(packet);
  (void)alone.finish();

  if (!shared_analyzer) shared_analyzer = std::make_unique<Analyzer>();
  shared_analyzer->add(packet);
  if (++inputs % batch == 0) {
    (void)shared_analyzer->finish();
    shared_analyzer = std::make_unique<Analyzer>();
  }
  return 0;
}
