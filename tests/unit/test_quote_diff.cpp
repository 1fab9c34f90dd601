// compare_quote(): the SYN as sent against the SYN an ICMP error quotes (Tracebox's idea).
// The quote is built by decoding an ICMP error around a copy of the SYN modified the way a
// middlebox would modify it.
#include <catch2/catch.hpp>

#include <algorithm>

#include "dissect/infer/attempt_tracker.hpp"
#include "dissect/infer/quote_diff.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ByteVec;

namespace {

const std::string client = "10.0.0.1";
const std::string server = "192.0.2.7";
const std::string router = "198.18.2.2";
constexpr std::uint16_t sport = 40000;
constexpr std::uint16_t dport = 443;
constexpr std::uint32_t isn = 123'456;
constexpr std::uint16_t ip_id = 4321;

// What goes out: MSS 1460, SACK, timestamps, window scale; TOS 0; IP-ID 4321.
struct SentSyn {
  pb::IpOpts ip{.ttl = 64, .id = ip_id, .df = true, .tos = 0};
  pb::SynOptions options{};
  std::string src = client;
  std::string dst = server;
  std::uint16_t sport_ = sport;
  std::uint32_t seq = isn;

  [[nodiscard]] ByteVec bytes() const { return pb::make_syn(src, dst, sport_, dport, seq, ip, options); }
};

struct Fixture {
  Attempt attempt;
  SynTransmission tx;

  explicit Fixture(const SentSyn& sent = {}) {
    AttemptTracker tracker;
    tracker.on_packet(pb::packet_at(sent.bytes(), pb::t0));
    REQUIRE(tracker.attempts().size() == 1);
    attempt = tracker.attempts().front();
    tx = attempt.transmissions.front();
  }

  // The quote of `quoted` (as the router saw it) in a time-exceeded error, cut to `len` bytes.
  std::vector<PathChange> against(SentSyn quoted, std::size_t len = SIZE_MAX) const {
    quoted.ip.ttl = 1;  // routers see the TTL run out: never a change
    const ByteVec icmp = pb::make_icmp_error(router, client, 11, 0, quoted.bytes(), len, {.ttl = 254});
    const DecodedPacket p = pb::packet_at(icmp, pb::t0 + 5 * pb::ms);
    REQUIRE(p.transport == Transport::icmp);
    REQUIRE(p.icmp.has_quote);
    return compare_quote(attempt, tx, p.icmp.quote);
  }
};

const PathChange* find(const std::vector<PathChange>& changes, const std::string& field) {
  const auto it = std::find_if(changes.begin(), changes.end(), [&](const PathChange& c) { return c.field == field; });
  return it == changes.end() ? nullptr : &*it;
}

std::string list(const std::vector<PathChange>& changes) {
  std::string s;
  for (const PathChange& c : changes) s += describe(c) + "; ";
  return s;
}

}  // namespace

TEST_CASE("quote diff: an unchanged SYN shows nothing", "[quote]") {
  const Fixture f;
  const auto changes = f.against(SentSyn{});
  INFO(list(changes));
  CHECK(changes.empty());
}

TEST_CASE("quote diff: MSS clamped from 1460 to 1400", "[quote]") {
  const Fixture f;
  SentSyn clamped;
  clamped.options.mss = 1400;
  const auto changes = f.against(clamped);
  INFO(list(changes));
  REQUIRE(changes.size() == 1);  // same option kinds, same everything else
  CHECK(changes[0] == PathChange{"mss", "1460", "1400"});
  CHECK(describe(changes[0]) == "mss 1460 → 1400");
}

TEST_CASE("quote diff: every TCP option stripped", "[quote]") {
  const Fixture f;
  SentSyn stripped;
  stripped.options.present = false;
  const auto changes = f.against(stripped);
  INFO(list(changes));
  const PathChange* mss = find(changes, "mss");
  REQUIRE(mss);
  CHECK(mss->sent == "1460");
  CHECK(mss->quoted == "none");
  const PathChange* options = find(changes, "tcp-options");
  REQUIRE(options);
  CHECK(options->quoted == "none");
  // The sent list names the four options the SYN carried.
  for (const char* kind : {"MSS", "SACK", "TS", "WS"}) CHECK_THAT(options->sent, Catch::Contains(kind));
  CHECK(changes.size() == 2);
}

