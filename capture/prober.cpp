#include "prober.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "capture/live_capture.hpp"
#include "capture/probe_builder.hpp"
#include "capture/raw_sender.hpp"
#include "capture/route.hpp"
#include "dissect/analyzer.hpp"
#include "dissect/combine.hpp"
#include "dissect/decode.hpp"
#include "dissect/trace.hpp"
#include "dissect/error.hpp"
#include "dissect/icmp_names.hpp"
#include "dissect/router_budget.hpp"

namespace synprobe {
namespace {

// One SYN or echo request, planned before it leaves.
enum class ProbeRole { target, control, target_trace, control_trace, echo };

struct PlannedProbe {
  IpAddress source;
  IpAddress destination;
  std::uint16_t port = 0;     // 0: ICMP echo
  ProbeRole role = ProbeRole::target;
  unsigned round = 0;         // rounds of the first phase leave `--interval` apart
  std::uint8_t ttl = 64;
  std::uint32_t isn = 0;
  std::vector<std::uint8_t> bytes;
  Timestamp not_before;       // earliest departure
  std::optional<Timestamp> sent_at;
  std::optional<Timestamp> answered_at;  // the first packet that answers its ISN
  bool skipped = false;       // never sent: its router had already answered enough
  bool reaches_host = false;  // a TTL-limited SYN with a TTL at least the host's distance
};

Timestamp after(Timestamp t, double seconds) {
  return Timestamp{t.ns + static_cast<std::int64_t>(seconds * 1e9)};
}

bool is_ttl_limited(const PlannedProbe& p) {
  return p.role == ProbeRole::target_trace || p.role == ProbeRole::control_trace;
}

// Probes waited for together: the first phase, or one trace. Settled once every probe
// has left and either each was answered or `wait_s` passed since the last one left.
// ICMP echo requests are never waited for: they only add to the baseline.
struct ProbeGroup {
  std::vector<PlannedProbe*> probes;
  // Once every probe is answered, a little longer still (the slowest round trip, at least
  // 20 ms): a forged RST comes first, the host's own answer after it.
  [[nodiscard]] bool settled(Timestamp now, double wait_s) const {
    bool all_answered = true;
    Timestamp last_sent{}, last_answer{};
    double slowest_s = 0;
    for (const PlannedProbe* p : probes) {
      if (p->skipped) continue;
      if (!p->sent_at) return false;
      last_sent = std::max(last_sent, *p->sent_at);
      if (p->answered_at) {
        last_answer = std::max(last_answer, *p->answered_at);
        slowest_s = std::max(slowest_s, p->answered_at->seconds_since(*p->sent_at));
      }
      all_answered = all_answered && (p->answered_at || p->port == 0);
    }
    if (all_answered && now >= after(last_answer, std::min(wait_s, std::max(0.02, slowest_s)))) return true;
    return now >= after(last_sent, wait_s);
  }
};

using TargetKey = std::pair<IpAddress, std::uint16_t>;

// One target's TTL-limited SYNs: the first pass, then its silent TTLs once more after the
// routers' ICMP budgets refilled.
struct TraceRun {
  Timestamp planned_at;
  std::optional<std::string> answer_shape;  // see answer_shape(); none for a silent target
  std::optional<int> host_hop;  // the host's distance, when its baseline tells it
  ProbeGroup first_pass;
  ProbeGroup reprobe;
  bool reprobe_planned = false;
};

// The flow a sweep of TTL-limited SYNs uses: the target's own, or a control port's.
struct SweepFlow {
  IpAddress source;
  IpAddress host;
  std::uint16_t port = 0;
  ProbeRole role = ProbeRole::target_trace;
};

std::vector<int> ttl_range(int first, int last) {
  std::vector<int> ttls;
  for (int ttl = first; ttl <= last; ++ttl) ttls.push_back(ttl);
  return ttls;
}

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

// How far to trace: to the ICMP sender (its own time-exceeded names it), one past a RST's
// hop (a forwarding filter at hop k resets TTL k+1), and
// for silence to the host's own hop (a SYN with a larger TTL meets the same fate), or the
// whole budget when the host never spoke.
int trace_depth(const Judgement& j, const AttemptResult& r) {
  switch (j.verdict) {
    case Verdict::icmp_unreachable: return j.hop.value_or(64);
    // One past a RST's hop, the host's too: before the host's baseline is in, a filter's
    // RST can look like the host's, and a filter at hop k only shows itself at TTL k+1.
    case Verdict::refused_by_host:
    case Verdict::refused_by_middlebox:
    case Verdict::injected_reset: return j.hop ? *j.hop + 1 : 64;
    case Verdict::open: return r.host_hop ? r.host_hop->hop : j.hop.value_or(64);
    case Verdict::dropped:
    case Verdict::inconclusive: return r.host_hop ? r.host_hop->hop : 64;
  }
  return 64;
}

// What makes two answers of one host the same for locating purposes: the verdict, who
// and from which hop, and the ICMP code. Targets of a host with the same shape share one
// trace: their refusals come from the same device.
std::string answer_shape(const Judgement& j) {
  return fmt::format("{}|{}|{}|{}|{}", static_cast<int>(j.verdict), static_cast<int>(j.actor),
                     j.responder ? j.responder->to_string() : "-", j.hop.value_or(-1),
                     j.icmp ? fmt::format("{}/{}", j.icmp->type, j.icmp->code) : "-");
}

// Routers answer TTL-limited SYNs about once a second after a short burst, and they budget
// per destination: our address. So a run traces at most this many targets from each of
// its source addresses, whatever the hosts (past that, targets share a trace of the same
// answer, or go untraced).
constexpr std::size_t max_traces_per_source = 8;

// Linux refills a router's ICMP budget toward one destination at one message a second.
constexpr double icmp_budget_refill_s = 1.2;
// The repeated rounds of a trace leave this far apart, so one burst of loss cannot take
// all the probes of a TTL; every TTL of a round leaves at once.
constexpr double trace_round_gap_s = 0.05;


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
  // Setup (privileged).
  void plan();
  void open_listeners();
  // The run: one loop that sends what is due, reads answers and decides what to trace.
  void schedule();
  PlannedProbe& add_probe(const IpAddress& source, const IpAddress& destination, std::uint16_t port, ProbeRole role,
                          unsigned round, std::uint8_t ttl);
  void enqueue(const std::vector<PlannedProbe*>& probes);
  [[nodiscard]] std::int64_t send_due();
  [[nodiscard]] bool router_answered_enough(const PlannedProbe& p) const;
  [[nodiscard]] bool router_can_answer(const PlannedProbe& p, Timestamp now);
  [[nodiscard]] bool flow_answered_beyond(const PlannedProbe& q) const;
  void drain();
  void note_answer(const DecodedPacket& packet);
  void wait_for_packets(std::int64_t next_send_ns);
  void review(Timestamp now);
  void decide_trace(const TargetKey& key, const AttemptResult& r, Timestamp now);
  [[nodiscard]] bool should_trace_now(const TargetKey& key, const AttemptResult& r, Timestamp now) const;
  void start_trace(const TargetKey& key, const AttemptResult& r, Timestamp now);
  void start_control_trace(const IpAddress& host, int depth, Timestamp now);
  std::vector<PlannedProbe*> plan_sweep(const SweepFlow& flow, const std::vector<int>& ttls, Timestamp start,
                                        std::optional<int> host_hop);
  void plan_reprobe(const TargetKey& key, TraceRun& trace, Timestamp now);
  [[nodiscard]] bool everything_settled(Timestamp now) const;
  [[nodiscard]] bool answered(const TargetKey& key) const;
  [[nodiscard]] std::size_t traces_from(const IpAddress& source) const;
  [[nodiscard]] std::optional<TargetKey> traced_with_same_answer(const TargetKey& key, const AttemptResult& r) const;
  [[nodiscard]] std::set<int> ttls_answered_toward(const IpAddress& host, const TargetKey& except) const;
  [[nodiscard]] std::optional<Timestamp> first_sent(const TargetKey& key) const;
  [[nodiscard]] double overdue_after(const IpAddress& host) const;
  void update_trace_wait();
  [[nodiscard]] bool first_phase_settled(Timestamp now) const { return first_phase_.settled(now, options_.timeout_s); }
  [[nodiscard]] bool trace_settled(const ProbeGroup& g, Timestamp now) const { return g.settled(now, trace_wait_s_); }
  [[nodiscard]] bool room_for(std::size_t packets) const;
  // Results.
  [[nodiscard]] std::map<TargetKey, AttemptResult> judge_targets(const std::vector<AttemptResult>& all) const;
  [[nodiscard]] AnalysisReport results();
  void fill_summary(const Identity& who);

