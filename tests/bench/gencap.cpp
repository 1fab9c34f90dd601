// synprobe-gencap: writes a realistic capture of a chosen size, and the truth about every
// connection attempt in it, for benchmarks and for checking synprobe's verdicts at scale.
//
//   synprobe-gencap --size 1G --format pcap|pcapng --seed N -o FILE [--prefix 100M:PREFIX]
//                   [--attempts-per-gib N] [--snaplen N]
//
// The capture point is a tap on the clients' LAN (Ethernet, some clients behind 802.1Q tags):
// client packets arrive with their initial TTL, a server d routers away ("hop d" as synprobe
// counts it: initial − observed + 1) with initial − d + 1. Traffic: mostly established TCP
// flows carrying data (the ones that start during the capture with their handshake), DNS and
// QUIC-like UDP, pings, ICMPv6 neighbour discovery, ARP; ~20% of it IPv6. A few percent are
// connection attempts with every outcome:
//   open            SYN/ACK from the host (sometimes after a lost first SYN)
//   host-rst        RST/ACK from the host: its TTL, its IP-ID scheme, its RTT
//   middlebox-rst   RST/ACK in the host's name from hop m < d (same or another initial TTL)
//   injected-rst    a middlebox RST racing the host's SYN/ACK
//   icmp-router     ICMP/ICMPv6 destination unreachable from a router at hop r < d, quoting the SYN
//   icmp-host       ICMP port unreachable from the host itself (REJECT), at its own hop
//   dropped         nothing: SYN retransmitted at 1 s and 3 s
// --attempts-per-gib N sets the density of attempts in the file (a SYN scan, health checks,
// a client retrying: 10^6 per GiB and more) instead of --attempt-rate's fixed rate per second
// of capture: the arrival rate follows the bytes written so far, so the file holds about N
// attempts per GiB (handshakes of new flows included) whatever its size.
// Every destination of an attempt has spoken before (a baseline: its own TTL/hop), so each
// verdict is decidable. FILE.truth.jsonl holds one line per attempt, written from how the
// packets were generated (never from synprobe): src, sport, dst, dport, family, isn, verdict,
// actor, hop, kind. FILE.stats.json holds packet counts, including how many packets a
// "SYN or RST or ICMP" filter must keep.
//
// No dependencies: plain C++20 and big buffered writes. IPv4 header, TCP, UDP and ICMP
// checksums are correct.

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i64 = std::int64_t;

constexpr i64 ms = 1'000'000;  // nanoseconds
constexpr i64 us = 1'000;
constexpr i64 sec = 1'000'000'000;

// ---------------------------------------------------------------- randomness

class Rng {
 public:
  explicit Rng(u64 seed) : state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  u64 next() {  // splitmix64: fast, good enough, identical on every platform
    u64 z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  u32 u32v() { return static_cast<u32>(next() >> 32); }
  u16 u16v() { return static_cast<u16>(next() >> 48); }
  // Uniform in [lo, hi].
  u32 range(u32 lo, u32 hi) { return lo + static_cast<u32>(next() % (u64{hi} - lo + 1)); }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  double exp(double mean) { return -mean * std::log(1.0 - unit()); }

 private:
  u64 state_;
};

// ---------------------------------------------------------------- addresses and hosts

struct Addr {
  bool v6 = false;
  std::array<u8, 16> b{};
};

std::string addr_text(const Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.b.data(), buf, sizeof buf);
  return buf;
}

Addr v4(u8 a, u8 b, u8 c, u8 d) {
  Addr r;
  r.b[0] = a; r.b[1] = b; r.b[2] = c; r.b[3] = d;
  return r;
}

// 2001:db8:<net>::<hi>:<lo>
Addr v6(u16 net, u16 hi, u16 lo) {
  Addr r;
  r.v6 = true;
  const u16 words[8] = {0x2001, 0x0db8, net, 0, 0, 0, hi, lo};
  for (int i = 0; i < 8; ++i) {
    r.b[static_cast<std::size_t>(2 * i)] = static_cast<u8>(words[i] >> 8);
    r.b[static_cast<std::size_t>(2 * i + 1)] = static_cast<u8>(words[i]);
  }
  return r;
}

enum class IpIdMode : u8 { linux_like, counter, random };

struct Client {
  Addr a4, a6;
  std::array<u8, 6> mac{};
  u16 vlan = 0;  // 0: untagged
  u8 ttl = 64;   // initial; the client is on the capture's LAN
  IpIdMode ipid = IpIdMode::linux_like;
  u16 ipid_counter = 0;
  u16 next_port = 32768;
};

struct Server {
  Addr a;
  u8 init_ttl = 64;
  u8 hop = 10;  // synprobe's hop: initial − observed + 1
  IpIdMode ipid = IpIdMode::linux_like;
  u16 ipid_counter = 0;
  double rtt_ms = 10;  // SYN/ACK round-trip time from the capture point
  bool spoke = false;  // has sent a packet (a baseline exists)
  u32 path = 0;        // which routers lie before it
};

u8 ttl_at(u8 initial, int hop) { return static_cast<u8>(initial - hop + 1); }

// ---------------------------------------------------------------- checksums

