#include "prober.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "capture/live_capture.hpp"
#include "capture/probe_builder.hpp"
#include "capture/raw_sender.hpp"
#include "capture/route.hpp"
#include "dissect/analyzer.hpp"
#include "dissect/combine.hpp"
#include "dissect/decode.hpp"
#include "dissect/error.hpp"

namespace synprobe {
namespace {

// One SYN or echo request to send, planned before anything leaves.
struct PlannedProbe {
  IpAddress source;
  IpAddress destination;
  std::uint16_t port = 0;     // 0: ICMP echo
  bool control = false;       // baseline only: not a target
  unsigned round = 0;
  std::vector<std::uint8_t> bytes;
};

// A capture on one interface, with the sources that use it.
struct Listener {
  std::string interface;
  std::set<IpAddress> sources;
  std::unique_ptr<LiveCapture> capture;
};

std::uint16_t random_ephemeral_port(std::mt19937_64& rng) {
  unsigned low = 32768, high = 60999;  // Linux defaults
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned a = 0, b = 0;
  if (range >> a >> b && a >= 1024 && b > a && b <= 65535) { low = a; high = b; }
  return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(low, high)(rng));
}

// Keeps exactly what can answer the probes (and the probes themselves, for -w): TCP to or
// from our source port on our addresses, and ICMP errors and echo replies addressed to us.
std::string capture_filter(const std::set<IpAddress>& sources, std::uint16_t port) {
  std::string filter;
  auto add = [&](const std::string& part) { filter += (filter.empty() ? "" : " or ") + part; };
  for (const IpAddress& s : sources) {
    const std::string a = s.to_string();
    add(fmt::format("(tcp and src host {0} and src port {1}) or (tcp and dst host {0} and dst port {1})", a, port));
    if (s.is_v4())
      add(fmt::format("(icmp and dst host {0} and (icmp[0] == 0 or icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))"
                      " or (icmp and src host {0} and icmp[0] == 8)", a));
    else
      add(fmt::format("(icmp6 and dst host {0} and (ip6[40] < 5 or ip6[40] == 129))"
                      " or (icmp6 and src host {0} and ip6[40] == 128)", a));
  }
  return filter;
}

Timestamp after(Timestamp t, double seconds) {
  return Timestamp{t.ns + static_cast<std::int64_t>(seconds * 1e9)};
}

class ProbeRun {
 public:
  ProbeRun(const ProbeOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), rng_(std::random_device{}()) {}

  ProbeOutcome run(const std::function<void(const Identity&)>& before_drop);

 private:
  void plan();
  void open_listeners();
  void send_all();
  void listen_until(Timestamp deadline, bool stop_when_answered);
  void drain();
  [[nodiscard]] bool all_answered() const;
  [[nodiscard]] AnalysisReport results();