  const ProbeOptions& options_;
  const std::atomic<bool>& stop_;
  std::mt19937_64 rng_;
  std::uint16_t source_port_ = 0;
  std::map<IpAddress, Route> routes_;
  std::vector<Listener> listeners_;
  std::unique_ptr<RawSender> sender_;
  Analyzer analyzer_;
  ProbeOutcome outcome_;

  std::deque<PlannedProbe> probes_;  // every probe of the run (a deque: pointers stay valid)
  std::deque<PlannedProbe*> queue_;  // planned, not yet sent, by departure time
  std::unordered_map<std::uint32_t, PlannedProbe*> by_isn_;  // every TCP probe, by ISN
  std::map<TargetKey, std::vector<PlannedProbe*>> target_probes_;
  ProbeGroup first_phase_;
  std::map<TargetKey, TraceRun> traces_;
  std::map<IpAddress, ProbeGroup> control_traces_;
  std::map<TargetKey, TargetKey> shared_trace_;  // target → the target whose trace locates it
  std::map<TargetKey, std::string> not_traced_;   // target → why it was not traced
  RouterBudgets router_budgets_;
  std::map<std::pair<IpAddress, int>, unsigned> time_exceeded_;  // (host, TTL) → answers on any flow
  std::set<std::tuple<IpAddress, std::uint16_t, int>> flow_answered_at_;  // (host, port, TTL) answered
  std::map<std::pair<IpAddress, int>, PlannedProbe*> witnesses_;  // (host, TTL) → the latest witness
  double trace_wait_s_ = 0;  // see update_trace_wait()
  std::uint64_t packets_captured_ = 0;
  Timestamp next_review_;
  bool final_review_done_ = false;
  bool interrupted_ = false;
};

void ProbeRun::plan() {
  source_port_ = options_.source_port.value_or(random_ephemeral_port(rng_));
  for (const ProbeTarget& t : options_.targets) {
    if (const auto why = refusal_reason(t.address)) throw Failure(ExitCode::usage, fmt::format("refusing to probe {}", *why));
    if (!routes_.count(t.address)) routes_[t.address] = lookup_route(t.address, options_.source);
  }
  // Round r sends one SYN to every target; the baseline probes go out with round 0.
  std::set<TargetKey> targeted;
  for (unsigned round = 0; round < options_.count; ++round)
    for (const ProbeTarget& t : options_.targets) {
      const TargetKey key{t.address, t.port};
      if (round == 0 && !targeted.insert(key).second) continue;  // named twice: probed once
      if (round > 0 && !target_probes_.count(key)) continue;
      PlannedProbe& p = add_probe(routes_[t.address].source, t.address, t.port, ProbeRole::target, round, options_.ttl);
      target_probes_[key].push_back(&p);
      first_phase_.probes.push_back(&p);
    }
  if (options_.baseline) {
    std::set<IpAddress> hosts;
    for (const ProbeTarget& t : options_.targets) hosts.insert(t.address);
    for (const IpAddress& h : hosts) {
      for (const std::uint16_t port : options_.control_ports)
        if (!targeted.count({h, port}))
          first_phase_.probes.push_back(&add_probe(routes_[h].source, h, port, ProbeRole::control, 0, options_.ttl));
      first_phase_.probes.push_back(&add_probe(routes_[h].source, h, 0, ProbeRole::echo, 0, 64));
    }
  }
  if (probes_.size() > options_.limits.max_packets)
    throw Failure(ExitCode::usage, fmt::format("this run would send {} packets, more than the cap of {} "
                                               "(--max-packets, at most {})",
                                               probes_.size(), options_.limits.max_packets, SendLimits::hard_max_packets));
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

// Builds the packet of a planned probe (a fresh random ISN per SYN, never one already
// used in this run: the ISN is what tells the probes apart) and keeps it.
PlannedProbe& ProbeRun::add_probe(const IpAddress& source, const IpAddress& destination, std::uint16_t port,
                                  ProbeRole role, unsigned round, std::uint8_t ttl) {
  PlannedProbe p;
  p.source = source;
  p.destination = destination;
  p.port = port;
  p.role = role;
  p.round = round;
  p.ttl = ttl;
  std::uniform_int_distribution<std::uint32_t> u32;
  if (p.port == 0) {
    static std::uint16_t echo_seq = 0;
    p.bytes = build_echo_request(p.source, p.destination, static_cast<std::uint16_t>(source_port_ ^ 0x5350), ++echo_seq, 64);
    return probes_.emplace_back(std::move(p));
  }
  do p.isn = u32(rng_);
  while (by_isn_.count(p.isn) || by_isn_.count(p.isn - 1) || by_isn_.count(p.isn + 1));
  const SynSpec spec{p.source, p.destination, source_port_, p.port, p.isn,
                     static_cast<std::uint16_t>(u32(rng_)), p.ttl, u32(rng_)};
  p.bytes = build_syn(spec);
  PlannedProbe& kept = probes_.emplace_back(std::move(p));
  by_isn_[kept.isn] = &kept;
  return kept;
}

void ProbeRun::enqueue(const std::vector<PlannedProbe*>& probes) {
  queue_.insert(queue_.end(), probes.begin(), probes.end());
  std::stable_sort(queue_.begin(), queue_.end(),
                   [](const PlannedProbe* a, const PlannedProbe* b) { return a->not_before < b->not_before; });
}

// The routers' ICMP budgets (dissect/router_budget.hpp) decide when a TTL-limited SYN may
// leave. A probe surely reached its router when its flow was answered at a larger TTL, or
// when it went on the control port's flow (which reaches the host). And a TTL whose router
// already answered `--repeat` times toward that host is not repeated on a flow that has
// its answer there: its address is known, the budget is better spent on silent TTLs.
bool ProbeRun::router_can_answer(const PlannedProbe& p, Timestamp now) {
  return router_budgets_.allows({p.source, p.ttl}, now, trace_wait_s_, [&](std::uint64_t isn) {
    const PlannedProbe& q = *by_isn_.at(static_cast<std::uint32_t>(isn));
    return q.role == ProbeRole::control_trace || flow_answered_beyond(q);
  });
}

bool ProbeRun::flow_answered_beyond(const PlannedProbe& q) const {
  const auto from = flow_answered_at_.upper_bound({q.destination, q.port, q.ttl});
  return from != flow_answered_at_.end() && std::get<0>(*from) == q.destination && std::get<1>(*from) == q.port;
}

// A later round of a TTL is skipped only when this flow already has its answer there and
// the router has answered `--repeat` times toward the host: a TTL still silent on this
// flow keeps all its rounds (silence costs the router nothing, and one lost answer must
// not decide where a drop is).
bool ProbeRun::router_answered_enough(const PlannedProbe& p) const {
  if (p.round == 0 || !flow_answered_at_.count({p.destination, p.port, p.ttl})) return false;
  const auto it = time_exceeded_.find({p.destination, p.ttl});
  return it != time_exceeded_.end() && it->second >= options_.repeat;
}

// Sends every probe that is due, as fast as the send rate and the routers' ICMP budgets
// let them go; returns the nanoseconds until the next one may go.
std::int64_t ProbeRun::send_due() {
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  std::size_t i = 0;
  while (i < queue_.size()) {
    if (stop_.load()) { interrupted_ = true; return 0; }
    PlannedProbe& p = *queue_[i];
    const Timestamp now = wall_clock_now();
    if (p.not_before > now) return std::min(next, p.not_before.ns - now.ns);  // the queue is in departure order
    if (is_ttl_limited(p) && router_answered_enough(p)) {
      p.skipped = true;
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    const bool needs_router = is_ttl_limited(p) && !p.reaches_host;
    if (needs_router && !router_can_answer(p, now)) {
      next = std::min<std::int64_t>(next, 20'000'000);  // the budget refills, or a SYN turns out silent
      ++i;
      continue;
    }
    if (const std::int64_t wait = sender_->ready_in_ns(); wait > 0) return std::min(next, wait);
    p.sent_at = sender_->send(p.destination, p.bytes);
    if (needs_router) router_budgets_.on_sent({p.source, p.ttl}, p.isn, *p.sent_at);
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
    drain();
  }
  return next;
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
      note_answer(packet);
      ++packets_captured_;
      if (options_.keep_packets)
        outcome_.packets.push_back(RunPacket{frame.ts, static_cast<std::uint32_t>(i), frame.wire_length,
                                             std::vector<std::uint8_t>(frame.data.begin(), frame.data.end())});
    }
  }
}

// Marks the probe a packet answers, by ISN: a SYN/ACK or RST acknowledging it, or an ICMP
// error quoting it. Only for scheduling (when to stop waiting); the analyzer judges.
void ProbeRun::note_answer(const DecodedPacket& packet) {
  std::optional<std::uint32_t> isn;
  if (packet.transport == Transport::tcp && packet.tcp.dport == source_port_ && packet.tcp.has(tcp_flag::ack) &&
      (packet.tcp.has(tcp_flag::syn) || packet.tcp.has(tcp_flag::rst)))
    isn = packet.tcp.ack - 1;
  else if (packet.transport == Transport::icmp && packet.icmp.is_error && packet.icmp.has_quote &&
           packet.icmp.quote.has_tcp && packet.icmp.quote.tcp.sport == source_port_)
    isn = packet.icmp.quote.tcp.seq;
  if (!isn) return;
  const auto it = by_isn_.find(*isn);
  if (it == by_isn_.end() || !it->second->sent_at || it->second->answered_at) return;
  PlannedProbe& probe = *it->second;
  // The right number on another flow (another port or address: a RST or an ICMP error for
  // some other connection) answers nothing: it must not end the wait for the real answer.
  const bool same_flow =
      packet.transport == Transport::tcp
          ? packet.ip.src == probe.destination && packet.ip.dst == probe.source && packet.tcp.sport == probe.port
          : packet.icmp.quote.ip.dst == probe.destination && packet.icmp.quote.ip.src == probe.source &&
                packet.icmp.quote.tcp.dport == probe.port;
  if (!same_flow) return;
  probe.answered_at = packet.ts;
  const bool time_exceeded =
      packet.transport == Transport::icmp && is_time_exceeded(packet.ip.src.family(), packet.icmp.type);
  if (is_ttl_limited(probe)) {
    flow_answered_at_.insert({probe.destination, probe.port, probe.ttl});
    router_budgets_.on_answer({probe.source, probe.ttl}, probe.isn, packet.ts, time_exceeded);
    if (time_exceeded) ++time_exceeded_[{probe.destination, probe.ttl}];
  }
  if (packet.transport == Transport::icmp && !time_exceeded && packet.ip.src != probe.destination) {
    // A router's unreachable spends the same budget as its time-exceeded: charge the
    // router at the hop its TTL says.
    const int hop = estimate_hop(packet.ip.ttl).hop;
    if (hop >= 1 && hop <= options_.max_ttl) router_budgets_.on_other_error({probe.source, hop}, packet.ts);
  }
}

void ProbeRun::wait_for_packets(std::int64_t next_send_ns) {
  constexpr std::int64_t review_pace_ns = 20'000'000;  // when nothing is due sooner
  const std::int64_t wait_ns = std::clamp<std::int64_t>(next_send_ns, 0, review_pace_ns);
  const int wait_ms = static_cast<int>((wait_ns + 999'999) / 1'000'000);
  if (wait_ms == 0) return;
  if (listeners_.size() == 1) listeners_.front().capture->wait(wait_ms);
  else std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait_ms, 5)));
}

