#pragma once
// `synprobe report RESULT.json` re-renders a saved result in any format, without
// privileges; `synprobe diff BEFORE.json AFTER.json` says what changed per target.

#include <string>

#include <CLI/CLI.hpp>

#include "cli.hpp"

namespace synprobe {

struct ReportCommandOptions {
  std::string input;
  std::string format;           // empty: from -o's extension, else text
  std::string output = "-";
};

struct DiffCommandOptions {
  std::string before;
  std::string after;
  std::string format = "text";
  std::string output = "-";
};

CLI::App* add_report_command(CLI::App& app, ReportCommandOptions& options);
CLI::App* add_diff_command(CLI::App& app, DiffCommandOptions& options);
int run_report_command(const ReportCommandOptions& options, Environment& env);
int run_diff_command(const DiffCommandOptions& options, Environment& env);

}  // namespace synprobe