  const ProbeOptions& options_;
  const std::atomic<bool>& stop_;
  std::mt19937_64 rng_;
  std::uint16_t source_port_ = 0;
  std::vector<PlannedProbe> probes_;
  std::map<IpAddress, Route> routes_;
  std::vector<Listener> listeners_;
  std::unique_ptr<RawSender> sender_;
  Analyzer analyzer_;
  ProbeOutcome outcome_;
  ProbeSummary summary_;
  std::uint32_t tcp_probes_sent_ = 0;
  bool interrupted_ = false;
};

void ProbeRun::plan() {
  source_port_ = options_.source_port.value_or(random_ephemeral_port(rng_));
  for (const ProbeTarget& t : options_.targets) {
    if (const auto why = refusal_reason(t.address)) throw Failure(ExitCode::usage, fmt::format("refusing to probe {}", *why));
    if (!routes_.count(t.address)) routes_[t.address] = lookup_route(t.address, options_.source);
  }
  // Round r sends one SYN to every target; the baseline probes go out with round 0.
  for (unsigned round = 0; round < options_.count; ++round) {
    for (const ProbeTarget& t : options_.targets) {
      PlannedProbe p{routes_[t.address].source, t.address, t.port, false, round, {}};
      probes_.push_back(std::move(p));
    }
  }
  if (options_.baseline) {
    std::set<std::pair<IpAddress, std::uint16_t>> targeted;
    for (const ProbeTarget& t : options_.targets) targeted.insert({t.address, t.port});
    std::set<IpAddress> hosts;
    for (const ProbeTarget& t : options_.targets) hosts.insert(t.address);
    for (const IpAddress& h : hosts) {
      for (const std::uint16_t port : options_.control_ports)
        if (!targeted.count({h, port})) probes_.push_back(PlannedProbe{routes_[h].source, h, port, true, 0, {}});
      probes_.push_back(PlannedProbe{routes_[h].source, h, 0, true, 0, {}});  // ICMP echo
    }
  }
  std::uniform_int_distribution<std::uint32_t> u32;
  std::uint16_t echo_seq = 0;
  const auto echo_id = static_cast<std::uint16_t>(u32(rng_));
  for (PlannedProbe& p : probes_) {
    if (p.port == 0) {
      p.bytes = build_echo_request(p.source, p.destination, echo_id, ++echo_seq, 64);
    } else {
      SynSpec spec{p.source, p.destination, source_port_, p.port, u32(rng_),
                   static_cast<std::uint16_t>(u32(rng_)), options_.ttl, u32(rng_)};
      p.bytes = build_syn(spec);
    }
  }
  const std::uint32_t needed = static_cast<std::uint32_t>(probes_.size());
  if (needed > options_.limits.max_packets)
    throw Failure(ExitCode::usage, fmt::format("this run would send {} packets, more than the cap of {} "
                                               "(--max-packets, at most {})",
                                               needed, options_.limits.max_packets, SendLimits::hard_max_packets));
}

void ProbeRun::open_listeners() {
  std::map<std::string, std::set<IpAddress>> by_interface;
  for (const auto& [address, route] : routes_)
    by_interface[options_.interface.value_or(route.interface)].insert(route.source);
  for (auto& [name, sources] : by_interface) {
    Listener l;
    l.interface = name;
    l.sources = sources;
    l.capture = std::make_unique<LiveCapture>(name, capture_filter(sources, source_port_));
    outcome_.interfaces.push_back(CaptureInterface{name, l.capture->link_type()});
    listeners_.push_back(std::move(l));
  }
  bool v4 = false, v6 = false;
  for (const auto& [address, route] : routes_) (address.is_v4() ? v4 : v6) = true;
  sender_ = std::make_unique<RawSender>(v4, v6, options_.interface, options_.limits);
}

// Reads whatever the captures hold, feeding the analyzer in capture order per interface.
void ProbeRun::drain() {
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    RawFrame frame;
    DecodedPacket packet;
    while (listeners_[i].capture->next(frame)) {
      packet.ts = frame.ts;
      packet.wire_length = frame.wire_length;
      packet.captured_length = static_cast<std::uint32_t>(frame.data.size());
      decode_frame(frame.link_type, frame.data, packet);
      analyzer_.add(packet);
      outcome_.packets.push_back(RunPacket{frame.ts, static_cast<std::uint32_t>(i), frame.wire_length,
                                           std::vector<std::uint8_t>(frame.data.begin(), frame.data.end())});
    }
  }
}

bool ProbeRun::all_answered() const {
  std::size_t answered = 0;
  for (const Attempt& a : analyzer_.attempts())
    if (a.client_port == source_port_ && !a.answers.empty()) ++answered;
  return answered >= tcp_probes_sent_;
}

