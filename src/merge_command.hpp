#pragma once
// `synprobe merge A.json B.json...`: the same targets seen from several vantage points (or
// captured at several points of one path), one finding per target (docs/merge.md). Thin:
// reads the JSON results, hands them to dissect/verdict/vantage_merge, renders.

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace synprobe {

struct MergeCommandOptions {
  std::vector<std::string> inputs;
  std::string format;           // empty: from -o's extension, else text
  bool json = false;
  std::string output = "-";
  std::string report;           // --report FILE: also write a report, format by extension
  double max_apart_s = 600;
  std::optional<std::string> change_at;
};

CLI::App* add_merge_command(CLI::App& app, MergeCommandOptions& options);
int run_merge_command(const MergeCommandOptions& options, const std::string& command_line, Environment& env);

}  // namespace synprobe
