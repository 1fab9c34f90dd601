// TTL → initial value and hop; IP-ID behaviour classification.
#include <catch2/catch.hpp>

#include "dissect/decode/ttl.hpp"
#include "dissect/infer/ip_id.hpp"

using namespace synprobe;

TEST_CASE("estimate_hop: initial TTL class and hop", "[ttl]") {
  struct Row {
    std::uint8_t observed, initial;
    int hop;
  };
  const Row table[] = {{1, 32, 32},    {32, 32, 1},   {33, 64, 32},  {61, 64, 4},
                       {64, 64, 1},    {65, 128, 64}, {113, 128, 16}, {128, 128, 1},
                       {129, 255, 127}, {253, 255, 3}, {255, 255, 1}};
  for (const Row& r : table) {
    CAPTURE(int{r.observed});
    const HopEstimate e = estimate_hop(r.observed);
    CHECK(e.observed == r.observed);
    CHECK(e.initial == r.initial);
    CHECK(e.hop == r.hop);
    CHECK(infer_initial_ttl(r.observed) == r.initial);
  }
  static_assert(estimate_hop(61) == HopEstimate{61, 64, 4});
}

namespace {
IpIdSampler sampler(std::initializer_list<std::uint16_t> ids, std::uint32_t flow = 0) {
  IpIdSampler s;
  std::int64_t t = 0;
  for (const std::uint16_t id : ids) s.add(Timestamp{t += 1000}, id, flow);
  return s;
}
}  // namespace

TEST_CASE("IP-ID behaviour", "[ipid]") {
  CHECK(sampler({}).classify() == IpIdBehaviour::unknown);
  CHECK(sampler({77}).classify() == IpIdBehaviour::unknown);
  CHECK(sampler({0, 0, 0, 0}).classify() == IpIdBehaviour::zero);
  CHECK(sampler({0, 0}).classify() == IpIdBehaviour::zero);
  CHECK(sampler({4711, 4711, 4711}).classify() == IpIdBehaviour::constant);
  CHECK(sampler({100, 101, 103, 110, 111}).classify() == IpIdBehaviour::global_counter);
  CHECK(sampler({65530, 65531, 65533, 65535, 1, 3}).classify() == IpIdBehaviour::global_counter);
  CHECK(sampler({12345, 54321, 999, 40000, 7, 31000}).classify() == IpIdBehaviour::random);
  // Two different values are too few to tell a counter from chance.
  CHECK(sampler({1, 2}).classify() == IpIdBehaviour::unknown);

  SECTION("per-flow counters, interleaved") {
    IpIdSampler s;
    std::int64_t t = 0;
    for (std::uint16_t i = 0; i < 4; ++i) {
      s.add(Timestamp{t += 1000}, static_cast<std::uint16_t>(100 + i), 1);
      s.add(Timestamp{t += 1000}, static_cast<std::uint16_t>(30000 + i), 2);
      s.add(Timestamp{t += 1000}, static_cast<std::uint16_t>(60000 + i), 3);
    }
    CHECK(s.classify() == IpIdBehaviour::per_flow_counter);
  }
  SECTION("the ring keeps the newest 16 samples") {
    IpIdSampler s;
    for (std::uint16_t i = 0; i < 40; ++i) s.add(Timestamp{i}, i < 24 ? std::uint16_t{0} : i, 0);
    CHECK(s.size() == IpIdSampler::capacity);
    CHECK(s.classify() == IpIdBehaviour::global_counter);  // the zeros were pushed out
    CHECK_FALSE(s.all_zero());
  }
  CHECK(ip_id_behaviour_name(IpIdBehaviour::global_counter) == "global-counter");
  CHECK(ip_id_behaviour_name(IpIdBehaviour::per_flow_counter) == "per-flow-counter");
  CHECK_FALSE(IpIdSampler{}.all_zero());
}

TEST_CASE("follows_counter", "[ipid]") {
  CHECK(follows_counter(10, 11));
  CHECK_FALSE(follows_counter(10, 10));
  CHECK_FALSE(follows_counter(10, 9));
  CHECK(follows_counter(10, 10 + IpIdSampler::max_counter_step));
  CHECK_FALSE(follows_counter(10, 10 + IpIdSampler::max_counter_step + 1));
  CHECK(follows_counter(65535, 0));
  CHECK(follows_counter(65530, 3));
  CHECK(follows_counter(65535, IpIdSampler::max_counter_step - 1));
  CHECK_FALSE(follows_counter(65535, IpIdSampler::max_counter_step));
}

TEST_CASE("latest_before: where a counter stood at a time", "[ipid]") {
  IpIdSampler s;
  s.add(Timestamp{100}, 10, 0);
  s.add(Timestamp{200}, 20, 0);
  s.add(Timestamp{300}, 30, 0);
  CHECK_FALSE(s.latest_before(Timestamp{99}).has_value());
  CHECK(s.latest_before(Timestamp{100}) == std::optional<std::uint16_t>{10});
  CHECK(s.latest_before(Timestamp{250}) == std::optional<std::uint16_t>{20});
  CHECK(s.latest_before(Timestamp{1000}) == std::optional<std::uint16_t>{30});

  SECTION("samples pushed out of the ring are forgotten") {
    IpIdSampler r;
    for (std::uint16_t i = 0; i < 20; ++i) r.add(Timestamp{i}, i, 0);
    CHECK_FALSE(r.latest_before(Timestamp{3}).has_value());
    CHECK(r.latest_before(Timestamp{4}) == std::optional<std::uint16_t>{4});
    CHECK(r.latest_before(Timestamp{100}) == std::optional<std::uint16_t>{19});
  }
}
