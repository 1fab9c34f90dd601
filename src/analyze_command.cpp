#include "analyze_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>

#include "capture/clock.hpp"
#include "capture/offline_analysis.hpp"
#include "dissect/decode/error.hpp"
#include "reports/atomic_file.hpp"
#include "version.hpp"

namespace synprobe {
namespace {

// The capture file: -r FILE (tcpdump's habit) or the positional FILE.
std::string capture_path_of(const AnalyzeOptions& o) {
  if (o.read) return *o.read;
  if (o.file.empty()) throw Failure(ExitCode::usage, "file is required: give the capture file as FILE or -r FILE");
  return o.file;
}

// The filter: -f EXPR or the trailing words. With -r FILE, every positional word is part
// of the filter, the first one included: `analyze -r x.pcap port 443`.
std::optional<std::string> filter_of(const AnalyzeOptions& o) {
  std::string joined = o.read ? o.file : std::string();
  for (const std::string& w : o.filter_words) joined += (joined.empty() ? "" : " ") + w;
  if (o.filter && !joined.empty())
    throw Failure(ExitCode::usage, "give the filter either with -f or as trailing words, not both");
  if (o.filter) return o.filter;
  if (joined.empty()) return std::nullopt;
  return joined;
}

std::string size_text(double bytes) {
  if (bytes >= 1e9) return fmt::format("{:.1f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.0f} MB", bytes / 1e6);
  return fmt::format("{:.0f} kB", bytes / 1e3);
}

// Writes the output as it is rendered: to stdout, or into the -o file's temporary.
class OutputStream {
 public:
  OutputStream(const std::string& path, Environment& env, ProgressLine& progress)
      : env_(env), progress_(progress), shares_terminal_(path == "-" && env.stdout_is_terminal) {
    if (path != "-") file_ = std::make_unique<AtomicFile>(path);
  }

  void write(std::string_view text) {
    if (shares_terminal_) progress_.clear();
    if (file_) {
      file_->write(text);
    } else {
      env_.out.write(text.data(), static_cast<std::streamsize>(text.size()));
      if (!env_.out) throw Failure(ExitCode::output, "cannot write to standard output");
    }
  }

  void commit() {
    if (file_) {
      file_->commit();
      return;
    }
    env_.out.flush();
    if (!env_.out) throw Failure(ExitCode::output, "cannot write to standard output");
  }

 private:
  Environment& env_;
  ProgressLine& progress_;
  bool shares_terminal_;
  std::unique_ptr<AtomicFile> file_;
};

RunInfo run_info(const std::string& command_line) {
  RunInfo run;
  run.mode = "analyze";
  run.version = SYNPROBE_VERSION;
  run.command_line = command_line;
  run.started = wall_clock_now();
  return run;
}

// Text and JSON stream: each attempt is written once judged, so memory stays flat
// whatever the capture's size.
using StreamFactory = std::unique_ptr<ReportStream> (*)(const RenderOptions&, TextSink);

AnalysisReport analyze_streaming(const OfflineOptions& offline, StreamFactory make_stream, const RunInfo& run,
                                 const AnalyzeOptions& options, Environment& env, ProgressLine& progress) {
  OutputStream out(options.output.output, env, progress);
  AnalysisReport head;
  head.run = run;
  const std::unique_ptr<ReportStream> stream = make_stream(
      render_options_for(options.output, env), [&](std::string_view text) { out.write(text); });
  stream->begin(head);
  OfflineOptions what_to_judge = offline;
  what_to_judge.details = stream->shows_details();
  AnalysisReport report = analyze_capture(what_to_judge, [&](AttemptResult&& r) { stream->add(r); });
  report.run = run;
  report.vantage = vantage_for(options.output, nullptr);
  report.run.finished = wall_clock_now();
  progress.clear();
  stream->end(report);
  out.commit();
  return report;
}

// Markdown and HTML summarise before they list, and --report writes a second document:
// these hold every attempt until the end (memory grows with the attempts).
AnalysisReport analyze_whole(const OfflineOptions& offline, const RunInfo& run, const AnalyzeOptions& options,
                             Environment& env, ProgressLine& progress) {
  AnalysisReport report = analyze_capture(offline);
  report.run = run;
  report.vantage = vantage_for(options.output, nullptr);
  for (const AttemptResult& r : report.attempts) {  // the clients seen, as the JSON stream lists them
    if (report.vantage->sources.size() >= 16) break;
    const std::string client = r.attempt.client.to_string();
    if (std::find(report.vantage->sources.begin(), report.vantage->sources.end(), client) ==
        report.vantage->sources.end())
      report.vantage->sources.push_back(client);
  }
  report.run.finished = wall_clock_now();
  progress.clear();
  emit_report(report, options.output, env);
  return report;
}

}  // namespace

ProgressLine::ProgressLine(std::ostream& err, bool enabled, Clock::duration delay)
    : err_(err), enabled_(enabled), delay_(delay) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(std::uint64_t done, std::optional<std::uint64_t> total) {
  if (!enabled_) return;
  const Clock::time_point now = Clock::now();
  if (now - start_ < delay_ || now - drawn_ < redraw_every) return;
  drawn_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  err_ << "\r" << progress_text(done, total, seconds) << "\x1b[K" << std::flush;
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  err_ << "\r\x1b[K" << std::flush;
  shown_ = false;
}

std::string progress_text(std::uint64_t done, std::optional<std::uint64_t> total, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const std::string speed = size_text(rate) + "/s";
  if (!total || *total == 0) return fmt::format("synprobe: {} read, {}", size_text(static_cast<double>(done)), speed);
  const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(*total));
  std::string text = fmt::format("synprobe: {} of {} ({:.0f}%), {}", size_text(static_cast<double>(done)),
                                 size_text(static_cast<double>(*total)), fraction * 100, speed);
  if (rate > 0 && done < *total)
    text += fmt::format(", {:.0f} s left", static_cast<double>(*total - done) / rate);
  return text;
}

