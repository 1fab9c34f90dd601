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
#include "dissect/trace.hpp"
#include "dissect/error.hpp"

namespace synprobe {
namespace {

// One SYN or echo request to send, planned before anything leaves.
enum class ProbeRole { target, control, target_trace, control_trace, echo };

struct PlannedProbe {
  IpAddress source;
  IpAddress destination;
  std::uint16_t port = 0;     // 0: ICMP echo
  ProbeRole role = ProbeRole::target;
  unsigned round = 0;
  std::uint8_t ttl = 64;
  std::uint32_t isn = 0;
  std::vector<std::uint8_t> bytes;
};

using TargetKey = std::pair<IpAddress, std::uint16_t>;

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

bool has(const Judgement& j, Signal s) {
  return std::any_of(j.evidence.begin(), j.evidence.end(), [&](const Evidence& e) { return e.signal == s; });
}

// An answer is plainly the host's when it is a SYN/ACK, or a refusal whose TTL, IP-ID and
// timing all fit the host's own packets: tracing it would only cost the routers' ICMP budget.
bool plainly_the_hosts(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  if (j.verdict == Verdict::open) return true;
  // Where timing can tell (the host is a millisecond or more away), the refusal must also
  // take the host's time: a forger near the host copies its TTL but not its distance.
  const bool timing_tells = r.host_syn_ack_rtt_ms && *r.host_syn_ack_rtt_ms >= 1.0;
  const bool fits = (has(j, Signal::ttl_matches_host) || (j.verdict == Verdict::icmp_unreachable && j.actor == Actor::host)) &&
                    !has(j, Signal::early_reset) && !has(j, Signal::ip_id_breaks_pattern) &&
                    !has(j, Signal::no_baseline) && !has(j, Signal::icmp_spoofs_host) &&
                    (!timing_tells || has(j, Signal::rtt_matches_host) || j.verdict == Verdict::icmp_unreachable);
  return (j.verdict == Verdict::refused_by_host || j.verdict == Verdict::icmp_unreachable) && j.actor == Actor::host && fits;
}

// How far to trace: to the ICMP sender (its own time-exceeded names it), to the refusing
// host, one past a refusing middlebox (a forwarding filter at hop k resets TTL k+1), and
// for silence the whole budget.
int trace_depth(const Judgement& j, const AttemptResult& r) {
  switch (j.verdict) {
    case Verdict::icmp_unreachable:
    case Verdict::refused_by_host: return j.hop.value_or(64);
    case Verdict::refused_by_middlebox:
    case Verdict::injected_reset: return j.hop ? *j.hop + 1 : 64;
    case Verdict::open: return r.host_hop ? r.host_hop->hop : j.hop.value_or(64);
    case Verdict::dropped:
    case Verdict::inconclusive: return 64;
  }
  return 64;
}

// Linux refills a router's ICMP budget toward one destination at one message a second.
constexpr double icmp_budget_refill_s = 1.2;

Timestamp after(Timestamp t, double seconds) {
  return Timestamp{t.ns + static_cast<std::int64_t>(seconds * 1e9)};
}

// A target judged "dropped" whose TTL-limited SYNs then reach the host (or a refuser) was
// not dropped by policy: its first SYNs were lost. Judge it again from every SYN that got
// a final answer, and say so.
AttemptResult rejudge_if_reached(const AttemptResult& dropped, const std::vector<AttemptResult>& trace) {
  std::vector<AttemptResult> answered{dropped};
  for (const AttemptResult& r : trace)
    if (r.judgement.verdict != Verdict::dropped && r.judgement.verdict != Verdict::inconclusive) answered.push_back(r);
  if (answered.size() == 1) return dropped;
  AttemptResult again = combine_probes(answered);
  again.judgement.evidence.push_back(
      {Signal::probes_disagree,
       fmt::format("The first SYN{} got no answer, but {} TTL-limited SYN{} reached far enough to be answered: the "
                   "silence was loss, not a drop; the verdict comes from the answered SYNs.",
                   dropped.attempt.syn_count == 1 ? "" : "s", answered.size() - 1, answered.size() == 2 ? "" : "s")});
  again.judgement.confidence = std::min(again.judgement.confidence, 0.75);
  return again;
}

class ProbeRun {
 public:
  ProbeRun(const ProbeOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), rng_(std::random_device{}()) {}

  ProbeOutcome run(const std::function<void(const Identity&)>& before_drop);

