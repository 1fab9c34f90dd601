#include "dissect/verdict/name_finding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace synprobe {
namespace {

// RFC 8305 section 5: a Happy Eyeballs client starts the next address this long after the
// previous one if that has not connected or failed by then (recommended 250 ms; Chrome
// and Firefox use 250 to 300 ms).
constexpr double connection_attempt_delay_ms = 250;
// Linux gives up on an unanswered SYN after tcp_syn_retries (default 6) retransmissions:
// 1 + 2 + 4 + ... + 64 s.
constexpr double linux_connect_timeout_s = 127;

std::string at_hop(const Judgement& j) {
  if (!j.hop) return j.responder ? j.responder->to_string() : "an unknown hop";
  return j.responder ? fmt::format("hop {} ({})", *j.hop, j.responder->to_string()) : fmt::format("hop {}", *j.hop);
}

bool accepts(const AddressOutcome& o) { return o.verdict == Verdict::open; }
bool silent(const AddressOutcome& o) { return o.verdict == Verdict::dropped || o.verdict == Verdict::inconclusive; }

// How long a client spends on an address that fails before it gives up on it: the
// refusal's round trip (a router's late host-unreachable included: Linux ends connect()
// on it), or connect()'s own timeout for silence (none: the caller says it in words).
std::optional<double> failure_after_ms(const AddressOutcome& o) {
  if (silent(o)) return std::nullopt;
  return o.rtt_ms.value_or(0);
}

// What connect() reports for the answer on Linux (net/ipv4/icmp.c icmp_err_convert,
// net/ipv6/icmp.c icmpv6_err_convert; a RST is ECONNREFUSED); a SYN_SENT socket ends on
// any of them.
std::string client_error(const AddressOutcome& o, const Judgement& j) {
  if (silent(o)) return "Connection timed out";
  if (!j.icmp) return "Connection refused";
  const unsigned code = j.icmp->code;
  if (o.address.is_v4()) {
    if (code == 3) return "Connection refused";
    if (code == 0 || code == 6 || code == 9 || code == 11) return "Network is unreachable";
    return "No route to host";
  }
  if (code == 4) return "Connection refused";
  if (code == 0) return "Network is unreachable";
  if (code == 1 || code == 5 || code == 6) return "Permission denied";
  return "No route to host";
}

AddressOutcome outcome_of(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  AddressOutcome o;
  o.address = r.attempt.server;
  o.port = r.attempt.server_port;
  o.attempt_id = r.attempt.id;
  o.verdict = j.verdict;
  o.actor = j.actor;
  o.cause = j.cause;
  o.responder = j.responder;
  o.hop = j.hop;
  o.rtt_ms = j.rtt_ms;
  o.fate = address_fate(j);
  return o;
}

FamilySplit family_split_of(const std::vector<AddressOutcome>& outcomes) {
  auto all_fail = [&](bool v4) {
    bool any = false;
    for (const AddressOutcome& o : outcomes)
      if (o.address.is_v4() == v4) {
        if (accepts(o)) return false;
        any = true;
      }
    return any;
  };
  auto some_accept = [&](bool v4) {
    return std::any_of(outcomes.begin(), outcomes.end(),
                       [&](const AddressOutcome& o) { return o.address.is_v4() == v4 && accepts(o); });
  };
  if (all_fail(false) && some_accept(true)) return FamilySplit::ipv6_fails;
  if (all_fail(true) && some_accept(false)) return FamilySplit::ipv4_fails;
  return FamilySplit::none;
}

std::string count_text(const NameFinding& f) {
  const std::size_t total = f.addresses.size();
  if (total == 1)
    return fmt::format("The only address of {} {} port {}", f.name, f.accepting ? "accepts" : "does not accept", f.port);
  if (f.accepting == total) return fmt::format("All {} addresses of {} accept port {}", total, f.name, f.port);
  if (f.accepting == 0) return fmt::format("None of the {} addresses of {} accepts port {}", total, f.name, f.port);
  return fmt::format("{} of {} addresses of {} accept port {}", f.accepting, total, f.name, f.port);
}

std::string finding_text(const NameFinding& f) {
  std::string text = count_text(f);
  for (const AddressOutcome& o : f.addresses)
    if (!accepts(o)) text += fmt::format("; {} {}", o.address.to_string(), o.fate);
  text += '.';
  if (f.family_split == FamilySplit::ipv6_fails)
    text += " IPv6 fails while IPv4 works: a client with an IPv6 route prefers IPv6 (RFC 6724), so it meets the "
            "failure first.";
  if (f.family_split == FamilySplit::ipv4_fails)
    text += " IPv4 fails while IPv6 works: clients without IPv6 (or that prefer IPv4) cannot connect.";
  return text;
}

// What a client that walks the list in the resolver's order spends before it connects.
std::string list_walker_text(const NameFinding& f, const AddressOutcome& first_accepting) {
  double spent_ms = 0;
  for (const AddressOutcome& o : f.addresses) {
    if (&o == &first_accepting) break;
    const std::optional<double> after = failure_after_ms(o);
    if (!after)
      return fmt::format("a client that tries one address at a time waits for connect()'s timeout on {} first "
                         "(Linux: about {:.0f} s), then connects to {}",
                         o.address.to_string(), linux_connect_timeout_s, first_accepting.address.to_string());
    spent_ms += *after;
  }
  return fmt::format("a client that tries one address at a time connects to {} after {}",
                     first_accepting.address.to_string(),
                     spent_ms >= 1000 ? fmt::format("{:.1f} s", spent_ms / 1000) : fmt::format("{:.0f} ms", spent_ms));
}

// What a Happy Eyeballs client spends before it connects: each failing address before the
// one that accepts costs its failure's round trip, at most the Connection Attempt Delay.
std::string browser_text(const NameFinding& f, const std::vector<IpAddress>& order, const AddressOutcome& target) {
  double spent_ms = 0;
  for (const IpAddress& a : order) {
    if (a == target.address) break;
    const auto o = std::find_if(f.addresses.begin(), f.addresses.end(), [&](const AddressOutcome& x) { return x.address == a; });
    if (o == f.addresses.end()) continue;
    spent_ms += std::min(failure_after_ms(*o).value_or(connection_attempt_delay_ms), connection_attempt_delay_ms);
  }
  return fmt::format("a browser (Happy Eyeballs, RFC 8305) connects to {} after about {:.0f} ms more",
                     target.address.to_string(), spent_ms);
}

std::vector<IpAddress> addresses_of(const NameFinding& f) {
  std::vector<IpAddress> v;
  for (const AddressOutcome& o : f.addresses) v.push_back(o.address);
  return v;
}

const AddressOutcome& outcome_at(const NameFinding& f, const IpAddress& a) {
  return *std::find_if(f.addresses.begin(), f.addresses.end(), [&](const AddressOutcome& o) { return o.address == a; });
}

// The first address of `order` that accepts.
std::optional<IpAddress> first_accepting(const NameFinding& f, const std::vector<IpAddress>& order) {
  for (const IpAddress& a : order)
    if (accepts(outcome_at(f, a))) return a;
  return std::nullopt;
}

std::string clients_text(const NameFinding& f, const Judgement& first_judgement) {
  const AddressOutcome& first = f.addresses.front();
  if (!f.browser_connects_to) return fmt::format("No address accepts port {}: every client fails.", f.port);
  if (accepts(first))
    return fmt::format("Clients try {} first (the resolver's order, RFC 6724) and connect; only a client that tries "
                       "another address first (another resolver, an old cache) meets the failures.",
                       first.address.to_string());
  const AddressOutcome& walker_target = *std::find_if(f.addresses.begin(), f.addresses.end(), accepts);
  return fmt::format("Clients try {} first (the resolver's order, RFC 6724), which {}. Then {}; {}; a client that "
                     "uses only the first address fails (connect(): {}).",
                     first.address.to_string(), first.fate,
                     browser_text(f, happy_eyeballs_order(addresses_of(f)), outcome_at(f, *f.browser_connects_to)),
                     list_walker_text(f, walker_target), client_error(first, first_judgement));
}

}  // namespace

