#pragma once
// Output modules: each renders the neutral AnalysisReport in one format. They are
// listed in one table, which also validates --format and feeds --help.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dissect/verdict/report_model.hpp"

namespace synprobe {

struct RenderOptions {
  bool color = false;    // ANSI colour (text only): decided by the CLI from the terminal and NO_COLOR
  bool verbose = false;  // text: evidence lines under each attempt
};

// Where a streaming renderer writes its output, a piece at a time.
using TextSink = std::function<void(std::string_view)>;

// A renderer that writes as the attempts come, so that memory does not grow with them:
// begin() with the report as known before the first packet (the run's mode, command and
// start; it must outlive the stream), add() each attempt in order, then end() with the
// finished report (run, input; its attempts are not read). Nothing is written before the
// first attempt or end(), so a run that fails early leaves no half output.
class ReportStream {
 public:
  explicit ReportStream(TextSink sink) : sink_(std::move(sink)) {}
  virtual ~ReportStream() = default;
  ReportStream(const ReportStream&) = delete;
  ReportStream& operator=(const ReportStream&) = delete;

  // The report as known before the first packet: what the head of the output needs.
  void begin(const AnalysisReport& head) { head_ = &head; }
  void add(const AttemptResult& r) {
    ++counts_[static_cast<std::size_t>(r.judgement.verdict)];
    ++attempts_;
    write_attempt(r);
  }
  void end(const AnalysisReport& report) { write_end(report); }
  // Whether it writes the evidence's sentences: judging spares them when not (most of its
  // cost). A listing without -v and the summaries show the signals' names at most.
  [[nodiscard]] virtual bool shows_details() const { return true; }

 protected:
  virtual void write_attempt(const AttemptResult& r) = 0;
  virtual void write_end(const AnalysisReport& report) = 0;
  void emit(std::string_view text) { sink_(text); }
  [[nodiscard]] const AnalysisReport& head() const { return *head_; }
  [[nodiscard]] std::uint64_t attempts() const { return attempts_; }
  [[nodiscard]] const std::array<std::uint64_t, verdict_count>& counts() const { return counts_; }

 private:
  TextSink sink_;
  const AnalysisReport* head_ = nullptr;
  std::uint64_t attempts_ = 0;
  std::array<std::uint64_t, verdict_count> counts_{};
};

struct Renderer {
  std::string_view name;
  std::string_view description;
  std::string (*render)(const AnalysisReport& report, const RenderOptions& options);
  // Streaming form, for formats that can write an attempt at a time (else nullptr: the
  // report needs the whole list, e.g. Markdown and HTML summarise before they list).
  std::unique_ptr<ReportStream> (*stream)(const RenderOptions& options, TextSink sink) = nullptr;
};

[[nodiscard]] std::span<const Renderer> renderers();
[[nodiscard]] const Renderer* find_renderer(std::string_view name);
// "text|json|md|html", for --help.
[[nodiscard]] std::string renderer_names();
// A CLI11 validator: "" for a known format, else why not.
[[nodiscard]] std::string check_renderer_name(const std::string& name);

// The renderers themselves (one file each).
std::string render_text(const AnalysisReport& report, const RenderOptions& options);
std::string render_json(const AnalysisReport& report, const RenderOptions& options);
std::unique_ptr<ReportStream> stream_text(const RenderOptions& options, TextSink sink);
std::unique_ptr<ReportStream> stream_json(const RenderOptions& options, TextSink sink);
// --summary: counts per verdict, destination and refuser instead of one entry per attempt
// (memory bounded by AttemptTally's limits whatever the number of attempts).
std::unique_ptr<ReportStream> stream_text_summary(const RenderOptions& options, TextSink sink);
std::unique_ptr<ReportStream> stream_json_summary(const RenderOptions& options, TextSink sink);
inline constexpr std::size_t summary_top_destinations_text = 20;
inline constexpr std::size_t summary_top_destinations_json = 100;
// Renders a whole report through a renderer's stream, into one string.
std::string render_through_stream(std::unique_ptr<ReportStream> (*stream)(const RenderOptions&, TextSink),
                                  const AnalysisReport& report, const RenderOptions& options);
std::string render_markdown(const AnalysisReport& report, const RenderOptions& options);
std::string render_html(const AnalysisReport& report, const RenderOptions& options);

// The merge of several vantage points (synprobe merge) has a table of its own, beside the
// one above and with the same names: its input is not one report but several.
struct MergeDocument;
struct MergeRenderer {
  std::string_view name;
  std::string_view description;
  std::string (*render)(const MergeDocument& doc);
};
[[nodiscard]] std::span<const MergeRenderer> merge_renderers();
[[nodiscard]] const MergeRenderer* find_merge_renderer(std::string_view name);

// The renderer a report file name asks for, by its extension (.md, .html, .json, .txt).
[[nodiscard]] const Renderer* renderer_for_file(std::string_view path);

// JSON contract version: bumped in its major part when a field changes meaning or goes away.
inline constexpr std::string_view json_schema_version = "1.2";

}  // namespace synprobe
