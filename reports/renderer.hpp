#pragma once
// Output modules: each renders the neutral AnalysisReport in one format. They are
// listed in one table, which also validates --format and feeds --help.

#include <span>
#include <string>
#include <string_view>

#include "dissect/report_model.hpp"

namespace synprobe {

struct RenderOptions {
  bool color = false;    // ANSI colour (text only): decided by the CLI from the terminal and NO_COLOR
  bool verbose = false;  // text: evidence lines under each attempt
};

struct Renderer {
  std::string_view name;
  std::string_view description;
  std::string (*render)(const AnalysisReport& report, const RenderOptions& options);
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
std::string render_markdown(const AnalysisReport& report, const RenderOptions& options);
std::string render_html(const AnalysisReport& report, const RenderOptions& options);

// The renderer a report file name asks for, by its extension (.md, .html, .json, .txt).
[[nodiscard]] const Renderer* renderer_for_file(std::string_view path);

// JSON contract version: bumped in its major part when a field changes meaning or goes away.
inline constexpr std::string_view json_schema_version = "1.0";

}  // namespace synprobe