u32 sum16(const u8* p, std::size_t n, u32 acc = 0) {
  u64 s = acc;
  while (n >= 2) {
    s += static_cast<u32>(p[0] << 8 | p[1]);
    p += 2;
    n -= 2;
  }
  if (n) s += static_cast<u32>(p[0] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<u32>(s);
}

u16 fold(u32 s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<u16>(~s & 0xffff);
}

void put16(u8* p, u32 v) { p[0] = static_cast<u8>(v >> 8); p[1] = static_cast<u8>(v); }
void put32(u8* p, u32 v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

// ---------------------------------------------------------------- output

class Writer {
 public:
  // `snaplen`: each record keeps at most that many bytes of its frame, as a capture taken
  // with tcpdump -s does (the wire length stays in the record).
  Writer(const std::string& path, bool pcapng, std::size_t limit = SIZE_MAX, u32 snaplen = 262144)
      : pcapng_(pcapng), limit_(limit), snaplen_(snaplen) {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw std::runtime_error(path + ": " + std::strerror(errno));
    buf_.reserve(buffer_size + 65536);
    if (pcapng) {
      u8 shb[28] = {};
      le32(shb, 0x0a0d0d0a); le32(shb + 4, 28); le32(shb + 8, 0x1a2b3c4d);
      le16(shb + 12, 1); le16(shb + 14, 0);
      std::memset(shb + 16, 0xff, 8);  // section length unknown
      le32(shb + 24, 28);
      append(shb, sizeof shb);
      // IDB: Ethernet, snaplen 262144, if_tsresol = 9 (nanoseconds)
      u8 idb[32] = {};
      le32(idb, 1); le32(idb + 4, 32); le16(idb + 8, 1); le16(idb + 10, 0); le32(idb + 12, snaplen);
      le16(idb + 16, 9); le16(idb + 18, 1); idb[20] = 9;  // option if_tsresol, length 1, padded
      le16(idb + 24, 0); le16(idb + 26, 0);               // opt_endofopt
      le32(idb + 28, 32);
      append(idb, sizeof idb);
    } else {
      u8 gh[24] = {};
      le32(gh, 0xa1b2c3d4); le16(gh + 4, 2); le16(gh + 6, 4); le32(gh + 16, snaplen); le32(gh + 20, 1);
      append(gh, sizeof gh);
    }
  }
  ~Writer() { close(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // False once the limit is reached (the record is not written then).
  // `force` writes past the limit (the endings of attempts already under way).
  bool record(i64 ts_ns, const u8* frame, std::size_t wire, bool force = false) {
    const std::size_t len = std::min<std::size_t>(wire, snaplen_);
    const std::size_t size = pcapng_ ? 28 + ((len + 3) & ~std::size_t{3}) + 4 : 16 + len;
    if (!force && written_ + buf_.size() + size > limit_) return false;
    u8 h[28];
    if (pcapng_) {
      const u64 t = static_cast<u64>(ts_ns);
      le32(h, 6); le32(h + 4, static_cast<u32>(size)); le32(h + 8, 0);
      le32(h + 12, static_cast<u32>(t >> 32)); le32(h + 16, static_cast<u32>(t));
      le32(h + 20, static_cast<u32>(len)); le32(h + 24, static_cast<u32>(wire));
      append(h, 28);
      append(frame, len);
      static const u8 zero[4] = {};
      append(zero, ((len + 3) & ~std::size_t{3}) - len);
      u8 tail[4];
      le32(tail, static_cast<u32>(size));
      append(tail, 4);
    } else {
      le32(h, static_cast<u32>(ts_ns / sec)); le32(h + 4, static_cast<u32>((ts_ns % sec) / us));
      le32(h + 8, static_cast<u32>(len)); le32(h + 12, static_cast<u32>(wire));
      append(h, 16);
      append(frame, len);
    }
    ++records_;
    if (buf_.size() >= buffer_size) flush();
    return true;
  }
  [[nodiscard]] u64 bytes() const { return written_ + buf_.size(); }
  [[nodiscard]] u64 records() const { return records_; }
  void close() {
    if (!f_) return;
    flush();
    std::fclose(f_);
    f_ = nullptr;
  }

 private:
  static constexpr std::size_t buffer_size = 8u << 20;
  static void le16(u8* p, u32 v) { p[0] = static_cast<u8>(v); p[1] = static_cast<u8>(v >> 8); }
  static void le32(u8* p, u32 v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }
  void append(const u8* p, std::size_t n) { buf_.insert(buf_.end(), p, p + n); }
  void flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size())
      throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
    written_ += buf_.size();
    buf_.clear();
  }

  std::FILE* f_ = nullptr;
  bool pcapng_;
  std::size_t limit_;
  u32 snaplen_;
  std::vector<u8> buf_;
  u64 written_ = 0;
  u64 records_ = 0;
};

// ---------------------------------------------------------------- packet building

struct Tcp {
  u16 sport = 0, dport = 0;
  u32 seq = 0, ack = 0;
  u8 flags = 0;
  u16 window = 64240;
  bool syn_options = false;  // MSS, SACK-permitted, timestamps, window scale
  bool ts_option = false;    // NOP NOP timestamps
  u32 tsval = 0, tsecr = 0;
  u32 payload = 0;
};

namespace flag {
constexpr u8 fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

struct Ip {
  Addr src, dst;
  u8 ttl = 64;
  u16 id = 0;
  bool df = true;
};

class Builder {
 public:
  explicit Builder(u64 seed) {
    Rng r(seed ^ 0x5eed);
    for (auto& b : junk_) b = static_cast<u8>(r.next());
  }

  // Ethernet (+ optional 802.1Q) header; returns the offset of the IP header.
  std::size_t ether(const std::array<u8, 6>& dst, const std::array<u8, 6>& src, u16 vlan, u16 type) {
    std::memcpy(f_.data(), dst.data(), 6);
    std::memcpy(f_.data() + 6, src.data(), 6);
    std::size_t o = 12;
    if (vlan) {
      put16(f_.data() + o, 0x8100);
      put16(f_.data() + o + 2, vlan);
      o += 4;
    }
    put16(f_.data() + o, type);
    return o + 2;
  }

  // IP header at `o` for an upper-layer segment of `l4len` bytes; returns the L4 offset.
  std::size_t ip(std::size_t o, const Ip& h, u8 proto, std::size_t l4len) {
    u8* p = f_.data() + o;
    if (!h.src.v6) {
      p[0] = 0x45; p[1] = 0;
      put16(p + 2, static_cast<u32>(20 + l4len));
      put16(p + 4, h.id);
      put16(p + 6, h.df ? 0x4000 : 0);
      p[8] = h.ttl; p[9] = proto;
      put16(p + 10, 0);
      std::memcpy(p + 12, h.src.b.data(), 4);
      std::memcpy(p + 16, h.dst.b.data(), 4);
      put16(p + 10, fold(sum16(p, 20)));
      return o + 20;
    }
    put32(p, 0x60000000u | (h.id & 0xfffffu));  // the flow label stands in for an ID
    put16(p + 4, static_cast<u32>(l4len));
    p[6] = proto; p[7] = h.ttl;
    std::memcpy(p + 8, h.src.b.data(), 16);
    std::memcpy(p + 24, h.dst.b.data(), 16);
    return o + 40;
  }

  static u32 pseudo(const Ip& h, u8 proto, std::size_t len) {
    const std::size_t n = h.src.v6 ? 16 : 4;
    u32 s = sum16(h.src.b.data(), n);
    s = sum16(h.dst.b.data(), n, s);
    s += proto;
    s += static_cast<u32>(len & 0xffff) + static_cast<u32>(len >> 16);
    return s;
  }

  static std::size_t tcp_header_len(const Tcp& t) { return t.syn_options ? 40 : t.ts_option ? 32 : 20; }

  // Writes a TCP segment at `o`; returns the frame length.
  std::size_t tcp_at(std::size_t o, const Ip& h, const Tcp& t) {
    const std::size_t hl = tcp_header_len(t);
    u8* p = f_.data() + o;
    put16(p, t.sport); put16(p + 2, t.dport);
    put32(p + 4, t.seq); put32(p + 8, t.ack);
    p[12] = static_cast<u8>((hl / 4) << 4); p[13] = t.flags;
    put16(p + 14, t.window); put16(p + 16, 0); put16(p + 18, 0);
    u8* opt = p + 20;
    if (t.syn_options) {
      const u8 o2[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
      std::memcpy(opt, o2, 20);
      put32(opt + 8, t.tsval); put32(opt + 12, t.tsecr);
    } else if (t.ts_option) {
      opt[0] = 1; opt[1] = 1; opt[2] = 8; opt[3] = 10;
      put32(opt + 4, t.tsval); put32(opt + 8, t.tsecr);
    }
    const std::size_t off = static_cast<std::size_t>(t.seq % 4096);
    std::memcpy(p + hl, junk_.data() + off, t.payload);
    const std::size_t len = hl + t.payload;
    put16(p + 16, fold(sum16(p, len, pseudo(h, 6, len))));
    return o + len;
  }

  std::size_t tcp_frame(const std::array<u8, 6>& dmac, const std::array<u8, 6>& smac, u16 vlan,
                        const Ip& h, const Tcp& t) {
    const std::size_t o = ether(dmac, smac, vlan, h.src.v6 ? 0x86dd : 0x0800);
    const std::size_t l4 = ip(o, h, 6, tcp_header_len(t) + t.payload);
    return tcp_at(l4, h, t);
  }

  std::size_t udp_frame(const std::array<u8, 6>& dmac, const std::array<u8, 6>& smac, u16 vlan,
                        const Ip& h, u16 sport, u16 dport, u32 payload, const u8* body = nullptr) {
    const std::size_t o = ether(dmac, smac, vlan, h.src.v6 ? 0x86dd : 0x0800);
    const std::size_t l4 = ip(o, h, 17, 8 + payload);
    u8* p = f_.data() + l4;
    put16(p, sport); put16(p + 2, dport); put16(p + 4, 8 + payload); put16(p + 6, 0);
    std::memcpy(p + 8, body ? body : junk_.data() + (sport % 4096), payload);
    u16 c = fold(sum16(p, 8 + payload, pseudo(h, 17, 8 + payload)));
    put16(p + 6, c ? c : 0xffff);
    return l4 + 8 + payload;
  }

  // ICMP/ICMPv6 message with an 8-byte header (type, code, checksum, 4 bytes) and a body.
  std::size_t icmp_frame(const std::array<u8, 6>& dmac, const std::array<u8, 6>& smac, u16 vlan,
                         const Ip& h, u8 type, u8 code, u32 rest, const u8* body, std::size_t body_len) {
    const std::size_t o = ether(dmac, smac, vlan, h.src.v6 ? 0x86dd : 0x0800);
    const u8 proto = h.src.v6 ? 58 : 1;
    const std::size_t l4 = ip(o, h, proto, 8 + body_len);
    u8* p = f_.data() + l4;
    p[0] = type; p[1] = code; put16(p + 2, 0); put32(p + 4, rest);
    std::memcpy(p + 8, body, body_len);
    const u32 init = h.src.v6 ? pseudo(h, 58, 8 + body_len) : 0;
    put16(p + 2, fold(sum16(p, 8 + body_len, init)));
    return l4 + 8 + body_len;
  }

  // A bare IP packet (the SYN an ICMP error quotes) into `out`; returns its length.
  std::size_t quoted_syn(const Ip& h, const Tcp& t, std::vector<u8>& out) {
    // Build it in the frame buffer's tail, then copy out.
    const std::size_t base = 4096;
    const std::size_t l4 = ip(base, h, 6, tcp_header_len(t));
    const std::size_t end = tcp_at(l4, h, t);
    out.assign(f_.data() + base, f_.data() + end);
    return end - base;
  }

  std::size_t arp_frame(const std::array<u8, 6>& smac, const Addr& sender, const Addr& target) {
    static const std::array<u8, 6> bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const std::size_t o = ether(bcast, smac, 0, 0x0806);
    u8* p = f_.data() + o;
    put16(p, 1); put16(p + 2, 0x0800); p[4] = 6; p[5] = 4; put16(p + 6, 1);
    std::memcpy(p + 8, smac.data(), 6); std::memcpy(p + 14, sender.b.data(), 4);
    std::memset(p + 18, 0, 6); std::memcpy(p + 24, target.b.data(), 4);
    std::memset(p + 28, 0, 18);  // padding to the 60-byte minimum
    return o + 46;
  }

  [[nodiscard]] const u8* data() const { return f_.data(); }

 private:
  std::array<u8, 16384> f_{};
  std::array<u8, 8192> junk_{};
};

// ---------------------------------------------------------------- the traffic model

enum class Outcome : u8 { open, open_retry, host_rst, middlebox_rst, injected_rst, icmp_router, icmp_host, dropped };

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::open: return "open";
    case Outcome::open_retry: return "open-after-retransmission";
    case Outcome::host_rst: return "host-rst";
    case Outcome::middlebox_rst: return "middlebox-rst";
    case Outcome::injected_rst: return "injected-rst";
    case Outcome::icmp_router: return "icmp-router";
    case Outcome::icmp_host: return "icmp-host";
    case Outcome::dropped: return "dropped";
  }
  return "?";
}

enum class Kind : u8 { tcp, attempt, dns, ping };

// A conversation in progress: a TCP flow (possibly opening with a handshake), a failing
// connection attempt, a DNS exchange or a ping. Each step emits one packet.
struct Flow {
  Kind kind = Kind::tcp;
  bool alive = false;
  u32 client = 0, server = 0;
  bool v6 = false;
  u16 sport = 0, dport = 0;
  u32 cseq = 0, sseq = 0;  // next sequence numbers
  u32 isn = 0;
  u16 c_ipid = 0, s_ipid = 0;
  u32 step = 0;
  u32 remaining = 0;         // data packets left
  bool download = true;      // bulk data flows from the server
  bool interactive = false;  // small segments both ways
  bool must_finish = false;  // an attempt or handshake in progress: finish it before the end
  bool respawn = false;      // one of the steady background flows: replaced when it ends
  double gap_ms = 10;
  Outcome outcome = Outcome::open;
  u8 mb_init = 64;  // middlebox/router initial TTL
  u8 mb_hop = 1;    // middlebox/router hop
  u8 icmp_code = 0;
  u16 syn_ipid[4] = {};
  u32 c_unacked = 0;  // data segments since the client's last ACK
  u32 tsval = 0;
  bool server_answered = false;  // the server sent data on the connection
};

struct Options {
  u64 size = 100ull << 20;
  bool pcapng = false;
  u64 seed = 1;
  std::string out;
  u64 prefix_size = 0;
  std::string prefix_out;
  u32 concurrency = 400;      // established TCP flows at once
  double attempt_rate = 150;  // connection attempts (other than new flows) per second
  double attempts_per_gib = 0;  // when > 0: attempts (all of them) per GiB of file, instead of attempt_rate
  u32 snaplen = 262144;         // bytes kept of each frame (tcpdump -s)
};

class Generator {
 public:
  explicit Generator(const Options& o)
      : o_(o), rng_(o.seed), b_(o.seed), w_(o.out, o.pcapng, o.size, o.snaplen) {
    if (!o.prefix_out.empty()) prefix_.emplace(o.prefix_out, o.pcapng, o.prefix_size, o.snaplen);
    truth_ = std::fopen((o.out + ".truth.jsonl").c_str(), "wb");
    if (!truth_) throw std::runtime_error(o.out + ".truth.jsonl: " + std::strerror(errno));
    std::setvbuf(truth_, nullptr, _IOFBF, 1 << 20);
    make_hosts();
  }
  ~Generator() {
    if (truth_) std::fclose(truth_);
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  void run() {
    now_ = start_;
    for (u32 i = 0; i < o_.concurrency; ++i) start_tcp(false, now_ + static_cast<i64>(rng_.unit() * 50 * ms));
    i64 next_attempt = now_ + 200 * ms;  // let some hosts speak first
    i64 next_dns = now_, next_ping = now_, next_noise = now_;
    while (!queue_.empty()) {
      const Event e = queue_.top();
      if (!stopping_) {
        // Arrivals of new conversations, in time order with the flows' packets.
        const i64 next_arrival = std::min({next_attempt, next_dns, next_ping, next_noise});
        if (next_arrival < e.ts) {
          now_ = next_arrival;
          current_must_finish_ = false;
          if (next_arrival == next_attempt) {
            start_attempt();
            next_attempt += static_cast<i64>(rng_.exp(1e9 / attempt_rate_now()));
          } else if (next_arrival == next_dns) {
            start_dns();
            next_dns += static_cast<i64>(rng_.exp(1e9 / 300.0));
          } else if (next_arrival == next_ping) {
            start_ping();
            next_ping += static_cast<i64>(rng_.exp(1e9 / 15.0));
          } else {
            emit_noise();
            next_noise += static_cast<i64>(rng_.exp(1e9 / 8.0));
          }
          continue;
        }
      }
      queue_.pop();
      Flow& f = flows_[e.flow];
      if (!f.alive || e.gen != gens_[e.flow]) continue;
      if (stopping_ && !f.must_finish) {
        f.alive = false;
        continue;
      }
      now_ = std::max(now_, e.ts);
      advance(e.flow);
    }
    w_.close();
    if (prefix_) prefix_->close();
  }

  // Attempts per second of capture: --attempt-rate, or what --attempts-per-gib asks for at
  // the bytes per second written so far, steered toward the target count for the bytes
  // written (new flows' handshakes count too, and attempts add bytes of their own).
  double attempt_rate_now() const {
    if (o_.attempts_per_gib <= 0) return o_.attempt_rate;
    constexpr double gib = 1024.0 * 1024.0 * 1024.0;
    const double elapsed = static_cast<double>(now_ - start_) / 1e9;
    const double bytes_per_s = elapsed > 0.5 ? static_cast<double>(w_.bytes()) / elapsed : 16e6;
    const double rate = o_.attempts_per_gib * bytes_per_s / gib;
    const double target = o_.attempts_per_gib * static_cast<double>(w_.bytes()) / gib;
    const double deficit = target - static_cast<double>(attempts_);
    const double steer = std::clamp(1.0 + deficit / std::max(20.0, 0.01 * target), 0.05, 4.0);
    return std::max(rate * steer, 0.01);
  }

  void write_stats(const std::string& path) const {
    std::FILE* s = std::fopen(path.c_str(), "wb");
    if (!s) throw std::runtime_error(path + ": " + std::strerror(errno));
    std::fprintf(s,
                 "{\"file\": \"%s\", \"format\": \"%s\", \"seed\": %llu, \"bytes\": %llu, \"packets\": %llu, "
                 "\"syn_rst_icmp_packets\": %llu, \"attempts\": %llu, \"clients\": %zu, \"servers\": %zu, "
                 "\"duration_s\": %.3f, \"prefix_bytes\": %llu, \"prefix_packets\": %llu}\n",
                 o_.out.c_str(), o_.pcapng ? "pcapng" : "pcap", static_cast<unsigned long long>(o_.seed),
                 static_cast<unsigned long long>(w_.bytes()), static_cast<unsigned long long>(w_.records()),
                 static_cast<unsigned long long>(filter_hits_), static_cast<unsigned long long>(attempts_),
                 clients_.size(), servers_.size(), static_cast<double>(last_ts_ - start_) / 1e9,
                 static_cast<unsigned long long>(prefix_ ? prefix_->bytes() : 0),
                 static_cast<unsigned long long>(prefix_ ? prefix_->records() : 0));
    std::fclose(s);
  }

  [[nodiscard]] u64 packets() const { return w_.records(); }
  [[nodiscard]] u64 attempts() const { return attempts_; }

 private:
  struct Event {
    i64 ts;
    u32 flow;
    u32 gen;
    bool operator>(const Event& o) const { return ts > o.ts || (ts == o.ts && flow > o.flow); }
  };

  // ------------------------------------------------------------ population

  void make_hosts() {
    // Hosts scale with the file: about 1 client and 2 servers per MB, within bounds.
    const u64 mb = std::max<u64>(1, o_.size >> 20);
    const std::size_t n_clients = static_cast<std::size_t>(std::clamp<u64>(mb / 2, 40, 8000));
    const std::size_t n_servers = static_cast<std::size_t>(std::clamp<u64>(mb * 2, 100, 60000));
    for (std::size_t i = 0; i < n_clients; ++i) {
      Client c;
      c.a4 = v4(198, 18, static_cast<u8>(i / 250), static_cast<u8>(1 + i % 250));
      c.a6 = v6(0xc, static_cast<u16>(i / 250), static_cast<u16>(1 + i % 250));
      c.mac = {0x02, 0x00, 0x00, static_cast<u8>(i >> 16), static_cast<u8>(i >> 8), static_cast<u8>(i)};
      // A third of the clients sit behind tagged VLANs on the tapped trunk.
      const double r = rng_.unit();
      c.vlan = r < 0.15 ? 10 : r < 0.25 ? 20 : r < 0.33 ? 30 : 0;
      c.ttl = rng_.chance(0.75) ? 64 : 128;
      c.ipid = c.ttl == 128 ? IpIdMode::counter : IpIdMode::linux_like;
      c.ipid_counter = rng_.u16v();
      c.next_port = static_cast<u16>(rng_.range(32768, 60999));
      clients_.push_back(c);
    }
    for (std::size_t i = 0; i < n_servers; ++i) {
      Server s;
      const bool is6 = rng_.chance(0.2);
      if (is6) {
        s.a = v6(0x5, static_cast<u16>(i / 60000), static_cast<u16>(1 + i % 60000));
      } else {
        const u32 n = static_cast<u32>(i);
        s.a = n < 32000 ? v4(198, 18, static_cast<u8>(128 + n / 250), static_cast<u8>(1 + n % 250))
                        : v4(198, 19, static_cast<u8>((n - 32000) / 250 % 200), static_cast<u8>(1 + n % 250));
      }
      const double r = rng_.unit();
      s.init_ttl = r < 0.7 ? 64 : r < 0.92 ? 128 : 255;
      s.ipid = s.init_ttl == 64 ? IpIdMode::linux_like : IpIdMode::counter;
      s.ipid_counter = rng_.u16v();
      s.hop = static_cast<u8>(rng_.range(3, 20));
      s.rtt_ms = 0.6 * s.hop + rng_.unit() * 4.0 + 0.3;
      s.path = rng_.range(0, 63);
      (is6 ? servers6_ : servers4_).push_back(static_cast<u32>(servers_.size()));
      servers_.push_back(s);
    }
  }

  // A router on a server's path at hop `h` (1 = the clients' gateway).
  Addr router(const Server& s, int hop) const {
    const u32 group = hop <= 2 ? 0 : s.path;  // the first two hops are shared
    if (s.a.v6) return v6(0xf, static_cast<u16>(group), static_cast<u16>(hop));
    return v4(198, 19, static_cast<u8>(200 + group % 50), static_cast<u8>(hop));
  }

  u16 next_port(Client& c) {
    const u16 p = c.next_port;
    c.next_port = c.next_port >= 60999 ? 32768 : static_cast<u16>(c.next_port + 1);
    return p;
  }

  u16 server_id(Server& s, bool df_reply_zero) {
    if (s.a.v6) return 0;
    if (s.ipid == IpIdMode::linux_like && df_reply_zero) return 0;
    return ++s.ipid_counter;
  }

  u32 new_flow() {
    u32 id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<u32>(flows_.size());
      flows_.emplace_back();
      gens_.push_back(0);
    }
    ++gens_[id];
    flows_[id] = Flow{};
    flows_[id].alive = true;
    return id;
  }

  void schedule(u32 id, i64 ts) { queue_.push(Event{ts, id, gens_[id]}); }

  void finish(u32 id) {
    flows_[id].alive = false;
    free_.push_back(id);
    if (flows_[id].respawn && !stopping_) start_tcp(true, now_ + static_cast<i64>(rng_.exp(5 * ms)));
  }

  u32 pick_server(bool v6, bool must_have_spoken) {
    const std::vector<u32>& pool = v6 ? servers6_ : servers4_;
    if (!must_have_spoken) return pool[rng_.next() % pool.size()];
    if (spoken_[v6].empty()) return UINT32_MAX;
    return spoken_[v6][rng_.next() % spoken_[v6].size()];
  }

  void start_tcp(bool handshake, i64 at) {
    const u32 id = new_flow();
    Flow& f = flows_[id];
    f.kind = Kind::tcp;
    f.respawn = true;
    f.v6 = rng_.chance(0.2);
    f.client = static_cast<u32>(rng_.next() % clients_.size());
    f.server = pick_server(f.v6, false);
    f.sport = next_port(clients_[f.client]);
    static const u16 ports[] = {443, 443, 443, 443, 80, 22, 993, 8443, 5432, 3306};
    f.dport = ports[rng_.next() % std::size(ports)];
    f.isn = rng_.u32v();
    f.cseq = handshake ? f.isn : f.isn + rng_.range(1000, 1u << 30);
    f.sseq = rng_.u32v();
    f.c_ipid = rng_.u16v();
    f.s_ipid = rng_.u16v();
    f.tsval = rng_.u32v();
    f.interactive = f.dport == 22 || rng_.chance(0.15);
    f.download = rng_.chance(0.85);
    f.remaining = static_cast<u32>(rng_.exp(f.interactive ? 60 : 300)) + 4;
    f.gap_ms = f.interactive ? rng_.exp(60) + 20 : rng_.exp(20) + 4;
    f.step = handshake ? 0 : 100;  // 100: data phase
    f.must_finish = handshake;
    if (handshake) {
      f.outcome = rng_.chance(0.03) ? Outcome::open_retry : Outcome::open;
      record_truth(f);
    }
    schedule(id, at);
  }

  void start_attempt() {
    const bool is6 = rng_.chance(0.2);
    const u32 server = pick_server(is6, true);
    if (server == UINT32_MAX) return;
    const u32 id = new_flow();
    Flow& f = flows_[id];
    f.kind = Kind::attempt;
    f.v6 = is6;
    f.client = static_cast<u32>(rng_.next() % clients_.size());
    f.server = server;
    f.sport = next_port(clients_[f.client]);
    static const u16 ports[] = {443, 80, 22, 25, 445, 3389, 8080, 8443, 5432, 6379, 9200, 23};
    f.dport = ports[rng_.next() % std::size(ports)];
    f.isn = f.cseq = rng_.u32v();
    f.sseq = rng_.u32v();
    f.c_ipid = rng_.u16v();
    f.tsval = rng_.u32v();
    f.must_finish = true;
    const Server& s = servers_[server];
    const double r = rng_.unit();
    f.outcome = r < 0.12 ? Outcome::open
              : r < 0.40 ? Outcome::host_rst
              : r < 0.60 ? Outcome::middlebox_rst
              : r < 0.65 ? Outcome::injected_rst
              : r < 0.80 ? Outcome::icmp_router
              : r < 0.87 ? Outcome::icmp_host
              : Outcome::dropped;
    // The refusing device lies before the host: hop 1..d-1, its own initial TTL.
    f.mb_hop = static_cast<u8>(rng_.range(1, s.hop - 1u));
    const double t = rng_.unit();
    f.mb_init = t < 0.55 ? 64 : t < 0.65 ? 128 : 255;
    if (f.outcome == Outcome::icmp_router) f.mb_init = rng_.chance(0.7) ? 255 : 64;
    if (f.outcome == Outcome::icmp_router) {
      static const u8 codes4[] = {13, 13, 1, 10, 3};  // admin-prohibited, host-unreachable, host-prohibited
      static const u8 codes6[] = {1, 1, 3, 4, 0};     // admin-prohibited, address-unreachable, port, no-route
      f.icmp_code = is6 ? codes6[rng_.next() % 5] : codes4[rng_.next() % 5];
    }
    // Sometimes the device sits right before the host (a host firewall, a load balancer):
    // same hop, told apart only by another initial TTL class. A device at the host's own hop
    // with the host's own initial TTL would be indistinguishable, so it is never generated.
    if ((f.outcome == Outcome::middlebox_rst || f.outcome == Outcome::injected_rst) && rng_.chance(0.1)) {
      f.mb_hop = s.hop;
      f.mb_init = s.init_ttl == 255 ? 64 : 255;
    }
    record_truth(f);
    schedule(id, now_);
  }

  void start_dns() {
    const u32 id = new_flow();
    Flow& f = flows_[id];
    f.kind = Kind::dns;
    f.v6 = rng_.chance(0.2);
    f.client = static_cast<u32>(rng_.next() % clients_.size());
    f.sport = static_cast<u16>(rng_.range(1024, 65535));
    f.server = pick_server(f.v6, false);  // QUIC-ish to a server when dport 443
    f.dport = rng_.chance(0.7) ? 53 : 443;
    f.remaining = f.dport == 53 ? 2 : rng_.range(4, 30);
    schedule(id, now_);
  }

  void start_ping() {
    const u32 id = new_flow();
    Flow& f = flows_[id];
    f.kind = Kind::ping;
    f.v6 = rng_.chance(0.2);
    f.client = static_cast<u32>(rng_.next() % clients_.size());
    f.server = pick_server(f.v6, false);
    f.sport = rng_.u16v();  // echo identifier
    f.remaining = rng_.range(1, 4) * 2;
    schedule(id, now_);
  }

  void emit_noise() {
    const Client& c = clients_[rng_.next() % clients_.size()];
    if (rng_.chance(0.6)) {
      const std::size_t n = b_.arp_frame(c.mac, c.a4, v4(198, 18, 0, 254));
      write(b_.data(), n, false);
    } else {
      // ICMPv6 neighbour solicitation from the gateway's link-local address, hop limit 255.
      Ip h;
      h.src = v6(0, 0, 1);
      h.src.b[0] = 0xfe; h.src.b[1] = 0x80; h.src.b[2] = 0; h.src.b[3] = 0; h.src.b[4] = 0; h.src.b[5] = 0;
      h.dst = v6(0, 0, 0);
      const std::array<u8, 16> mc{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, c.a6.b[13], c.a6.b[14], c.a6.b[15]};
      h.dst.b = mc;
      h.ttl = 255;
      u8 body[24];
      std::memcpy(body, c.a6.b.data(), 16);
      body[16] = 1; body[17] = 1; std::memcpy(body + 18, gateway_mac_.data(), 6);
      const std::array<u8, 6> dmac{0x33, 0x33, 0xff, c.a6.b[13], c.a6.b[14], c.a6.b[15]};
      const std::size_t n = b_.icmp_frame(dmac, gateway_mac_, c.vlan, h, 135, 0, 0, body, sizeof body);
      write(b_.data(), n, true);
    }
  }

  // ------------------------------------------------------------ truth

  void record_truth(const Flow& f) {
    ++attempts_;
    const Client& c = clients_[f.client];
    const Server& s = servers_[f.server];
    const char* verdict = "open";
    const char* actor = "host";
    int hop = s.hop;
    switch (f.outcome) {
      case Outcome::open:
      case Outcome::open_retry: break;
      case Outcome::host_rst: verdict = "refused-by-host"; break;
      case Outcome::middlebox_rst: verdict = "refused-by-middlebox"; actor = "middlebox"; hop = f.mb_hop; break;
      case Outcome::injected_rst: verdict = "injected-reset"; actor = "middlebox"; hop = f.mb_hop; break;
      case Outcome::icmp_router: verdict = "icmp-unreachable"; actor = "router"; hop = f.mb_hop; break;
      case Outcome::icmp_host: verdict = "icmp-unreachable"; break;
      case Outcome::dropped: verdict = "dropped"; actor = "unknown"; hop = -1; break;
    }
    char hop_text[16];
    if (hop < 0) std::snprintf(hop_text, sizeof hop_text, "null");
    else std::snprintf(hop_text, sizeof hop_text, "%d", hop);
    std::fprintf(truth_,
                 "{\"src\": \"%s\", \"sport\": %u, \"dst\": \"%s\", \"dport\": %u, \"family\": %d, "
                 "\"isn\": %u, \"verdict\": \"%s\", \"actor\": \"%s\", \"hop\": %s, \"kind\": \"%s\", "
                 "\"host_initial_ttl\": %u, \"host_hop\": %u, \"device_initial_ttl\": %u}\n",
                 addr_text(f.v6 ? c.a6 : c.a4).c_str(), f.sport, addr_text(s.a).c_str(), f.dport,
                 f.v6 ? 6 : 4, f.isn, verdict, actor, hop_text, outcome_name(f.outcome), s.init_ttl, s.hop,
                 f.outcome == Outcome::middlebox_rst || f.outcome == Outcome::injected_rst ||
                         f.outcome == Outcome::icmp_router
                     ? f.mb_init
                     : 0);
  }

  // ------------------------------------------------------------ emitting packets

  // Writes one frame at now_. Once the size target is reached nothing new starts; the
  // attempts and handshakes under way still get their answers (a few KB past the target).
  void write(const u8* frame, std::size_t n, bool filter_hit) {
    if (!w_.record(now_, frame, n, stopping_)) {
      stopping_ = true;
      if (!current_must_finish_) return;
      w_.record(now_, frame, n, true);
    }
    if (prefix_) prefix_->record(now_, frame, n);
    if (filter_hit) ++filter_hits_;
    last_ts_ = now_;
  }

  Ip ip_from_client(Flow& f, bool syn) {
    Client& c = clients_[f.client];
    Ip h;
    h.src = f.v6 ? c.a6 : c.a4;
    h.dst = servers_[f.server].a;
    h.ttl = c.ttl;
    h.df = true;
    h.id = c.ipid == IpIdMode::counter ? ++c.ipid_counter : (syn ? rng_.u16v() : ++f.c_ipid);
    return h;
  }

  Ip ip_from_server(Flow& f, bool zero_id_reply) {
    Server& s = servers_[f.server];
    Ip h;
    h.src = s.a;
    h.dst = f.v6 ? clients_[f.client].a6 : clients_[f.client].a4;
    h.ttl = ttl_at(s.init_ttl, s.hop);
    h.df = true;
    if (s.ipid == IpIdMode::linux_like) h.id = zero_id_reply ? 0 : ++f.s_ipid;
    else h.id = server_id(s, false);
    if (h.src.v6) h.id = 0;
    if (!s.spoke) {
      s.spoke = true;
      spoken_[f.v6].push_back(f.server);
    }
    return h;
  }

  void client_tcp(Flow& f, u8 flags, u32 payload, bool syn = false, u16 syn_id_slot = 0) {
    Client& c = clients_[f.client];
    Ip h = ip_from_client(f, syn);
    if (syn && syn_id_slot < 4) f.syn_ipid[syn_id_slot] = h.id;
    Tcp t;
    t.sport = f.sport; t.dport = f.dport;
    t.seq = f.cseq; t.ack = (flags & flag::ack) ? f.sseq : 0;
    t.flags = flags;
    t.window = syn ? 64240 : 501;
    t.syn_options = syn;
    t.ts_option = !syn && !(flags & flag::rst);
    t.tsval = f.tsval += 7;
    t.payload = payload;
    const std::size_t n = b_.tcp_frame(gateway_mac_, c.mac, c.vlan, h, t);
    write(b_.data(), n, (flags & (flag::syn | flag::rst)) != 0);
    if (!syn && !(flags & flag::rst)) f.cseq += payload + ((flags & flag::fin) ? 1 : 0);
  }

  void server_tcp(Flow& f, u8 flags, u32 payload, bool zero_id = false) {
    Client& c = clients_[f.client];
    Ip h = ip_from_server(f, zero_id);
    Tcp t;
    t.sport = f.dport; t.dport = f.sport;
    t.seq = f.sseq; t.ack = f.cseq;
    t.flags = flags;
    t.window = (flags & flag::syn) ? 65160 : 509;
    t.syn_options = (flags & flag::syn) != 0;
    t.ts_option = !(flags & flag::syn) && !(flags & flag::rst);
    t.tsval = f.tsval + 3;
    t.payload = payload;
    const std::size_t n = b_.tcp_frame(c.mac, gateway_mac_, c.vlan, h, t);
    write(b_.data(), n, (flags & (flag::syn | flag::rst)) != 0);
    f.sseq += payload + ((flags & (flag::syn | flag::fin)) ? 1 : 0);
    if (payload > 0) f.server_answered = true;
  }

  // A RST/ACK answering the SYN (seq 0, ack ISN+1, window 0), from the host or a device.
  void reset_answer(Flow& f, bool from_host) {
    Client& c = clients_[f.client];
    Server& s = servers_[f.server];
    Ip h;
    h.src = s.a;
    h.dst = f.v6 ? c.a6 : c.a4;
    if (from_host) {
      h.ttl = ttl_at(s.init_ttl, s.hop);
      h.df = s.ipid == IpIdMode::linux_like;
      h.id = s.a.v6 ? 0 : s.ipid == IpIdMode::linux_like ? 0 : ++s.ipid_counter;
    } else {
      h.ttl = ttl_at(f.mb_init, f.mb_hop);
      // Linux REJECT: DF, IP-ID 0; other gear numbers its own packets.
      h.df = f.mb_init == 64;
      h.id = s.a.v6 || f.mb_init == 64 ? 0 : rng_.u16v();
    }
    Tcp t;
    t.sport = f.dport; t.dport = f.sport;
    t.seq = 0; t.ack = f.isn + 1;
    t.flags = flag::rst | flag::ack;
    t.window = 0;
    const std::size_t n = b_.tcp_frame(c.mac, gateway_mac_, c.vlan, h, t);
    write(b_.data(), n, true);
  }

  void icmp_answer(Flow& f, bool from_host, u16 syn_slot) {
    Client& c = clients_[f.client];
    Server& s = servers_[f.server];
    // The SYN as the ICMP sender saw it: the client's TTL less the routers before the sender.
    Ip q;
    q.src = f.v6 ? c.a6 : c.a4;
    q.dst = s.a;
    const int sender_hop = from_host ? s.hop : f.mb_hop;
    // A router rejecting in FORWARD has decremented already (sent − k); a host quotes sent − (h − 1).
    q.ttl = static_cast<u8>(c.ttl - (from_host ? sender_hop - 1 : sender_hop));
    q.id = f.syn_ipid[std::min<u16>(syn_slot, 3)];
    q.df = true;
    Tcp t;
    t.sport = f.sport; t.dport = f.dport; t.seq = f.isn; t.flags = flag::syn; t.window = 64240;
    t.syn_options = true; t.tsval = f.tsval;
    const std::size_t qlen = b_.quoted_syn(q, t, quote_);
    Ip h;
    h.src = from_host ? s.a : router(s, f.mb_hop);
    h.dst = q.src;
    h.ttl = from_host ? ttl_at(s.init_ttl, s.hop) : ttl_at(f.mb_init, f.mb_hop);
    h.df = false;
    h.id = rng_.u16v();
    u8 type, code;
    if (f.v6) {
      type = 1;
      code = from_host ? 4 : f.icmp_code;
    } else {
      type = 3;
      code = from_host ? 3 : f.icmp_code;
    }
    const std::size_t n = b_.icmp_frame(c.mac, gateway_mac_, c.vlan, h, type, code, 0, quote_.data(), qlen);
    write(b_.data(), n, true);
  }

  void advance(u32 id) {
    Flow& f = flows_[id];
    current_must_finish_ = f.must_finish;
    switch (f.kind) {
      case Kind::tcp: step_tcp(id); break;
      case Kind::attempt: step_attempt(id); break;
      case Kind::dns: step_udp(id); break;
      case Kind::ping: step_ping(id); break;
    }
  }

  double rtt(const Flow& f) {
    return servers_[f.server].rtt_ms * (0.97 + 0.06 * rng_.unit());
  }
  i64 after_ms(double m) { return now_ + static_cast<i64>(m * 1e6); }

  void step_tcp(u32 id) {
    Flow& f = flows_[id];
    switch (f.step) {
      case 0:  // SYN
        client_tcp(f, flag::syn, 0, true, 0);
        ++f.step;
        if (f.outcome == Outcome::open_retry) {
          f.step = 10;
          schedule(id, now_ + 1 * sec);
        } else {
          schedule(id, after_ms(rtt(f)));
        }
        return;
      case 10:  // the first SYN was lost: retransmission
        client_tcp(f, flag::syn, 0, true, 1);
        f.step = 1;
        schedule(id, after_ms(rtt(f)));
        return;
      case 1:  // SYN/ACK
        f.cseq = f.isn + 1;
        server_tcp(f, flag::syn | flag::ack, 0, true);
        ++f.step;
        schedule(id, after_ms(0.05));
        return;
      case 2:  // ACK: the handshake is complete, the flow is established
        client_tcp(f, flag::ack, 0);
        f.must_finish = false;
        f.step = 100;
        schedule(id, after_ms(0.1 + rng_.unit()));
        return;
      default: break;
    }
    if (f.step == 100) {
      // Data phase: bulk segments one way with delayed ACKs back, or small exchanges.
      if (f.remaining == 0) {
        f.step = 200;
        schedule(id, after_ms(f.gap_ms));
        return;
      }
      --f.remaining;
      if (f.interactive) {
        if (rng_.chance(0.5)) client_tcp(f, flag::ack | flag::psh, rng_.range(36, 300));
        else server_tcp(f, flag::ack | flag::psh, rng_.range(36, 900));
      } else if (f.download) {
        if (f.c_unacked >= 2) {
          client_tcp(f, flag::ack, 0);
          f.c_unacked = 0;
        } else {
          server_tcp(f, flag::ack, rng_.chance(0.9) ? 1448 : rng_.range(100, 1448));
          ++f.c_unacked;
        }
      } else {
        if (f.c_unacked >= 2) {
          server_tcp(f, flag::ack, 0);
          f.c_unacked = 0;
        } else {
          client_tcp(f, flag::ack, rng_.chance(0.9) ? 1448 : rng_.range(100, 1448));
          ++f.c_unacked;
        }
      }
      schedule(id, after_ms(rng_.exp(f.gap_ms)));
      return;
    }
    // Teardown: FIN from one side, FIN/ACK back, last ACK; some servers reset instead.
    switch (f.step) {
      case 200:
        // Only a server that has answered resets at the end: one that resets before it
        // sent anything refuses the client's request (a request-stage refusal, truth
        // refused-by-host at stage request), which is not what an open flow is.
        if (f.server_answered && rng_.chance(0.05)) {
          server_tcp(f, flag::rst | flag::ack, 0);
          finish(id);
          return;
        }
        client_tcp(f, flag::fin | flag::ack, 0);
        ++f.step;
        schedule(id, after_ms(rtt(f)));
        return;
      case 201:
        server_tcp(f, flag::fin | flag::ack, 0);
        ++f.step;
        schedule(id, after_ms(0.05));
        return;
      default:
        client_tcp(f, flag::ack, 0);
        finish(id);
        return;
    }
  }

  void step_attempt(u32 id) {
    Flow& f = flows_[id];
    const Server& s = servers_[f.server];
    const double device_rtt = 0.6 * f.mb_hop * (0.95 + 0.1 * rng_.unit()) + 0.1;
    switch (f.outcome) {
      case Outcome::open:
      case Outcome::open_retry:
        // Reuse the TCP flow's machine: handshake, a short exchange, teardown.
        f.kind = Kind::tcp;
        f.interactive = true;
        f.remaining = rng_.range(2, 12);
        f.gap_ms = s.rtt_ms;
        f.step = 0;
        step_tcp(id);
        return;
      case Outcome::host_rst:
        if (f.step++ == 0) {
          client_tcp(f, flag::syn, 0, true, 0);
          schedule(id, after_ms(rtt(f)));
        } else {
          reset_answer(f, true);
          finish(id);
        }
        return;
      case Outcome::middlebox_rst:
        if (f.step++ == 0) {
          client_tcp(f, flag::syn, 0, true, 0);
          schedule(id, after_ms(device_rtt));
        } else {
          reset_answer(f, false);
          finish(id);
        }
        return;
      case Outcome::injected_rst:
        switch (f.step++) {
          case 0:
            client_tcp(f, flag::syn, 0, true, 0);
            schedule(id, after_ms(device_rtt));
            return;
          case 1:
            reset_answer(f, false);
            schedule(id, after_ms(std::max(0.05, s.rtt_ms - device_rtt)));
            return;
          case 2:
            f.cseq = f.isn + 1;
            server_tcp(f, flag::syn | flag::ack, 0, true);
            schedule(id, after_ms(0.05));
            return;
          default:  // the client's stack has no connection any more: it resets the SYN/ACK
            client_tcp(f, flag::rst, 0);
            finish(id);
            return;
        }
      case Outcome::icmp_router:
      case Outcome::icmp_host: {
        const bool from_host = f.outcome == Outcome::icmp_host;
        // Hard errors (admin-prohibited, port unreachable) end the attempt; soft ones
        // (host/address unreachable, no route) leave the client retransmitting at 1 s and 3 s.
        const bool soft = !from_host && (f.v6 ? (f.icmp_code == 3 || f.icmp_code == 0)
                                              : (f.icmp_code == 1));
        const u32 tx = f.step / 2;
        if (f.step % 2 == 0) {
          client_tcp(f, flag::syn, 0, true, static_cast<u16>(tx));
          ++f.step;
          const double answer_rtt = from_host ? rtt(f) : device_rtt + 0.2;
          schedule(id, after_ms(answer_rtt));
        } else {
          icmp_answer(f, from_host, static_cast<u16>(tx));
          ++f.step;
          if (soft && tx < 2) {
            // Next SYN at 1 s and 3 s after the first.
            schedule(id, f.step == 2 ? now_ + 1 * sec - 2 * ms : now_ + 2 * sec);
          } else {
            finish(id);
          }
        }
        return;
      }
      case Outcome::dropped:
        client_tcp(f, flag::syn, 0, true, static_cast<u16>(f.step));
        if (f.step == 0) schedule(id, now_ + 1 * sec);
        else if (f.step == 1) schedule(id, now_ + 2 * sec);
        else finish(id);
        ++f.step;
        return;
    }
  }

  void step_udp(u32 id) {
    Flow& f = flows_[id];
    Client& c = clients_[f.client];
    Server& s = servers_[f.server];
    Ip h;
    const bool from_client = f.step % 2 == 0 || (f.dport == 443 && rng_.chance(0.3));
    if (f.dport == 53) {
      // The resolver is one router away (hop 2).
      const Addr resolver = f.v6 ? v6(0xd, 0, 0x53) : v4(198, 19, 253, 53);
      h.src = from_client ? (f.v6 ? c.a6 : c.a4) : resolver;
      h.dst = from_client ? resolver : (f.v6 ? c.a6 : c.a4);
      h.ttl = from_client ? c.ttl : 63;
      h.id = rng_.u16v();
      // A real query (A or AAAA for a made-up name) and its answer.
      u8 msg[128];
      const u16 qid = static_cast<u16>(f.sport ^ 0x5a5a);
      put16(msg, qid);
      put16(msg + 2, from_client ? 0x0100 : 0x8180);
      put16(msg + 4, 1); put16(msg + 6, from_client ? 0 : 1); put16(msg + 8, 0); put16(msg + 10, 0);
      std::size_t q = 12;
      char label[16];
      const int ll = std::snprintf(label, sizeof label, "host%u", static_cast<unsigned>(f.sport % 977));
      msg[q++] = static_cast<u8>(ll);
      std::memcpy(msg + q, label, static_cast<std::size_t>(ll));
      q += static_cast<std::size_t>(ll);
      static const u8 tail[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
      std::memcpy(msg + q, tail, sizeof tail);
      q += sizeof tail;
      const u16 qtype = f.v6 ? 28 : 1;
      put16(msg + q, qtype); put16(msg + q + 2, 1);
      q += 4;
      if (!from_client) {
        put16(msg + q, 0xc00c); put16(msg + q + 2, qtype); put16(msg + q + 4, 1);
        put32(msg + q + 6, 300);
        const std::size_t rdlen = f.v6 ? 16 : 4;
        put16(msg + q + 10, static_cast<u32>(rdlen));
        const Addr& answer = servers_[f.server].a;
        std::memcpy(msg + q + 12, answer.b.data(), rdlen);
        q += 12 + rdlen;
      }
      const u32 len = static_cast<u32>(q);
      const std::size_t n = from_client ? b_.udp_frame(gateway_mac_, c.mac, c.vlan, h, f.sport, 53, len, msg)
                                        : b_.udp_frame(c.mac, gateway_mac_, c.vlan, h, 53, f.sport, len, msg);
      write(b_.data(), n, false);
      if (++f.step >= f.remaining) { finish(id); return; }
      schedule(id, after_ms(1.2 + rng_.unit() * 20));
      return;
    }
    if (from_client) {
      h = ip_from_client(f, false);
    } else {
      h = ip_from_server(f, false);
    }
    const u32 len = rng_.chance(0.7) ? 1252 : rng_.range(30, 300);
    const std::size_t n = from_client ? b_.udp_frame(gateway_mac_, c.mac, c.vlan, h, f.sport, 443, len)
                                      : b_.udp_frame(c.mac, gateway_mac_, c.vlan, h, 443, f.sport, len);
    write(b_.data(), n, false);
    if (++f.step >= f.remaining) { finish(id); return; }
    schedule(id, after_ms(rng_.exp(s.rtt_ms / 2)));
  }

  void step_ping(u32 id) {
    Flow& f = flows_[id];
    Client& c = clients_[f.client];
    const bool request = f.step % 2 == 0;
    Ip h = request ? ip_from_client(f, false) : ip_from_server(f, false);
    h.df = false;
    u8 body[56];
    for (std::size_t i = 0; i < sizeof body; ++i) body[i] = static_cast<u8>(i);
    const u8 type = f.v6 ? (request ? 128 : 129) : (request ? 8 : 0);
    const u32 rest = static_cast<u32>(f.sport) << 16 | (f.step / 2 + 1);
    const std::size_t n = request ? b_.icmp_frame(gateway_mac_, c.mac, c.vlan, h, type, 0, rest, body, sizeof body)
                                  : b_.icmp_frame(c.mac, gateway_mac_, c.vlan, h, type, 0, rest, body, sizeof body);
    write(b_.data(), n, true);
    if (++f.step >= f.remaining) { finish(id); return; }
    schedule(id, request ? after_ms(rtt(f)) : now_ + 1 * sec - static_cast<i64>(rtt(f) * 1e6));
  }

  Options o_;
  Rng rng_;
  Builder b_;
  Writer w_;
  std::optional<Writer> prefix_;
  std::FILE* truth_ = nullptr;
  std::vector<Client> clients_;
  std::vector<Server> servers_;
  std::vector<u32> servers4_, servers6_;
  std::vector<u32> spoken_[2];
  std::vector<Flow> flows_;
  std::vector<u32> gens_;
  std::vector<u32> free_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  std::vector<u8> quote_;
  std::array<u8, 6> gateway_mac_{0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
  i64 start_ = i64{1'768'471'200} * sec;  // 2026-01-15T10:00:00Z
  i64 now_ = 0;
  i64 last_ts_ = 0;
  bool stopping_ = false;
  bool current_must_finish_ = false;
  u64 filter_hits_ = 0;
  u64 attempts_ = 0;
};

u64 parse_size(std::string_view s) {
  if (s.empty()) throw std::invalid_argument("empty size");
  u64 mult = 1;
  const char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
  if (last == 'K') mult = 1ull << 10;
  else if (last == 'M') mult = 1ull << 20;
  else if (last == 'G') mult = 1ull << 30;
  if (mult != 1) s.remove_suffix(1);
  return std::stoull(std::string(s)) * mult;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "%s%ssynprobe-gencap --size N[K|M|G] [--format pcap|pcapng] [--seed N] -o FILE\n"
               "                [--prefix N[K|M|G]:PREFIX_FILE] [--concurrency N]\n"
               "                [--attempt-rate PER_S | --attempts-per-gib N] [--snaplen N]\n"
               "Writes FILE, FILE.truth.jsonl (one line per connection attempt) and FILE.stats.json.\n",
               why ? why : "", why ? "\n" : "");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
        return argv[++i];
      };
      if (a == "--size") o.size = parse_size(value());
      else if (a == "--format") {
        const std::string f = value();
        if (f != "pcap" && f != "pcapng") throw std::invalid_argument("--format is pcap or pcapng");
        o.pcapng = f == "pcapng";
      } else if (a == "--seed") o.seed = std::stoull(value());
      else if (a == "-o" || a == "--output") o.out = value();
      else if (a == "--prefix") {
        const std::string v = value();
        const auto colon = v.find(':');
        if (colon == std::string::npos) throw std::invalid_argument("--prefix SIZE:FILE");
        o.prefix_size = parse_size(v.substr(0, colon));
        o.prefix_out = v.substr(colon + 1);
      } else if (a == "--concurrency") o.concurrency = static_cast<u32>(std::stoul(value()));
      else if (a == "--attempt-rate") o.attempt_rate = std::stod(value());
      else if (a == "--attempts-per-gib") o.attempts_per_gib = std::stod(value());
      else if (a == "--snaplen") o.snaplen = static_cast<u32>(std::stoul(value()));
      else if (a == "-h" || a == "--help") return usage(nullptr), 0;
      else throw std::invalid_argument("unknown argument " + std::string(a));
    }
    if (o.out.empty()) throw std::invalid_argument("-o FILE is required");
    if (o.size < (64u << 10)) throw std::invalid_argument("--size must be at least 64K");
    // 54 bytes hold Ethernet, IPv4 and a TCP header without options: less cuts what
    // synprobe must read (IPv6 and TCP options need up to 96).
    if (o.snaplen < 54 || o.snaplen > 262144) throw std::invalid_argument("--snaplen is 54 to 262144");
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  try {
    Generator g(o);
    g.run();
    g.write_stats(o.out + ".stats.json");
    std::fprintf(stderr, "synprobe-gencap: %s: %llu packets, %llu attempts\n", o.out.c_str(),
                 static_cast<unsigned long long>(g.packets()), static_cast<unsigned long long>(g.attempts()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "synprobe-gencap: %s\n", e.what());
    return 1;
  }
  return 0;
}
