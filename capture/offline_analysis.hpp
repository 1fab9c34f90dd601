#pragma once
// The offline pipeline: read a capture file, filter, decode, analyse, judge.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "dissect/verdict/report_model.hpp"

namespace synprobe {

struct OfflineOptions {
  std::string path;                   // "-" for standard input
  std::optional<std::string> filter;  // BPF expression
  bool digest = false;                // compute the input's SHA-256 (for reports)
  bool details = true;                // write the evidence's sentences (JudgeContext::details)
  // Called every few thousand records with the bytes read so far and the file's size
  // (when it is a regular file), for a progress line.
  std::function<void(std::uint64_t done, std::optional<std::uint64_t> total)> progress = nullptr;
};

using AttemptSink = std::function<void(AttemptResult&&)>;

// Throws Failure for run-level problems (unreadable file, bad filter, unsupported link
// type); damage part-way is reported in the result's input.damage instead.
//
// Streams: each attempt goes to `sink` once settled (Analyzer::stream_to), in order of
// first appearance, so memory does not grow with the capture; the report returned holds
// everything but the attempts.
AnalysisReport analyze_capture(const OfflineOptions& options, const AttemptSink& sink);
// The same, collecting the attempts into the report (memory grows with them).
[[nodiscard]] AnalysisReport analyze_capture(const OfflineOptions& options);

}  // namespace synprobe
