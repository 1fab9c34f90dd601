#include "dissect/verdict/packet_notes.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "dissect/decode/icmp_names.hpp"
#include "dissect/decode/ttl.hpp"

namespace synprobe {
namespace {

const AttemptResult* result_for(const std::vector<AttemptResult>& results, const IpAddress& server,
                                std::uint16_t port) {
  for (const AttemptResult& r : results)
    if (r.attempt.server == server && r.attempt.server_port == port) return &r;
  return nullptr;
}

std::string verdict_suffix(const AttemptResult* r) {
  if (!r) return " (baseline probe)";
  const Judgement& j = r->judgement;
  return fmt::format("; verdict for {}: {}{}", endpoint_text(r->attempt.server, r->attempt.server_port),
                     verdict_name(j.verdict), j.hop ? fmt::format(" at hop {}", *j.hop) : std::string{});
}

std::string hop_text(std::uint8_t ttl) {
  const HopEstimate e = estimate_hop(ttl);
  return fmt::format("TTL {} = hop {} of initial {}", ttl, e.hop, e.initial);
}

}  // namespace

std::string packet_note(const DecodedPacket& p, const std::vector<AttemptResult>& results,
                        std::uint16_t source_port) {
  if (!p.has_ip) return "not an IP packet";
  if (p.transport == Transport::tcp) {
    const TcpHeader& t = p.tcp;
    // A SYN run sends from its one port; a request run (source_port 0) from the kernel's
    // connections, told by their addresses.
    const bool ours = source_port != 0 ? t.sport == source_port
                                       : std::any_of(results.begin(), results.end(), [&](const AttemptResult& r) {
                                           return r.attempt.client == p.ip.src && r.attempt.server == p.ip.dst &&
                                                  r.attempt.server_port == t.dport;
                                         });
    if (ours && source_port == 0) {
      if (t.has(tcp_flag::syn)) return fmt::format("our connection: the kernel's SYN to {}", endpoint_text(p.ip.dst, t.dport));
      if (t.has(tcp_flag::rst)) return "our RST, closing the connection (SO_LINGER 0: nothing is left open)";
      if (t.payload_length > 0)
        return fmt::format("our request to {} ({} bytes, TTL {}{})", endpoint_text(p.ip.dst, t.dport), t.payload_length,
                           p.ip.ttl, p.ip.ttl <= max_probe_ttl ? ": a TTL-limited copy, to find where it is refused" : "");
      return "from us";
    }
    if (ours) {
      if (t.has(tcp_flag::syn))
        return fmt::format("probe: SYN to {}, TTL {}, seq {}{}", endpoint_text(p.ip.dst, t.dport), p.ip.ttl, t.seq,
                           result_for(results, p.ip.dst, t.dport) ? "" : " (baseline probe)");
      if (t.has(tcp_flag::rst))
        return "our kernel's RST to a SYN/ACK it did not expect (normal when probing with raw sockets)";
      return "from us";
    }
    const AttemptResult* r = result_for(results, p.ip.src, t.sport);
    const std::string what = t.has(tcp_flag::syn) && t.has(tcp_flag::ack) ? "SYN/ACK" : tcp_flags_text(t.flags);
    return fmt::format("answer: {} from {} ({}), ack {}{}{}", what, endpoint_text(p.ip.src, t.sport), hop_text(p.ip.ttl),
                       t.ack, t.payload_length > 0 ? fmt::format(", {} bytes", t.payload_length) : std::string{},
                       verdict_suffix(r));
  }
  if (p.transport == Transport::icmp) {
    const IcmpMessage& m = p.icmp;
    const IpFamily family = p.ip.src.family();
    if (!m.is_error) {
      if ((family == IpFamily::v4 && m.type == 8) || (family == IpFamily::v6 && m.type == 128))
        return fmt::format("baseline probe: echo request to {}", p.ip.dst.to_string());
      return fmt::format("baseline: echo reply from {} ({})", p.ip.src.to_string(), hop_text(p.ip.ttl));
    }
    std::string note = fmt::format("ICMP {} from {} ({})", icmp_name(family, m.type, m.code), p.ip.src.to_string(),
                                   hop_text(p.ip.ttl));
    if (m.has_quote && m.quote.has_tcp) {
      const bool syn = !m.quote.tcp.has_full_header || (m.quote.tcp.flags & tcp_flag::syn);
      note += fmt::format(", quoting our {} to {} seq {}", syn ? "SYN" : "request", endpoint_text(m.quote.ip.dst, m.quote.tcp.dport),
                          m.quote.tcp.seq);
      if (m.quote.ip.ttl) note += fmt::format(" with TTL {} left", m.quote.ip.ttl);
      note += verdict_suffix(result_for(results, m.quote.ip.dst, m.quote.tcp.dport));
    }
    return note;
  }
  return "other";
}

}  // namespace synprobe
