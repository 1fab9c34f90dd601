// Probe targets as users type them, and port lists.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <functional>

#include "capture/resolve.hpp"
#include "dissect/decode/error.hpp"
#include "targets.hpp"

using namespace synprobe;

namespace {

using Ports = std::vector<std::uint16_t>;

// The Failure's exit code and message for `text`, or FAIL when it parses.
Failure target_failure(std::string_view text) {
  try {
    (void)parse_target(text);
  } catch (const Failure& f) {
    return f;
  }
  FAIL("parse_target accepted '" << std::string(text) << "'");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("targets: the forms a user types", "[targets]") {
  struct Case {
    const char* text;
    const char* host;
    Ports ports;
  };
  const std::vector<Case> cases = {
      {"example.org:443", "example.org", {443}},
      {"192.0.2.7:80", "192.0.2.7", {80}},
      {"[2001:db8::7]:443", "2001:db8::7", {443}},
      {"[::1]", "::1", {}},
      {"2001:db8::7", "2001:db8::7", {}},       // bare IPv6: the port comes from -p
      {"::ffff:192.0.2.7", "::ffff:192.0.2.7", {}},
      {"example.org", "example.org", {}},
      {"example.org:80,443", "example.org", {80, 443}},
      {"example.org:8000-8002", "example.org", {8000, 8001, 8002}},
      {"[2001:db8::7]:22,8000-8001", "2001:db8::7", {22, 8000, 8001}},
      {"h:1", "h", {1}},
      {"h:65535", "h", {65535}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const TargetSpec t = parse_target(c.text);
    CHECK(t.host == c.host);
    CHECK(t.ports == c.ports);
  }
}

TEST_CASE("targets: bad targets are usage errors naming the problem", "[targets]") {
  struct Case {
    const char* text;
    const char* says;  // a part of the message
  };
  for (const Case& c : {Case{"", "empty"}, Case{"[::1", "]"}, Case{"[::1]x", "[::1]x"}, Case{"[::1]:", "[::1]:"},
                        Case{"[]:80", "no host"}, Case{"[2001:db8::zz]:80", "is not an IPv6 address"},
                        Case{"[198.18.4.10]:80", "is not an IPv6 address"}, Case{":80", "no host"}, Case{"h:", "h:"}, Case{"h:0", "'0'"},
                        Case{"h:65536", "'65536'"}, Case{"h:5-3", "5-3"}, Case{"h:abc", "'abc'"},
                        Case{"h:-5", "-5"}, Case{"h:80,", "80,"}, Case{"h:+80", "+80"}, Case{"h:80 ", "80 "}}) {
    INFO("'" << c.text << "'");
    const Failure f = target_failure(c.text);
    CHECK(f.code() == ExitCode::usage);
    CHECK_THAT(std::string(f.what()), Catch::Contains(c.says));
  }
}

TEST_CASE("port lists: order kept, repeats dropped, ranges expanded", "[targets]") {
  CHECK(parse_port_list("443") == Ports{443});
  CHECK(parse_port_list("443,80") == Ports{443, 80});
  CHECK(parse_port_list("80,443,80,22,443") == Ports{80, 443, 22});
  CHECK(parse_port_list("22,20-23") == Ports{22, 20, 21, 23});
  CHECK(parse_port_list("7-7") == Ports{7});
  CHECK(parse_port_list("65534-65535") == Ports{65534, 65535});
  const Ports all = parse_port_list("1-65535");
  CHECK(all.size() == 65535);
  CHECK(all.front() == 1);
  CHECK(all.back() == 65535);
}

TEST_CASE("port lists: bad lists are usage errors", "[targets]") {
  for (const char* text : {"", ",", "80,,443", "0", "65536", "99999999999", "5-3", "a", "80-", "-80", "1-2-3", " 80"}) {
    INFO("'" << text << "'");
    try {
      (void)parse_port_list(text);
      FAIL("accepted");
    } catch (const Failure& f) {
      CHECK(f.code() == ExitCode::usage);
    }
  }
}

TEST_CASE("resolve_host: inet_aton's short forms are mistyped addresses, not names", "[targets][resolve]") {
  // getaddrinfo() would probe 1.2.0.3 for "1.2.3" and 0.0.0.10 for "10".
  for (const char* text : {"1.2.3", "10", "127.1", "0x7f.1", "10.0.0.256", "1.2.3.4.5", "1.2.3."}) {
    INFO(text);
    try {
      (void)resolve_host(text, FamilyChoice::any);
      FAIL("resolved");
    } catch (const Failure& f) {
      CHECK(f.code() == ExitCode::usage);
      CHECK_THAT(std::string(f.what()), Catch::Contains("not an IP address"));
    }
  }
  CHECK(resolve_host("192.0.2.7", FamilyChoice::any).size() == 1);
  CHECK(resolve_host("localhost", FamilyChoice::v4_only).size() == 1);
}

namespace {

// What resolving `host` gives: its addresses, or its Failure's code and message.
std::string outcome_of(const std::function<std::vector<IpAddress>()>& resolve) {
  try {
    std::string out;
    for (const IpAddress& a : resolve()) out += a.to_string() + " ";
    return out;
  } catch (const Failure& f) {
    return "failure " + std::to_string(static_cast<int>(f.code())) + ": " + f.what();
  }
}

}  // namespace

TEST_CASE("resolve_host_as: a name resolved in the unprivileged child gives what resolving here gives",
          "[targets][resolve]") {
  // The machine's own name (/etc/hosts, or NSS's myhostname): resolved in a child that
  // became nobody (or, without root, dropped its capabilities), its answer comes back
  // through a pipe, addresses or the resolver's failure alike.
  char name[256] = {};
  REQUIRE(::gethostname(name, sizeof name - 1) == 0);
  const Identity who = unprivileged_identity(std::nullopt);
  const uid_t euid_before = ::geteuid();
  const CapabilitySets caps_before = read_capabilities();
  for (const FamilyChoice family : {FamilyChoice::any, FamilyChoice::v4_only, FamilyChoice::v6_only}) {
    const std::string here = outcome_of([&] { return resolve_host(name, family); });
    INFO(name << ": " << here);
    CHECK(outcome_of([&] { return resolve_host_as(name, family, who); }) == here);
  }
  // Literals and "localhost" need no resolver: no child.
  CHECK(resolve_host_as("192.0.2.7", FamilyChoice::any, who).size() == 1);
  CHECK(resolve_host_as("localhost", FamilyChoice::any, who).size() == 2);
  // This process kept what it had (the child dropped its own privileges, not ours).
  CHECK(::geteuid() == euid_before);
  const CapabilitySets caps_after = read_capabilities();
  CHECK(caps_after.effective == caps_before.effective);
  CHECK(caps_after.permitted == caps_before.permitted);
}
