// splab-delay: the lab's link-delay shim (tests/lab; this kernel has no sch_netem).
//
// It runs inside one router namespace of the lab, takes packets from one or
// more NFQUEUE queues (iptables/ip6tables -t mangle ... -j NFQUEUE) and gives
// each packet back to the kernel unchanged (NF_ACCEPT) a fixed delay after it
// arrived, one fixed delay per queue. Within a queue the delay is the same for
// every packet, so the order is kept: packets leave in the order they came.
//
// tests/lab/lab.sh starts one per router and queues, on each link a router
// owns, everything that crosses that link in either direction (see README.md,
// "Link delays").
//
// Bounded: at most --max-pending packets wait per queue (the kernel's queue is
// set to the same length and drops beyond it, as a full buffer would); the
// process stops after --seconds, and on SIGINT/SIGTERM. On the way out every
// packet still waiting is accepted at once, so nothing in flight is lost.
//
// Usage: splab-delay --queue NUM:MS [--queue NUM:MS]... [--seconds N] [--max-pending N]
//                    [--rt-priority N]
// Prints "splab-delay: ready ..." once every queue is bound, and a summary
// line per queue when it stops.

// glibc's <netinet/in.h> (via <arpa/inet.h>) must come before any <linux/in.h>
// that <linux/netfilter.h> pulls in, or both define the same structs.
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>
#include <linux/netfilter.h>  // NF_ACCEPT

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr long max_seconds = 86400;
constexpr long max_delay_ms = 1000;
constexpr long max_pending_limit = 65536;
constexpr std::size_t max_queues = 8;

volatile sig_atomic_t stop_requested = 0;

extern "C" void on_signal(int /*signo*/) { stop_requested = 1; }

// Monotonic time in nanoseconds.
std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct QueueSpec {
    std::uint16_t num = 0;
    long delay_ms = 0;
};

struct Options {
    std::vector<QueueSpec> queues;
    long seconds = 600;
    long max_pending = 1024;
    int rt_priority = 0;
};

void usage(std::ostream& out) {
    out << "usage: splab-delay --queue NUM:MS [--queue NUM:MS]... [--seconds N] [--max-pending N]\n"
           "                   [--rt-priority N]\n"
           "  --queue NUM:MS    NFQUEUE number 0..65535 and its delay in ms, 0.." << max_delay_ms
        << "\n"
           "                    (repeatable, at most " << max_queues << " queues)\n"
           "  --seconds N       stop after N seconds, 1.." << max_seconds << " (default 600)\n"
           "  --max-pending N   packets waiting per queue, 1.." << max_pending_limit
        << " (default 1024);\n"
           "                    the kernel drops beyond that, like a full buffer\n"
           "  --rt-priority N   run SCHED_FIFO at priority 1..20 (default 0: normal), so that\n"
           "                    a busy machine delays the packets less; falls back to normal\n";
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

std::optional<QueueSpec> parse_queue(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    const auto num = parse_number(text.substr(0, colon), 0, 65535);
    const auto ms = parse_number(text.substr(colon + 1), 0, max_delay_ms);
    if (!num || !ms) {
        return std::nullopt;
    }
    return QueueSpec{static_cast<std::uint16_t>(*num), *ms};
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
            std::cerr << "splab-delay: " << arg << " needs a value\n";
            return std::nullopt;
        }
        const std::string_view value = argv[++i];
        if (arg == "--queue") {
            const auto q = parse_queue(value);
            if (!q) {
                std::cerr << "splab-delay: --queue wants NUM:MS (0..65535 : 0.." << max_delay_ms
                          << ")\n";
                return std::nullopt;
            }
            const bool dup = std::any_of(opt.queues.begin(), opt.queues.end(),
                                         [&](const QueueSpec& s) { return s.num == q->num; });
            if (dup || opt.queues.size() >= max_queues) {
                std::cerr << "splab-delay: duplicate queue or more than " << max_queues
                          << " queues\n";
                return std::nullopt;
            }
            opt.queues.push_back(*q);
        } else if (arg == "--seconds") {
            const auto v = parse_number(value, 1, max_seconds);
            if (!v) {
                std::cerr << "splab-delay: --seconds must be 1.." << max_seconds << "\n";
                return std::nullopt;
            }
            opt.seconds = *v;
        } else if (arg == "--rt-priority") {
            const auto v = parse_number(value, 0, 20);
            if (!v) {
                std::cerr << "splab-delay: --rt-priority must be 0..20\n";
                return std::nullopt;
            }
            opt.rt_priority = static_cast<int>(*v);
        } else if (arg == "--max-pending") {
            const auto v = parse_number(value, 1, max_pending_limit);
            if (!v) {
                std::cerr << "splab-delay: --max-pending must be 1.." << max_pending_limit << "\n";
                return std::nullopt;
            }
            opt.max_pending = *v;
        } else {
            std::cerr << "splab-delay: unknown option " << arg << "\n";
            return std::nullopt;
        }
    }
    if (opt.queues.empty()) {
        std::cerr << "splab-delay: at least one --queue is required\n";
        return std::nullopt;
    }
    return opt;
}