// The whole run. The first phase (the SYNs and the baseline probes) starts at once; a
// target's trace starts as soon as its answer shows it is not plainly the host's, or as
// soon as its answer is overdue, so a silent drop is traced while its timeout runs; the
// silent TTLs of a trace are probed once more when the routers' ICMP budgets refilled.
// The run ends when every group of probes is settled.
void ProbeRun::schedule() {
  const Timestamp start = wall_clock_now();
  update_trace_wait();
  for (PlannedProbe* p : first_phase_.probes) p->not_before = after(start, p->round * options_.interval_s);
  enqueue(first_phase_.probes);
  for (;;) {
    drain();
    const std::int64_t next_send_ns = send_due();
    if (stop_.load()) interrupted_ = true;
    if (interrupted_) return;
    const Timestamp now = wall_clock_now();
    update_trace_wait();
    if (options_.trace != TraceMode::never) review(now);
    else final_review_done_ = true;
    if (queue_.empty() && everything_settled(now)) return;
    wait_for_packets(next_send_ns);
  }
}

bool ProbeRun::everything_settled(Timestamp now) const {
  if (!first_phase_settled(now) || !final_review_done_) return false;
  for (const auto& [key, trace] : traces_)
    if (!trace.reprobe_planned || !trace_settled(trace.first_pass, now) || !trace_settled(trace.reprobe, now)) return false;
  for (const auto& [host, group] : control_traces_)
    if (!trace_settled(group, now)) return false;
  return true;
}

