#include "renderer.hpp"

#include <array>

#include "merge_report.hpp"

namespace synprobe {
namespace {

constexpr std::array table{
    Renderer{"text", "aligned lines for a terminal, one per attempt, then a summary", render_text, stream_text},
    Renderer{"json", "one JSON object (schema: docs/schema/synprobe.schema.json)", render_json, stream_json},
    Renderer{"md", "a Markdown report for a change request: finding, path, evidence, packets, next step",
             render_markdown},
    Renderer{"html", "the same report as one self-contained HTML page with a path diagram", render_html},
};

constexpr std::array merge_table{
    MergeRenderer{"text", "one finding per target, each vantage's answer and path under it", render_merge_text},
    MergeRenderer{"json", "one JSON object (docs/json.md, \"merge\"; schema: docs/schema/synprobe-merge.schema.json)",
                  render_merge_json},
    MergeRenderer{"md", "a Markdown report: the vantages, then per target the finding and a table of the paths",
                  render_merge_markdown},
    MergeRenderer{"html", "the same as one self-contained HTML page, with an SVG of the paths joining", render_merge_html},
};

}  // namespace

std::span<const Renderer> renderers() { return table; }

std::span<const MergeRenderer> merge_renderers() { return merge_table; }

const MergeRenderer* find_merge_renderer(std::string_view name) {
  for (const MergeRenderer& r : merge_table)
    if (r.name == name) return &r;
  return nullptr;
}

std::string render_through_stream(std::unique_ptr<ReportStream> (*stream)(const RenderOptions&, TextSink),
                                  const AnalysisReport& report, const RenderOptions& options) {
  std::string out;
  const std::unique_ptr<ReportStream> s = stream(options, [&](std::string_view text) { out += text; });
  s->begin(report);
  for (const AttemptResult& r : report.attempts) s->add(r);
  s->end(report);
  return out;
}

const Renderer* renderer_for_file(std::string_view path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return nullptr;
  const std::string_view ext = path.substr(dot + 1);
  if (ext == "md" || ext == "markdown") return find_renderer("md");
  if (ext == "html" || ext == "htm") return find_renderer("html");
  if (ext == "json") return find_renderer("json");
  if (ext == "txt" || ext == "text") return find_renderer("text");
  return nullptr;
}

std::string renderer_names() {
  std::string names;
  for (const Renderer& r : table) names += (names.empty() ? "" : "|") + std::string(r.name);
  return names;
}

std::string check_renderer_name(const std::string& name) {
  return find_renderer(name) ? std::string{} : "unknown format '" + name + "'";
}

const Renderer* find_renderer(std::string_view name) {
  for (const Renderer& r : table)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace synprobe