 private:
  void plan();
  void open_listeners();
  void build(PlannedProbe& p);
  void send(const std::vector<PlannedProbe>& probes);
  void listen_until(Timestamp deadline, bool stop_when_answered);
  void drain();
  [[nodiscard]] bool all_answered() const;
  [[nodiscard]] std::map<TargetKey, AttemptResult> judge_targets(const std::vector<AttemptResult>& all) const;
  [[nodiscard]] std::vector<PlannedProbe> plan_trace(const std::map<TargetKey, AttemptResult>& first);
  [[nodiscard]] std::vector<PlannedProbe> plan_retries();
  [[nodiscard]] double later_phase_wait() const;
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
  std::map<std::uint32_t, const PlannedProbe*> by_isn_;  // every TCP probe sent, by ISN
  std::vector<PlannedProbe> trace_probes_;
  std::vector<PlannedProbe> retry_probes_;
  std::set<std::uint32_t> phase_isns_;  // the TCP probes of the phase under way
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
      probes_.push_back(PlannedProbe{routes_[t.address].source, t.address, t.port, ProbeRole::target, round,
                                     options_.ttl, 0, {}});
    }
  }
  if (options_.baseline) {
    std::set<std::pair<IpAddress, std::uint16_t>> targeted;
    for (const ProbeTarget& t : options_.targets) targeted.insert({t.address, t.port});
    std::set<IpAddress> hosts;
    for (const ProbeTarget& t : options_.targets) hosts.insert(t.address);
    for (const IpAddress& h : hosts) {
      for (const std::uint16_t port : options_.control_ports)
        if (!targeted.count({h, port}))
          probes_.push_back(PlannedProbe{routes_[h].source, h, port, ProbeRole::control, 0, options_.ttl, 0, {}});
      probes_.push_back(PlannedProbe{routes_[h].source, h, 0, ProbeRole::echo, 0, 64, 0, {}});
    }
  }
  for (PlannedProbe& p : probes_) build(p);
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
    if (a.client_port == source_port_ && phase_isns_.count(a.isn) && !a.answers.empty()) ++answered;
  return answered >= phase_isns_.size();
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

void ProbeRun::build(PlannedProbe& p) {
  std::uniform_int_distribution<std::uint32_t> u32;
  if (p.port == 0) {
    static std::uint16_t echo_seq = 0;
    p.bytes = build_echo_request(p.source, p.destination, static_cast<std::uint16_t>(source_port_ ^ 0x5350), ++echo_seq, 64);
    return;
  }
  // A fresh random ISN per probe (never one already used in this run) tells the probes apart.
  do p.isn = u32(rng_);
  while (by_isn_.count(p.isn) || by_isn_.count(p.isn - 1) || by_isn_.count(p.isn + 1));
  const SynSpec spec{p.source, p.destination, source_port_, p.port, p.isn,
                     static_cast<std::uint16_t>(u32(rng_)), p.ttl, u32(rng_)};
  p.bytes = build_syn(spec);
  by_isn_[p.isn] = &p;
}

// Sends rounds `interval` apart, reading answers meanwhile; probes of one round go at once.
void ProbeRun::send(const std::vector<PlannedProbe>& probes) {
  unsigned round = probes.empty() ? 0 : probes.front().round;
  Timestamp round_start = wall_clock_now();
  for (const PlannedProbe& p : probes) {
    if (p.round != round) {
      listen_until(after(round_start, options_.interval_s), false);
      round = p.round;
      round_start = wall_clock_now();
    }
    if (stop_.load()) { interrupted_ = true; return; }
    sender_->send(p.destination, p.bytes);
    if (p.port != 0) phase_isns_.insert(p.isn);
    drain();
  }
}

std::map<TargetKey, AttemptResult> ProbeRun::judge_targets(const std::vector<AttemptResult>& all) const {
  std::map<TargetKey, std::vector<AttemptResult>> by_target;
  for (const AttemptResult& r : all) {
    if (r.attempt.client_port != source_port_) continue;
    const auto it = by_isn_.find(r.attempt.isn);
    if (it == by_isn_.end() || it->second->role != ProbeRole::target) continue;
    by_target[{r.attempt.server, r.attempt.server_port}].push_back(r);
  }
  std::map<TargetKey, AttemptResult> judged;
  for (auto& [key, list] : by_target) judged.emplace(key, combine_probes(list));
  return judged;
}

// TTL-limited SYNs for every target whose answer is not plainly the host's: TTL 1 up to
// just past the refuser's hop (or the whole budget for a silent drop), `repeat` rounds,
// all TTLs of a round at once. A drop also traces a control port that answered, on the
// same path, to tell a port filter from a broken path.
std::vector<PlannedProbe> ProbeRun::plan_trace(const std::map<TargetKey, AttemptResult>& first) {
  std::vector<PlannedProbe> plan;
  std::set<IpAddress> control_traced;
  for (const auto& [key, r] : first) {
    const Judgement& j = r.judgement;
    if (options_.trace == TraceMode::never) break;
    if (options_.trace == TraceMode::automatic && plainly_the_hosts(r)) continue;
    const int last_ttl = std::clamp(trace_depth(j, r), 1, options_.max_ttl);
    const IpAddress source = routes_[key.first].source;
    for (unsigned round = 0; round < options_.repeat; ++round)
      for (int ttl = 1; ttl <= last_ttl; ++ttl)
        plan.push_back(PlannedProbe{source, key.first, key.second, ProbeRole::target_trace, round,
                                    static_cast<std::uint8_t>(ttl), 0, {}});
    if (j.verdict != Verdict::dropped || !r.host_hop || control_traced.count(key.first)) continue;
    // A control port the host answered in the first phase, if any.
    const IpAddress& target = key.first;  // clang < 16 cannot capture a structured binding
    for (const std::uint16_t port : options_.control_ports) {
      const auto answered = std::any_of(analyzer_.attempts().begin(), analyzer_.attempts().end(), [&](const Attempt& a) {
        const auto it = by_isn_.find(a.isn);
        return a.server == target && a.server_port == port && it != by_isn_.end() &&
               it->second->role != ProbeRole::target_trace && a.has_answer(AnswerKind::syn_ack);
      });
      if (!answered) continue;
      control_traced.insert(key.first);
      for (unsigned round = 0; round < options_.repeat; ++round)
        for (int ttl = 1; ttl <= std::min(r.host_hop->hop, options_.max_ttl); ++ttl)
          plan.push_back(PlannedProbe{source, key.first, port, ProbeRole::control_trace, round,
                                      static_cast<std::uint8_t>(ttl), 0, {}});
      break;
    }
  }
  std::stable_sort(plan.begin(), plan.end(), [](const PlannedProbe& a, const PlannedProbe& b) { return a.round < b.round; });
  return plan;
}

// Routers rate-limit their ICMP (Linux: a burst of 6, then one a second per destination),
// so a silent TTL is not yet a finding. Probe again, after the budget refilled, every TTL
// that drew nothing although a later TTL of the same trace, or the same TTL toward a
// control port, was answered.
std::vector<PlannedProbe> ProbeRun::plan_retries() {
  std::map<TargetKey, std::map<int, bool>> answered;  // target → TTL → any answer
  std::map<IpAddress, std::set<int>> control_answered;
  for (const AttemptResult& r : analyzer_.finish()) {
    const auto it = by_isn_.find(r.attempt.isn);
    if (r.attempt.client_port != source_port_ || it == by_isn_.end() || r.attempt.transmissions.empty()) continue;
    const int ttl = r.attempt.transmissions.front().ttl;
    if (it->second->role == ProbeRole::target_trace) {
      bool& any = answered[{r.attempt.server, r.attempt.server_port}][ttl];
      any = any || !r.attempt.answers.empty();
    } else if (it->second->role == ProbeRole::control_trace && !r.attempt.answers.empty()) {
      control_answered[r.attempt.server].insert(ttl);
    }
  }
  std::vector<PlannedProbe> plan;
  for (const auto& [key, ttls] : answered) {
    int last_answered = 0;
    for (const auto& [ttl, any] : ttls)
      if (any) last_answered = ttl;
    for (const auto& [ttl, any] : ttls) {
      if (any || (ttl > last_answered && !control_answered[key.first].count(ttl))) continue;
      for (unsigned round = 0; round < options_.repeat; ++round)
        plan.push_back(PlannedProbe{routes_[key.first].source, key.first, key.second, ProbeRole::target_trace, round,
                                    static_cast<std::uint8_t>(ttl), 0, {}});
    }
  }
  std::stable_sort(plan.begin(), plan.end(), [](const PlannedProbe& a, const PlannedProbe& b) { return a.round < b.round; });
  return plan;
}

// Four times the slowest answer of the first phase (at least 0.3 s), never more than the
// timeout; the whole timeout when nothing answered at all.
double ProbeRun::later_phase_wait() const {
  double slowest_ms = 0;
  for (const Attempt& a : analyzer_.attempts())
    for (const Answer& x : a.answers) slowest_ms = std::max(slowest_ms, x.rtt_ms);
  if (slowest_ms <= 0) return options_.timeout_s;
  return std::clamp(4 * slowest_ms / 1000, 0.3, options_.timeout_s);
}

AnalysisReport ProbeRun::results() {
  const std::vector<AttemptResult> all = analyzer_.finish();
  std::map<TargetKey, AttemptResult> judged = judge_targets(all);

  // The TTL-limited probes of each target, and of each host's control port.
  std::map<TargetKey, std::vector<AttemptResult>> traces;
  std::map<IpAddress, std::vector<AttemptResult>> control_traces;
  for (const AttemptResult& r : all) {
    const auto it = by_isn_.find(r.attempt.isn);
    if (r.attempt.client_port != source_port_ || it == by_isn_.end()) continue;
    if (it->second->role == ProbeRole::target_trace) traces[{r.attempt.server, r.attempt.server_port}].push_back(r);
    if (it->second->role == ProbeRole::control_trace) control_traces[r.attempt.server].push_back(r);
  }

  AnalysisReport report;
  std::set<TargetKey> done;
  for (const ProbeTarget& t : options_.targets) {
    const TargetKey key{t.address, t.port};
    if (!done.insert(key).second) continue;
    auto it = judged.find(key);
    if (it == judged.end()) continue;  // interrupted before its SYN left
    AttemptResult result = it->second;
    if (const auto trace = traces.find(key); trace != traces.end() && result.judgement.verdict == Verdict::dropped)
      result = rejudge_if_reached(result, trace->second);
    if (const auto trace = traces.find(key); trace != traces.end()) {
      result.trace = build_trace(trace->second);
      const Trace control = control_traces.count(t.address) ? build_trace(control_traces[t.address]) : Trace{};
      LocateContext ctx;
      if (result.host_hop) ctx.host_hop = result.host_hop->hop;
      ctx.host_rtt_ms = result.host_syn_ack_rtt_ms;
      ctx.control = control.hops.empty() ? nullptr : &control;
      locate(result.judgement, result.attempt, result.trace, ctx);
    }
    result.attempt.id = report.attempts.size() + 1;
    report.attempts.push_back(std::move(result));
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
  analyzer_.set_sees_both_directions(true);
  send(probes_);
  Timestamp deadline = after(wall_clock_now(), options_.timeout_s);
  if (!interrupted_) listen_until(deadline, true);
  drain();
  analyzer_.set_listen_end(std::max(wall_clock_now(), deadline));

  // Later phases need not wait the whole timeout: the first phase measured how far the
  // answers are, and a router's time-exceeded comes sooner than the host's answer.
  const double later_wait_s = later_phase_wait();

  // Second phase: locate the refusal hop by hop.
  if (!interrupted_ && options_.trace != TraceMode::never) {
    trace_probes_ = plan_trace(judge_targets(analyzer_.finish()));
    if (trace_probes_.size() + sender_->sent() > options_.limits.max_packets) {
      trace_probes_.clear();  // the cap holds: report without the trace rather than exceed it
    }
    for (PlannedProbe& p : trace_probes_) build(p);
    phase_isns_.clear();
    send(trace_probes_);
    deadline = after(wall_clock_now(), later_wait_s);
    if (!interrupted_ && !trace_probes_.empty()) listen_until(deadline, true);
    drain();
    analyzer_.set_listen_end(std::max(wall_clock_now(), deadline));

    // Third phase, only when TTLs stayed silent: once more after the ICMP budgets refill.
    retry_probes_ = interrupted_ || trace_probes_.empty() ? std::vector<PlannedProbe>{} : plan_retries();
    if (retry_probes_.size() + sender_->sent() > options_.limits.max_packets) retry_probes_.clear();
    if (!retry_probes_.empty()) {
      listen_until(after(wall_clock_now(), icmp_budget_refill_s), false);
      for (PlannedProbe& p : retry_probes_) build(p);
      phase_isns_.clear();
      send(retry_probes_);
      deadline = after(wall_clock_now(), later_wait_s);
      if (!interrupted_) listen_until(deadline, true);
      drain();
      analyzer_.set_listen_end(std::max(wall_clock_now(), deadline));
    }
  }

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
