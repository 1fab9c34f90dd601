#pragma once
// `synprobe analyze FILE [FILTER…]`: verdicts for every connection attempt in a capture.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "output_options.hpp"

namespace synprobe {

struct AnalyzeOptions {
  std::string file;                        // the positional FILE
  std::optional<std::string> read;         // -r FILE, as tcpdump takes it
  std::optional<std::string> filter;       // -f EXPR
  std::vector<std::string> filter_words;   // or trailing words, as tcpdump takes them
  bool summary = false;                    // --summary: counts, not one entry per attempt
  OutputOptions output;
};

CLI::App* add_analyze_command(CLI::App& app, AnalyzeOptions& options);
int run_analyze(const AnalyzeOptions& options, const std::string& command_line, Environment& env);

// A line on a terminal's stderr, redrawn in place while a long analysis runs. Nothing
// shows before `delay` (a short run stays quiet) nor when disabled (stderr is a pipe or
// a file, where a line rewritten with \r would only be noise).
class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressLine(std::ostream& err, bool enabled, Clock::duration delay);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void update(std::uint64_t done, std::optional<std::uint64_t> total);
  // Erases the line: before normal output reaches the same terminal, and at the end.
  void clear();

 private:
  static constexpr std::chrono::milliseconds redraw_every{250};
  std::ostream& err_;
  bool enabled_;
  Clock::duration delay_;
  bool shown_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point drawn_{};
};

// The progress line's words after `seconds` of reading `done` bytes of `total` (known
// for a regular file): "1.2 GiB of 10.0 GiB (12%), 850 MB/s, 11 s left".
[[nodiscard]] std::string progress_text(std::uint64_t done, std::optional<std::uint64_t> total, double seconds);

}  // namespace synprobe
