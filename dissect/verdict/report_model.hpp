#pragma once
// The neutral values every renderer in reports/ consumes: what was run, what was
// read, and the judged attempts. Observation apart from presentation.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dissect/decode/decode.hpp"
#include "dissect/verdict/analyzer.hpp"
#include "dissect/verdict/name_finding.hpp"

namespace synprobe {

struct RunInfo {
  std::string mode;          // "analyze" (later "probe", "trace")
  std::string version;
  std::string command_line;
  Timestamp started;
  Timestamp finished;
  bool interrupted = false;
};

struct InputSummary {
  std::string path;
  std::string format;                    // "pcap" or "pcapng"
  std::vector<std::string> link_types;   // names of the link types met
  std::optional<std::string> filter;     // BPF expression, when given
  std::uint64_t packets = 0;             // records read
  std::uint64_t bytes = 0;               // bytes of the file consumed
  std::uint64_t filtered_out = 0;        // records the BPF filter rejected
  std::array<std::uint64_t, decode_status_count> decode{};  // by DecodeStatus
  std::optional<std::string> damage;     // why reading stopped early, if it did
  std::optional<std::string> sha256;     // of the input file, when a report asked for it
  std::uint64_t baselines_forgotten = 0; // addresses a bounded host table let go (HostTable)
  std::uint64_t attempts_judged_early = 0;  // judged before they settled, to bound memory (Analyzer)
  std::uint64_t late_syns = 0;  // retransmitted SYNs of those, after they were judged
  std::optional<Timestamp> first_packet;
  std::optional<Timestamp> last_packet;
};

// How a live run was made (probe mode).
struct ProbeSummary {
  std::vector<std::string> interfaces;
  std::vector<std::string> sources;
  std::vector<std::string> next_hops;  // "on-link" when the target is on the interface's network
  std::uint16_t source_port = 0;
  unsigned count = 0;
  unsigned ttl = 0;
  double interval_s = 0;
  double timeout_s = 0;
  double rate_pps = 0;
  bool baseline = false;
  std::vector<std::uint16_t> control_ports;
  std::uint32_t packets_sent = 0;
  std::uint64_t packets_captured = 0;
  std::uint64_t kernel_drops = 0;
  std::string user;  // who the process ran as after dropping privileges
  std::optional<std::string> evidence_file;  // the -w pcapng, when one was written
  std::optional<double> trace_budget_s;      // --trace-budget, when the run traced
  // The command that locates the targets the trace budget left untraced, when there are any.
  std::optional<std::string> locate_rest;
};

// Where a run was made (JSON "vantage"), so that `synprobe merge` can line up the same
// targets seen from several places. The run's times are RunInfo's (and, for analyze, the
// capture's first and last packet).
struct VantageInfo {
  std::string name;                      // --vantage-name, default the host name
  std::string host;                      // the host name of the machine that made the run
  std::vector<std::string> sources;      // probe: source addresses; analyze: the attempts' clients
  std::vector<std::string> interfaces;   // probe: the interfaces used; analyze: none known
  std::optional<std::string> first_hop;  // probe: the gateway of the route, else null
};

struct AnalysisReport {
  RunInfo run;
  std::optional<VantageInfo> vantage;  // absent in files written before schema 1.1
  InputSummary input;                 // analyze mode
  std::optional<ProbeSummary> probe;  // probe mode
  std::vector<AttemptResult> attempts;
  // probe mode, targets given by name: every address of each name compared (name_finding.hpp)
  std::vector<NameFinding> names;
};

}  // namespace synprobe