// Decides which targets to trace now and which traces to complete.
void ProbeRun::review(Timestamp now) {
  // Cheap, every time: traces whose first pass is over get their silent TTLs re-probed.
  for (auto& [key, trace] : traces_) {
    const auto control = control_traces_.find(key.first);
    const bool control_settled = control == control_traces_.end() || trace_settled(control->second, now);
    if (!trace.reprobe_planned && trace_settled(trace.first_pass, now) && control_settled) plan_reprobe(key, trace, now);
  }
  if (now < next_review_) return;
  const bool first_phase_done = first_phase_settled(now);
  const std::map<TargetKey, AttemptResult> judged = judge_targets(analyzer_.finish());
  // A traced target's answer may change as more of it arrives (a baseline, a second SYN's
  // answer): compare others with what it is now.
  for (auto& [key, trace] : traces_)
    if (const auto it = judged.find(key); it != judged.end() && trace.answer_shape)
      trace.answer_shape = answer_shape(it->second.judgement);
  // Answered targets first: their traces can be shared; a silent one's never is.
  for (const bool answered_pass : {true, false})
    for (const auto& [key, r] : judged)
      if (answered(key) == answered_pass) decide_trace(key, r, now);
  final_review_done_ = first_phase_done;
  const Timestamp done = wall_clock_now();
  // Judging every attempt costs time with thousands of targets: at most a tenth of it.
  next_review_ = after(done, std::clamp(10 * done.seconds_since(now), 0.02, 1.0));
}

