// splab-injector: the lab's on-path RST injector (tests/lab, scenario port 95).
//
// It plays a censor / IPS that sees a copy of the traffic but cannot stop it:
// it sniffs client SYNs to one port on a router's client-facing interface and,
// for each one, races the server with a forged RST|ACK that claims to come
// from the server:
//
//   src = the SYN's destination (the server), dst = the SYN's source (the client)
//   TCP flags RST|ACK, seq 0, ack = ISN + 1, window 0, no options
//   IPv4: TTL 64, DF clear, IP-ID = libtins' default (1)
//   IPv6: hop limit 64, flow label 0
//
// It is sent through a raw IP socket (libtins PacketSender), so the router's
// kernel routes it like any locally generated packet: it is NOT decremented on
// the injecting router and arrives at the client one hop further down.
//
// Safety: it only ever answers SYNs that it sees on the one interface it is
// given, it stops after --seconds (<= 600) and after --count injections
// (<= 1000), whichever comes first, and on SIGINT/SIGTERM. Run it only inside
// a lab network namespace (tests/lab/lab.sh does).
//
// Request mode (--request STRING, issue 14: refusals after the handshake): it plays
// a censor that reads the request instead of the SYN. It sniffs the client's data
// segments to the port and, for each one whose payload holds STRING (an HTTP Host
// header, a TLS server name), races the server's reply with a forged RST|ACK in
// the server's name, without dropping the request (it cannot: it only sees a copy):
//
//   src = the server, dst = the client, ports swapped
//   TCP flags RST|ACK, seq = the request's ack field (the client's rcv_nxt, so the
//   client accepts it), ack = the request's seq + its payload length, window 0
//   IPv4: TTL 64, DF clear, IP-ID 1; IPv6: hop limit 64
//
// The request still reaches the server, whose reply arrives after the reset (the
// client, already reset, answers it with a bare RST).
//
// Usage: splab-injector --iface IF [--port N] [--seconds N] [--count N] [--request STRING]
// On start it prints "splab-injector: ready ..." once the capture filter is
// installed, then one line per injected RST.

#include <pcap/pcap.h>

#include <poll.h>
#include <signal.h>

#include <tins/ethernetII.h>
#include <tins/exceptions.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/packet_sender.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

constexpr long max_seconds = 600;
constexpr long max_count = 1000;
constexpr std::uint8_t forged_ttl = 64;

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void on_signal(int /*signo*/) { stop_requested = 1; }

struct Options {
    std::string iface;
    std::uint16_t port = 95;
    long seconds = 30;
    long count = 20;
    std::string request;  // non-empty: request mode (answer data holding this string)
};

constexpr std::size_t max_request_match = 64;

void usage(std::ostream& out) {
    out << "usage: splab-injector --iface IF [--port N] [--seconds N] [--count N] [--request S]\n"
           "  --iface IF    interface to sniff client SYNs on (required)\n"
           "  --port N      TCP destination port to attack (default 95)\n"
           "  --seconds N   stop after N seconds, 1.." << max_seconds << " (default 30)\n"
           "  --count N     stop after N injected resets, 1.." << max_count << " (default 20)\n"
           "  --request S   answer the client's data segments whose payload holds S (1.."
        << max_request_match << " printable ASCII characters, e.g. \"Host: name\")\n"
           "                instead of its SYNs: RST|ACK with seq = their ack, ack = their end\n";
}

std::optional<long> parse_number(std::string_view text, long lo, long hi) {
    if (text.empty() || text.size() > 9) {
        return std::nullopt;
    }
    long value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    if (value < lo || value > hi) {
        return std::nullopt;
    }
    return value;
}

