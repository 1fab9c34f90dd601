#pragma once
// Which interface, source address and next hop the kernel would use to reach a
// destination: asked of the kernel's routing table over rtnetlink (RTM_GETROUTE).

#include <optional>
#include <string>

#include "dissect/decode/ip_address.hpp"

namespace synprobe {

struct Route {
  std::string interface;              // e.g. "eth0", "lo"
  int interface_index = 0;
  IpAddress source;                   // preferred source address
  std::optional<IpAddress> next_hop;  // the gateway; empty when the destination is on-link
};

// Throws Failure(network) when there is no route or the kernel cannot be asked.
// `source`, when given, is passed to the kernel as the source to route from.
[[nodiscard]] Route lookup_route(const IpAddress& destination,
                                 const std::optional<IpAddress>& source = std::nullopt);

}  // namespace synprobe
