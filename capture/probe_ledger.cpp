#include "probe_ledger.hpp"

#include <algorithm>
#include <fstream>

#include "capture/probe_builder.hpp"

namespace synprobe {
namespace {

std::uint16_t random_ephemeral_port(std::mt19937_64& rng) {
  unsigned low = 32768, high = 60999;  // Linux defaults
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned a = 0, b = 0;
  if (range >> a >> b && a >= 1024 && b > a && b <= 65535) { low = a; high = b; }
  return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(low, high)(rng));
}

}  // namespace

void ProbeLedger::choose_source_port(std::optional<std::uint16_t> chosen) {
  source_port_ = chosen.value_or(random_ephemeral_port(rng_));
}

// A fresh random ISN per SYN, never one already used in this run: the ISN is what tells
// the probes apart.
PlannedProbe& ProbeLedger::add(const IpAddress& source, const IpAddress& destination, std::uint16_t port,
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

void ProbeLedger::enqueue(const std::vector<PlannedProbe*>& probes) {
  const auto earlier = [](const PlannedProbe* a, const PlannedProbe* b) { return a->not_before < b->not_before; };
  for (std::deque<PlannedProbe*>* queue : {&trace_queue_, &queue_}) {
    const bool traces = queue == &trace_queue_;
    const std::size_t before = queue->size();
    for (PlannedProbe* p : probes)
      if (is_ttl_limited(*p) == traces) queue->push_back(p);
    if (queue->size() != before) std::stable_sort(queue->begin(), queue->end(), earlier);
  }
}

bool ProbeLedger::room_for(std::size_t packets) const { return probes_.size() + packets <= max_packets_; }

PlannedProbe* ProbeLedger::find(std::uint32_t isn) const {
  const auto it = by_isn_.find(isn);
  return it == by_isn_.end() ? nullptr : it->second;
}

void ProbeLedger::note_answer(PlannedProbe& probe, Timestamp at) {
  probe.answered_at = at;
  if (probe.sent_at) slowest_answer_s_ = std::max(slowest_answer_s_, at.seconds_since(*probe.sent_at));
}

}  // namespace synprobe
