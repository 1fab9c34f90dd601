#include "offline_analysis.hpp"

#include <pcap/pcap.h>

#include <fmt/format.h>

#include <array>
#include <memory>
#include <vector>

#include "capture/bpf_filter.hpp"
#include "capture/capture_file.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "dissect/decode/reassembly.hpp"
#include "dissect/decode/decode.hpp"
#include "dissect/decode/error.hpp"
#include "dissect/decode/plain_tcp.hpp"

namespace synprobe {
namespace {

// Records between two progress calls: a few milliseconds of reading.
constexpr std::uint64_t progress_every = 8192;

// libpcap knows the names of link types we do not decode; use them in messages.
std::string describe_link_type(std::uint16_t link) {
  if (const std::string_view ours = link_type_name(link); !ours.empty()) return std::string(ours);
  const char* name = pcap_datalink_val_to_name(link);
  return name ? fmt::format("{} ({})", link, name) : std::to_string(link);
}

void require_supported_link(const CaptureFileReader& reader, const std::string& path) {
  for (const std::uint16_t link : reader.link_types())
    if (is_supported_link_type(link)) return;
  if (reader.link_types().empty()) return;  // no interface declared: nothing to say yet
  std::string list;
  for (const std::uint16_t link : reader.link_types())
    list += (list.empty() ? "" : ", ") + describe_link_type(link);
  throw Failure(ExitCode::input_unreadable,
                fmt::format("{}: unsupported link type {} (synprobe reads Ethernet, Linux SLL/SLL2, raw IP, "
                            "BSD NULL/loopback, PPP, Cisco HDLC and NFLOG)",
                            path, list));
}

// Decodes a frame into `packet`. Most packets are plain TCP segments of established flows:
// the shortcut decodes them the same way, for a fraction of the cost.
// Fragments that carry no whole transport header go to the reassembler.
DecodeStatus decode(const RawFrame& frame, DecodedPacket& packet, FragmentReassembler& fragments) {
  packet.ts = frame.ts;
  packet.wire_length = frame.wire_length;
  packet.captured_length = static_cast<std::uint32_t>(frame.data.size());
  if (decode_plain_tcp(frame.link_type, frame.data, packet)) return DecodeStatus::ok;
  const DecodeStatus status = decode_frame(frame.link_type, frame.data, packet);
  if (packet.has_ip && packet.ip.is_fragment && packet.transport == Transport::none)
    return reassemble_into(fragments, frame.data, packet);
  return status;
}

// The last three packets decoded, in a ring the decoders write in place.
class DecodeAhead {
 public:
  DecodedPacket& next_slot() {
    newest_ = (newest_ + 1) % depth;
    ++decoded_;
    return ring_[newest_];
  }
  [[nodiscard]] const DecodedPacket* one_back() const { return back(1); }
  [[nodiscard]] const DecodedPacket* two_back() const { return back(2); }
  // The packets not yet two back, oldest first; the ring is empty after. At the end, and
  // whenever what they view is about to move.
  template <typename F>
  void drain(F&& add) {
    if (const DecodedPacket* p = one_back()) add(*p);
    if (decoded_ > 0) add(ring_[newest_]);
    decoded_ = 0;
  }

 private:
  static constexpr std::size_t depth = 3;  // the newest packet and the two before it
  [[nodiscard]] const DecodedPacket* back(std::size_t n) const {
    return decoded_ > n ? &ring_[(newest_ + depth - n) % depth] : nullptr;
  }

  std::array<DecodedPacket, depth> ring_{};
  std::size_t newest_ = 0;
  std::uint64_t decoded_ = 0;
};

}  // namespace

AnalysisReport analyze_capture(const OfflineOptions& options, const AttemptSink& sink) {
  // The filter first: a typo in it is the user's to fix whatever the file holds.
  std::unique_ptr<BpfFilter> filter;
  if (options.filter) filter = std::make_unique<BpfFilter>(*options.filter);
  CaptureFileReader reader(options.path, options.digest);
  // A pcap file declares its one link type up front: refuse before reading any packet.
  if (std::string_view(reader.format()) == "pcap") require_supported_link(reader, options.path);

  AnalysisReport report;
  InputSummary& in = report.input;
  in.path = options.path;
  in.format = reader.format();
  in.filter = options.filter;

  Analyzer analyzer;
  analyzer.stream_to(sink);
  analyzer.set_details(options.details);
  RawFrame frame;
  // Decoded two packets ahead of the analyzer, which is told what comes (its host table
  // then has the senders' records in cache when they are needed): packet n is added once
  // n + 2 is decoded. Partial decodes are added too: an IP header alone feeds the baselines.
  DecodeAhead ahead;
  FragmentReassembler fragments;
  const auto add = [&analyzer](const DecodedPacket& p) { analyzer.add(p); };
  for (;;) {
    // A decoded packet's payload is a view into the reader's window: the packets still
    // ahead of the analyzer are added before the window moves under them.
    if (!reader.next_keeps_views()) ahead.drain(add);
    if (!reader.next(frame)) break;
    ++in.packets;
    if (options.progress && in.packets % progress_every == 0)
      options.progress(reader.bytes_consumed(), reader.total_bytes());
    if (filter && !filter->matches(frame)) {
      ++in.filtered_out;
      continue;
    }
    DecodedPacket& packet = ahead.next_slot();
    ++in.decode[static_cast<std::size_t>(decode(frame, packet, fragments))];
    analyzer.prefetch_far(packet);
    if (const DecodedPacket* next = ahead.one_back()) analyzer.prefetch_near(*next);
    if (const DecodedPacket* due = ahead.two_back()) analyzer.add(*due);
    // A reassembled packet views the reassembler's buffer, which the next fragment reuses.
    if (packet.reassembled) ahead.drain(add);
  }
  ahead.drain(add);
  require_supported_link(reader, options.path);
  // Damage before the first packet leaves nothing to analyse: the file is unreadable.
  if (reader.damage() && in.packets == 0) throw Failure(ExitCode::input_unreadable, *reader.damage());

  in.bytes = reader.bytes_consumed();
  if (options.digest) in.sha256 = reader.sha256();
  in.damage = reader.damage();
  for (const std::uint16_t link : reader.link_types()) in.link_types.push_back(describe_link_type(link));
  in.first_packet = analyzer.first_packet();
  in.last_packet = analyzer.last_packet();
  analyzer.flush();
  in.baselines_forgotten = analyzer.baselines_forgotten();
  in.attempts_judged_early = analyzer.attempts_judged_early();
  in.late_syns = analyzer.late_syns();
  return report;
}

AnalysisReport analyze_capture(const OfflineOptions& options) {
  std::vector<AttemptResult> attempts;
  AnalysisReport report =
      analyze_capture(options, [&](AttemptResult&& r) { attempts.push_back(std::move(r)); });
  report.attempts = std::move(attempts);
  return report;
}

}  // namespace synprobe