std::string_view family_split_name(FamilySplit s) {
  switch (s) {
    case FamilySplit::none: return "";
    case FamilySplit::ipv6_fails: return "ipv6-fails";
    case FamilySplit::ipv4_fails: return "ipv4-fails";
  }
  return "";
}

std::optional<FamilySplit> family_split_from_name(std::string_view name) {
  if (name == "ipv6-fails") return FamilySplit::ipv6_fails;
  if (name == "ipv4-fails") return FamilySplit::ipv4_fails;
  return std::nullopt;
}

std::vector<IpAddress> happy_eyeballs_order(const std::vector<IpAddress>& resolver_order) {
  if (resolver_order.empty()) return {};
  const bool first_v4 = resolver_order.front().is_v4();
  std::vector<IpAddress> preferred, other, order;
  for (const IpAddress& a : resolver_order) (a.is_v4() == first_v4 ? preferred : other).push_back(a);
  for (std::size_t i = 0; i < std::max(preferred.size(), other.size()); ++i) {
    if (i < preferred.size()) order.push_back(preferred[i]);
    if (i < other.size()) order.push_back(other[i]);
  }
  return order;
}

std::string address_fate(const Judgement& j) {
  switch (j.verdict) {
    case Verdict::open: return "accepts";
    case Verdict::refused_by_host:
      return j.icmp ? fmt::format("is refused by the host itself (ICMP {})", j.icmp->name)
                    : "is refused by the host itself (RST)";
    case Verdict::refused_by_middlebox: return fmt::format("is reset by a middlebox at {}", at_hop(j));
    case Verdict::injected_reset: return fmt::format("gets a forged reset injected at {}", at_hop(j));
    case Verdict::icmp_unreachable:
      if (j.cause == Cause::no_host_at_address)
        return j.hop ? fmt::format("has no host on hop {}'s network (router {})", *j.hop,
                                   j.responder ? j.responder->to_string() : "unknown")
                     : fmt::format("has no host on the network of router {}", j.responder ? j.responder->to_string() : "unknown");
      if (j.actor == Actor::host) return fmt::format("is refused by the host itself (ICMP {})", j.icmp ? j.icmp->name : "unreachable");
      return fmt::format("is refused by the router at {} (ICMP {})", at_hop(j), j.icmp ? j.icmp->name : "unreachable");
    case Verdict::dropped:
      return j.hop ? fmt::format("is dropped after {}", at_hop(j)) : "is dropped (no answer)";
    case Verdict::inconclusive: return "gave no clear answer";
  }
  return "gave no clear answer";
}

