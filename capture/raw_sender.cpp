#include "raw_sender.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "capture/privileges.hpp"
#include "dissect/decode/error.hpp"

namespace synprobe {
namespace {

int open_raw(int family, const std::optional<std::string>& device) {
  // IPPROTO_RAW: we write the IP header ourselves (IPv4: IP_HDRINCL is implied;
  // IPv6 on Linux: likewise), and the socket receives nothing, so it parses nothing.
  const int fd = ::socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) {
    if (errno == EPERM || errno == EACCES) throw Failure(ExitCode::no_privilege, missing_privilege_message());
    throw Failure(ExitCode::network, fmt::format("cannot open a raw socket: {}", std::strerror(errno)));
  }
  if (device && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device->c_str(),
                             static_cast<socklen_t>(device->size())) != 0) {
    const int e = errno;
    ::close(fd);
    throw Failure(e == EPERM ? ExitCode::no_privilege : ExitCode::network,
                  fmt::format("cannot bind to interface {}: {}", *device, std::strerror(e)));
  }
  return fd;
}

}  // namespace

RawSender::RawSender(bool ipv4, bool ipv6, const std::optional<std::string>& device, SendLimits limits)
    : limits_(limits), bucket_(limits.rate_pps, limits.burst) {
  if (limits_.max_packets > SendLimits::hard_max_packets) limits_.max_packets = SendLimits::hard_max_packets;
  if (ipv4) v4_ = open_raw(AF_INET, device);
  try {
    if (ipv6) v6_ = open_raw(AF_INET6, device);
  } catch (...) {
    if (v4_ >= 0) ::close(v4_);
    throw;
  }
}

RawSender::~RawSender() {
  if (v4_ >= 0) ::close(v4_);
  if (v6_ >= 0) ::close(v6_);
}

Timestamp RawSender::send(const IpAddress& destination, Bytes ip_packet) {
  if (const auto why = refusal_reason(destination))
    throw Failure(ExitCode::usage, fmt::format("refusing to send to {}", *why));
  if (sent_ >= limits_.max_packets)
    throw Failure(ExitCode::usage, fmt::format("the run reached its cap of {} packets", limits_.max_packets));
  for (std::int64_t wait = bucket_.wait_ns(wall_clock_now()); wait > 0; wait = bucket_.wait_ns(wall_clock_now()))
    std::this_thread::sleep_for(std::chrono::nanoseconds(wait));

  sockaddr_storage to{};
  socklen_t to_length = 0;
  int fd = -1;
  if (destination.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&to);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, destination.bytes().data(), 4);
    to_length = sizeof(sockaddr_in);
    fd = v4_;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&to);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, destination.bytes().data(), 16);
    to_length = sizeof(sockaddr_in6);
    fd = v6_;
  }
  if (fd < 0) throw Failure(ExitCode::internal, "no raw socket open for this address family");
  const Timestamp now = wall_clock_now();
  if (::sendto(fd, ip_packet.data(), ip_packet.size(), 0, reinterpret_cast<sockaddr*>(&to), to_length) < 0)
    throw Failure(ExitCode::network,
                  fmt::format("sending to {} failed: {}", destination.to_string(), std::strerror(errno)));
  bucket_.take(now);
  ++sent_;
  return now;
}

}  // namespace synprobe
