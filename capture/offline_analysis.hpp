#pragma once
// The offline pipeline: read a capture file, filter, decode, analyse, judge.

#include <optional>
#include <string>

#include "dissect/report_model.hpp"

namespace synprobe {

struct OfflineOptions {
  std::string path;                   // "-" for standard input
  std::optional<std::string> filter;  // BPF expression
  bool digest = false;                // compute the input's SHA-256 (for reports)
};

// Throws Failure for run-level problems (unreadable file, bad filter, unsupported link
// type); damage part-way is reported in the result's input.damage instead.
[[nodiscard]] AnalysisReport analyze_capture(const OfflineOptions& options);

}  // namespace synprobe