// Traces a target on its own flow while the run's budget of traces allows. A target whose
// answer has the same shape as a traced one's shares that trace once half the budget is
// spent (its own trace could show more — an injector beside a filter — but the routers'
// budgets are better spent on answers not yet traced); silence is never shared.
void ProbeRun::decide_trace(const TargetKey& key, const AttemptResult& r, Timestamp now) {
  // A target whose answer changed since it was matched with a traced one (the host's
  // SYN/ACK arriving after a forged RST) is no longer located by that trace.
  if (const auto shared = shared_trace_.find(key);
      shared != shared_trace_.end() && traces_.at(shared->second).answer_shape != answer_shape(r.judgement))
    shared_trace_.erase(shared);
  if (traces_.count(key) || shared_trace_.count(key) || not_traced_.count(key) || !should_trace_now(key, r, now))
    return;
  const IpAddress& source = routes_.at(key.first).source;
  const std::size_t traced = traces_from(source);
  const std::optional<TargetKey> same = traced_with_same_answer(key, r);
  if (same && traced >= max_traces_per_source / 2) shared_trace_.emplace(key, *same);
  else if (traced < max_traces_per_source) start_trace(key, r, now);
  else
    not_traced_.emplace(key, fmt::format("Not traced: {} other targets probed from {} were, and the routers "
                                         "answer TTL-limited SYNs toward it about once a second.",
                                         max_traces_per_source, source.to_string()));
}

