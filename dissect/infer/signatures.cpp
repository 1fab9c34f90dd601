#include "dissect/infer/signatures.hpp"

#include <array>

namespace synprobe {
namespace {

bool is_reset(const Answer& a) { return a.kind == AnswerKind::reset; }
bool no_options(const Answer& a) { return a.options.kind_count == 0; }
bool ipv4(const Answer& a) { return a.has_ip_id; }

// Field notes (field-notes.md), checked in the lab: Linux's stack (tcp_v4_send_reset) and
// its REJECT target (nf_send_reset) both answer a SYN with RST/ACK, seq 0, window 0, no
// options, DF and IP-ID 0 on IPv4; only the TTL's origin (and the TOS) tells them apart.
constexpr std::array table{
    RefusalSignature{"bare-rst",
                     "a RST without ACK: no stack answers a SYN so; injectors and censors do (the client ignores it)",
                     [](const Answer& a) { return is_reset(a) && !(a.tcp_flags & tcp_flag::ack); }},
    RefusalSignature{"rst-with-window",
                     "a RST with a non-zero window (8192, 16384… are injector tells): stacks send window 0",
                     [](const Answer& a) { return is_reset(a) && a.window != 0; }},
    RefusalSignature{"crafted-rst",
                     "an IPv4 RST without DF and with a non-zero IP-ID: built by a raw-socket tool, not by a Linux stack",
                     [](const Answer& a) { return is_reset(a) && ipv4(a) && !a.dont_fragment && a.ip_id != 0; }},
    RefusalSignature{"linux-rst",
                     "Linux stack RST or iptables/nftables REJECT --reject-with tcp-reset: RST/ACK, seq 0, window 0, "
                     "no options, DF and IP-ID 0 (IPv4), initial TTL 64",
                     [](const Answer& a) {
                       return is_reset(a) && (a.tcp_flags & tcp_flag::ack) && a.seq == 0 && a.window == 0 &&
                              no_options(a) && a.ttl.initial == 64 && (!ipv4(a) || (a.dont_fragment && a.ip_id == 0));
                     }},
    RefusalSignature{"windows-rst", "Windows stack RST: RST/ACK, window 0, no options, initial TTL 128",
                     [](const Answer& a) {
                       return is_reset(a) && (a.tcp_flags & tcp_flag::ack) && a.window == 0 && no_options(a) &&
                              a.ttl.initial == 128;
                     }},
    RefusalSignature{"network-gear-rst", "a RST with initial TTL 255: made by a router or firewall, not a host stack",
                     [](const Answer& a) { return is_reset(a) && a.ttl.initial == 255; }},
    RefusalSignature{"network-gear-icmp", "an ICMP error with initial TTL 255: a router or firewall (Cisco, Juniper, "
                                          "Linux set to 255)",
                     [](const Answer& a) { return a.kind == AnswerKind::icmp_error && a.ttl.initial == 255; }},
    RefusalSignature{"linux-icmp", "an ICMP error with initial TTL 64: a Linux/BSD host or router (REJECT "
                                   "--reject-with icmp-*, or the stack)",
                     [](const Answer& a) { return a.kind == AnswerKind::icmp_error && a.ttl.initial == 64; }},
};

}  // namespace

std::span<const RefusalSignature> signature_table() { return table; }

const RefusalSignature* match_signature(const Answer& answer) {
  for (const RefusalSignature& s : table)
    if (s.matches(answer)) return &s;
  return nullptr;
}

}  // namespace synprobe