// One NFQUEUE queue and the packets waiting in it, oldest first.
struct Queue {
    struct Held {
        std::uint32_t id;
        std::int64_t due_ns;
    };

    QueueSpec spec;
    std::size_t max_pending = 0;
    nfq_q_handle* handle = nullptr;
    std::deque<Held> held;
    // Statistics for the summary line.
    std::uint64_t packets = 0;
    std::uint64_t overflow = 0;
    std::size_t peak = 0;
    std::int64_t worst_late_ns = 0;
    std::int64_t total_late_ns = 0;
    std::uint64_t released = 0;

    [[nodiscard]] std::int64_t delay_ns() const { return spec.delay_ms * 1'000'000; }

    void accept(std::uint32_t id) const {
        if (nfq_set_verdict(handle, id, NF_ACCEPT, 0, nullptr) < 0) {
            std::cerr << "splab-delay: queue " << spec.num << ": verdict for packet " << id
                      << " failed: " << std::strerror(errno) << "\n";
        }
    }

    // Gives back every packet whose time has come; all of them if `all`.
    void release(std::int64_t now, bool all) {
        while (!held.empty() && (all || held.front().due_ns <= now)) {
            if (!all) {
                const std::int64_t late = now - held.front().due_ns;
                worst_late_ns = std::max(worst_late_ns, late);
                total_late_ns += late;
                ++released;
            }
            accept(held.front().id);
            held.pop_front();
        }
    }
};

extern "C" int on_packet(nfq_q_handle* /*qh*/, nfgenmsg* /*msg*/, nfq_data* nfa, void* data) {
    auto* queue = static_cast<Queue*>(data);
    const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(nfa);
    if (header == nullptr) {
        return 0;
    }
    const std::uint32_t id = ntohl(header->packet_id);
    ++queue->packets;
    if (queue->held.size() >= queue->max_pending) {
        // Cannot happen while the kernel's queue length equals ours; if it
        // does, let the packet through rather than hold more than the bound.
        ++queue->overflow;
        queue->accept(id);
        return 0;
    }
    queue->held.push_back({id, now_ns() + queue->delay_ns()});
    queue->peak = std::max(queue->peak, queue->held.size());
    return 0;
}

struct NfqCloser {
    void operator()(nfq_handle* h) const { nfq_close(h); }
};

