// libFuzzer target: hostile text through read_json_report(), as `synprobe report` and
// `synprobe diff` read it, then every renderer and the diff, as those commands do.
// The contract: a synprobe::Failure or a report; any other exception escapes the harness
// on purpose (libFuzzer reports it as a crash: `synprobe report` would exit 1, "a bug").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dissect/decode/error.hpp"
#include "dissect/verdict/report_diff.hpp"
#include "reports/diff_report.hpp"
#include "reports/json_reader.hpp"
#include "reports/renderer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  synprobe::AnalysisReport report;
  try {
    report = synprobe::read_json_report(text, "fuzz.json");
  } catch (const synprobe::Failure&) {
    return 0;
  }
  for (const synprobe::Renderer& r : synprobe::renderers()) (void)r.render(report, synprobe::RenderOptions{});
  for (const char* format : {"text", "md", "json"}) {
    (void)synprobe::render_diff(synprobe::diff_reports(report, synprobe::AnalysisReport{}), format, "a.json", "b.json");
    (void)synprobe::render_diff(synprobe::diff_reports(report, report), format, "a.json", "b.json");
  }
  return 0;
}
