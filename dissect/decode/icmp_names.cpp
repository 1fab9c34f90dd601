#include "dissect/decode/icmp_names.hpp"

#include <array>

#include "dissect/decode/packet.hpp"

namespace synprobe {
namespace {

constexpr std::array<std::string_view, 16> v4_unreachable{
    "net-unreachable",       "host-unreachable",        "protocol-unreachable",
    "port-unreachable",      "fragmentation-needed",    "source-route-failed",
    "net-unknown",           "host-unknown",            "source-host-isolated",
    "net-prohibited",        "host-prohibited",         "net-tos-unreachable",
    "host-tos-unreachable",  "admin-prohibited",        "host-precedence-violation",
    "precedence-cutoff"};

constexpr std::array<std::string_view, 8> v6_unreachable{
    "no-route",          "admin-prohibited", "beyond-scope",       "address-unreachable",
    "port-unreachable",  "source-policy-failed", "reject-route",   "source-routing-error"};

}  // namespace

bool is_destination_unreachable(IpFamily family, std::uint8_t type) {
  return family == IpFamily::v4 ? type == icmp_kind::v4_dest_unreachable
                                : type == icmp_kind::v6_dest_unreachable;
}

bool is_time_exceeded(IpFamily family, std::uint8_t type) {
  return family == IpFamily::v4 ? type == icmp_kind::v4_time_exceeded
                                : type == icmp_kind::v6_time_exceeded;
}

bool is_size_error(IpFamily family, std::uint8_t type, std::uint8_t code) {
  return family == IpFamily::v4 ? (type == icmp_kind::v4_dest_unreachable && code == 4)
                                : type == icmp_kind::v6_packet_too_big;
}

bool is_refusal(IpFamily family, std::uint8_t type, std::uint8_t code) {
  return is_destination_unreachable(family, type) && !is_size_error(family, type, code);
}

std::string_view icmp_name(IpFamily family, std::uint8_t type, std::uint8_t code) {
  if (is_destination_unreachable(family, type)) {
    if (family == IpFamily::v4 && code < v4_unreachable.size()) return v4_unreachable[code];
    if (family == IpFamily::v6 && code < v6_unreachable.size()) return v6_unreachable[code];
    return "unreachable-unknown-code";
  }
  if (is_time_exceeded(family, type))
    return code == 0 ? "ttl-exceeded" : "reassembly-time-exceeded";
  if (family == IpFamily::v6 && type == icmp_kind::v6_packet_too_big) return "packet-too-big";
  if (family == IpFamily::v4 && type == icmp_kind::v4_parameter_problem) return "parameter-problem";
  if (family == IpFamily::v6 && type == icmp_kind::v6_parameter_problem) return "parameter-problem";
  if (family == IpFamily::v4 && type == 4) return "source-quench";
  if (family == IpFamily::v4 && type == 5) return "redirect";
  return "other";
}

}  // namespace synprobe