TEST_CASE("quote diff: DSCP and ECN are told apart", "[quote]") {
  const Fixture f;
  SECTION("DSCP re-marked to EF (46), ECN untouched") {
    SentSyn q;
    q.ip.tos = 46 << 2;
    const auto changes = f.against(q);
    INFO(list(changes));
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] == PathChange{"dscp", "0", "46"});
  }
  SECTION("ECN set to CE (3), DSCP untouched") {
    SentSyn q;
    q.ip.tos = 3;
    const auto changes = f.against(q);
    INFO(list(changes));
    REQUIRE(changes.size() == 1);
    CHECK(changes[0] == PathChange{"ecn", "0", "3"});
  }
  SECTION("both") {
    SentSyn q;
    q.ip.tos = (10 << 2) | 1;
    const auto changes = f.against(q);
    INFO(list(changes));
    CHECK(changes.size() == 2);
    REQUIRE(find(changes, "dscp"));
    CHECK(find(changes, "dscp")->quoted == "10");
    REQUIRE(find(changes, "ecn"));
    CHECK(find(changes, "ecn")->quoted == "1");
  }
}

TEST_CASE("quote diff: IP-ID rewritten", "[quote]") {
  const Fixture f;
  SentSyn q;
  q.ip.id = 999;
  const auto changes = f.against(q);
  INFO(list(changes));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0] == PathChange{"ip-id", std::to_string(ip_id), "999"});
}

TEST_CASE("quote diff: source NAT of address and port", "[quote]") {
  const Fixture f;
  SentSyn q;
  q.src = "203.0.113.5";
  q.sport_ = 61000;
  const auto changes = f.against(q);
  INFO(list(changes));
  REQUIRE(changes.size() == 2);
  CHECK(find(changes, "src"));
  CHECK(*find(changes, "src") == PathChange{"src", client, "203.0.113.5"});
  REQUIRE(find(changes, "sport"));
  CHECK(*find(changes, "sport") == PathChange{"sport", std::to_string(sport), "61000"});
}

TEST_CASE("quote diff: sequence number rewriting", "[quote]") {
  const Fixture f;
  SentSyn q;
  q.seq = isn + 1000;
  const auto changes = f.against(q);
  INFO(list(changes));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0] == PathChange{"seq", std::to_string(isn), std::to_string(isn + 1000)});
}

TEST_CASE("quote diff: an 8-byte quote holds no options to compare", "[quote]") {
  // RFC 792: IP header + 8 bytes (ports, sequence number). The MSS was clamped, but beyond
  // what was quoted: nothing may be reported about it.
  const Fixture f;
  SentSyn clamped;
  clamped.options.mss = 1400;
  const auto changes = f.against(clamped, 20 + 8);
  INFO(list(changes));
  CHECK(changes.empty());

  // What the 8 bytes do hold is still compared.
  SentSyn natted = clamped;
  natted.sport_ = 61000;
  const auto short_nat = f.against(natted, 20 + 8);
  INFO(list(short_nat));
  REQUIRE(short_nat.size() == 1);
  CHECK(short_nat[0].field == "sport");
}

TEST_CASE("quote diff: IPv6 has no IP-ID, the traffic class is compared", "[quote]") {
  SentSyn sent;
  sent.src = "2001:db8::1";
  sent.dst = "2001:db8::7";
  const Fixture f(sent);
  CHECK_FALSE(f.tx.has_ip_id);

  SentSyn q = sent;
  q.ip.tos = 46 << 2;
  q.options.mss = 1220;
  const ByteVec icmp = pb::make_icmp_error("2001:db8:ffff::2", sent.src, 3, 0, [&] {
    SentSyn seen = q;
    seen.ip.ttl = 1;
    return seen.bytes();
  }());
  const DecodedPacket p = pb::packet_at(icmp, pb::t0);
  REQUIRE(p.icmp.has_quote);
  const auto changes = compare_quote(f.attempt, f.tx, p.icmp.quote);
  INFO(list(changes));
  CHECK(changes.size() == 2);
  REQUIRE(find(changes, "dscp"));
  CHECK(find(changes, "dscp")->quoted == "46");
  REQUIRE(find(changes, "mss"));
  CHECK(*find(changes, "mss") == PathChange{"mss", "1460", "1220"});
  CHECK_FALSE(find(changes, "ip-id"));
}
