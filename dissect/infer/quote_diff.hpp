#pragma once
// Tracebox's idea: an ICMP error quotes our SYN as the sending router saw it.
// Comparing the quote with what we sent shows what the path changed before that
// router (TTL aside): MSS clamping, options removed, DSCP/ECN, IP-ID, sequence
// number rewriting, NAT of addresses or ports.

#include <string>
#include <vector>

#include "dissect/infer/attempt.hpp"

namespace synprobe {

struct PathChange {
  std::string field;   // "mss", "tcp-options", "dscp", "ecn", "ip-id", "seq", "src", "sport", "dst", "dport", "window"
  std::string sent;
  std::string quoted;

  friend bool operator==(const PathChange&, const PathChange&) = default;
};

// Differences between the SYN transmission `tx` of `attempt` and `quote`. Fields the
// quote does not hold (a short RFC 792 quotation) are not compared.
[[nodiscard]] std::vector<PathChange> compare_quote(const Attempt& attempt, const SynTransmission& tx,
                                                    const QuotedPacket& quote);

[[nodiscard]] std::string describe(const PathChange& c);

}  // namespace synprobe
