#pragma once
// Live probing of the request stage (probe --sni NAME, --http-host NAME): who refuses a
// connection once it carries its request, and where (CenTrace's method, IPv4 and IPv6).
//
// For each target and each request:
//   1. a real connection of the kernel's (connect(), then the request written to it):
//      its packets, captured, are judged by the same request stage `analyze` uses;
//   2. when that request was refused (not answered), a sweep: fresh connections from one
//      source port (Paris-style: one flow), each handshake left to the kernel, and the
//      request sent beside it through a raw socket with TTL 1, 2, … up to the server's
//      distance; which TTL first draws the RST, or after which hop the copies vanish,
//      locates the device (dissect/trace/request_trace.hpp).
// The handshake is the kernel's own, so the kernel never resets a SYN/ACK it did not
// expect and no firewall rule has to hold its resets back: nothing to undo on any exit
// path. The kernel's socket never writes the copy's bytes itself; it discards the server's
// answer to them (they acknowledge data it never sent), which only the capture needs.
// Privileges as in prober.hpp: captures and raw sockets opened, then dropped, then the
// first packet sent and parsed.

#include "capture/prober.hpp"

namespace synprobe {

[[nodiscard]] ProbeOutcome run_request_probe(const ProbeOptions& options, const std::atomic<bool>& stop,
                                             const std::function<void(const Identity&)>& before_drop);

}  // namespace synprobe
