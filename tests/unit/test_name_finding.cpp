// The finding per name: every address of a name compared, what clients meet first.
#include <catch2/catch.hpp>

#include "dissect/verdict/name_finding.hpp"

using namespace synprobe;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

AttemptResult probed(const char* address, std::uint16_t port, Verdict v, Actor actor, std::optional<double> rtt_ms = {}) {
  AttemptResult r;
  r.attempt.server = ip(address);
  r.attempt.server_port = port;
  r.attempt.id = 1;
  r.judgement.verdict = v;
  r.judgement.actor = actor;
  r.judgement.rtt_ms = rtt_ms;
  return r;
}

// A router's host-unreachable after its neighbour resolution failed (r3, hop 3 in the lab).
AttemptResult no_host(const char* address, std::uint16_t port, const char* router, double rtt_ms) {
  AttemptResult r = probed(address, port, Verdict::icmp_unreachable, Actor::router, rtt_ms);
  r.judgement.cause = Cause::no_host_at_address;
  r.judgement.hop = 3;
  r.judgement.responder = ip(router);
  r.judgement.icmp = IcmpSummary{3, 1, "host-unreachable"};
  return r;
}

AttemptResult dropped_after(const char* address, std::uint16_t port, int hop, const char* router) {
  AttemptResult r = probed(address, port, Verdict::dropped, Actor::unknown);
  r.judgement.hop = hop;
  r.judgement.responder = ip(router);
  return r;
}

}  // namespace

TEST_CASE("names: Happy Eyeballs interleaves the families from the resolver's first", "[names]") {
  const std::vector<IpAddress> order{ip("2001:db8:4::10"), ip("2001:db8:4::99"), ip("198.18.4.10"), ip("198.18.4.99")};
  CHECK(happy_eyeballs_order(order) ==
        std::vector<IpAddress>{ip("2001:db8:4::10"), ip("198.18.4.10"), ip("2001:db8:4::99"), ip("198.18.4.99")});
  // IPv4 first when the resolver put it first (no IPv6 route, or gai.conf).
  CHECK(happy_eyeballs_order({ip("198.18.4.10"), ip("2001:db8:4::10"), ip("198.18.4.11")}) ==
        std::vector<IpAddress>{ip("198.18.4.10"), ip("2001:db8:4::10"), ip("198.18.4.11")});
  CHECK(happy_eyeballs_order({}).empty());
}

TEST_CASE("names: a stale address among answering ones names each address's fate", "[names]") {
  const NameQuery q{"app.lab.test", {ip("198.18.4.99"), ip("198.18.4.10"), ip("198.18.4.11")}, {80}};
  const std::vector<AttemptResult> attempts{no_host("198.18.4.99", 80, "198.18.3.2", 3080),
                                            probed("198.18.4.10", 80, Verdict::open, Actor::host, 20),
                                            probed("198.18.4.11", 80, Verdict::refused_by_host, Actor::host, 20)};
  const std::vector<NameFinding> found = compare_names({q}, attempts);
  REQUIRE(found.size() == 1);
  const NameFinding& f = found[0];
  CHECK(f.accepting == 1);
  CHECK(f.addresses.size() == 3);
  CHECK(f.family_split == FamilySplit::none);
  CHECK(f.first_try == ip("198.18.4.99"));
  CHECK(f.browser_connects_to == ip("198.18.4.10"));
  CHECK(f.finding ==
        "1 of 3 addresses of app.lab.test accept port 80; 198.18.4.99 has no host on hop 3's network (router "
        "198.18.3.2); 198.18.4.11 is refused by the host itself (RST).");
  // The stale address is first: a browser moves on after the Connection Attempt Delay; a
  // client that walks the list waits for the router's late error (3.1 s); one that uses
  // only the first address fails as Linux's connect() reports the error.
  CHECK_THAT(f.clients, Catch::Contains("Clients try 198.18.4.99 first"));
  CHECK_THAT(f.clients, Catch::Contains("connects to 198.18.4.10 after about 250 ms more"));
  CHECK_THAT(f.clients, Catch::Contains("one address at a time connects to 198.18.4.10 after 3.1 s"));
  CHECK_THAT(f.clients, Catch::Contains("fails (connect(): No route to host)"));
}