int run(const Options& opt) {
    std::unique_ptr<nfq_handle, NfqCloser> nfq(nfq_open());
    if (!nfq) {
        std::cerr << "splab-delay: nfq_open: " << std::strerror(errno) << "\n";
        return 1;
    }
    // Room for bursts: the lab's traffic is small, but a full socket buffer
    // would make the kernel drop queued packets (ENOBUFS).
    nfnl_rcvbufsiz(nfq_nfnlh(nfq.get()), 4U * 1024U * 1024U);

    std::vector<std::unique_ptr<Queue>> queues;
    for (const auto& spec : opt.queues) {
        auto q = std::make_unique<Queue>();
        q->spec = spec;
        q->max_pending = static_cast<std::size_t>(opt.max_pending);
        q->handle = nfq_create_queue(nfq.get(), spec.num, on_packet, q.get());
        if (q->handle == nullptr) {
            std::cerr << "splab-delay: cannot bind queue " << spec.num << ": "
                      << std::strerror(errno) << " (another process on it? root?)\n";
            return 1;
        }
        // Metadata only: the packet is given back unchanged, its bytes are not needed.
        if (nfq_set_mode(q->handle, NFQNL_COPY_META, 0) < 0 ||
            nfq_set_queue_maxlen(q->handle, static_cast<std::uint32_t>(opt.max_pending)) < 0) {
            std::cerr << "splab-delay: cannot configure queue " << spec.num << "\n";
            return 1;
        }
        queues.push_back(std::move(q));
    }
    const int fd = nfq_fd(nfq.get());
    // Wake up on time: the default timer slack (50 us) would add to every delay.
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    // The loop always sleeps in ppoll between packets, so a real-time priority
    // only makes the wake-ups punctual (and the kernel's RT throttling bounds it).
    bool realtime = false;
    if (opt.rt_priority > 0) {
        sched_param param{};
        param.sched_priority = opt.rt_priority;
        realtime = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0;
        if (!realtime) {
            std::cerr << "splab-delay: SCHED_FIFO refused (" << std::strerror(errno)
                      << "), running at normal priority\n";
        }
    }

    // Signals are blocked except inside ppoll, so a SIGTERM is never missed
    // between the check of stop_requested and the wait.
    sigset_t blocked;
    sigset_t waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);

    std::cout << "splab-delay: ready,";
    for (const auto& q : queues) {
        std::cout << " queue " << q->spec.num << " " << q->spec.delay_ms << " ms";
    }
    std::cout << ", for " << opt.seconds << " s, at most " << opt.max_pending
              << " packets waiting per queue" << (realtime ? ", SCHED_FIFO" : "") << "\n"
              << std::flush;

    const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(opt.seconds) * 1'000'000'000;
    std::vector<char> buf(256 * 1024);
    std::uint64_t enobufs = 0;
    int rc = 0;
    while (stop_requested == 0) {
        std::int64_t now = now_ns();
        if (now >= deadline) {
            break;
        }
        // Sleep until the next packet is due, the deadline, or something arrives.
        std::int64_t wake = deadline;
        for (const auto& q : queues) {
            if (!q->held.empty()) {
                wake = std::min(wake, q->held.front().due_ns);
            }
        }
        const std::int64_t wait = std::max<std::int64_t>(0, wake - now);
        const timespec timeout{static_cast<time_t>(wait / 1'000'000'000),
                               static_cast<long>(wait % 1'000'000'000)};
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ppoll(&pfd, 1, &timeout, &waiting);
        if (ready < 0 && errno != EINTR) {
            std::cerr << "splab-delay: ppoll: " << std::strerror(errno) << "\n";
            rc = 1;
            break;
        }
        if (ready > 0) {
            // Drain what is there (bounded: at most 1024 messages per wake-up).
            for (int n = 0; n < 1024; ++n) {
                const ssize_t len = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
                if (len < 0) {
                    if (errno == ENOBUFS) {
                        ++enobufs;  // the kernel dropped some; keep going
                        continue;
                    }
                    break;  // EAGAIN: drained
                }
                nfq_handle_packet(nfq.get(), buf.data(), static_cast<int>(len));
            }
        }
        now = now_ns();
        for (auto& q : queues) {
            q->release(now, false);
        }
    }

    // Stopping: nothing in flight is lost, every waiting packet goes now.
    for (auto& q : queues) {
        q->release(now_ns(), true);
    }
    for (auto& q : queues) {
        std::cout << "splab-delay: done, queue " << q->spec.num << " (" << q->spec.delay_ms
                  << " ms): " << q->packets << " packets, at most " << q->peak
                  << " waiting, released late by "
                  << (q->released != 0
                          ? q->total_late_ns / static_cast<std::int64_t>(q->released) / 1000
                          : 0)
                  << " us on average, " << (q->worst_late_ns / 1000) << " us at most, "
                  << q->overflow << " over the bound\n";
        nfq_destroy_queue(q->handle);
    }
    if (enobufs != 0) {
        std::cout << "splab-delay: " << enobufs << " ENOBUFS (the kernel dropped queued packets)\n";
    }
    std::cout << std::flush;
    return rc;
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
    return run(*opt);
}
