#pragma once
// Name resolution for probe targets: every A and AAAA record, in the resolver's order
// (a browser's "refused" is often one stale or IPv6-only address among several).

#include <string>
#include <vector>

#include "dissect/ip_address.hpp"

namespace synprobe {

enum class FamilyChoice { any, v4_only, v6_only };

// A literal address is returned as given. Throws Failure(usage) for a name that does not
// resolve, or that has no address of the family asked for.
[[nodiscard]] std::vector<IpAddress> resolve_host(const std::string& host, FamilyChoice family);

}  // namespace synprobe
