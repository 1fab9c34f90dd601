#pragma once
// Reads synprobe's own JSON back into the report model, so that `synprobe report`
// re-renders a result in any format and `synprobe diff` compares two of them.
// Refuses a newer major schema_version and anything that is not a synprobe result.

#include <string>
#include <string_view>

#include "dissect/verdict/report_model.hpp"

namespace synprobe {

// Throws Failure(input_unreadable) naming what is wrong ("result.json: not JSON at byte 17",
// "schema_version 2.0 is newer than this synprobe understands (1.x)").
[[nodiscard]] AnalysisReport read_json_report(std::string_view text, const std::string& name);

// Reads a file (or "-") and parses it.
[[nodiscard]] AnalysisReport read_json_report_file(const std::string& path);

}  // namespace synprobe
