#include "cli.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include <CLI/CLI.hpp>

#include "analyze_command.hpp"
#include "capture/library_versions.hpp"
#include "merge_command.hpp"
#include "probe_command.hpp"
#include "report_command.hpp"
#include "dissect/decode/error.hpp"
#include "version.hpp"

namespace synprobe {
namespace {

constexpr const char* exit_code_help =
    "Exit codes:\n"
    "  0    the command ran (whatever the verdicts)\n"
    "  1    internal error (a bug: please report it)\n"
    "  2    bad arguments or filter expression\n"
    "  3    input unreadable: not a capture file, unsupported link type, no such file\n"
    "  4    input damaged part-way: the results cover what came before the damage\n"
    "  5    missing privilege for live probing (CAP_NET_RAW)\n"
    "  6    network or interface problem during live probing\n"
    "  7    an output file could not be written\n"
    "  130  interrupted: results so far were written, marked interrupted\n"
    "\n"
    "Environment:\n"
    "  NO_COLOR   when set and not empty, never colour the output\n";

// The command line as a person would type it again (for reports).
std::string quoted_command_line(const std::vector<std::string>& args) {
  std::string line = "synprobe";
  for (const std::string& a : args) {
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./:=,@+[]").find(c) != std::string_view::npos;
    });
    if (plain) {
      line += " " + a;
    } else {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      line += " " + q + "'";
    }
  }
  return line;
}

}  // namespace

int run(const std::vector<std::string>& args, Environment& env) {
  CLI::App app{"synprobe: when a TCP connection fails, who refused it? Answers with packet evidence.",
               "synprobe"};
  app.set_version_flag("-V,--version", std::string("synprobe ") + SYNPROBE_VERSION);
  app.require_subcommand(1);
  app.footer(exit_code_help);

  AnalyzeOptions analyze;
  CLI::App* analyze_cmd = add_analyze_command(app, analyze);
  analyze_cmd->footer(std::string(analyze_cmd->get_footer()) + "\n\n" + exit_code_help);
  ProbeCommandOptions probe;
  CLI::App* probe_cmd = add_probe_command(app, probe);
  probe_cmd->footer(std::string(probe_cmd->get_footer()) + "\n\n" + exit_code_help);
  ProbeCommandOptions trace;
  CLI::App* trace_cmd = add_trace_command(app, trace);
  trace_cmd->footer(std::string(trace_cmd->get_footer()) + "\n\n" + exit_code_help);
  ReportCommandOptions report;
  CLI::App* report_cmd = add_report_command(app, report);
  DiffCommandOptions diff;
  CLI::App* diff_cmd = add_diff_command(app, diff);
  MergeCommandOptions merge;
  CLI::App* merge_cmd = add_merge_command(app, merge);
  merge_cmd->footer(std::string(merge_cmd->get_footer()) + "\n\n" + exit_code_help);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    env.out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    env.out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    // The first line alone is synprobe's (scripts read it with head -1); then its libraries.
    env.out << "synprobe " << SYNPROBE_VERSION << "\n";
    for (const std::string& line : library_version_lines()) env.out << line << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // Subcommand help arrives as a CallForHelp thrown from the subcommand.
    if (e.get_name() == "CallForHelp") {
      for (CLI::App* sub : app.get_subcommands()) {
        env.out << sub->help();
        return 0;
      }
      env.out << app.help();
      return 0;
    }
    env.err << fmt::format("synprobe: {} (see synprobe --help)\n", e.what());
    return static_cast<int>(ExitCode::usage);
  }

  const std::string command_line = quoted_command_line(args);
  try {
    if (analyze_cmd->parsed()) return run_analyze(analyze, command_line, env);
    if (probe_cmd->parsed()) return run_probe_command(probe, "probe", command_line, env);
    if (trace_cmd->parsed()) return run_probe_command(trace, "trace", command_line, env);
    if (report_cmd->parsed()) return run_report_command(report, env);
    if (diff_cmd->parsed()) return run_diff_command(diff, env);
    if (merge_cmd->parsed()) return run_merge_command(merge, command_line, env);
    env.err << "synprobe: no command given (see synprobe --help)\n";
    return static_cast<int>(ExitCode::usage);
  } catch (const Failure& f) {
    env.err << "synprobe: " << f.what() << "\n";
    return static_cast<int>(f.code());
  } catch (const std::exception& e) {
    env.err << "synprobe: internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::internal);
  }
}

}  // namespace synprobe
