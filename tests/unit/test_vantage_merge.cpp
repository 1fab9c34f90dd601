// "Is it just me?" (#16): paths aligned by address, the join point, and the finding.
// The paths below are the lab's shape: an office client behind r1 (198.18.1.2) and r2
// (198.18.2.2), a datacenter client behind d1 (198.18.5.2), both joining at r3
// (198.18.3.2), the server 198.18.4.10 behind it.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

#include "dissect/verdict/vantage_merge.hpp"

using namespace synprobe;

namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

PathNode node(int hop, std::initializer_list<const char*> addresses) {
  PathNode n{hop, {}};
  for (const char* a : addresses) n.addresses.push_back(ip(a));
  std::sort(n.addresses.begin(), n.addresses.end());
  return n;
}

constexpr const char* server = "198.18.4.10";
constexpr const char* r1 = "198.18.1.2";
constexpr const char* r2 = "198.18.2.2";
constexpr const char* r3 = "198.18.3.2";
constexpr const char* d1 = "198.18.5.2";
constexpr const char* v1 = "198.18.6.2";

Timestamp at(std::int64_t seconds) { return Timestamp{(std::int64_t{1'800'000'000} + seconds) * 1'000'000'000}; }

// One attempt as a probe run reports it: the verdict, and the hop table (an address per
// hop; "" for a silent hop) of the TTL-limited SYNs.
AttemptResult attempt(const char* client, std::uint16_t port, Verdict v, Actor actor, std::optional<int> hop,
                      std::optional<const char*> responder, std::vector<std::vector<const char*>> hops,
                      std::int64_t when = 0, std::uint32_t isn = 1000) {
  AttemptResult r;
  r.attempt.client = ip(client);
  r.attempt.client_port = 40000;
  r.attempt.server = ip(server);
  r.attempt.server_port = port;
  r.attempt.isn = isn;
  r.attempt.first_seen = r.attempt.last_seen = at(when);
  r.judgement.verdict = v;
  r.judgement.actor = actor;
  r.judgement.hop = hop;
  if (responder) r.judgement.responder = ip(*responder);
  int h = 0;
  for (const auto& addresses : hops) {
    TraceHop t;
    t.hop = ++h;
    for (const char* a : addresses)
      if (*a) t.addresses.push_back(ip(a));
    std::sort(t.addresses.begin(), t.addresses.end());
    if (!t.addresses.empty()) t.address = t.addresses.front();
    r.trace.hops.push_back(t);
  }
  return r;
}

AnalysisReport report(std::vector<AttemptResult> attempts) {
  AnalysisReport rep;
  rep.run.mode = "probe";
  rep.attempts = std::move(attempts);
  return rep;
}

VantageRun run(const std::string& name, const AnalysisReport& rep, std::int64_t from = 0, std::int64_t to = 5,
               const std::string& mode = "probe") {
  return VantageRun{name, name, mode, at(from), at(to), &rep};
}

const TargetMerge& target(const MergeResult& m, std::uint16_t port) {
  for (const TargetMerge& t : m.targets)
    if (t.port == port) return t;
  FAIL("no target with port " << port);
  return m.targets.front();
}

// The paths to an open port 80: office through r1, r2, r3; datacenter through d1, r3.
AttemptResult office_open80() {
  return attempt("198.18.1.1", 80, Verdict::open, Actor::host, 4, server, {{r1}, {r2}, {r3}, {server}});
}
AttemptResult dc_open80() { return attempt("198.18.5.1", 80, Verdict::open, Actor::host, 3, server, {{d1}, {r3}, {server}}); }

}  // namespace

TEST_CASE("align_paths: identical paths join at their first hop", "[merge][align]") {
  const Path p{node(1, {r1}), node(2, {r2}), node(3, {server})};
  const Alignment a = align_paths({p, p});
  REQUIRE(a.join == ip(r1));
  CHECK(a.join_index == std::vector<std::size_t>{0, 0});
}

TEST_CASE("align_paths: different lengths are aligned by address, not hop number", "[merge][align]") {
  const Path office{node(1, {r1}), node(2, {r2}), node(3, {r3}), node(4, {server})};
  const Path dc{node(1, {d1}), node(2, {r3}), node(3, {server})};
  const Alignment a = align_paths({office, dc});
  REQUIRE(a.join == ip(r3));
  CHECK(a.join_index == std::vector<std::size_t>{2, 1});  // hop 3 from the office, hop 2 from the datacenter
}

TEST_CASE("align_paths: silent hops agree with anything after the join", "[merge][align]") {
  const Path office{node(1, {r1}), node(2, {}), node(3, {r3}), node(4, {}), node(5, {server})};
  const Path dc{node(1, {d1}), node(2, {r3}), node(3, {"198.18.3.9"}), node(4, {server})};
  const Alignment a = align_paths({office, dc});
  REQUIRE(a.join == ip(r3));
  CHECK(a.join_index == std::vector<std::size_t>{2, 1});

  SECTION("a join hop that is silent on one path is not named: the next agreeing address is") {
    const Path quiet{node(1, {r1}), node(2, {}), node(3, {"198.18.3.9"}), node(4, {server})};
    const Alignment b = align_paths({quiet, dc});
    REQUIRE(b.join == ip("198.18.3.9"));
    CHECK(b.join_index == std::vector<std::size_t>{2, 2});
  }
}

TEST_CASE("align_paths: load-balanced hops agree when they share an address", "[merge][align]") {
  const Path office{node(1, {r1}), node(2, {"198.18.7.1", "198.18.7.2"}), node(3, {r3}), node(4, {server})};
  const Path dc{node(1, {d1}), node(2, {"198.18.7.2", "198.18.7.3"}), node(3, {r3}), node(4, {server})};
  const Alignment a = align_paths({office, dc});
  REQUIRE(a.join == ip("198.18.7.2"));
  CHECK(a.join_index == std::vector<std::size_t>{1, 1});

  SECTION("disjoint sets at one hop after a common address break the agreement there") {
    const Path x{node(1, {r1}), node(2, {"198.18.7.1"}), node(3, {r3}), node(4, {server})};
    const Path y{node(1, {r1}), node(2, {"198.18.7.3"}), node(3, {r3}), node(4, {server})};
    const Alignment b = align_paths({x, y});
    REQUIRE(b.join == ip(r3));  // r1 is shared, but the paths part after it and meet again at r3
  }
}

TEST_CASE("align_paths: no common hop, no join", "[merge][align]") {
  const Path office{node(1, {r1}), node(2, {r2})};
  const Path dc{node(1, {d1}), node(2, {r3})};
  CHECK_FALSE(align_paths({office, dc}).join);
  CHECK_FALSE(align_paths({office}).join);
  CHECK_FALSE(align_paths({office, Path{}}).join);
}

TEST_CASE("merge: refused before the join is local to the refusing vantages", "[merge]") {
  // Port 443 is refused by r2 (a middlebox on the office and vpn side, hop 2); the
  // datacenter's path never crosses r2 and gets a SYN/ACK. Port 80 is open from all three:
  // its traces show where the paths join (r3).
  const AnalysisReport office = report({attempt("198.18.1.1", 443, Verdict::refused_by_middlebox, Actor::middlebox, 2, r2,
                                                {{r1}, {r2}, {server}, {server}}),
                                        office_open80()});
  const AnalysisReport vpn = report({attempt("198.18.6.1", 443, Verdict::refused_by_middlebox, Actor::middlebox, 2, r2,
                                             {{v1}, {r2}, {server}}),
                                     attempt("198.18.6.1", 80, Verdict::open, Actor::host, 4, server, {{v1}, {r2}, {r3}, {server}})});
  const AnalysisReport dc = report({attempt("198.18.5.1", 443, Verdict::open, Actor::host, 3, server, {{d1}, {r3}, {server}}),
                                    dc_open80()});
  const MergeResult m = merge_vantages({run("office", office), run("dc", dc), run("vpn", vpn)}, {});
  const TargetMerge& t = target(m, 443);
  INFO(t.finding);
  CHECK(t.kind == MergeKind::local);
  REQUIRE(t.join == ip(r3));
  CHECK(t.fates[0].side == Side::before_join);
  CHECK(t.fates[0].join_hop == 3);
  CHECK(t.fates[1].join_hop == 2);
  CHECK(t.fates[1].side == Side::none);
  CHECK(t.finding.find("from office and vpn") != std::string::npos);
  CHECK(t.finding.find("open from dc") != std::string::npos);
  CHECK(t.finding.find("on the office/vpn side, before the paths join at 198.18.3.2") != std::string::npos);
  CHECK(target(m, 80).kind == MergeKind::open_everywhere);

  SECTION("without another port's trace the refuser is still off the other path: local, no join named") {
    const AnalysisReport o = report({office.attempts[0]});
    const AnalysisReport d = report({dc.attempts[0]});
    const MergeResult u_result = merge_vantages({run("office", o), run("dc", d)}, {});

    const TargetMerge& u = u_result.targets.front();
    INFO(u.finding);
    CHECK(u.kind == MergeKind::local);
    CHECK_FALSE(u.join);
    CHECK(u.finding.find("off the other vantages' paths") != std::string::npos);
  }
}

TEST_CASE("merge: refused at or after the join is shared", "[merge]") {
  // r3 answers admin-prohibited: hop 3 from the office, hop 2 from the datacenter.
  auto refused_by_r3 = [](const char* client, int hop, std::vector<std::vector<const char*>> hops) {
    AttemptResult r = attempt(client, 443, Verdict::icmp_unreachable, Actor::router, hop, r3, std::move(hops));
    r.judgement.icmp = IcmpSummary{3, 13, "admin-prohibited"};
    return r;
  };
  const AnalysisReport office = report({refused_by_r3("198.18.1.1", 3, {{r1}, {r2}, {r3}})});
  const AnalysisReport dc_refused = report({refused_by_r3("198.18.5.1", 2, {{d1}, {r3}})});
  SECTION("the same refusal everywhere: global, a device all paths share, at its hop per vantage") {
    const MergeResult t_result = merge_vantages({run("office", office), run("dc", dc_refused)}, {});

    const TargetMerge& t = t_result.targets.front();
    INFO(t.finding);
    CHECK(t.kind == MergeKind::global);
    CHECK(t.join == ip(r3));
    CHECK(t.finding.find("global: a device all paths share refuses") != std::string::npos);
    CHECK(t.finding.find("hop 3 from office") != std::string::npos);
    CHECK(t.finding.find("hop 2 from dc") != std::string::npos);
  }
  SECTION("refused from one vantage by a shared hop, open from the other: it tells sources apart") {
    const AnalysisReport dc_open = report({attempt("198.18.5.1", 443, Verdict::open, Actor::host, 3, server, {{d1}, {r3}, {server}})});
    const MergeResult t_result = merge_vantages({run("office", office), run("dc", dc_open)}, {});

    const TargetMerge& t = t_result.targets.front();
    INFO(t.finding);
    CHECK(t.kind == MergeKind::by_source);
    CHECK(t.fates[0].side == Side::at_join);
    CHECK(t.finding.find("rule by source address") != std::string::npos);
  }
}

TEST_CASE("merge: the server refusing everywhere is global", "[merge]") {
  const AnalysisReport office =
      report({attempt("198.18.1.1", 22, Verdict::refused_by_host, Actor::host, 4, server, {{r1}, {r2}, {r3}, {server}})});
  const AnalysisReport dc = report({attempt("198.18.5.1", 22, Verdict::refused_by_host, Actor::host, 3, server, {{d1}, {r3}, {server}})});
  const MergeResult t_result = merge_vantages({run("office", office), run("dc", dc)}, {});

  const TargetMerge& t = t_result.targets.front();
  INFO(t.finding);
  CHECK(t.kind == MergeKind::global);
  CHECK(t.finding.find("global: the server refuses from every vantage (office and dc)") != std::string::npos);
}

TEST_CASE("merge: runs far apart in time, or on both sides of a change, are not blamed on a side", "[merge][time]") {
  const AnalysisReport office = report({attempt("198.18.1.1", 443, Verdict::refused_by_middlebox, Actor::middlebox, 2, r2,
                                                {{r1}, {r2}, {server}})});
  const AnalysisReport dc = report({attempt("198.18.5.1", 443, Verdict::open, Actor::host, 3, server, {{d1}, {r3}, {server}})});
  SECTION("two hours apart, bound ten minutes") {
    const MergeResult m = merge_vantages({run("office", office, 0, 5), run("dc", dc, 7200, 7205)}, {});
    CHECK(m.runs_apart);
    CHECK(m.targets.front().kind == MergeKind::runs_apart);
    CHECK(m.targets.front().finding.find("apart (more than 10 min)") != std::string::npos);
    MergeOptions wide;
    wide.max_apart_s = 3 * 3600;
    CHECK(merge_vantages({run("office", office, 0, 5), run("dc", dc, 7200, 7205)}, wide).targets.front().kind ==
          MergeKind::local);
  }
  SECTION("one before the change and one after") {
    MergeOptions o;
    o.change_at = at(60);
    const MergeResult m = merge_vantages({run("office", office, 0, 5), run("dc", dc, 120, 125)}, o);
    CHECK(m.targets.front().kind == MergeKind::runs_apart);
    CHECK(m.targets.front().finding.find("both sides of the change") != std::string::npos);
  }
  SECTION("the same place twice, with different answers") {
    const AnalysisReport later = report({attempt("198.18.1.1", 443, Verdict::open, Actor::host, 4, server, {{r1}, {r2}, {r3}, {server}})});
    const MergeResult m = merge_vantages({run("office", office, 0, 5), run("office", later, 100, 105)}, {});
    CHECK(m.targets.front().kind == MergeKind::runs_apart);
    CHECK(m.targets.front().finding.find("the same place disagrees with itself") != std::string::npos);
  }
  SECTION("close in time: the side is blamed") {
    CHECK(merge_vantages({run("office", office, 0, 5), run("dc", dc, 30, 35)}, {}).targets.front().kind ==
          MergeKind::local);
  }
}

TEST_CASE("merge: captures on both sides of a firewall", "[merge][captures]") {
  // The same SYNs captured outside (the client's side) and inside (the server's side): port
  // 80 passes (both hold it, open); port 90's SYN is in the outside capture only.
  AttemptResult open80 = attempt("198.18.1.1", 80, Verdict::open, Actor::host, 3, server, {}, 1, 111);
  AttemptResult drop90 = attempt("198.18.1.1", 90, Verdict::dropped, Actor::unknown, std::nullopt, std::nullopt, {}, 2, 222);
  AnalysisReport outside = report({open80, drop90});
  AnalysisReport inside = report({open80});
  outside.run.mode = inside.run.mode = "analyze";
  const MergeResult m = merge_vantages({run("outside", outside, 0, 10, "analyze"), run("inside", inside, 0, 10, "analyze")}, {});
  CHECK(target(m, 80).kind == MergeKind::open_everywhere);
  const TargetMerge& t = target(m, 90);
  INFO(t.finding);
  CHECK(t.kind == MergeKind::dropped_between);
  CHECK(t.finding.find("seen at outside (no answer there) but never at inside") != std::string::npos);

  SECTION("a capture that was not running then proves nothing") {
    const MergeResult late =
        merge_vantages({run("outside", outside, 0, 10, "analyze"), run("inside", inside, 5, 10, "analyze")}, {});
    CHECK(target(late, 90).kind == MergeKind::one_vantage);
  }
  SECTION("the same SYN answered differently at the two points") {
    AttemptResult reset80 = open80;
    reset80.judgement.verdict = Verdict::refused_by_middlebox;
    reset80.judgement.actor = Actor::middlebox;
    reset80.judgement.hop = 1;
    AnalysisReport client_side = report({reset80});
    client_side.run.mode = "analyze";
    const MergeResult c =
        merge_vantages({run("outside", client_side, 0, 10, "analyze"), run("inside", inside, 0, 10, "analyze")}, {});
    CHECK(target(c, 80).kind == MergeKind::changed_between);
  }
}

TEST_CASE("merge: open from one vantage, inconclusive from another, blames nobody", "[merge]") {
  const AnalysisReport office = report({attempt("198.18.1.1", 443, Verdict::inconclusive, Actor::unknown, std::nullopt,
                                                std::nullopt, {{r1}, {r2}})});
  const AnalysisReport dc = report({attempt("198.18.5.1", 443, Verdict::open, Actor::host, 3, server, {{d1}, {r3}, {server}})});
  const MergeResult m = merge_vantages({run("office", office), run("dc", dc)}, {});
  const TargetMerge& t = m.targets.front();
  INFO(t.finding);
  CHECK(t.kind == MergeKind::differs);
  CHECK(t.finding.find("inconclusive") != std::string::npos);
}

TEST_CASE("merge: dropped everywhere past the join is a drop all paths share", "[merge]") {
  // r3 drops: every trace goes quiet after r3 (hop 3 from the office, 2 from the datacenter).
  auto dropped_after_r3 = [](const char* client, int last, std::vector<std::vector<const char*>> hops) {
    AttemptResult r = attempt(client, 443, Verdict::dropped, Actor::unknown, last, r3, std::move(hops));
    r.judgement.hop_range = std::make_pair(last, last + 1);
    return r;
  };
  const AnalysisReport office = report({dropped_after_r3("198.18.1.1", 3, {{r1}, {r2}, {r3}, {""}, {""}}), office_open80()});
  const AnalysisReport dc = report({dropped_after_r3("198.18.5.1", 2, {{d1}, {r3}, {""}, {""}}), dc_open80()});
  const MergeResult m = merge_vantages({run("office", office), run("dc", dc)}, {});
  const TargetMerge& t = target(m, 443);
  INFO(t.finding);
  CHECK(t.kind == MergeKind::global);
  CHECK(t.join == ip(r3));
  CHECK(t.fates[0].side == Side::after_join);
  CHECK(t.fates[1].side == Side::after_join);
  CHECK(t.finding.find("a device all paths share drops it") != std::string::npos);

  SECTION("dropped before the join from one side, open from the other: local") {
    const AnalysisReport office_r1 = report({dropped_after_r3("198.18.1.1", 1, {{r1}, {""}, {""}}), office_open80()});
    const AnalysisReport dc_open = report({attempt("198.18.5.1", 443, Verdict::open, Actor::host, 3, server, {{d1}, {r3}, {server}}),
                                           dc_open80()});
    const MergeResult l = merge_vantages({run("office", office_r1), run("dc", dc_open)}, {});
    const TargetMerge& u = target(l, 443);
    INFO(u.finding);
    CHECK(u.kind == MergeKind::local);  // quiet after r1 (hop 1): between r1 and r2, before the join at r3
    CHECK(u.fates[0].side == Side::before_join);
  }
}