TEST_CASE("names: IPv6 refused while IPv4 works is one finding", "[names]") {
  const NameQuery q{"www.lab.test", {ip("2001:db8:4::10"), ip("198.18.4.10")}, {443}};
  AttemptResult v6 = probed("2001:db8:4::10", 443, Verdict::icmp_unreachable, Actor::router, 6);
  v6.judgement.hop = 2;
  v6.judgement.responder = ip("2001:db8:2::2");
  v6.judgement.icmp = IcmpSummary{1, 1, "admin-prohibited"};
  const std::vector<NameFinding> found = compare_names({q}, {v6, probed("198.18.4.10", 443, Verdict::open, Actor::host, 20)});
  REQUIRE(found.size() == 1);
  const NameFinding& f = found[0];
  CHECK(f.family_split == FamilySplit::ipv6_fails);
  CHECK(family_split_name(f.family_split) == "ipv6-fails");
  CHECK_THAT(f.finding, Catch::StartsWith("1 of 2 addresses of www.lab.test accept port 443; 2001:db8:4::10 is "
                                          "refused by the router at hop 2 (2001:db8:2::2) (ICMP admin-prohibited)."));
  CHECK_THAT(f.finding, Catch::Contains("IPv6 fails while IPv4 works"));
  // Refused in 6 ms: a browser loses 6 ms, not the whole attempt delay; Linux reports
  // ICMPv6 admin-prohibited as EACCES.
  CHECK_THAT(f.clients, Catch::Contains("connects to 198.18.4.10 after about 6 ms more"));
  CHECK_THAT(f.clients, Catch::Contains("fails (connect(): Permission denied)"));
}

TEST_CASE("names: a silent first address costs a list-walking client connect()'s timeout", "[names]") {
  const NameQuery q{"db.lab.test", {ip("198.18.4.12"), ip("198.18.4.10")}, {5432}};
  const std::vector<NameFinding> found =
      compare_names({q}, {dropped_after("198.18.4.12", 5432, 2, "198.18.2.2"),
                          probed("198.18.4.10", 5432, Verdict::open, Actor::host, 20)});
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].finding, Catch::Contains("198.18.4.12 is dropped after hop 2 (198.18.2.2)"));
  CHECK_THAT(found[0].clients, Catch::Contains("waits for connect()'s timeout on 198.18.4.12 first (Linux: about 127 s)"));
  CHECK_THAT(found[0].clients, Catch::Contains("fails (connect(): Connection timed out)"));
}

TEST_CASE("names: all or none of the addresses accept; one finding per port", "[names]") {
  const NameQuery q{"app.lab.test", {ip("198.18.4.10"), ip("2001:db8:4::10")}, {80, 81}};
  const std::vector<AttemptResult> attempts{probed("198.18.4.10", 80, Verdict::open, Actor::host, 20),
                                            probed("2001:db8:4::10", 80, Verdict::open, Actor::host, 20),
                                            probed("198.18.4.10", 81, Verdict::refused_by_host, Actor::host, 20),
                                            probed("2001:db8:4::10", 81, Verdict::refused_by_host, Actor::host, 20)};
  const std::vector<NameFinding> found = compare_names({q}, attempts);
  REQUIRE(found.size() == 2);
  CHECK(found[0].port == 80);
  CHECK(found[0].finding == "All 2 addresses of app.lab.test accept port 80.");
  CHECK_THAT(found[0].clients, Catch::Contains("Clients try 198.18.4.10 first (the resolver's order, RFC 6724) and connect"));
  CHECK(found[1].port == 81);
  CHECK(found[1].accepting == 0);
  CHECK(found[1].family_split == FamilySplit::none);  // both fail: no split
  CHECK_FALSE(found[1].browser_connects_to);
  CHECK(found[1].clients == "No address accepts port 81: every client fails.");
}

TEST_CASE("names: an address interrupted before its SYN left is left out, a name with none gives no finding", "[names]") {
  const NameQuery q{"app.lab.test", {ip("198.18.4.10"), ip("198.18.4.11")}, {80}};
  const std::vector<NameFinding> one = compare_names({q}, {probed("198.18.4.10", 80, Verdict::open, Actor::host, 20)});
  REQUIRE(one.size() == 1);
  CHECK(one[0].addresses.size() == 1);
  CHECK(one[0].finding == "The only address of app.lab.test accepts port 80.");
  CHECK(compare_names({q}, {}).empty());
}
