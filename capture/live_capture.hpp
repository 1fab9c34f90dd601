#pragma once
// Live capture on one interface with libpcap: immediate mode, nanosecond timestamps,
// a BPF filter, non-blocking reads driven by poll(). Opened before the first probe leaves.

#include <memory>
#include <string>

#include "capture/raw_frame.hpp"

namespace synprobe {

class LiveCapture final : public PacketSource {
 public:
  // Throws Failure(no_privilege) without the right to capture, Failure(network) for a
  // missing or down interface, Failure(usage) for a filter libpcap refuses.
  LiveCapture(const std::string& interface, const std::string& filter);
  ~LiveCapture() override;
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;

  // Returns the next frame already captured, without waiting. Throws Failure(network) once
  // the interface went down or away (even if it is up again: packets were missed).
  bool next(RawFrame& out) override;
  // Waits up to `timeout_ms` for frames to arrive; false on timeout. Throws like next().
  bool wait(int timeout_ms);
  [[nodiscard]] std::uint16_t link_type() const { return link_type_; }
  [[nodiscard]] const std::string& interface() const { return interface_; }
  // Packets the kernel dropped because we were too slow (pcap_stats).
  [[nodiscard]] unsigned dropped() const;

 private:
  void fail_if_stopped(short revents) const;

  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::string interface_;
  std::uint16_t link_type_ = 0;
  int fd_ = -1;
};

}  // namespace synprobe
