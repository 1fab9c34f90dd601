// The documentation names every signal and verdict the program can emit.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "dissect/infer/evidence.hpp"
#include "dissect/infer/signatures.hpp"
#include "dissect/verdict/vantage_merge.hpp"
#include "dissect/verdict/verdict.hpp"

using namespace synprobe;

namespace {

std::string doc(const std::string& name) {
  const std::string path = std::string(SYNPROBE_SOURCE_DIR) + "/docs/" + name;
  std::ifstream in(path);
  INFO(path);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("docs: every signal is described in docs/signals.md", "[docs]") {
  const std::string signals = doc("signals.md");
  REQUIRE_FALSE(signal_table().empty());
  for (const SignalInfo& s : signal_table()) {
    INFO(s.name);
    CHECK(signals.find("`" + std::string(s.name) + "`") != std::string::npos);
    CHECK(signal_name(s.signal) == s.name);
  }
}

TEST_CASE("docs: every verdict is described in docs/json.md", "[docs]") {
  const std::string json = doc("json.md");
  for (std::size_t v = 0; v < verdict_count; ++v) {
    const std::string name(verdict_name(static_cast<Verdict>(v)));
    INFO(name);
    CHECK(json.find("`" + name + "`") != std::string::npos);
  }
}

TEST_CASE("docs: the signal table lists every signal once, in enum order", "[docs]") {
  const auto table = signal_table();
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO(table[i].name);
    CHECK(static_cast<std::size_t>(table[i].signal) == i);
    CHECK_FALSE(table[i].description.empty());
    for (std::size_t k = 0; k < i; ++k) CHECK(table[k].name != table[i].name);
  }
}

TEST_CASE("docs: every verdict rule is a row of docs/verdicts.md with its verdicts", "[docs]") {
  const std::string whole = doc("verdicts.md");
  const std::size_t section = whole.find("## The rule table");
  REQUIRE(section != std::string::npos);
  const std::string verdicts = whole.substr(section);
  REQUIRE_FALSE(rule_table().empty());
  for (std::size_t i = 0; i < rule_table().size(); ++i) {
    const RuleInfo& r = rule_table()[i];
    INFO(r.name);
    CHECK(static_cast<std::size_t>(r.rule) == i);
    CHECK(rule_name(r.rule) == r.name);
    CHECK(rule_from_name(r.name) == r.rule);
    const std::size_t row = verdicts.find("| `" + std::string(r.name) + "` |");
    REQUIRE(row != std::string::npos);
    const std::string line = verdicts.substr(row, verdicts.find('\n', row) - row);
    // Each verdict the rule can give is named in its row ("any" for the trace's).
    std::size_t from = 0;
    while (from < r.verdicts.size()) {
      const std::size_t end = std::min(r.verdicts.find(' ', from), r.verdicts.size());
      const std::string v(r.verdicts.substr(from, end - from));
      CHECK(line.find("`" + v + "`") != std::string::npos);
      if (v != "any") {
        bool known = false;
        for (std::size_t k = 0; k < verdict_count; ++k) known |= verdict_name(static_cast<Verdict>(k)) == v;
        CHECK(known);
      }
      from = end + 1;
    }
  }
}

TEST_CASE("docs: every refusal signature is a row of docs/verdicts.md with its sources", "[docs]") {
  const std::string whole = doc("verdicts.md");
  const std::size_t section = whole.find("## Refusal signatures");
  REQUIRE(section != std::string::npos);
  const std::string signatures = whole.substr(section, whole.find("\n## ", section + 1) - section);
  REQUIRE_FALSE(signature_table().empty());
  for (const RefusalSignature& s : signature_table()) {
    INFO(s.name);
    const std::size_t row = signatures.find("| `" + std::string(s.name) + "` |");
    REQUIRE(row != std::string::npos);
    const std::string line = signatures.substr(row, signatures.find('\n', row) - row);
    // name | shape | who builds it | sources: four cells, the last one written.
    std::size_t cells = 0;
    for (char c : line) cells += c == '|';
    CHECK(cells == 5);
    const std::size_t last = line.rfind('|', line.size() - 2);
    CHECK(line.size() - last > 20);
  }
}

TEST_CASE("docs: every merge finding kind is a row of docs/merge.md and named in docs/json.md", "[docs][merge]") {
  const std::string merge = doc("merge.md");
  const std::string json = doc("json.md");
  for (std::size_t k = 0; k < merge_kind_count; ++k) {
    const std::string name(merge_kind_name(static_cast<MergeKind>(k)));
    INFO(name);
    CHECK(merge.find("| `" + name + "` |") != std::string::npos);
    CHECK(json.find("`" + name + "`") != std::string::npos);
  }
}
