#include "dissect/decode/packet.hpp"

namespace synprobe {

std::string tcp_flags_text(std::uint8_t flags) {
  static constexpr std::pair<std::uint8_t, const char*> names[] = {
      {tcp_flag::syn, "SYN"}, {tcp_flag::rst, "RST"}, {tcp_flag::fin, "FIN"},
      {tcp_flag::psh, "PSH"}, {tcp_flag::ack, "ACK"}, {tcp_flag::urg, "URG"},
      {tcp_flag::ece, "ECE"}, {tcp_flag::cwr, "CWR"}};
  std::string out;
  for (const auto& [bit, name] : names) {
    if (!(flags & bit)) continue;
    if (!out.empty()) out += '/';
    out += name;
  }
  return out;
}

std::string_view tunnel_name(TunnelKind t) {
  switch (t) {
    case TunnelKind::none: return "none";
    case TunnelKind::ip_in_ip: return "IPv4-in-IP (IPIP, 4in6)";
    case TunnelKind::ipv6_in_ip: return "IPv6-in-IP (6in4, 6in6)";
    case TunnelKind::gre: return "GRE";
    case TunnelKind::vxlan: return "VXLAN";
  }
  return "unknown";
}

}  // namespace synprobe
