#pragma once
// What the addresses of one name meet, compared. `probe NAME:PORT` tries every A and AAAA
// record, and a browser's "refused" is often one address among several: a stale record
// (no host at it any more), an IPv6 address the firewall forgot. One finding per name and
// port: how many of its addresses accept, each address's fate in words, which address a
// client tries first, and what a browser (Happy Eyeballs, RFC 8305) and a client that
// walks the list one address at a time meet.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// A name as the resolver answered it: its addresses in the resolver's order (glibc sorts
// them by RFC 6724's destination address selection, the order clients try them in).
struct NameQuery {
  std::string name;
  std::vector<IpAddress> addresses;
  std::vector<std::uint16_t> ports;  // probed on each address, in the order given
};

// One address of the name on one port: what its probe found.
struct AddressOutcome {
  IpAddress address;
  std::uint16_t port = 0;
  std::uint64_t attempt_id = 0;  // the attempt's "id" in the same report
  Verdict verdict = Verdict::inconclusive;
  Actor actor = Actor::unknown;
  Cause cause = Cause::none;
  std::optional<IpAddress> responder;
  std::optional<int> hop;
  std::optional<double> rtt_ms;   // of the answer that decided, when one did
  std::string fate;               // "has no host on hop 3's network (198.18.3.2)"
};

// When one family fails as a whole while the other works (JSON "family_split").
enum class FamilySplit : std::uint8_t { none, ipv6_fails, ipv4_fails };
[[nodiscard]] std::string_view family_split_name(FamilySplit s);  // "" for none
[[nodiscard]] std::optional<FamilySplit> family_split_from_name(std::string_view name);

struct NameFinding {
  std::string name;
  std::uint16_t port = 0;
  std::vector<AddressOutcome> addresses;  // the resolver's order
  std::size_t accepting = 0;              // addresses whose SYNs were answered SYN/ACK
  FamilySplit family_split = FamilySplit::none;
  std::optional<IpAddress> first_try;  // the address clients try first (the resolver's first)
  std::optional<IpAddress> browser_connects_to;  // Happy Eyeballs' first address that accepts
  std::string finding;  // "2 of 3 addresses of app.example.net accept port 443; 198.51.100.7 has ..."
  std::string clients;  // what a browser, a list-walking client and a first-address client meet
};

// RFC 8305 section 4: Happy Eyeballs interleaves the families, starting with the family
// of the address RFC 6724 put first (First Address Family Count 1).
[[nodiscard]] std::vector<IpAddress> happy_eyeballs_order(const std::vector<IpAddress>& resolver_order);

// An address's fate in words, from its judged attempt ("accepts", "is dropped after hop 2
// (198.18.2.2)").
[[nodiscard]] std::string address_fate(const Judgement& j);

// One finding per name and port, for each name with at least one probed address. Names
// that were typed as literal addresses are not names: callers pass only real names.
// `attempts` are the report's judged attempts (one per address and port).
[[nodiscard]] std::vector<NameFinding> compare_names(const std::vector<NameQuery>& names,
                                                     const std::vector<AttemptResult>& attempts);

}  // namespace synprobe
