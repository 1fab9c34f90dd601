#include "live_capture.hpp"

#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "capture/privileges.hpp"
#include "dissect/decode/error.hpp"

namespace synprobe {

struct LiveCapture::Handle {
  pcap_t* pcap = nullptr;
  bpf_program program{};
  bool has_program = false;
  ~Handle() {
    if (has_program) pcap_freecode(&program);
    if (pcap) pcap_close(pcap);
  }
};

LiveCapture::LiveCapture(const std::string& interface, const std::string& filter)
    : handle_(std::make_unique<Handle>()), interface_(interface) {
  // Only a kernel network interface. libpcap also opens pseudo-devices by name, and its
  // D-Bus ones ("dbus-session", "dbus-system") connect wherever DBUS_SESSION_BUS_ADDRESS
  // says, "unixexec:path=PROGRAM" included: a program chosen by the environment, run as
  // root, before privileges are dropped (docs/HARDENING.md, the audit).
  if (::if_nametoindex(interface.c_str()) == 0)
    throw Failure(ExitCode::network, fmt::format("no interface named {}", interface));
  char error[PCAP_ERRBUF_SIZE] = {};
  handle_->pcap = pcap_create(interface.c_str(), error);
  if (!handle_->pcap) throw Failure(ExitCode::network, fmt::format("capture on {}: {}", interface, error));
  pcap_t* p = handle_->pcap;
  // Enough for any answer: our SYNs are small, and an ICMP error quotes at most 576 bytes
  // (IPv4, RFC 1812) or 1280 (IPv6, RFC 4443) of what it answers. A small snaplen keeps the
  // ring's frames small, and a large buffer gives it thousands of them: with libpcap's
  // default (256 KiB snaplen, 2 MiB) the ring held 32 frames, and a burst of answers to
  // thousands of SYNs was lost (kernel_drops) and read as drops.
  pcap_set_snaplen(p, 2048);
  pcap_set_buffer_size(p, 32 << 20);
  pcap_set_promisc(p, 0);
  pcap_set_immediate_mode(p, 1);
  pcap_set_timeout(p, 10);
  pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
  const int status = pcap_activate(p);
  if (status < 0) {
    const std::string why = pcap_geterr(p);
    if (status == PCAP_ERROR_PERM_DENIED) throw Failure(ExitCode::no_privilege, missing_privilege_message());
    if (status == PCAP_ERROR_NO_SUCH_DEVICE)
      throw Failure(ExitCode::network, fmt::format("no interface named {}", interface));
    if (status == PCAP_ERROR_IFACE_NOT_UP)
      throw Failure(ExitCode::network, fmt::format("interface {} is down", interface));
    throw Failure(ExitCode::network, fmt::format("capture on {}: {}", interface, why));
  }
  link_type_ = static_cast<std::uint16_t>(pcap_datalink(p));
  if (pcap_compile(p, &handle_->program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    throw Failure(ExitCode::usage, fmt::format("capture filter '{}': {}", filter, pcap_geterr(p)));
  handle_->has_program = true;
  if (pcap_setfilter(p, &handle_->program) != 0)
    throw Failure(ExitCode::network, fmt::format("capture filter on {}: {}", interface, pcap_geterr(p)));
  if (pcap_setnonblock(p, 1, error) != 0)
    throw Failure(ExitCode::network, fmt::format("capture on {}: {}", interface, error));
  fd_ = pcap_get_selectable_fd(p);
}

LiveCapture::~LiveCapture() = default;

bool LiveCapture::next(RawFrame& out) {
  // An interface taken down (even if up again since: packets were missed) or deleted must
  // end the run, not leave it deaf until its timeout, calling every unanswered SYN
  // "dropped". The packet socket raises POLLERR (ENETDOWN), but libpcap's non-blocking
  // read consumes that error and, while the interface still exists, only remembers it as
  // a "required select timeout"; so look first, and ask libpcap after.
  if (fd_ >= 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) fail_if_stopped(p.revents);
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int got = pcap_next_ex(handle_->pcap, &header, &data);
  if (got < 0)
    throw Failure(ExitCode::network, fmt::format("capture on {} failed: {}", interface_, pcap_geterr(handle_->pcap)));
  if (got != 1) {
    if (pcap_get_required_select_timeout(handle_->pcap) != nullptr) fail_if_stopped(POLLERR);
    return false;
  }
  out.ts = Timestamp{static_cast<std::int64_t>(header->ts.tv_sec) * 1'000'000'000 + header->ts.tv_usec};
  out.link_type = link_type_;
  out.interface_id = 0;
  out.wire_length = header->len;
  out.data = Bytes(data, header->caplen);
  return true;
}

bool LiveCapture::wait(int timeout_ms) {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, timeout_ms);
  if (ready < 0 && errno != EINTR)
    throw Failure(ExitCode::network, fmt::format("waiting for packets on {}: {}", interface_, std::strerror(errno)));
  if (ready > 0) fail_if_stopped(p.revents);
  return ready > 0;
}

// The packet socket reports an interface taken down (ENETDOWN) or deleted as POLLERR /
// POLLHUP; what was captured so far cannot be judged as if the capture had gone on.
void LiveCapture::fail_if_stopped(short revents) const {
  if (!(revents & (POLLERR | POLLHUP | POLLNVAL))) return;
  const bool gone = ::if_nametoindex(interface_.c_str()) == 0;
  throw Failure(ExitCode::network, fmt::format("capture on {} stopped: the interface {} during the run", interface_,
                                               gone ? "disappeared" : "went down"));
}

unsigned LiveCapture::dropped() const {
  pcap_stat stats{};
  if (pcap_stats(handle_->pcap, &stats) != 0) return 0;
  return stats.ps_drop;
}

}  // namespace synprobe