// The TTLs toward `host` that drew an answer on another flow of this run: another
// target's trace or the control port's. A router that answered there exists and answers.
std::set<int> ProbeRun::ttls_answered_toward(const IpAddress& host, const TargetKey& except) const {
  std::set<int> ttls;
  auto add = [&](const ProbeGroup& group) {
    for (const PlannedProbe* p : group.probes)
      if (p->answered_at) ttls.insert(p->ttl);
  };
  for (const auto& [key, trace] : traces_)
    if (key.first == host && key != except) add(trace.first_pass);
  if (const auto control = control_traces_.find(host); control != control_traces_.end()) add(control->second);
  return ttls;
}

std::size_t ProbeRun::traces_from(const IpAddress& source) const {
  return static_cast<std::size_t>(std::count_if(traces_.begin(), traces_.end(), [&](const auto& entry) {
    return routes_.at(entry.first.first).source == source;
  }));
}

// A traced target of the same host whose answer had the same shape; never for silence:
// two silent ports of one host may be dropped at different hops.
std::optional<TargetKey> ProbeRun::traced_with_same_answer(const TargetKey& key, const AttemptResult& r) const {
  if (!answered(key)) return std::nullopt;
  const std::string shape = answer_shape(r.judgement);
  for (const auto& [traced, trace] : traces_)
    if (traced.first == key.first && trace.answer_shape == shape) return traced;
  return std::nullopt;
}

bool ProbeRun::answered(const TargetKey& key) const {
  const auto it = target_probes_.find(key);
  return it != target_probes_.end() &&
         std::any_of(it->second.begin(), it->second.end(), [](const PlannedProbe* p) { return p->answered_at.has_value(); });
}

std::optional<Timestamp> ProbeRun::first_sent(const TargetKey& key) const {
  const auto it = target_probes_.find(key);
  if (it == target_probes_.end()) return std::nullopt;
  std::optional<Timestamp> first;
  for (const PlannedProbe* p : it->second)
    if (p->sent_at && (!first || *p->sent_at < *first)) first = p->sent_at;
  return first;
}

// When silence becomes telling: four times the host's fastest answer to any probe of this
// run (at least 0.25 s), else half the timeout.
double ProbeRun::overdue_after(const IpAddress& host) const {
  std::optional<double> fastest;
  for (const PlannedProbe* p : first_phase_.probes)
    if (p->destination == host && p->sent_at && p->answered_at) {
      const double rtt = p->answered_at->seconds_since(*p->sent_at);
      if (!fastest || rtt < *fastest) fastest = rtt;
    }
  if (!fastest) return options_.timeout_s / 2;
  return std::clamp(4 * *fastest, 0.25, std::max(0.25, options_.timeout_s / 2));
}

// A target is traced once its answer is not plainly the host's (`trace`: once it has any
// answer), or once the answer is overdue, or, at the latest, when the first phase is over
// and its combined verdict is not plainly the host's.
bool ProbeRun::should_trace_now(const TargetKey& key, const AttemptResult& r, Timestamp now) const {
  if (first_phase_settled(now) || answered(key)) return options_.trace == TraceMode::always || !plainly_the_hosts(r);
  const auto sent = first_sent(key);
  return sent && now >= after(*sent, overdue_after(key.first));
}

// How long a trace waits for its last answers: four times the slowest answer of the run
// so far (a router's time-exceeded comes sooner than the host's answer), at least 0.3 s,
// never more than the timeout; the whole timeout while nothing answered at all.
void ProbeRun::update_trace_wait() {
  double slowest_s = 0;
  for (const PlannedProbe& p : probes_)
    if (p.sent_at && p.answered_at) slowest_s = std::max(slowest_s, p.answered_at->seconds_since(*p.sent_at));
  trace_wait_s_ = slowest_s <= 0 ? options_.timeout_s : std::clamp(4 * slowest_s, 0.3, options_.timeout_s);
}