std::optional<Options> parse_args(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            usage(std::cout);
            std::exit(0);
        }
        if (i + 1 >= argc) {
            std::cerr << "splab-injector: " << arg << " needs a value\n";
            return std::nullopt;
        }
        const std::string_view value = argv[++i];
        if (arg == "--iface") {
            opt.iface = std::string(value);
        } else if (arg == "--port") {
            const auto v = parse_number(value, 1, 65535);
            if (!v) {
                std::cerr << "splab-injector: bad --port\n";
                return std::nullopt;
            }
            opt.port = static_cast<std::uint16_t>(*v);
        } else if (arg == "--seconds") {
            const auto v = parse_number(value, 1, max_seconds);
            if (!v) {
                std::cerr << "splab-injector: --seconds must be 1.." << max_seconds << "\n";
                return std::nullopt;
            }
            opt.seconds = *v;
        } else if (arg == "--count") {
            const auto v = parse_number(value, 1, max_count);
            if (!v) {
                std::cerr << "splab-injector: --count must be 1.." << max_count << "\n";
                return std::nullopt;
            }
            opt.count = *v;
        } else if (arg == "--request") {
            const bool printable = std::all_of(value.begin(), value.end(),
                                               [](char c) { return c >= ' ' && c < 0x7f; });
            if (value.empty() || value.size() > max_request_match || !printable) {
                std::cerr << "splab-injector: --request must be 1.." << max_request_match
                          << " printable characters\n";
                return std::nullopt;
            }
            opt.request = std::string(value);
        } else {
            std::cerr << "splab-injector: unknown option " << arg << "\n";
            return std::nullopt;
        }
    }
    if (opt.iface.empty()) {
        std::cerr << "splab-injector: --iface is required\n";
        return std::nullopt;
    }
    return opt;
}

// Builds the forged RST|ACK for one SYN: addresses and ports swapped,
// seq 0, ack = ISN + 1, window 0 (what a Linux stack or REJECT would send).
Tins::TCP forged_rst(const Tins::TCP& syn) {
    Tins::TCP rst(syn.sport(), syn.dport());  // TCP(dport, sport)
    rst.flags(Tins::TCP::RST | Tins::TCP::ACK);
    rst.seq(0);
    rst.ack_seq(syn.seq() + 1U);
    rst.window(0);
    return rst;
}

// Builds the forged RST|ACK for one request segment: addresses and ports swapped,
// seq = the request's ack field (what the client expects next from the server),
// ack = the end of the request, window 0.
Tins::TCP forged_request_rst(const Tins::TCP& request, std::uint32_t payload) {
    Tins::TCP rst(request.sport(), request.dport());  // TCP(dport, sport)
    rst.flags(Tins::TCP::RST | Tins::TCP::ACK);
    rst.seq(request.ack_seq());
    rst.ack_seq(request.seq() + payload);
    rst.window(0);
    return rst;
}

