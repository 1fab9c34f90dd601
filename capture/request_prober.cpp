// RequestRun: one live run of the request stage, from setup to report (request_prober.hpp).
#include "capture/request_prober.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "capture/clock.hpp"
#include "capture/live_capture.hpp"
#include "capture/probe_builder.hpp"
#include "capture/raw_sender.hpp"
#include "capture/route.hpp"
#include "dissect/decode/decode.hpp"
#include "dissect/decode/error.hpp"
#include "dissect/trace/request_trace.hpp"
#include "dissect/verdict/analyzer.hpp"

namespace synprobe {
namespace {

constexpr std::int64_t ms_ns = 1'000'000;

// How long to listen after the request's fate is known (an answer, a RST, a FIN), for
// what may still race it (an injector's RST is followed by the server's own answer one
// round trip later): three handshake round trips, and never less than 200 ms.
std::int64_t grace_ns(std::int64_t handshake_ns) { return std::max<std::int64_t>(200 * ms_ns, 3 * handshake_ns); }

sockaddr_storage socket_address(const IpAddress& a, std::uint16_t port, socklen_t& length) {
  sockaddr_storage s{};
  if (a.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&s);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, a.bytes().data(), 4);
    length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, a.bytes().data(), 16);
    length = sizeof(sockaddr_in6);
  }
  return s;
}

