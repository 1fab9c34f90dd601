#pragma once
// Causes that belong to an address, not to a port: a router's neighbour resolution is per
// address, so when one port of an address proved that no device lives there (a late
// host-unreachable, cause no-host-at-address), its other ports that drew nothing within
// the same resolution met the same router's same failure. The router was silent for them
// because it queues only a few packets per unresolved neighbour and rate-limits its ICMP
// errors (Linux: a burst of 6, then one a second per destination); their silence is not a
// firewall's drop, and reporting it as one would send the reader to the wrong team.

#include <vector>

#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// Gives each silent attempt (`dropped`) the no-host cause of another attempt to the same
// address whose first SYN left within that attempt's resolution (from its first SYN less
// the error's delay to its error plus the delay again), unless the silent attempt's own
// trace died at another hop. The verdict stays `dropped` (no error came for it); actor,
// responder and hop become the router's (rule address-no-neighbour, signal address-no-host).
void share_no_host_cause(std::vector<AttemptResult>& results);

}  // namespace synprobe
