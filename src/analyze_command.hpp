#pragma once
// `synprobe analyze FILE [FILTER…]`: verdicts for every connection attempt in a capture.

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "output_options.hpp"

namespace synprobe {

struct AnalyzeOptions {
  std::string file;
  std::optional<std::string> filter;       // -f EXPR
  std::vector<std::string> filter_words;   // or trailing words, as tcpdump takes them
  OutputOptions output;
};

CLI::App* add_analyze_command(CLI::App& app, AnalyzeOptions& options);
int run_analyze(const AnalyzeOptions& options, const std::string& command_line, Environment& env);

}  // namespace synprobe
