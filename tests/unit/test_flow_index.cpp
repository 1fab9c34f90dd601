// FlowIndex against a std::map model: random inserts, updates and erases, with hashes
// chosen to collide (runs that wrap around the end of the slots, shifts on erase).
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "dissect/infer/flow_index.hpp"

using synprobe::FlowIndex;

TEST_CASE("flow index: finds, replaces and erases as a map does, through collisions and growth", "[tracker][index]") {
  // 0: every key hashes alike (one long run); 1: seven hashes whose home slots are the
  // last of the table whatever its size (runs wrap around); 2: keys spread by the hash's
  // high half.
  for (const int mode : {0, 1, 2}) {
    // Keys are small integers; the value stored for a key is its position in `keys`.
    std::vector<std::uint32_t> keys;
    FlowIndex index;
    std::map<std::uint32_t, std::uint32_t> model;  // key -> value
    std::mt19937 rng(static_cast<std::uint32_t>(mode + 1));
    const auto hash_of = [&](std::uint32_t key) -> std::uint64_t {
      if (mode == 0) return 5;
      if (mode == 1) return 0xfffffff8u + key % 7;
      return std::uint64_t{key} << 32;
    };
    const auto find = [&](std::uint32_t key) {
      return index.find(hash_of(key), [&](std::uint32_t v) { return keys[v] == key; });
    };
    const std::uint32_t key_space = mode == 2 ? 5000 : 300;
    for (int step = 0; step < 20000; ++step) {
      const auto key = static_cast<std::uint32_t>(rng() % key_space);
      if (rng() % 3 != 0) {
        keys.push_back(key);
        const auto value = static_cast<std::uint32_t>(keys.size() - 1);
        index.assign(hash_of(key), value, [&](std::uint32_t v) { return keys[v] == key; });
        model[key] = value;
      } else {
        const bool erased = index.erase(hash_of(key), [&](std::uint32_t v) { return keys[v] == key; });
        CHECK(erased == (model.erase(key) == 1));
      }
      if (step % 997 == 0) {
        for (std::uint32_t k = 0; k < key_space; ++k) {
          const auto it = model.find(k);
          REQUIRE(find(k) == (it == model.end() ? FlowIndex::none : it->second));
        }
      }
    }
    CHECK(index.size() == model.size());
    for (const auto& [key, value] : model) CHECK(find(key) == value);
  }
}
