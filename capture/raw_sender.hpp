#pragma once
// Sends complete IP packets (headers built by the prober) through raw sockets. Every
// packet synprobe sends goes through RawSender::send, which enforces the send policy:
// refused destinations, the per-run packet cap and the rate limit (dissect/trace/send_policy.hpp).

#include <cstdint>
#include <optional>
#include <string>

#include "capture/clock.hpp"
#include "dissect/decode/byte_reader.hpp"
#include "dissect/decode/ip_address.hpp"
#include "dissect/trace/send_policy.hpp"

namespace synprobe {

class RawSender {
 public:
  // Opens the raw sockets for the families asked for (before privileges are dropped).
  // `device`, when given, binds them to that interface. Throws Failure(no_privilege)
  // without CAP_NET_RAW.
  RawSender(bool ipv4, bool ipv6, const std::optional<std::string>& device, SendLimits limits);
  ~RawSender();
  RawSender(const RawSender&) = delete;
  RawSender& operator=(const RawSender&) = delete;

  // Waits for the rate limit, then sends. Returns the time it left. Throws Failure(usage)
  // for a refused destination or when the packet cap is reached, Failure(network) when the
  // kernel refuses the packet.
  Timestamp send(const IpAddress& destination, Bytes ip_packet);
  // Nanoseconds until the rate limit lets the next packet go (0: now), so a caller can
  // read answers meanwhile instead of sleeping in send().
  [[nodiscard]] std::int64_t ready_in_ns() { return bucket_.wait_ns(wall_clock_now()); }

  [[nodiscard]] std::uint32_t sent() const { return sent_; }
  [[nodiscard]] const SendLimits& limits() const { return limits_; }

 private:
  int v4_ = -1;
  int v6_ = -1;
  SendLimits limits_;
  TokenBucket bucket_;
  std::uint32_t sent_ = 0;
};


}  // namespace synprobe
