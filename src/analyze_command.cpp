#include "analyze_command.hpp"

#include <fmt/format.h>

#include <ostream>

#include "capture/clock.hpp"
#include "capture/offline_analysis.hpp"
#include "dissect/error.hpp"
#include "version.hpp"

namespace synprobe {
namespace {

std::optional<std::string> filter_of(const AnalyzeOptions& o) {
  if (o.filter && !o.filter_words.empty())
    throw Failure(ExitCode::usage, "give the filter either with -f or as trailing words, not both");
  if (o.filter) return o.filter;
  if (o.filter_words.empty()) return std::nullopt;
  std::string joined;
  for (const std::string& w : o.filter_words) joined += (joined.empty() ? "" : " ") + w;
  return joined;
}

}  // namespace

CLI::App* add_analyze_command(CLI::App& app, AnalyzeOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Give every TCP connection attempt in a capture file a verdict on who refused it");
  cmd->add_option("file", options.file, "Capture file (pcap or pcapng; - for standard input)")->required();
  cmd->add_option("filter", options.filter_words,
                  "BPF filter expression, as tcpdump takes it (e.g. host 198.18.4.10 and port 443)");
  cmd->add_option("-f,--filter", options.filter, "BPF filter expression (alternative to trailing words)")
      ->group("Input");
  add_output_options(*cmd, options.output);
  cmd->footer(
      "Examples:\n"
      "  synprobe analyze capture.pcapng\n"
      "  synprobe analyze capture.pcap --json -o result.json\n"
      "  synprobe analyze capture.pcap 'host 203.0.113.7 and port 443' -v");
  return cmd;
}

int run_analyze(const AnalyzeOptions& options, const std::string& command_line, Environment& env) {
  OfflineOptions offline;
  offline.path = options.file;
  offline.filter = filter_of(options);
  offline.digest = !options.output.report.empty();

  const Timestamp started = wall_clock_now();
  AnalysisReport report = analyze_capture(offline);
  report.run.mode = "analyze";
  report.run.version = SYNPROBE_VERSION;
  report.run.command_line = command_line;
  report.run.started = started;
  report.run.finished = wall_clock_now();
  emit_report(report, options.output, env);

  if (report.input.damage) {
    env.err << fmt::format("synprobe: input damaged, results cover what came before: {}\n",
                           *report.input.damage);
    return static_cast<int>(ExitCode::input_damaged);
  }
  return static_cast<int>(ExitCode::ok);
}

}  // namespace synprobe
