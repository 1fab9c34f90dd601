// The host table: every address's baseline in one place, bounded in streaming analysis by
// forgetting the least recently used quarter when full.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "dissect/verdict/analyzer.hpp"
#include "dissect/verdict/host_table.hpp"
#include "packet_builder.hpp"

using namespace synprobe;
using pb::ms;
using pb::sec;
using pb::t0;

namespace {

IpAddress host(int i) { return *IpAddress::parse(fmt::format("198.18.{}.{}", i / 250, 1 + i % 250)); }
Timestamp at(std::int64_t ns) { return Timestamp{ns}; }

}  // namespace

TEST_CASE("an unbounded host table keeps every address", "[host_table]") {
  HostTable table;
  for (int i = 0; i < 1000; ++i) table.touch(host(i), at(t0 + i * ms));
  CHECK(table.size() == 1000);
  CHECK(table.forgotten() == 0);
  REQUIRE(table.find(host(0)) != nullptr);
  CHECK(table.find(host(0))->last_used == at(t0));
  CHECK(table.find(host(1000)) == nullptr);
}

TEST_CASE("a record is marked used by its newest packet, not by a late older one", "[host_table]") {
  HostTable table;
  table.touch(host(1), at(t0 + 5 * sec));
  table.touch(host(2), at(t0 + 1 * sec));  // out of order (two captures' packets interleaved)
  table.touch(host(1), at(t0 + 2 * sec));  // from the two-entry cache
  table.touch(host(3), at(t0));
  table.touch(host(1), at(t0 + 3 * sec));  // from the map
  CHECK(table.find(host(1))->last_used == at(t0 + 5 * sec));
}

TEST_CASE("a full table forgets its least recently used quarter", "[host_table]") {
  HostTable table;
  table.set_capacity(8);
  for (int i = 0; i < 8; ++i) table.touch(host(i), at(t0 + i * sec));
  table.touch(host(0), at(t0 + 10 * sec)).profile.observe(IpHeader{}, at(t0 + 10 * sec), false, 0);
  REQUIRE(table.size() == 8);
  // A ninth address: the two least recent (1, 2) and the one at the cut (3) go.
  table.touch(host(8), at(t0 + 11 * sec));
  CHECK(table.forgotten() == 3);
  CHECK(table.size() == 6);
  for (int i : {1, 2, 3}) CHECK(table.find(host(i)) == nullptr);
  for (int i : {0, 4, 5, 6, 7, 8}) CHECK(table.find(host(i)) != nullptr);
  CHECK(table.find(host(0))->profile.packets() == 1);  // the recently used one kept its baseline
  // A forgotten address comes back with an empty record, not a stale cached one.
  CHECK(table.touch(host(1), at(t0 + 12 * sec)).profile.packets() == 0);
}

TEST_CASE("shrinking the capacity forgets at once", "[host_table]") {
  HostTable table;
  for (int i = 0; i < 100; ++i) table.touch(host(i), at(t0 + i * sec));
  table.set_capacity(10);
  CHECK(table.size() <= 10);
  CHECK(table.forgotten() == 100 - table.size());
  CHECK(table.find(host(99)) != nullptr);  // the newest survives every batch
}

TEST_CASE("streaming analysis bounds its hosts; an attempt toward a forgotten one has no baseline",
          "[host_table][analyzer][stream]") {
  Analyzer analyzer;
  std::vector<AttemptResult> results;
  analyzer.stream_to([&](AttemptResult&& r) { results.push_back(std::move(r)); });
  const std::string client = "198.19.0.1";
  // 40,000 servers send one packet each, a millisecond apart, oldest first.
  constexpr int servers = 40'000;
  for (int i = 0; i < servers; ++i)
    analyzer.add(pb::packet_at(pb::make_ack(host(i).to_string(), client, 443, 50000, 1, 1, {.ttl = 60}), t0 + i * ms));
  // Full at 32,768: one batch forgot the 8,192 least recent and the one at the cut.
  CHECK(analyzer.baselines_forgotten() == 8193);
  // Then a SYN to the oldest and to the newest server, both answered by the server's RST.
  const std::int64_t later = t0 + servers * ms;
  for (int i : {0, servers - 1}) {
    const auto port = static_cast<std::uint16_t>(40000 + (i % 2));
    const std::uint32_t isn = 1000u + static_cast<std::uint32_t>(i);
    analyzer.add(pb::packet_at(pb::make_syn(client, host(i).to_string(), port, 443, isn), later));
    analyzer.add(pb::packet_at(pb::make_rst(host(i).to_string(), client, 443, port, 0, isn + 1, true, {.ttl = 60}),
                               later + 20 * ms));
  }
  analyzer.flush();
  REQUIRE(results.size() == 2);
  CHECK(results[0].attempt.server == host(0));
  CHECK(results[0].host_packets == 0);   // forgotten: judged as if it had never spoken
  CHECK(results[1].attempt.server == host(servers - 1));
  CHECK(results[1].host_packets == 1);   // its baseline was kept
}