// A kernel TCP socket of the run: closed with a RST (SO_LINGER 0) so that no connection
// lingers in TIME_WAIT or FIN_WAIT and its port is free for the sweep's next connection.
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { close(); }

  // Starts a non-blocking connect from source:port (0: any port). False when the kernel
  // refuses at once (the port is in use, no route).
  bool start(const IpAddress& source, std::uint16_t port, const IpAddress& target, std::uint16_t target_port) {
    fd_ = ::socket(target.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const int one = 1;
    (void)::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t length = 0;
    sockaddr_storage from = socket_address(source, port, length);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), length) != 0) return false;
    sockaddr_storage to = socket_address(target, target_port, length);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&to), length) == 0 || errno == EINPROGRESS;
  }
  // 1: connected, 0: not yet, -1: failed (refused, unreachable, timed out by the kernel).
  [[nodiscard]] int state() const {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 0) <= 0) return 0;
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return -1;
    return 1;
  }
  [[nodiscard]] std::uint16_t local_port() const {
    sockaddr_storage s{};
    socklen_t length = sizeof s;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&s), &length) != 0) return 0;
    return ntohs(s.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&s)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&s)->sin6_port);
  }
  bool write_all(const std::vector<std::uint8_t>& bytes) const {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(bytes.size());
  }
  // Whether the connection's fate is known: data came, or it was closed or reset.
  [[nodiscard]] bool settled() const {
    std::uint8_t buffer[2048];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
  void close() {
    if (fd_ < 0) return;
    const linger abort{1, 0};
    (void)::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// One target probed with one request.
struct RequestJob {
  ProbeTarget target;
  RequestTrigger trigger;
  Route route;
  std::uint16_t plain_port = 0;  // the kernel's port for the plain connection
  std::uint16_t sweep_port = 0;  // the sweep's one flow (0: no sweep)
  std::int64_t handshake_ns = 0;
};

class RequestRun {
 public:
  RequestRun(const ProbeOptions& options, const std::atomic<bool>& stop)
      : options_(options), stop_(stop), rng_(std::random_device{}()) {}
  ProbeOutcome run(const std::function<void(const Identity&)>& before_drop);

 private:
  void plan();
  void open();
  void pump(std::int64_t wait_ns);
  [[nodiscard]] bool stopping();
  bool connect(Connection& c, const RequestJob& job, std::uint16_t port, std::int64_t& took_ns);
  void probe_plain(RequestJob& job);
  void sweep(RequestJob& job);
  [[nodiscard]] const Attempt* newest_attempt(const RequestJob& job, std::uint16_t port) const;
  [[nodiscard]] bool sweep_wanted(const RequestJob& job) const;
  void send_copy(const RequestJob& job, int ttl);
  AnalysisReport results();
  void fill_summary(const Identity& who);

  const ProbeOptions& options_;
  const std::atomic<bool>& stop_;
  std::mt19937_64 rng_;
  std::vector<RequestJob> jobs_;
  std::map<std::string, std::unique_ptr<LiveCapture>> captures_;  // by interface
  std::vector<std::string> interface_order_;
  std::unique_ptr<RawSender> sender_;
  Analyzer analyzer_;
  ProbeOutcome outcome_;
  std::uint64_t packets_captured_ = 0;
  bool interrupted_ = false;
};

void RequestRun::plan() {
  std::map<IpAddress, Route> routes;
  for (const ProbeTarget& t : options_.targets) {
    if (const auto why = refusal_reason(t.address)) throw Failure(ExitCode::usage, fmt::format("refusing to probe {}", *why));
    if (!routes.count(t.address)) routes[t.address] = lookup_route(t.address, options_.source);
    for (const RequestTrigger& trigger : options_.requests) jobs_.push_back(RequestJob{t, trigger, routes[t.address]});
  }
}

// Keeps the connections to the targets and the ICMP errors sent to the run's sources.
std::string request_filter(const std::vector<RequestJob>& jobs, const std::string& interface) {
  std::set<std::string> parts;
  for (const RequestJob& j : jobs) {
    if (j.route.interface != interface) continue;
    const std::string s = j.route.source.to_string(), t = j.target.address.to_string();
    parts.insert(fmt::format("(tcp and host {} and host {} and port {})", s, t, j.target.port));
    parts.insert(j.route.source.is_v4() ? fmt::format("(icmp and dst host {} and (icmp[0] == 3 or icmp[0] == 11))", s)
                                        : fmt::format("(icmp6 and dst host {} and ip6[40] < 5)", s));
  }
  std::string filter;
  for (const std::string& p : parts) filter += (filter.empty() ? "" : " or ") + p;
  return filter;
}

void RequestRun::open() {
  bool v4 = false, v6 = false;
  for (const RequestJob& j : jobs_) {
    const std::string name = options_.interface.value_or(j.route.interface);
    (j.target.address.is_v4() ? v4 : v6) = true;
    if (captures_.count(name)) continue;
    std::vector<RequestJob> on_it;
    for (const RequestJob& k : jobs_)
      if (options_.interface.value_or(k.route.interface) == name) on_it.push_back(k);
    for (RequestJob& k : on_it) k.route.interface = name;
    captures_[name] = std::make_unique<LiveCapture>(name, request_filter(on_it, name));
    outcome_.interfaces.push_back(CaptureInterface{name, captures_[name]->link_type()});
    interface_order_.push_back(name);
  }
  sender_ = std::make_unique<RawSender>(v4, v6, options_.interface, options_.limits);
}

// Reads what the captures hold, waiting up to wait_ns for the first of it.
void RequestRun::pump(std::int64_t wait_ns) {
  if (!interface_order_.empty())
    (void)captures_[interface_order_.front()]->wait(static_cast<int>(std::max<std::int64_t>(wait_ns / ms_ns, 0)));
  for (std::size_t i = 0; i < interface_order_.size(); ++i) {
    LiveCapture& capture = *captures_[interface_order_[i]];
    RawFrame frame;
    DecodedPacket packet;
    while (capture.next(frame)) {
      packet = DecodedPacket{};
      packet.ts = frame.ts;
      packet.wire_length = frame.wire_length;
      packet.captured_length = static_cast<std::uint32_t>(frame.data.size());
      decode_frame(frame.link_type, frame.data, packet);
      analyzer_.add(packet);
      ++packets_captured_;
      if (options_.keep_packets)
        outcome_.packets.push_back(RunPacket{frame.ts, static_cast<std::uint32_t>(i), frame.wire_length,
                                             std::vector<std::uint8_t>(frame.data.begin(), frame.data.end())});
    }
  }
}

bool RequestRun::stopping() {
  if (stop_.load()) interrupted_ = true;
  return interrupted_;
}

// Connects and waits for the handshake (the kernel retransmits its SYN meanwhile), at most
// --timeout. False when it failed: the SYN stage's verdict then says why.
bool RequestRun::connect(Connection& c, const RequestJob& job, std::uint16_t port, std::int64_t& took_ns) {
  const Timestamp start = wall_clock_now();
  if (!c.start(job.route.source, port, job.target.address, job.target.port)) return false;
  const auto limit = static_cast<std::int64_t>(options_.timeout_s * 1e9);
  while (!stopping()) {
    const int state = c.state();
    if (state != 0) {
      took_ns = wall_clock_now().ns - start.ns;
      return state > 0;
    }
    if (wall_clock_now().ns - start.ns > limit) return false;
    pump(2 * ms_ns);
  }
  return false;
}

// The plain connection: the kernel's handshake, the request written to the socket, and
// --timeout to see what follows (the kernel retransmits a request nothing acknowledges).
void RequestRun::probe_plain(RequestJob& job) {
  Connection c;
  std::int64_t took = 0;
  const bool up = connect(c, job, 0, took);
  job.plain_port = c.local_port();
  job.handshake_ns = took;
  if (!up) {
    pump(200 * ms_ns);
    return;
  }
  if (!c.write_all(request_bytes(job.trigger))) return;
  const Timestamp sent = wall_clock_now();
  const auto limit = static_cast<std::int64_t>(options_.timeout_s * 1e9);
  std::optional<Timestamp> known;
  while (!stopping()) {
    pump(5 * ms_ns);
    const Timestamp now = wall_clock_now();
    if (!known && c.settled()) known = now;
    if (known && now.ns - known->ns > grace_ns(took)) break;
    if (now.ns - sent.ns > limit) break;
  }
  c.close();
  pump(20 * ms_ns);
}

const Attempt* RequestRun::newest_attempt(const RequestJob& job, std::uint16_t port) const {
  const auto& all = analyzer_.attempts();
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->client_port == port && it->server == job.target.address && it->server_port == job.target.port) return &*it;
  return nullptr;
}

// A sweep locates what the plain connection's request stage refused; an answered request,
// or one refused before the handshake, has nothing to locate after it.
bool RequestRun::sweep_wanted(const RequestJob& job) const {
  if (options_.trace == TraceMode::never || job.plain_port == 0) return false;
  const Attempt* a = newest_attempt(job, job.plain_port);
  if (!a || !a->has_answer(AnswerKind::syn_ack)) return false;
  JudgeContext ctx;
  ctx.client_receives_packets = true;
  ctx.capture_end = wall_clock_now();
  const Judgement j = judge(*a, ctx);
  return j.stage == Stage::request && (j.verdict != Verdict::open || options_.trace == TraceMode::always);
}

void RequestRun::send_copy(const RequestJob& job, int ttl) {
  const Attempt* a = nullptr;
  const Answer* syn_ack = nullptr;
  // The handshake is over in the kernel; its SYN/ACK may still be on its way to the capture.
  for (int tries = 0; tries < 20 && !syn_ack; ++tries) {
    a = newest_attempt(job, job.sweep_port);
    syn_ack = a && a->handshake_completed ? a->first_answer(AnswerKind::syn_ack) : nullptr;
    if (!syn_ack) pump(5 * ms_ns);
  }
  if (!syn_ack) return;  // the capture missed the handshake: nothing to build the copy on
  RequestCopySpec spec{job.route.source, job.target.address, job.sweep_port, job.target.port, a->isn + 1,
                       syn_ack->seq + 1, static_cast<std::uint16_t>(rng_()), static_cast<std::uint8_t>(ttl)};
  (void)sender_->send(job.target.address, build_request_copy(spec, request_bytes(job.trigger)));
}

// TTL 1 up to the server's distance (its SYN/ACK's hop), --repeat copies each, one flow.
void RequestRun::sweep(RequestJob& job) {
  const Attempt* plain = newest_attempt(job, job.plain_port);
  const Answer* syn_ack = plain ? plain->first_answer(AnswerKind::syn_ack) : nullptr;
  if (!syn_ack) return;
  const int last = std::min(std::max(syn_ack->ttl.hop, 1), options_.max_ttl);
  job.sweep_port = static_cast<std::uint16_t>(32768 + rng_() % 28232);  // Linux's ephemeral range
  for (int ttl = 1; ttl <= last && !stopping(); ++ttl)
    for (unsigned copy = 0; copy < options_.repeat && !stopping(); ++copy) {
      Connection c;
      std::int64_t took = 0;
      if (!connect(c, job, job.sweep_port, took)) continue;
      send_copy(job, ttl);
      const Timestamp sent = wall_clock_now();
      const std::int64_t wait = std::max<std::int64_t>(300 * ms_ns, 4 * took);
      while (!stopping() && wall_clock_now().ns - sent.ns < wait) {
        pump(5 * ms_ns);
        const Attempt* a = newest_attempt(job, job.sweep_port);
        if (a && a->request_stage && !a->request_stage->replies.empty() &&
            wall_clock_now().ns - a->request_stage->replies.back().ts.ns > 50 * ms_ns)
          break;  // answered, and nothing more within 50 ms
      }
      c.close();
      pump(5 * ms_ns);
    }
}

AnalysisReport RequestRun::results() {
  const std::vector<AttemptResult> all = analyzer_.finish();
  AnalysisReport report;
  for (const RequestJob& job : jobs_) {
    const auto plain = std::find_if(all.begin(), all.end(), [&](const AttemptResult& r) {
      return r.attempt.client_port == job.plain_port && r.attempt.server == job.target.address &&
             r.attempt.server_port == job.target.port;
    });
    if (plain == all.end()) continue;
    AttemptResult r = *plain;
    if (job.sweep_port != 0) {
      std::vector<const Attempt*> sweep;
      for (const AttemptResult& s : all)
        if (s.attempt.client_port == job.sweep_port && s.attempt.server == job.target.address &&
            s.attempt.server_port == job.target.port)
          sweep.push_back(&s.attempt);
      r.trace = build_request_trace(sweep);
      locate_request(r, r.trace);
    }
    report.attempts.push_back(std::move(r));
  }
  return report;
}

void RequestRun::fill_summary(const Identity& who) {
  ProbeSummary summary;
  summary.count = 1;
  summary.ttl = 64;
  summary.timeout_s = options_.timeout_s;
  summary.rate_pps = options_.limits.rate_pps;
  summary.packets_sent = sender_->sent();
  summary.packets_captured = packets_captured_;
  summary.user = who.user;
  std::set<std::string> sources, hops;
  for (const RequestJob& j : jobs_) {
    sources.insert(j.route.source.to_string());
    hops.insert(j.route.next_hop ? j.route.next_hop->to_string() : "on-link");
  }
  for (const std::string& name : interface_order_) {
    summary.interfaces.push_back(name);
    summary.kernel_drops += captures_[name]->dropped();
  }
  summary.sources.assign(sources.begin(), sources.end());
  summary.next_hops.assign(hops.begin(), hops.end());
  outcome_.report.probe = summary;
}

ProbeOutcome RequestRun::run(const std::function<void(const Identity&)>& before_drop) {
  plan();
  open();
  const Identity who = unprivileged_identity(options_.user);
  if (before_drop) before_drop(who);
  drop_privileges(who);

  // From here on, nothing privileged remains; packets are parsed only from here on.
  analyzer_.set_sees_both_directions(true);
  for (RequestJob& job : jobs_) {
    if (stopping()) break;
    probe_plain(job);
    if (!stopping() && sweep_wanted(job)) sweep(job);
  }
  pump(50 * ms_ns);
  analyzer_.set_listen_end(wall_clock_now());
  outcome_.report = results();
  outcome_.report.run.interrupted = interrupted_;
  fill_summary(who);
  return std::move(outcome_);
}

}  // namespace

ProbeOutcome run_request_probe(const ProbeOptions& options, const std::atomic<bool>& stop,
                               const std::function<void(const Identity&)>& before_drop) {
  if (options.targets.empty()) throw Failure(ExitCode::usage, "nothing to probe");
  if (options.requests.empty()) throw Failure(ExitCode::usage, "no request to send (--sni or --http-host)");
  RequestRun run(options, stop);
  return run.run(before_drop);
}

}  // namespace synprobe
