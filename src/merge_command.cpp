#include "merge_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "dissect/decode/error.hpp"
#include "dissect/verdict/vantage_merge.hpp"
#include "output_options.hpp"
#include "reports/atomic_file.hpp"
#include "reports/json_reader.hpp"
#include "reports/merge_report.hpp"
#include "reports/renderer.hpp"
#include "version.hpp"

namespace synprobe {
namespace {

std::string merge_format_names() {
  std::string names;
  for (const MergeRenderer& r : merge_renderers()) names += (names.empty() ? "" : "|") + std::string(r.name);
  return names;
}

const MergeRenderer& renderer_for(std::string_view name) {
  const MergeRenderer* r = find_merge_renderer(name);
  if (!r) throw Failure(ExitCode::usage, fmt::format("merge: unknown format '{}' ({})", name, merge_format_names()));
  return *r;
}

}  // namespace

CLI::App* add_merge_command(CLI::App& app, MergeCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "merge", "Is it just me? The same targets seen from several vantage points, one finding per target");
  cmd->add_option("results", o.inputs,
                  "JSON results of probe/trace runs made from different places (or of analyze runs of captures "
                  "made at different points of one path); at least 2")
      ->required();
  cmd->add_option("-F,--format", o.format, "Output format: " + merge_format_names() + " (default: from -o, else text)")
      ->check([](const std::string& f) { return find_merge_renderer(f) ? std::string{} : "unknown format '" + f + "'"; });
  cmd->add_flag("--json", o.json, "Same as --format json");
  cmd->add_option("-o,--output", o.output, "Write to FILE (atomically) instead of stdout");
  cmd->add_option("--report", o.report, "Also write a report for people to FILE (.md or .html; .json, .txt too)")
      ->check([](const std::string& path) {
        return renderer_for_file(path) ? std::string{} : fmt::format("--report {}: name it .md, .html, .json or .txt", path);
      });
  cmd->add_option("--max-apart", o.max_apart_s,
                  "Seconds: runs further apart than this are not compared as simultaneous (a differing answer is "
                  "blamed on no side)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--change-at", o.change_at,
                  "A change was made at this time (ISO 8601 UTC, 2026-12-01T10:00:00Z): runs on both sides of it "
                  "are not compared");
  cmd->footer(
      "Examples:\n"
      "  sudo synprobe probe app.example.net:443 -o office.json      # on each vantage point\n"
      "  synprobe merge office.json datacenter.json vpn.json --report where.html\n"
      "  synprobe merge runs/*.json --json\n"
      "Running the probes on many machines is the job of fleet tools: see docs/merge.md.");
  return cmd;
}

int run_merge_command(const MergeCommandOptions& o, const std::string& command_line, Environment& env) {
  if (o.inputs.size() < 2)
    throw Failure(ExitCode::usage, fmt::format("merge: needs at least 2 JSON results, got {}", o.inputs.size()));
  MergeDocument doc;
  doc.version = SYNPROBE_VERSION;
  doc.command_line = command_line;
  doc.options.max_apart_s = o.max_apart_s;
  if (o.change_at) {
    doc.options.change_at = parse_iso8601(*o.change_at);
    if (!doc.options.change_at)
      throw Failure(ExitCode::usage, fmt::format("--change-at {}: not an ISO 8601 UTC time (2026-12-01T10:00:00Z)",
                                                 *o.change_at));
  }
  const MergeRenderer& out_renderer =
      renderer_for(o.json ? "json"
                   : !o.format.empty()            ? o.format
                   : renderer_for_file(o.output) ? renderer_for_file(o.output)->name
                                                  : "text");

  std::vector<AnalysisReport> reports;
  reports.reserve(o.inputs.size());
  for (const std::string& file : o.inputs) reports.push_back(read_json_report_file(file));

  std::map<std::string, int> uses;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const AnalysisReport& r = reports[i];
    MergeInput in;
    in.file = o.inputs[i];
    in.vantage = r.vantage;
    in.name = r.vantage && !r.vantage->name.empty() ? r.vantage->name
                                                    : std::filesystem::path(o.inputs[i]).stem().string();
    in.mode = r.run.mode;
    in.from = r.run.started;
    in.to = r.run.finished;
    if (r.run.mode == "analyze" && r.input.first_packet && r.input.last_packet) {
      in.from = *r.input.first_packet;
      in.to = *r.input.last_packet;
    }
    ++uses[in.name];
    doc.inputs.push_back(in);
  }
  std::vector<VantageRun> runs;
  for (std::size_t i = 0; i < doc.inputs.size(); ++i) {
    MergeInput& in = doc.inputs[i];
    // A place is its vantage name for live runs; a capture is a place of its own (analyze
    // runs on one machine share its host name).
    const std::string place = in.mode == "analyze" || !in.vantage ? in.file : in.name;
    if (uses[in.name] > 1) in.name += fmt::format(" ({})", std::filesystem::path(in.file).filename().string());
    runs.push_back(VantageRun{in.name, place, in.mode, in.from, in.to, &reports[i]});
  }
  doc.result = merge_vantages(runs, doc.options);

  const std::string text = out_renderer.render(doc);
  if (!o.report.empty()) write_file_atomically(o.report, renderer_for(renderer_for_file(o.report)->name).render(doc));
  write_output(o.output, text, env);
  return 0;
}

}  // namespace synprobe
