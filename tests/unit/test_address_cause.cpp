// A no-host cause belongs to the address: its silent ports share it (address_cause.hpp).
#include <catch2/catch.hpp>

#include "dissect/verdict/address_cause.hpp"

using namespace synprobe;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

AttemptResult attempt_to(const char* address, std::uint16_t port, double first_syn_s) {
  AttemptResult r;
  r.attempt.server = ip(address);
  r.attempt.server_port = port;
  r.attempt.first_seen = Timestamp{static_cast<std::int64_t>(first_syn_s * 1e9)};
  return r;
}

// r3's host-unreachable, 3.07 s after the SYN, as the lab's stale address draws it.
AttemptResult no_host(const char* address, std::uint16_t port, double first_syn_s) {
  AttemptResult r = attempt_to(address, port, first_syn_s);
  r.judgement.verdict = Verdict::icmp_unreachable;
  r.judgement.actor = Actor::router;
  r.judgement.cause = Cause::no_host_at_address;
  r.judgement.rule = Rule::icmp_no_neighbour;
  r.judgement.responder = ip("198.18.3.2");
  r.judgement.hop = 3;
  r.judgement.rtt_ms = 3070;
  r.judgement.confidence = 0.9;
  return r;
}

AttemptResult silent(const char* address, std::uint16_t port, double first_syn_s, std::optional<int> hop = {}) {
  AttemptResult r = attempt_to(address, port, first_syn_s);
  r.judgement.verdict = Verdict::dropped;
  r.judgement.rule = Rule::silence;
  r.judgement.confidence = 0.8;
  r.judgement.hop = hop;
  if (hop) r.judgement.hop_range = std::make_pair(*hop, *hop + 1);
  return r;
}

bool has_signal(const Judgement& j, Signal s) {
  return std::any_of(j.evidence.begin(), j.evidence.end(), [&](const Evidence& e) { return e.signal == s; });
}

}  // namespace

TEST_CASE("address cause: a silent port of an address with no host shares the router's finding", "[address-cause]") {
  std::vector<AttemptResult> run{no_host("198.18.4.99", 80, 0.0), silent("198.18.4.99", 81, 0.001, 3)};
  share_no_host_cause(run);
  const Judgement& j = run[1].judgement;
  CHECK(j.verdict == Verdict::dropped);  // no error came for it: still a drop ...
  CHECK(j.actor == Actor::router);       // ... by the router that has no neighbour there
  CHECK(j.responder == ip("198.18.3.2"));
  CHECK(j.hop == 3);
  CHECK_FALSE(j.hop_range);
  CHECK(j.cause == Cause::no_host_at_address);
  CHECK(j.rule == Rule::address_no_neighbour);
  CHECK(j.confidence == Approx(0.75));
  CHECK(has_signal(j, Signal::address_no_host));
  // The proof itself is untouched.
  CHECK(run[0].judgement.verdict == Verdict::icmp_unreachable);
  CHECK_FALSE(has_signal(run[0].judgement, Signal::address_no_host));
}

TEST_CASE("address cause: another address, another time, or a trace that died elsewhere keep the drop", "[address-cause]") {
  std::vector<AttemptResult> run{no_host("198.18.4.99", 80, 100.0),
                                 silent("198.18.4.98", 80, 100.0),       // another address
                                 silent("198.18.4.99", 82, 120.0),       // long after that resolution
                                 silent("198.18.4.99", 83, 90.0),        // long before it
                                 silent("198.18.4.99", 84, 100.0, 2),    // its trace died after hop 2
                                 silent("198.18.4.99", 85, 97.0),        // within the hold before the proof
                                 silent("198.18.4.99", 86, 106.0)};      // within the hold after its error
  share_no_host_cause(run);
  CHECK(run[1].judgement.cause == Cause::none);
  CHECK(run[2].judgement.cause == Cause::none);
  CHECK(run[3].judgement.cause == Cause::none);
  CHECK(run[4].judgement.cause == Cause::none);
  CHECK(run[4].judgement.hop == 2);
  CHECK(run[5].judgement.cause == Cause::no_host_at_address);
  CHECK(run[6].judgement.cause == Cause::no_host_at_address);
}

TEST_CASE("address cause: a firewall's refusal is never taken for a missing host", "[address-cause]") {
  // A router's host-unreachable that came at once (a reject rule) carries no cause.
  AttemptResult reject = no_host("198.18.4.10", 92, 0.0);
  reject.judgement.cause = Cause::none;
  reject.judgement.rtt_ms = 12;
  std::vector<AttemptResult> run{reject, silent("198.18.4.10", 94, 0.0)};
  share_no_host_cause(run);
  CHECK(run[1].judgement.cause == Cause::none);
  CHECK(run[1].judgement.actor == Actor::unknown);
}
