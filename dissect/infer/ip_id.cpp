#include "dissect/infer/ip_id.hpp"

namespace synprobe {

std::string_view ip_id_behaviour_name(IpIdBehaviour b) {
  switch (b) {
    case IpIdBehaviour::unknown: return "unknown";
    case IpIdBehaviour::zero: return "zero";
    case IpIdBehaviour::constant: return "constant";
    case IpIdBehaviour::global_counter: return "global-counter";
    case IpIdBehaviour::per_flow_counter: return "per-flow-counter";
    case IpIdBehaviour::random: return "random";
  }
  return "unknown";
}

bool follows_counter(std::uint16_t previous, std::uint16_t candidate) {
  const auto step = static_cast<std::uint16_t>(candidate - previous);  // modulo 2^16
  return step >= 1 && step <= IpIdSampler::max_counter_step;
}

void IpIdSampler::add(Timestamp ts, std::uint16_t ip_id, std::uint32_t flow_tag) {
  ring_[count_ % capacity] = Sample{ts, ip_id, flow_tag};
  ++count_;
}

template <typename F>
void IpIdSampler::for_each(F&& f) const {
  const std::size_t n = size();
  const std::size_t start = count_ < capacity ? 0 : count_ % capacity;
  for (std::size_t i = 0; i < n; ++i) f(ring_[(start + i) % capacity]);
}

bool IpIdSampler::all_zero() const {
  bool zero = size() > 0;
  for_each([&](const Sample& s) { zero = zero && s.id == 0; });
  return zero;
}

// True when at least 80% of consecutive pairs (globally, or within each flow) step like a counter.
bool IpIdSampler::increments(bool within_flow) const {
  std::size_t pairs = 0, steps = 0;
  const std::size_t n = size();
  const std::size_t start = count_ < capacity ? 0 : count_ % capacity;
  for (std::size_t i = 0; i < n; ++i) {
    const Sample& later = ring_[(start + i) % capacity];
    // The previous sample: overall, or the previous one of the same flow.
    for (std::size_t back = i; back-- > 0;) {
      const Sample& earlier = ring_[(start + back) % capacity];
      if (within_flow && earlier.flow != later.flow) continue;
      ++pairs;
      if (follows_counter(earlier.id, later.id)) ++steps;
      break;
    }
  }
  return pairs >= 2 && steps * 5 >= pairs * 4;
}

IpIdBehaviour IpIdSampler::classify() const {
  if (size() < 2) return IpIdBehaviour::unknown;
  if (all_zero()) return IpIdBehaviour::zero;
  bool constant = true;
  std::uint16_t first = 0;
  bool have_first = false;
  for_each([&](const Sample& s) {
    if (!have_first) { first = s.id; have_first = true; }
    constant = constant && s.id == first;
  });
  if (constant) return IpIdBehaviour::constant;
  if (size() < 3) return IpIdBehaviour::unknown;
  if (increments(false)) return IpIdBehaviour::global_counter;
  if (increments(true)) return IpIdBehaviour::per_flow_counter;
  return IpIdBehaviour::random;
}

std::optional<std::uint16_t> IpIdSampler::latest_before(Timestamp ts) const {
  std::optional<std::uint16_t> found;
  for_each([&](const Sample& s) {
    if (s.ts <= ts) found = s.id;
  });
  return found;
}

}  // namespace synprobe
