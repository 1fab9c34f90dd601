#pragma once
// Output options shared by every command that produces a report.

#include <string>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "reports/renderer.hpp"

namespace synprobe {

struct OutputOptions {
  std::string format = "text";
  bool json = false;            // --json: shorthand for --format json
  std::string output = "-";     // -o FILE
  std::string color = "auto";   // --color auto|always|never
  bool verbose = false;
  std::string report;           // --report FILE: also write a report, format by extension
  bool numeric = false;         // -n: accepted for tcpdump/nmap habits; addresses are always numeric
  std::string vantage_name;     // --vantage-name NAME: where the run was made (default: the host name)
};

void add_output_options(CLI::App& command, OutputOptions& options);
// How the output is to look: colour for a terminal (unless NO_COLOR), -v.
[[nodiscard]] RenderOptions render_options_for(const OutputOptions& options, const Environment& env);
// Renders and writes the report (atomically when -o names a file).
void emit_report(const AnalysisReport& report, const OutputOptions& options, Environment& env);
// Where this run is made (JSON "vantage"): the --vantage-name label or the host name; a
// live run adds its sources, interfaces and gateway.
[[nodiscard]] VantageInfo vantage_for(const OutputOptions& options, const ProbeSummary* probe);
// Writes text to standard output ("-") or atomically to a file.
void write_output(const std::string& path, const std::string& text, Environment& env);

}  // namespace synprobe