bool ProbeRun::room_for(std::size_t packets) const {
  return probes_.size() + packets <= options_.limits.max_packets;
}

// TTL 1 up to the depth the answer so far calls for (the host's hop for silence), `repeat`
// rounds a few milliseconds apart, Paris-style on the target's own flow. An unanswered
// target also traces a control port the host answered, to tell a port filter from a
// broken path.
void ProbeRun::start_trace(const TargetKey& key, const AttemptResult& r, Timestamp now) {
  const bool silent = !answered(key);
  int depth = silent ? (r.host_hop ? r.host_hop->hop : options_.max_ttl) : trace_depth(r.judgement, r);
  depth = std::clamp(depth, 1, options_.max_ttl);
  if (!room_for(options_.repeat * static_cast<std::size_t>(depth))) {
    // The cap holds: report without the trace rather than exceed it.
    not_traced_.emplace(key, fmt::format("Not traced: {} more packets would exceed the run's cap of {} "
                                         "(--max-packets).", options_.repeat * static_cast<std::size_t>(depth),
                                         options_.limits.max_packets));
    return;
  }
  TraceRun& trace = traces_[key];
  trace.planned_at = now;
  if (!silent) trace.answer_shape = answer_shape(r.judgement);
  if (r.host_hop) trace.host_hop = r.host_hop->hop;
  trace.first_pass.probes = plan_sweep({routes_[key.first].source, key.first, key.second, ProbeRole::target_trace},
                                       ttl_range(1, depth), now, trace.host_hop);
  if (silent && r.host_hop) start_control_trace(key.first, std::min(r.host_hop->hop, options_.max_ttl), now);
}

// `repeat` rounds of SYNs with each of `ttls`, every TTL of a round at once, rounds
// trace_round_gap_s apart from `start`; queued, and returned.
std::vector<PlannedProbe*> ProbeRun::plan_sweep(const SweepFlow& flow, const std::vector<int>& ttls, Timestamp start,
                                               std::optional<int> host_hop) {
  std::vector<PlannedProbe*> planned;
  for (unsigned round = 0; round < options_.repeat; ++round)
    for (const int ttl : ttls) {
      PlannedProbe& p = add_probe(flow.source, flow.host, flow.port, flow.role, round, static_cast<std::uint8_t>(ttl));
      p.not_before = after(start, round * trace_round_gap_s);
      p.reaches_host = host_hop && ttl >= *host_hop;
      planned.push_back(&p);
    }
  enqueue(planned);
  return planned;
}

void ProbeRun::start_control_trace(const IpAddress& host, int depth, Timestamp now) {
  if (control_traces_.count(host)) return;
  for (const PlannedProbe* control : first_phase_.probes) {
    if (control->role != ProbeRole::control || control->destination != host) continue;
    const auto opened = std::any_of(analyzer_.attempts().begin(), analyzer_.attempts().end(), [&](const Attempt& a) {
      return a.isn == control->isn && a.server == host && a.has_answer(AnswerKind::syn_ack);
    });
    if (!opened || !room_for(options_.repeat * static_cast<std::size_t>(depth))) continue;
    ProbeGroup& group = control_traces_[host];
    group.probes = plan_sweep({control->source, host, control->port, ProbeRole::control_trace}, ttl_range(1, depth), now,
                              depth);
    return;
  }
}

