#pragma once
// Name resolution for probe targets: every A and AAAA record, in the resolver's order
// (a browser's "refused" is often one stale or IPv6-only address among several).

#include <string>
#include <vector>

#include "capture/privileges.hpp"
#include "dissect/decode/ip_address.hpp"

namespace synprobe {

enum class FamilyChoice { any, v4_only, v6_only };

// A literal address is returned as given. Throws Failure(usage) for a name that does not
// resolve, or that has no address of the family asked for.
[[nodiscard]] std::vector<IpAddress> resolve_host(const std::string& host, FamilyChoice family);

// The same, but a name goes to the resolver in a child process that has first become
// `who` with no capability left (drop_privileges()): /etc/hosts, resolv.conf and DNS
// answers are parsed by glibc as that user, not as root (unless `who` is root: --user
// root). Literal addresses and "localhost" need no resolver and stay in this process.
// The child's Failure is thrown here as it was thrown there; a child that dies or answers
// garbled says so (Failure(internal)). For a single-threaded caller: the child calls
// getaddrinfo after fork(). It keeps no descriptor of the parent's but stdio.
[[nodiscard]] std::vector<IpAddress> resolve_host_as(const std::string& host, FamilyChoice family,
                                                     const Identity& who);

}  // namespace synprobe
