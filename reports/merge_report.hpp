#pragma once
// Renders a merge of several vantage points (dissect/verdict/vantage_merge.hpp): text,
// Markdown, HTML (with an SVG of the paths joining) and JSON (docs/schema/synprobe-merge.schema.json).
// The formats are listed in the merge table of renderer.cpp.

#include <optional>
#include <string>
#include <vector>

#include "dissect/verdict/vantage_merge.hpp"

namespace synprobe {

// One input of a merge, as the reports name it.
struct MergeInput {
  std::string file;
  std::string name;     // the label shown
  std::string mode;     // analyze, probe, trace
  Timestamp from, to;   // when its packets were seen
  std::optional<VantageInfo> vantage;  // absent in files written before schema 1.1
};

struct MergeDocument {
  std::string version;
  std::string command_line;
  MergeOptions options;
  std::vector<MergeInput> inputs;
  MergeResult result;
};

std::string render_merge_text(const MergeDocument& doc);
std::string render_merge_markdown(const MergeDocument& doc);
std::string render_merge_html(const MergeDocument& doc);
std::string render_merge_json(const MergeDocument& doc);

// "198.18.1.2 → {198.18.7.1|198.18.7.2} → * → [198.18.3.2] → 198.18.4.10" (the join in brackets).
[[nodiscard]] std::string path_text(const Path& path, std::optional<std::size_t> join_index);

}  // namespace synprobe
