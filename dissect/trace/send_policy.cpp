#include "dissect/trace/send_policy.hpp"

#include <algorithm>
#include <cmath>

namespace synprobe {

std::optional<std::string> refusal_reason(const IpAddress& d) {
  if (d.is_unspecified()) return d.to_string() + ": it is the unspecified address";
  if (d.is_limited_broadcast()) return d.to_string() + ": it is the broadcast address";
  if (d.is_multicast()) return d.to_string() + ": it is a multicast address";
  return std::nullopt;
}

std::uint32_t SendLimits::burst_for(double rate_pps) {
  return static_cast<std::uint32_t>(std::max(32.0, std::ceil(rate_pps / 50)));
}

TokenBucket::TokenBucket(double rate_pps, std::uint32_t burst)
    : rate_(std::max(rate_pps, 0.001)), burst_(std::max<double>(burst, 1)), tokens_(burst_) {}

void TokenBucket::refill(Timestamp now) {
  if (last_ && now > *last_) tokens_ = std::min(burst_, tokens_ + now.seconds_since(*last_) * rate_);
  if (!last_ || now > *last_) last_ = now;
}

std::int64_t TokenBucket::wait_ns(Timestamp now) {
  refill(now);
  if (tokens_ >= 1) return 0;
  return static_cast<std::int64_t>(std::ceil((1 - tokens_) / rate_ * 1e9));
}

double TokenBucket::available(Timestamp now) {
  refill(now);
  return tokens_;
}

void TokenBucket::take(Timestamp now) {
  refill(now);
  tokens_ -= 1;
}

}  // namespace synprobe