// Routers rate-limit their ICMP (Linux: a burst of 6, then one a second per destination),
// so a silent TTL is not yet a finding. Probe again, once the budget refilled, every TTL
// that drew nothing although a later TTL of the same trace, or the same TTL on another
// flow to the same host (another target's trace, the control port's), was answered.
void ProbeRun::plan_reprobe(const TargetKey& key, TraceRun& trace, Timestamp now) {
  trace.reprobe_planned = true;
  std::map<int, bool> answered_ttl;
  for (const PlannedProbe* p : trace.first_pass.probes) answered_ttl[p->ttl] = answered_ttl[p->ttl] || p->answered_at;
  const std::set<int> answered_elsewhere = ttls_answered_toward(key.first, key);
  int last_answered = 0;
  for (const auto& [ttl, any] : answered_ttl)
    if (any) last_answered = ttl;
  std::vector<int> silent;
  for (const auto& [ttl, any] : answered_ttl)
    if (!any && (ttl < last_answered || answered_elsewhere.count(ttl))) silent.push_back(ttl);
  if (silent.empty() || !room_for((options_.repeat + 1) * silent.size())) return;
  const Timestamp refilled = std::max(now, after(trace.planned_at, icmp_budget_refill_s));
  // A witness per TTL on the control port's flow, which reaches the host: if the router
  // answers it and not ours, our SYN was dropped before it; if it answers neither, its
  // budget is spent (see router_can_answer()). Traces re-probed together share witnesses.
  std::vector<PlannedProbe*> witnesses, fresh;
  if (const auto control = control_traces_.find(key.first); control != control_traces_.end())
    for (const int ttl : silent) {
      PlannedProbe*& w = witnesses_[{key.first, ttl}];
      if (!w || std::abs(w->not_before.seconds_since(refilled)) > 0.5) {
        const PlannedProbe& model = *control->second.probes.front();
        w = &add_probe(model.source, key.first, model.port, ProbeRole::control_trace, 0, static_cast<std::uint8_t>(ttl));
        w->not_before = refilled;
        w->reaches_host = trace.host_hop && ttl >= *trace.host_hop;
        fresh.push_back(w);
      }
      witnesses.push_back(w);
    }
  enqueue(fresh);
  trace.reprobe.probes = plan_sweep({routes_[key.first].source, key.first, key.second, ProbeRole::target_trace}, silent,
                                    refilled, trace.host_hop);
  trace.reprobe.probes.insert(trace.reprobe.probes.end(), witnesses.begin(), witnesses.end());
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
    auto shared = shared_trace_.find(key);
    if (shared != shared_trace_.end() &&
        answer_shape(judged.at(shared->second).judgement) != answer_shape(result.judgement)) {
      not_traced_.emplace(key, fmt::format("Not traced: its answer first matched that of port {}, whose trace was "
                                           "to locate it, then changed.", shared->second.second));
      shared = shared_trace_.end();
    }
    auto trace = traces.find(shared == shared_trace_.end() ? key : shared->second);
    // A trace started because the answer was late is no finding when the answer, once in,
    // was plainly the host's: `probe` then reports as if it had not traced (`-w` keeps it).
    if (trace != traces.end() && options_.trace == TraceMode::automatic && plainly_the_hosts(result))
      trace = traces.end();
    if (trace != traces.end() && result.judgement.verdict == Verdict::dropped)
      result = rejudge_if_reached(result, trace->second);
    if (trace != traces.end()) {
      result.trace = build_trace(trace->second);
      const Trace control = control_traces.count(t.address) ? build_trace(control_traces[t.address]) : Trace{};
      LocateContext ctx;
      if (result.host_hop) ctx.host_hop = result.host_hop->hop;
      ctx.host_rtt_ms = result.host_syn_ack_rtt_ms;
      ctx.control = control.hops.empty() ? nullptr : &control;
      locate(result.judgement, result.attempt, result.trace, ctx);
      if (shared != shared_trace_.end())
        result.judgement.evidence.push_back(
            {Signal::trace_shared, fmt::format("Located by the trace of port {}, which got the same answer from {}: "
                                               "the hop table is that trace's.",
                                               shared->second.second, t.address.to_string())});
    } else if (const auto why = not_traced_.find(key); why != not_traced_.end() && !plainly_the_hosts(result)) {
      result.judgement.evidence.push_back({Signal::not_traced, why->second});
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
  schedule();
  drain();
  analyzer_.set_listen_end(wall_clock_now());
  outcome_.report = results();
  outcome_.report.run.interrupted = interrupted_;
  fill_summary(who);
  return std::move(outcome_);
}

void ProbeRun::fill_summary(const Identity& who) {
  ProbeSummary summary;
  summary.source_port = source_port_;
  summary.count = options_.count;
  summary.ttl = options_.ttl;
  summary.interval_s = options_.interval_s;
  summary.timeout_s = options_.timeout_s;
  summary.rate_pps = options_.limits.rate_pps;
  summary.baseline = options_.baseline;
  summary.control_ports = options_.control_ports;
  summary.packets_sent = sender_->sent();
  summary.packets_captured = packets_captured_;
  summary.user = who.user;
  for (const Listener& l : listeners_) {
    summary.interfaces.push_back(l.interface);
    summary.kernel_drops += l.capture->dropped();
  }
  std::set<std::string> sources, hops;
  for (const auto& [address, route] : routes_) {
    sources.insert(route.source.to_string());
    hops.insert(route.next_hop ? route.next_hop->to_string() : "on-link");
  }
  summary.sources.assign(sources.begin(), sources.end());
  summary.next_hops.assign(hops.begin(), hops.end());
  outcome_.report.probe = summary;
}

}  // namespace

ProbeOutcome run_probe(const ProbeOptions& options, const std::atomic<bool>& stop,
                       const std::function<void(const Identity&)>& before_drop) {
  if (options.targets.empty()) throw Failure(ExitCode::usage, "nothing to probe");
  ProbeRun run(options, stop);
  return run.run(before_drop);
}

}  // namespace synprobe
