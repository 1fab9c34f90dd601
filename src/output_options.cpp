#include "output_options.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <ostream>

#include "dissect/decode/error.hpp"
#include "reports/atomic_file.hpp"

namespace synprobe {

void add_output_options(CLI::App& command, OutputOptions& options) {
  command.add_option("-F,--format", options.format, "Output format: " + renderer_names())
      ->group("Output")
      ->check(check_renderer_name);
  command.add_flag("--json", options.json, "Same as --format json")->group("Output");
  command.add_option("-o,--output", options.output, "Write the result to FILE (atomically) instead of stdout")
      ->group("Output");
  command.add_option("--color", options.color, "Colour the text output: auto|always|never (NO_COLOR disables it)")
      ->group("Output")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  command.add_flag("-n,--numeric", options.numeric,
                   "Numeric addresses, as tcpdump/nmap -n: always so (synprobe never looks up names for "
                   "addresses), accepted for the habit")
      ->group("Output");
  command.add_flag("-v,--verbose", options.verbose, "Text output: list the evidence under each attempt")
      ->group("Output");
  command.add_option("--report", options.report,
                     "Also write a report for people to FILE (.md or .html; .json and .txt work too), atomically")
      ->group("Output")
      ->check([](const std::string& path) {
        return renderer_for_file(path) ? std::string{}
                                       : fmt::format("--report {}: name it .md, .html, .json or .txt", path);
      });
  command.add_option("--vantage-name", options.vantage_name,
                     "Where this run is made, for `synprobe merge` (JSON vantage.name; default: the host name)")
      ->group("Output");
}

VantageInfo vantage_for(const OutputOptions& options, const ProbeSummary* probe) {
  VantageInfo v;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) v.host = host;
  v.name = options.vantage_name.empty() ? v.host : options.vantage_name;
  if (probe) {
    v.sources = probe->sources;
    v.interfaces = probe->interfaces;
    for (const std::string& hop : probe->next_hops)
      if (hop != "on-link") {
        v.first_hop = hop;
        break;
      }
  }
  return v;
}

void write_output(const std::string& path, const std::string& text, Environment& env) {
  if (path == "-") {
    env.out << text;
    env.out.flush();
    if (!env.out) throw Failure(ExitCode::output, "cannot write to standard output");
  } else {
    write_file_atomically(path, text);
  }
}

RenderOptions render_options_for(const OutputOptions& options, const Environment& env) {
  RenderOptions render;
  const bool to_terminal = options.output == "-" && env.stdout_is_terminal;
  render.color = !env.no_color && (options.color == "always" || (options.color == "auto" && to_terminal));
  render.verbose = options.verbose;
  return render;
}

void emit_report(const AnalysisReport& report, const OutputOptions& options, Environment& env) {
  const Renderer* renderer = find_renderer(options.json ? "json" : options.format);
  if (!renderer) throw Failure(ExitCode::usage, fmt::format("unknown format '{}'", options.format));
  const std::string text = renderer->render(report, render_options_for(options, env));
  // The report file first: if it cannot be written, nothing half-done reaches stdout.
  if (!options.report.empty()) {
    RenderOptions plain;
    write_file_atomically(options.report, renderer_for_file(options.report)->render(report, plain));
  }
  write_output(options.output, text, env);
}

}  // namespace synprobe