CLI::App* add_analyze_command(CLI::App& app, AnalyzeOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Give every TCP connection attempt in a capture file a verdict on who refused it");
  cmd->add_option("file", options.file, "Capture file (pcap or pcapng; - for standard input)");
  cmd->add_option("-r,--read", options.read,
                  "Capture file, as tcpdump -r takes it (instead of FILE: every trailing word is then filter)")
      ->group("Input");
  cmd->add_option("filter", options.filter_words,
                  "BPF filter expression, as tcpdump takes it (e.g. host 198.18.4.10 and port 443)");
  cmd->add_option("-f,--filter", options.filter, "BPF filter expression (alternative to trailing words)")
      ->group("Input");
  cmd->add_flag("--summary", options.summary,
                "Counts instead of one entry per attempt: per verdict, per destination (the most attempts first) "
                "and per refuser (actor, hop); text or JSON, memory bounded")
      ->group("Output");
  add_output_options(*cmd, options.output);
  cmd->footer(
      "Examples:\n"
      "  synprobe analyze capture.pcapng\n"
      "  synprobe analyze -r capture.pcap port 443\n"
      "  synprobe analyze capture.pcap --json -o result.json\n"
      "  synprobe analyze capture.pcap 'host 203.0.113.7 and port 443' -v\n"
      "  synprobe analyze big-scan.pcap --summary");
  return cmd;
}

int run_analyze(const AnalyzeOptions& options, const std::string& command_line, Environment& env) {
  OfflineOptions offline;
  offline.path = capture_path_of(options);
  offline.filter = filter_of(options);
  offline.digest = !options.output.report.empty();
  ProgressLine progress(env.err, env.stderr_is_terminal, std::chrono::seconds(1));
  offline.progress = [&](std::uint64_t done, std::optional<std::uint64_t> total) { progress.update(done, total); };

  const Renderer* renderer = find_renderer(options.output.json ? "json" : options.output.format);
  if (!renderer) throw Failure(ExitCode::usage, fmt::format("unknown format '{}'", options.output.format));
  const RunInfo run = run_info(command_line);
  AnalysisReport report;
  if (options.summary) {
    if (renderer->name != "text" && renderer->name != "json")
      throw Failure(ExitCode::usage, "--summary writes text or JSON, not " + std::string(renderer->name));
    if (!options.output.report.empty())
      throw Failure(ExitCode::usage, "--summary and --report do not combine: a report lists every attempt");
    report = analyze_streaming(offline, renderer->name == "json" ? stream_json_summary : stream_text_summary, run,
                               options, env, progress);
  } else if (renderer->stream && options.output.report.empty()) {
    report = analyze_streaming(offline, renderer->stream, run, options, env, progress);
  } else {
    report = analyze_whole(offline, run, options, env, progress);
  }

  if (report.input.damage) {
    env.err << fmt::format("synprobe: input damaged, results cover what came before: {}\n",
                           *report.input.damage);
    return static_cast<int>(ExitCode::input_damaged);
  }
  return static_cast<int>(ExitCode::ok);
}

}  // namespace synprobe
