#include "probe_command.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <tuple>

#include "capture/pcapng_writer.hpp"
#include "capture/privileges.hpp"
#include "capture/raw_sender.hpp"
#include "capture/request_prober.hpp"
#include "capture/resolve.hpp"
#include "dissect/decode/decode.hpp"
#include "dissect/decode/error.hpp"
#include "dissect/trace/trace_plan.hpp"
#include "dissect/verdict/name_finding.hpp"
#include "dissect/verdict/packet_notes.hpp"
#include "reports/atomic_file.hpp"
#include "targets.hpp"
#include "version.hpp"

namespace synprobe {
namespace {

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) { stop_requested.store(true); }

// Ctrl-C and SIGTERM stop sending; what was learnt is still reported, marked interrupted.
class StopSignals {
 public:
  StopSignals() {
    stop_requested.store(false);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// The targets to probe, and each name as the resolver answered it (for the finding that
// compares its addresses, dissect/verdict/name_finding.hpp).
struct ResolvedTargets {
  std::vector<ProbeTarget> targets;
  std::vector<NameQuery> names;
};

// A name given twice (app:80 app:443) is one name with both ports.
void add_name(std::vector<NameQuery>& names, const std::string& name, const std::vector<IpAddress>& addresses,
              const std::vector<std::uint16_t>& ports) {
  auto it = std::find_if(names.begin(), names.end(), [&](const NameQuery& q) { return q.name == name; });
  if (it == names.end()) it = names.insert(names.end(), NameQuery{name, addresses, {}});
  for (const std::uint16_t port : ports)
    if (std::find(it->ports.begin(), it->ports.end(), port) == it->ports.end()) it->ports.push_back(port);
}

ResolvedTargets resolve_targets(const ProbeCommandOptions& o) {
  const FamilyChoice family = o.only_v4 ? FamilyChoice::v4_only : o.only_v6 ? FamilyChoice::v6_only : FamilyChoice::any;
  const std::vector<std::uint16_t> default_ports = o.ports ? parse_port_list(*o.ports) : std::vector<std::uint16_t>{};
  // Names are resolved as the user synprobe becomes later (resolve_host_as()): before
  // any thread or socket exists.
  const Identity who = unprivileged_identity(o.probe.user);
  ResolvedTargets resolved;
  for (const std::string& text : o.targets) {
    const TargetSpec spec = parse_target(text);
    const std::vector<std::uint16_t>& ports = spec.ports.empty() ? default_ports : spec.ports;
    if (ports.empty())
      throw Failure(ExitCode::usage, fmt::format("no port for '{}': write HOST:PORT or give -p PORTS", text));
    const std::vector<IpAddress> addresses = resolve_host_as(spec.host, family, who);
    for (const IpAddress& address : addresses)
      for (const std::uint16_t port : ports) resolved.targets.push_back(ProbeTarget{address, port, spec.host});
    if (!IpAddress::parse(spec.host)) add_name(resolved.names, spec.host, addresses, ports);
  }
  return resolved;
}

// Outputs are written after privileges are dropped: make sure the user we become can
// write them, before anything is sent.
bool may_write(const struct stat& st, const Identity& who) {
  return st.st_uid == who.uid   ? (st.st_mode & S_IWUSR) != 0
         : st.st_gid == who.gid ? (st.st_mode & S_IWGRP) != 0
                                : (st.st_mode & S_IWOTH) != 0;
}

void check_writable_by(const std::string& path, const Identity& who) {
  if (path == "-") return;
  struct stat target {};
  const bool exists = ::stat(path.c_str(), &target) == 0;
  // Refused before anything is sent, not after the run (write_file_atomically would).
  if (exists && S_ISDIR(target.st_mode)) throw Failure(ExitCode::output, fmt::format("{}: is a directory", path));
  if (who.uid == 0) return;
  // A device or pipe (/dev/null) is written in place: its own mode decides.
  if (exists && !S_ISREG(target.st_mode)) {
    if (!may_write(target, who))
      throw Failure(ExitCode::output, fmt::format("{}: user '{}' cannot write it", path, who.user));
    return;
  }
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    throw Failure(ExitCode::output, fmt::format("{}: directory {} does not exist", path, dir.string()));
  const bool ok = may_write(st, who);
  if (!ok)
    throw Failure(ExitCode::output,
                  fmt::format("{}: user '{}' (whom synprobe becomes after opening its sockets) cannot write in {}; "
                              "choose another directory or --user",
                              path, who.user, dir.string()));
}

// A name as an error message may show it: on one line, control bytes as \xNN, at most 64
// characters.
std::string shown_name(const std::string& name) {
  std::string out;
  for (const char c : name.substr(0, 64)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte >= 0x20 && byte < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", byte);
  }
  return name.size() > 64 ? out + "…" : out;
}

// --sni and --http-host, in the order given (TLS first), each name checked.
std::vector<RequestTrigger> request_triggers(const ProbeCommandOptions& o) {
  std::vector<RequestTrigger> out;
  for (const auto& [names, protocol, option] :
       {std::tuple{&o.sni, RequestProtocol::tls, "--sni"}, std::tuple{&o.http_host, RequestProtocol::http, "--http-host"}})
    for (const std::string& name : *names) {
      if (const std::string problem = trigger_name_problem(name); !problem.empty())
        throw Failure(ExitCode::usage, fmt::format("{} '{}': the name {}", option, shown_name(name), problem));
      out.push_back(RequestTrigger{protocol, name});
    }
  return out;
}

std::string evidence_pcapng(const ProbeOutcome& outcome) {
  PcapngWriter writer(fmt::format("synprobe {}", SYNPROBE_VERSION));
  for (const CaptureInterface& i : outcome.interfaces) writer.add_interface(i.link_type, i.name);
  const std::uint16_t port = outcome.report.probe ? outcome.report.probe->source_port : 0;
  DecodedPacket packet;
  for (const RunPacket& p : outcome.packets) {
    decode_frame(outcome.interfaces[p.interface].link_type, p.data, packet);
    writer.add_packet(p.interface, p.ts, p.data, p.wire_length, packet_note(packet, outcome.report.attempts, port));
  }
  return std::string(writer.view());
}

}  // namespace

namespace {

// The options `probe` and `trace` share.
void add_live_options(CLI::App* cmd, ProbeCommandOptions& o) {
  cmd->add_option("targets", o.targets, "HOST:PORT, [IPv6]:PORT, HOST:80,443 or HOST with -p")->required();
  cmd->add_option("-p,--ports", o.ports, "Ports for targets given without one: 22,80,443 or 8000-8010")->group("Targets");
  cmd->add_flag("-4", o.only_v4, "Probe IPv4 addresses only")->group("Targets");
  cmd->add_flag("-6", o.only_v6, "Probe IPv6 addresses only")->group("Targets")->excludes("-4");
  cmd->add_option("-i,--interface", o.probe.interface, "Send and capture on this interface (default: the route's)")
      ->group("Probing");
  cmd->add_option("-S,--source", o.source, "Source address (default: the route's)")->group("Probing");
  cmd->add_option("--sport", o.probe.source_port, "Source port (default: random ephemeral, fixed for the run)")
      ->group("Probing")->check(CLI::Range(1, 65535));
  cmd->add_option("-c,--count", o.probe.count, "SYNs per target, each with its own sequence number")
      ->group("Probing")->capture_default_str()->check(CLI::Range(1, 16));
  cmd->add_option("--ttl", o.probe.ttl, "TTL / hop limit of the SYNs")->group("Probing")->capture_default_str()
      ->check(CLI::Range(1, 255));
  cmd->add_option("--interval", o.probe.interval_s, "Seconds between rounds of SYNs")->group("Probing")
      ->capture_default_str()->check(CLI::Range(0.0, 60.0));
  cmd->add_option("--timeout", o.probe.timeout_s,
                  fmt::format("Seconds to wait for answers after the last SYN; without it, a target that drew no "
                              "answer is also listened to for {:.1f} to {:.1f} s after its first SYN, for a router's "
                              "late host-unreachable (neighbour resolution takes {:.0f} s), and gets one more SYN "
                              "{:.1f} s after its first, for a router's rate-limited unreachable",
                              neighbour_resolution_s + 0.2, late_answer_wait_max_s, neighbour_resolution_s,
                              icmp_budget_refill_s))
      ->group("Probing")->capture_default_str()->check(CLI::Range(0.05, 120.0))
      ->each([&o](const std::string&) { o.probe.wait_for_late_answers = false; });
  cmd->add_option("--rate", o.probe.limits.rate_pps, "Packets per second at most (token bucket)")->group("Probing")
      ->capture_default_str()->check(CLI::Range(1.0, 100000.0));
  cmd->add_option("--max-packets", o.probe.limits.max_packets,
                  fmt::format("Refuse a run that would send more packets (at most {})", SendLimits::hard_max_packets))
      ->group("Probing")->capture_default_str()->check(CLI::Range(1u, SendLimits::hard_max_packets));
  cmd->add_flag("--no-baseline", o.no_baseline,
                "Do not learn the host's TTL/IP-ID from a control port and an echo request")->group("Probing");
  cmd->add_option("--control-port", o.control_ports, "Ports that should answer, for the baseline (default 443,80)")
      ->group("Probing");
  cmd->add_option("--max-ttl", o.probe.max_ttl, "TTL budget of a trace")->group("Tracing")->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--repeat", o.probe.repeat, "TTL-limited SYNs per hop (the majority counts)")->group("Tracing")
      ->capture_default_str()->check(CLI::Range(1, 10));
  cmd->add_option("--trace-budget", o.probe.trace_budget_s,
                  fmt::format("Seconds from the first SYN within which traces start (default {:g}): at most {} traces "
                              "per source address are in flight while its routers ration their ICMP (measured from "
                              "the run's answers), the rest follow in waves; a wave that would outlast the wait for "
                              "the verdicts starts only if every waiting target can be traced in time (about one a "
                              "second through rate-limited routers). Targets left say not-traced, and the report "
                              "gives the command that locates them",
                              default_trace_budget_s, max_traces_per_source))
      ->group("Tracing")->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--user", o.probe.user, "Become this user after opening the sockets (default: the sudo user, else nobody)")
      ->group("Probing");
  cmd->add_option("-w,--write", o.write_pcapng, "Write every packet sent and received as pcapng, with comments")
      ->group("Output");
  add_output_options(*cmd, o.output);
}

constexpr const char* privilege_footer =
    "Needs CAP_NET_RAW: run with sudo, or grant it once with\n"
    "  sudo setcap cap_net_raw,cap_net_admin+ep $(command -v synprobe)\n"
    "After opening its sockets synprobe becomes an unprivileged user and drops every capability.\n"
    "Our own kernel answers each SYN/ACK with a RST (it never sent the SYN): that is expected.\n\n";

}  // namespace

CLI::App* add_probe_command(CLI::App& app, ProbeCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("probe", "Send SYNs to HOST:PORT, capture every answer, and say who refused");
  add_live_options(cmd, o);
  cmd->add_flag("--no-trace", o.no_trace, "Never send TTL-limited SYNs (by default they locate any refusal "
                                          "that is not plainly the host's)")->group("Tracing");
  cmd->add_option("--sni", o.sni,
                  "After the handshake, send a TLS ClientHello naming this server (repeat it for a control: "
                  "--sni blocked.example --sni allowed.example); a refused request is located with TTL-limited "
                  "copies of it")
      ->group("Request")->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--http-host", o.http_host,
                  "After the handshake, send an HTTP GET with this Host (repeatable, as --sni)")
      ->group("Request")->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->footer(std::string(privilege_footer) +
              "Examples:\n"
              "  sudo synprobe probe example.net:443\n"
              "  sudo synprobe probe 198.18.4.10 -p 22,80,443 --count 3 --json\n"
              "  sudo synprobe probe [2001:db8::7]:443 -i eth0 -w probe.pcapng\n"
              "  sudo synprobe probe shop.example.net:443 --sni blocked.example --sni allowed.example");
  return cmd;
}

CLI::App* add_trace_command(CLI::App& app, ProbeCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("trace", "Probe HOST:PORT hop by hop (TTL-limited SYNs, Paris-style) and locate "
                                              "the device that refuses");
  add_live_options(cmd, o);
  cmd->footer(std::string(privilege_footer) +
              "Examples:\n"
              "  sudo synprobe trace example.net:443\n"
              "  sudo synprobe trace 198.18.4.10:90 --repeat 5 --json");
  return cmd;
}

int run_probe_command(ProbeCommandOptions& o, std::string_view mode, const std::string& command_line,
                      Environment& env) {
  if (!has_net_raw()) throw Failure(ExitCode::no_privilege, missing_privilege_message());
  if (o.source) {
    o.probe.source = IpAddress::parse(*o.source);
    if (!o.probe.source) throw Failure(ExitCode::usage, fmt::format("--source {}: not an IP address", *o.source));
  }
  if (o.control_ports) o.probe.control_ports = parse_port_list(*o.control_ports);
  o.probe.baseline = !o.no_baseline;
  o.probe.limits.burst = SendLimits::burst_for(o.probe.limits.rate_pps);
  o.probe.keep_packets = o.write_pcapng.has_value();
  o.probe.trace = mode == "trace" ? TraceMode::always : o.no_trace ? TraceMode::never : TraceMode::automatic;
  o.probe.requests = request_triggers(o);
  ResolvedTargets resolved = resolve_targets(o);
  o.probe.targets = std::move(resolved.targets);

  StopSignals signals;
  const Timestamp started = wall_clock_now();
  const auto before_drop = [&](const Identity& who) {
    check_writable_by(o.output.output, who);
    if (!o.output.report.empty()) check_writable_by(o.output.report, who);
    if (o.write_pcapng) check_writable_by(*o.write_pcapng, who);
  };
  ProbeOutcome outcome = o.probe.requests.empty() ? run_probe(o.probe, stop_requested, before_drop)
                                                  : run_request_probe(o.probe, stop_requested, before_drop);
  AnalysisReport& report = outcome.report;
  report.run.mode = std::string(mode);
  report.run.version = SYNPROBE_VERSION;
  report.run.command_line = command_line;
  report.run.started = started;
  report.run.finished = wall_clock_now();
  report.names = compare_names(resolved.names, report.attempts);
  report.vantage = vantage_for(o.output, report.probe ? &*report.probe : nullptr);

  if (o.write_pcapng) {
    write_file_atomically(*o.write_pcapng, evidence_pcapng(outcome));
    if (report.probe) report.probe->evidence_file = *o.write_pcapng;
  }
  emit_report(report, o.output, env);
  return static_cast<int>(report.run.interrupted ? ExitCode::interrupted : ExitCode::ok);
}

}  // namespace synprobe
