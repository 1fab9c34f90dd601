#include "report_command.hpp"

#include <fmt/format.h>

#include "dissect/verdict/report_diff.hpp"
#include "output_options.hpp"
#include "reports/diff_report.hpp"
#include "reports/json_reader.hpp"
#include "reports/renderer.hpp"

namespace synprobe {

CLI::App* add_report_command(CLI::App& app, ReportCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("report", "Re-render a saved JSON result as Markdown, HTML, text or JSON");
  cmd->add_option("result", o.input, "A JSON result of analyze, probe or trace (- for standard input)")->required();
  cmd->add_option("-F,--format", o.format,
                  "Output format: " + renderer_names() + " (default: from -o's extension, else text)")
      ->check(check_renderer_name);
  cmd->add_option("-o,--output", o.output, "Write to FILE (atomically) instead of stdout");
  cmd->footer("Example:\n  synprobe report result.json --format md -o change-request.md");
  return cmd;
}

CLI::App* add_diff_command(CLI::App& app, DiffCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("diff", "Compare two JSON results: what changed per target");
  cmd->add_option("before", o.before, "The earlier JSON result")->required();
  cmd->add_option("after", o.after, "The later JSON result")->required();
  cmd->add_option("-F,--format", o.format, "text|md|json")->check(CLI::IsMember({"text", "md", "json"}));
  cmd->add_option("-o,--output", o.output, "Write to FILE (atomically) instead of stdout");
  cmd->footer("Example:\n  synprobe diff before.json after.json --format md");
  return cmd;
}

int run_report_command(const ReportCommandOptions& o, Environment& env) {
  const AnalysisReport report = read_json_report_file(o.input);
  const Renderer* renderer = !o.format.empty()       ? find_renderer(o.format)
                             : renderer_for_file(o.output) ? renderer_for_file(o.output)
                                                           : find_renderer("text");
  RenderOptions options;
  options.color = o.output == "-" && env.stdout_is_terminal && !env.no_color && renderer->name == "text";
  write_output(o.output, renderer->render(report, options), env);
  return 0;
}

int run_diff_command(const DiffCommandOptions& o, Environment& env) {
  const AnalysisReport before = read_json_report_file(o.before);
  const AnalysisReport after = read_json_report_file(o.after);
  write_output(o.output, render_diff(diff_reports(before, after), o.format, o.before, o.after), env);
  return 0;
}

}  // namespace synprobe
