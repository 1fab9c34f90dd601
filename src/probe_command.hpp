#pragma once
// `synprobe probe HOST:PORT…`: send SYNs, capture every answer, give the verdict.

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "capture/prober.hpp"
#include "cli.hpp"
#include "output_options.hpp"

namespace synprobe {

struct ProbeCommandOptions {
  std::vector<std::string> targets;
  std::optional<std::string> ports;  // -p
  bool only_v4 = false;
  bool only_v6 = false;
  std::optional<std::string> source;
  std::optional<std::string> write_pcapng;  // -w
  std::optional<std::string> control_ports;
  bool no_baseline = false;
  bool no_trace = false;
  std::vector<std::string> sni;         // --sni: a TLS ClientHello naming each, after the handshake
  std::vector<std::string> http_host;   // --http-host: an HTTP GET with each as its Host
  ProbeOptions probe;
  OutputOptions output;
};

// `probe` traces by itself when the answer is not plainly the host's; `trace` always does
// and shows the hop table.
CLI::App* add_probe_command(CLI::App& app, ProbeCommandOptions& options);
CLI::App* add_trace_command(CLI::App& app, ProbeCommandOptions& options);
int run_probe_command(ProbeCommandOptions& options, std::string_view mode, const std::string& command_line,
                      Environment& env);

}  // namespace synprobe
