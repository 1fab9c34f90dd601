#pragma once
// Renders a before/after comparison (dissect/verdict/report_diff.hpp) as text, Markdown or JSON.

#include <string>
#include <string_view>
#include <vector>

#include "dissect/verdict/report_diff.hpp"

namespace synprobe {

// `format` is "text", "md" or "json"; throws Failure(usage) for anything else.
[[nodiscard]] std::string render_diff(const std::vector<TargetDiff>& diffs, std::string_view format,
                                      const std::string& before_name, const std::string& after_name);

}  // namespace synprobe