void ProbeRun::listen_until(Timestamp deadline, bool stop_when_answered) {
  for (;;) {
    drain();
    if (stop_.load()) { interrupted_ = true; return; }
    if (stop_when_answered && all_answered()) return;
    const Timestamp now = wall_clock_now();
    if (now >= deadline) return;
    const auto wait_ms = static_cast<int>(std::min<std::int64_t>((deadline.ns - now.ns) / 1'000'000 + 1, 50));
    if (listeners_.size() == 1) listeners_.front().capture->wait(wait_ms);
    else std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait_ms, 5)));
  }
}

void ProbeRun::send_all() {
  unsigned round = 0;
  Timestamp round_start = wall_clock_now();
  for (const PlannedProbe& p : probes_) {
    if (p.round != round) {
      // Pace the rounds, reading answers meanwhile.
      listen_until(after(round_start, options_.interval_s), false);
      round = p.round;
      round_start = wall_clock_now();
    }
    if (stop_.load()) { interrupted_ = true; return; }
    sender_->send(p.destination, p.bytes);
    if (p.port != 0) ++tcp_probes_sent_;
    drain();
  }
}

AnalysisReport ProbeRun::results() {
  std::map<std::pair<IpAddress, std::uint16_t>, std::vector<AttemptResult>> by_target;
  for (AttemptResult& r : analyzer_.finish())
    if (r.attempt.client_port == source_port_) by_target[{r.attempt.server, r.attempt.server_port}].push_back(std::move(r));

  AnalysisReport report;
  std::set<std::pair<IpAddress, std::uint16_t>> done;
  for (const ProbeTarget& t : options_.targets) {
    const auto key = std::make_pair(t.address, t.port);
    if (!done.insert(key).second) continue;
    auto it = by_target.find(key);
    if (it == by_target.end() || it->second.empty()) continue;  // interrupted before its SYN left
    AttemptResult combined = combine_probes(it->second);
    combined.attempt.id = report.attempts.size() + 1;
    report.attempts.push_back(std::move(combined));
  }
  return report;
}

ProbeOutcome ProbeRun::run(const std::function<void(const Identity&)>& before_drop) {
  plan();
  open_listeners();
  const Identity who = unprivileged_identity(options_.user);
  if (before_drop) before_drop(who);
  drop_privileges(who);

  // From here on, nothing privileged remains; packets are parsed only from here on.
  send_all();
  const Timestamp deadline = after(wall_clock_now(), options_.timeout_s);
  if (!interrupted_) listen_until(deadline, true);
  drain();
  analyzer_.set_listen_end(std::max(wall_clock_now(), deadline));
  analyzer_.set_sees_both_directions(true);

  outcome_.report = results();
  outcome_.report.run.interrupted = interrupted_;
  summary_.source_port = source_port_;
  summary_.count = options_.count;
  summary_.ttl = options_.ttl;
  summary_.interval_s = options_.interval_s;
  summary_.timeout_s = options_.timeout_s;
  summary_.rate_pps = options_.limits.rate_pps;
  summary_.baseline = options_.baseline;
  summary_.control_ports = options_.control_ports;
  summary_.packets_sent = sender_->sent();
  summary_.packets_captured = outcome_.packets.size();
  summary_.user = who.user;
  for (const Listener& l : listeners_) {
    summary_.interfaces.push_back(l.interface);
    summary_.kernel_drops += l.capture->dropped();
  }
  std::set<std::string> sources, hops;
  for (const auto& [address, route] : routes_) {
    sources.insert(route.source.to_string());
    hops.insert(route.next_hop ? route.next_hop->to_string() : "on-link");
  }
  summary_.sources.assign(sources.begin(), sources.end());
  summary_.next_hops.assign(hops.begin(), hops.end());
  outcome_.report.probe = summary_;
  return std::move(outcome_);
}

}  // namespace

ProbeOutcome run_probe(const ProbeOptions& options, const std::atomic<bool>& stop,
                       const std::function<void(const Identity&)>& before_drop) {
  if (options.targets.empty()) throw Failure(ExitCode::usage, "nothing to probe");
  ProbeRun run(options, stop);
  return run.run(before_drop);
}

}  // namespace synprobe
