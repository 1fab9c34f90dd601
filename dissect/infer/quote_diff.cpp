#include "dissect/infer/quote_diff.hpp"

#include <fmt/format.h>

namespace synprobe {
namespace {

std::string option_kinds(const TcpOptions& o) {
  std::string out;
  for (std::size_t i = 0; i < o.kind_count; ++i) {
    const char* name = nullptr;
    switch (o.kinds[i]) {
      case 0: name = "EOL"; break;
      case 1: name = "NOP"; break;
      case 2: name = "MSS"; break;
      case 3: name = "WS"; break;
      case 4: name = "SACK"; break;
      case 8: name = "TS"; break;
      case 30: name = "MPTCP"; break;
      case 34: name = "TFO"; break;
      default: break;
    }
    out += (out.empty() ? "" : ",") + (name ? std::string(name) : std::to_string(o.kinds[i]));
  }
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<PathChange> compare_quote(const Attempt& a, const SynTransmission& tx, const QuotedPacket& q) {
  std::vector<PathChange> changes;
  auto differ = [&](const char* field, const std::string& sent, const std::string& quoted) {
    if (sent != quoted) changes.push_back(PathChange{field, sent, quoted});
  };
  const IpHeader& ip = q.ip;
  differ("src", a.client.to_string(), ip.src.to_string());
  differ("dst", a.server.to_string(), ip.dst.to_string());
  // DSCP is the upper six bits of TOS / traffic class, ECN the lower two.
  differ("dscp", std::to_string(a.syn_tos >> 2), std::to_string(ip.tos >> 2));
  differ("ecn", std::to_string(a.syn_tos & 3), std::to_string(ip.tos & 3));
  if (tx.has_ip_id && ip.has_ip_id) differ("ip-id", std::to_string(tx.ip_id), std::to_string(ip.ip_id));
  if (!q.has_tcp) return changes;
  differ("sport", std::to_string(a.client_port), std::to_string(q.tcp.sport));
  differ("dport", std::to_string(a.server_port), std::to_string(q.tcp.dport));
  differ("seq", std::to_string(a.isn), std::to_string(q.tcp.seq));
  if (!q.tcp.has_options) return changes;
  const TcpOptions& sent = a.syn_options;
  const TcpOptions& got = q.tcp.options;
  if (sent.has_mss || got.has_mss)
    differ("mss", sent.has_mss ? std::to_string(sent.mss) : "none", got.has_mss ? std::to_string(got.mss) : "none");
  differ("tcp-options", option_kinds(sent), option_kinds(got));
  return changes;
}

std::string describe(const PathChange& c) { return fmt::format("{} {} → {}", c.field, c.sent, c.quoted); }

}  // namespace synprobe