// The TCP payload of a parsed segment (libtins keeps it as the TCP layer's RawPDU).
std::string_view payload_of(const Tins::TCP& tcp) {
    const auto* raw = tcp.find_pdu<Tins::RawPDU>();
    if (raw == nullptr) {
        return {};
    }
    const auto& bytes = raw->payload();
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

class Injector {
public:
    explicit Injector(const Options& opt) : opt_(opt) {}

    // Parses one captured frame; injects if it is a SYN (the BPF filter already
    // selected SYN-only segments to our port, this re-checks defensively).
    void handle(const std::uint8_t* data, std::uint32_t len) {
        try {
            Tins::EthernetII frame(data, len);
            const auto* tcp = frame.find_pdu<Tins::TCP>();
            if (tcp == nullptr || tcp->dport() != opt_.port) {
                return;
            }
            if (!opt_.request.empty()) {
                handle_request(frame, *tcp);
                return;
            }
            if (tcp->flags() != Tins::TCP::SYN) {
                return;
            }
            if (const auto* ip = frame.find_pdu<Tins::IP>()) {
                Tins::IP out(ip->src_addr(), ip->dst_addr());  // IP(dst, src): spoof the server
                out.ttl(forged_ttl);
                Tins::IP packet = out / forged_rst(*tcp);
                sender_.send(packet);
                report(ip->dst_addr().to_string(), ip->src_addr().to_string(), *tcp);
            } else if (const auto* ip6 = frame.find_pdu<Tins::IPv6>()) {
                Tins::IPv6 out(ip6->src_addr(), ip6->dst_addr());  // IPv6(dst, src)
                out.hop_limit(forged_ttl);
                Tins::IPv6 packet = out / forged_rst(*tcp);
                sender_.send(packet);
                report(ip6->dst_addr().to_string(), ip6->src_addr().to_string(), *tcp);
            }
        } catch (const Tins::malformed_packet&) {
            // Not something we can answer; ignore it.
        } catch (const Tins::socket_write_error& e) {
            std::cerr << "splab-injector: send failed: " << e.what() << "\n";
        }
    }

    [[nodiscard]] long injected() const { return injected_; }

private:
    // Request mode: a data segment of an established connection (ACK set, no SYN,
    // RST or FIN-only) whose payload holds the string.
    void handle_request(const Tins::EthernetII& frame, const Tins::TCP& tcp) {
        const auto flags = tcp.flags();
        if ((flags & Tins::TCP::ACK) == 0 || (flags & (Tins::TCP::SYN | Tins::TCP::RST)) != 0) {
            return;
        }
        const std::string_view payload = payload_of(tcp);
        if (payload.empty() || payload.find(opt_.request) == std::string_view::npos) {
            return;
        }
        const auto length = static_cast<std::uint32_t>(payload.size());
        if (const auto* ip = frame.find_pdu<Tins::IP>()) {
            Tins::IP out(ip->src_addr(), ip->dst_addr());  // IP(dst, src): spoof the server
            out.ttl(forged_ttl);
            Tins::IP packet = out / forged_request_rst(tcp, length);
            sender_.send(packet);
            report_request(ip->dst_addr().to_string(), ip->src_addr().to_string(), tcp, length);
        } else if (const auto* ip6 = frame.find_pdu<Tins::IPv6>()) {
            Tins::IPv6 out(ip6->src_addr(), ip6->dst_addr());  // IPv6(dst, src)
            out.hop_limit(forged_ttl);
            Tins::IPv6 packet = out / forged_request_rst(tcp, length);
            sender_.send(packet);
            report_request(ip6->dst_addr().to_string(), ip6->src_addr().to_string(), tcp, length);
        }
    }

    void report_request(const std::string& from, const std::string& to, const Tins::TCP& request,
                        std::uint32_t length) {
        ++injected_;
        std::cout << "splab-injector: injected RST|ACK " << from << "." << request.dport() << " > "
                  << to << "." << request.sport() << " seq " << request.ack_seq() << " ack "
                  << (request.seq() + length) << " after a " << length << "-byte request holding \""
                  << opt_.request << "\" ttl " << static_cast<unsigned>(forged_ttl) << "\n"
                  << std::flush;
    }

    void report(const std::string& from, const std::string& to, const Tins::TCP& syn) {
        ++injected_;
        std::cout << "splab-injector: injected RST|ACK " << from << "." << syn.dport() << " > "
                  << to << "." << syn.sport() << " ack " << (syn.seq() + 1U) << " ttl "
                  << static_cast<unsigned>(forged_ttl) << "\n"
                  << std::flush;
    }

    const Options& opt_;
    Tins::PacketSender sender_;
    long injected_ = 0;
};

extern "C" void on_packet(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
    auto* injector = reinterpret_cast<Injector*>(user);
    injector->handle(bytes, header->caplen);
}

class PcapHandle {
public:
    explicit PcapHandle(pcap_t* p) : p_(p) {}
    PcapHandle(const PcapHandle&) = delete;
    PcapHandle& operator=(const PcapHandle&) = delete;
    ~PcapHandle() {
        if (p_ != nullptr) {
            pcap_close(p_);
        }
    }
    [[nodiscard]] pcap_t* get() const { return p_; }

private:
    pcap_t* p_;
};

int run(const Options& opt) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    PcapHandle handle(pcap_create(opt.iface.c_str(), errbuf));
    pcap_t* p = handle.get();
    if (p == nullptr) {
        std::cerr << "splab-injector: pcap_create: " << errbuf << "\n";
        return 1;
    }
    // Request mode reads the payload: whole frames (the lab's MTU is 1500).
    pcap_set_snaplen(p, opt.request.empty() ? 256 : 2048);
    pcap_set_promisc(p, 0);
    pcap_set_immediate_mode(p, 1);
    pcap_set_timeout(p, 50);
    if (pcap_activate(p) < 0) {
        std::cerr << "splab-injector: pcap_activate: " << pcap_geterr(p) << "\n";
        return 1;
    }
    if (pcap_datalink(p) != DLT_EN10MB) {
        std::cerr << "splab-injector: " << opt.iface << " is not an Ethernet interface\n";
        return 1;
    }
    // Only frames arriving from the client side; the forged RSTs we send leave
    // through the same interface and must not be seen again.
    if (pcap_setdirection(p, PCAP_D_IN) != 0) {
        std::cerr << "splab-injector: pcap_setdirection: " << pcap_geterr(p) << "\n";
        return 1;
    }
    // tcp[tcpflags] only works for IPv4 in libpcap; for IPv6 read the flags at
    // a fixed offset (40-byte header, next header TCP, no extension headers).
    // Request mode: every TCP segment to the port (IPv6 without extension headers);
    // handle_request() picks the data segments that hold the string.
    const std::string port = std::to_string(opt.port);
    const std::string filter =
        opt.request.empty()
            ? "(ip and tcp[tcpflags] == tcp-syn and dst port " + port +
                  ") or (ip6 and ip6[6] == 6 and ip6[53] == 0x02 and dst port " + port + ")"
            : "(ip and tcp dst port " + port + ") or (ip6 and ip6[6] == 6 and tcp dst port " +
                  port + ")";
    bpf_program program{};
    if (pcap_compile(p, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        std::cerr << "splab-injector: pcap_compile: " << pcap_geterr(p) << "\n";
        return 1;
    }
    const int set = pcap_setfilter(p, &program);
    pcap_freecode(&program);
    if (set != 0) {
        std::cerr << "splab-injector: pcap_setfilter: " << pcap_geterr(p) << "\n";
        return 1;
    }
    if (pcap_setnonblock(p, 1, errbuf) != 0) {
        std::cerr << "splab-injector: pcap_setnonblock: " << errbuf << "\n";
        return 1;
    }
    const int fd = pcap_get_selectable_fd(p);
    if (fd < 0) {
        std::cerr << "splab-injector: no selectable fd\n";
        return 1;
    }

    Injector injector(opt);
    std::cout << "splab-injector: ready on " << opt.iface << " filter \"" << filter
              << "\" for " << opt.seconds << " s, at most " << opt.count << " resets\n"
              << std::flush;

    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::seconds(opt.seconds);
    while (stop_requested == 0 && injector.injected() < opt.count) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd pfd{fd, POLLIN, 0};
        const auto wait_ms = std::min<long long>(left.count(), 200);
        const int ready = poll(&pfd, 1, static_cast<int>(wait_ms));
        if (ready < 0) {
            continue;  // EINTR: the loop condition re-checks stop_requested
        }
        // In SYN mode every captured frame is an injection; in request mode most are
        // not (handshake ACKs, other requests): read what is there, one at a time.
        const auto budget = opt.request.empty() ? opt.count - injector.injected() : 1;
        const int n = pcap_dispatch(p, static_cast<int>(budget), on_packet,
                                    reinterpret_cast<u_char*>(&injector));
        if (n == PCAP_ERROR) {
            std::cerr << "splab-injector: pcap_dispatch: " << pcap_geterr(p) << "\n";
            return 1;
        }
    }
    std::cout << "splab-injector: done, " << injector.injected() << " reset(s) injected\n"
              << std::flush;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const auto opt = parse_args(argc, argv);
    if (!opt) {
        usage(std::cerr);
        return 2;
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    try {
        return run(*opt);
    } catch (const std::exception& e) {
        std::cerr << "splab-injector: " << e.what() << "\n";
        return 1;
    }
}