std::vector<NameFinding> compare_names(const std::vector<NameQuery>& names, const std::vector<AttemptResult>& attempts) {
  std::map<std::pair<IpAddress, std::uint16_t>, const AttemptResult*> by_target;
  for (const AttemptResult& r : attempts) by_target.emplace(std::pair{r.attempt.server, r.attempt.server_port}, &r);
  std::vector<NameFinding> findings;
  for (const NameQuery& q : names)
    for (const std::uint16_t port : q.ports) {
      NameFinding f;
      f.name = q.name;
      f.port = port;
      std::optional<Judgement> first_judgement;
      for (const IpAddress& a : q.addresses) {
        const auto it = by_target.find({a, port});
        if (it == by_target.end()) continue;  // interrupted before its SYN left
        f.addresses.push_back(outcome_of(*it->second));
        if (!first_judgement) first_judgement = it->second->judgement;
      }
      if (f.addresses.empty()) continue;
      f.accepting = static_cast<std::size_t>(std::count_if(f.addresses.begin(), f.addresses.end(), accepts));
      f.family_split = family_split_of(f.addresses);
      f.first_try = f.addresses.front().address;
      f.browser_connects_to = first_accepting(f, happy_eyeballs_order(addresses_of(f)));
      f.finding = finding_text(f);
      f.clients = clients_text(f, *first_judgement);
      findings.push_back(std::move(f));
    }
  return findings;
}

}  // namespace synprobe
