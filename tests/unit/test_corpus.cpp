// The shared capture corpus (captures from other projects' test folders): every file ends
// with a report or a clear input_unreadable Failure, and captures that hold a SYN yield at
// least one attempt. Skips cleanly when the corpus is absent.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "capture/offline_analysis.hpp"
#include "dissect/decode/error.hpp"

using namespace synprobe;
namespace fs = std::filesystem;

namespace {

const fs::path corpus = fs::path(SYNPROBE_SHARED_DIR) / "corpus";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "INDEX.tsv" || name.ends_with(".md") || name.ends_with(".tsv")) continue;
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- an independent SYN finder: looks for an IPv4 header with a valid checksum, or an
// IPv6 header with TCP right after it, carrying a SYN without ACK or RST, at any offset of
// a frame (so any link layer or tunnel), with the whole TCP header inside the frame.

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

bool ipv4_checksum_ok(const std::uint8_t* p, std::size_t ihl) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < ihl; i += 2) sum += be16(p + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

bool tcp_syn_at(const std::uint8_t* tcp, std::size_t available) {
  if (available < 20) return false;
  const std::size_t header = static_cast<std::size_t>(tcp[12] >> 4) * 4;
  if (header < 20 || header > available) return false;
  const std::uint8_t flags = tcp[13];
  return (flags & 0x02) && !(flags & 0x10) && !(flags & 0x04);
}

// Whether an IP header that carries a tunnel (IP-in-IP 4/41, GRE 47) ends right at `o`
// (or 4 bytes before it, for GRE): synprobe does not decode tunnels, so such a SYN is not required.
bool inside_tunnel(const std::uint8_t* f, std::size_t o) {
  auto tunnel = [](std::uint8_t proto) { return proto == 4 || proto == 41 || proto == 47; };
  for (const std::size_t gre : {std::size_t{0}, std::size_t{4}}) {
    if (o >= 20 + gre && f[o - 20 - gre] == 0x45 && tunnel(f[o - 20 - gre + 9])) return true;
    if (o >= 40 + gre && (f[o - 40 - gre] >> 4) == 6 && tunnel(f[o - 40 - gre + 6])) return true;
  }
  return false;
}

enum class SynFound { none, plain, tunnelled };

SynFound frame_syn(const std::uint8_t* f, std::size_t n) {
  SynFound found = SynFound::none;
  for (std::size_t o = 0; o + 20 <= n; ++o) {
    bool syn = false;
    if (f[o] == 0x45 && f[o + 9] == 6) {
      const std::size_t total = be16(f + o + 2);
      syn = total >= 40 && ipv4_checksum_ok(f + o, 20) && (be16(f + o + 6) & 0x1fff) == 0 &&
            tcp_syn_at(f + o + 20, std::min(n - o, total) - 20);
    }
    if (!syn && (f[o] >> 4) == 6 && o + 40 <= n && f[o + 6] == 6 && f[o + 7] != 0) {
      const std::size_t payload = be16(f + o + 4);
      syn = payload >= 20 && tcp_syn_at(f + o + 40, std::min(n - o - 40, payload));
    }
    if (!syn) continue;
    if (!inside_tunnel(f, o)) return SynFound::plain;
    found = SynFound::tunnelled;
  }
  return found;
}

// What libpcap's reader finds in the file; std::nullopt when libpcap cannot read it.
std::optional<SynFound> file_syn(const fs::path& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), error);
  if (!p) return std::nullopt;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  SynFound found = SynFound::none;
  while (found != SynFound::plain && pcap_next_ex(p, &header, &data) == 1)
    found = std::max(found, frame_syn(data, header->caplen));
  pcap_close(p);
  return found;
}

}  // namespace

TEST_CASE("corpus: every robustness capture ends with a report or input_unreadable",
          "[corpus]") {
  const fs::path dir = corpus / "robustness";
  if (!fs::is_directory(dir)) {
    SUCCEED("corpus absent");
    return;
  }
  const auto start = Clock::now();
  std::size_t reports = 0, unreadable = 0, damaged = 0;
  const std::vector<fs::path> files = files_in(dir);
  for (const fs::path& file : files) {
    CAPTURE(file.filename().string());
    const auto one = Clock::now();
    try {
      const AnalysisReport report = analyze_capture(OfflineOptions{file.string(), std::nullopt});
      ++reports;
      if (report.input.damage) ++damaged;
      // The counts the report gives must add up.
      std::uint64_t decoded = 0;
      for (const std::uint64_t n : report.input.decode) decoded += n;
      CHECK(decoded == report.input.packets);
    } catch (const Failure& f) {
      INFO(f.what());
      CHECK(f.code() == ExitCode::input_unreadable);
      ++unreadable;
    } catch (const std::exception& e) {
      FAIL("unexpected exception: " << e.what());
    }
    CHECK(seconds_since(one) < 5.0);
  }
  INFO(reports << " reports (" << damaged << " damaged), " << unreadable << " unreadable, of "
               << files.size() << " files");
  REQUIRE_FALSE(files.empty());
  CHECK(reports + unreadable == files.size());
  CHECK(reports * 2 >= files.size());
  CHECK(seconds_since(start) < 30.0);
}

TEST_CASE("corpus: every outcome capture with a SYN yields attempts", "[corpus]") {
  const fs::path dir = corpus / "outcomes";
  if (!fs::is_directory(dir)) {
    SUCCEED("corpus absent");
    return;
  }
  const auto start = Clock::now();
  std::size_t with_syn = 0, without_syn = 0, tunnelled = 0, unknown = 0;
  for (const fs::path& file : files_in(dir)) {
    CAPTURE(file.filename().string());
    AnalysisReport report;
    try {
      report = analyze_capture(OfflineOptions{file.string(), std::nullopt});
    } catch (const std::exception& e) {
      FAIL("no report: " << e.what());
    }
    const std::optional<SynFound> syn = file_syn(file);
    if (!syn) {
      ++unknown;  // libpcap cannot read it (e.g. mixed link types): no independent answer
      continue;
    }
    switch (*syn) {
      case SynFound::plain:
        ++with_syn;
        CHECK_FALSE(report.attempts.empty());
        break;
      case SynFound::tunnelled: ++tunnelled; break;
      case SynFound::none: ++without_syn; break;
    }
  }
  INFO(with_syn << " with a SYN, " << tunnelled << " with SYNs only inside tunnels, " << without_syn
                << " without, " << unknown << " unscanned");
  CHECK(with_syn > 0);
  CHECK(seconds_since(start) < 30.0);
}
