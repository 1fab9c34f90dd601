#pragma once
// Live probing: craft SYNs, capture every answer, and judge them with the same engine
// `analyze` uses. Order of work, which is also the privilege boundary:
//   1. routes and sources are looked up, captures and raw sockets opened (privileged);
//   2. privileges are dropped (to --user, the sudo user, or nobody; every capability cleared);
//   3. only then is anything sent, and any packet parsed.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/privileges.hpp"
#include "dissect/trace/request_payload.hpp"
#include "dissect/trace/send_policy.hpp"
#include "dissect/trace/trace_plan.hpp"
#include "dissect/verdict/report_model.hpp"

namespace synprobe {

struct ProbeTarget {
  IpAddress address;
  std::uint16_t port = 0;
  std::string host;  // as the user named it (for reports)
};

// When to send TTL-limited SYNs after the first answers: never, when the answer is not
// plainly the host's (anything but open), or for every target (`synprobe trace`).
enum class TraceMode { never, automatic, always };

struct ProbeOptions {
  std::vector<ProbeTarget> targets;
  TraceMode trace = TraceMode::automatic;
  int max_ttl = 30;           // TTL budget of a trace
  unsigned repeat = 3;        // TTL-limited SYNs per TTL
  double trace_budget_s = default_trace_budget_s;  // traces start within this long of the first SYN
  unsigned count = 2;         // SYNs per target, each with its own ISN: one lost answer
                              // (or one a racing device missed) does not decide alone
  double interval_s = 0.2;    // between rounds of SYNs
  double timeout_s = 2.0;     // how long to wait after the last SYN
  // Silent targets are listened to longer, for the answers that come late by nature
  // (late_answer_wait_s); off when the user sets --timeout, which then rules alone.
  bool wait_for_late_answers = true;
  std::uint8_t ttl = 64;
  std::optional<std::uint16_t> source_port;
  std::optional<std::string> interface;
  std::optional<IpAddress> source;
  bool baseline = true;
  std::vector<std::uint16_t> control_ports{443, 80};
  std::optional<std::string> user;
  SendLimits limits;
  bool keep_packets = false;  // keep every captured packet in the outcome (for -w)
  // probe --sni / --http-host: each target is probed once per request, after the handshake
  // (capture/request_prober.hpp), instead of with SYNs alone.
  std::vector<RequestTrigger> requests;
};

// One packet of the run, kept for -w.
struct RunPacket {
  Timestamp ts;
  std::uint32_t interface = 0;  // index into ProbeOutcome::interfaces
  std::uint32_t wire_length = 0;
  std::vector<std::uint8_t> data;
};

struct CaptureInterface {
  std::string name;
  std::uint16_t link_type = 0;
};

struct ProbeOutcome {
  AnalysisReport report;  // one attempt per target, repeated probes combined
  std::vector<CaptureInterface> interfaces;
  std::vector<RunPacket> packets;  // everything captured, in capture order (keep_packets)
};

// `before_drop` runs with the identity the process is about to become, while it still
// holds its privileges: the place to check that outputs will be writable.
// `stop` is polled: when it turns true, sending stops and the results so far are returned.
[[nodiscard]] ProbeOutcome run_probe(const ProbeOptions& options, const std::atomic<bool>& stop,
                                     const std::function<void(const Identity&)>& before_drop);

}  // namespace synprobe
