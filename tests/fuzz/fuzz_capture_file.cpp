// libFuzzer target: the bytes as a whole pcap/pcapng file, through CaptureFileReader and
// the full `analyze` pipeline (analyze_capture), then every renderer, and the JSON read
// back as `synprobe report` would.
//
// The reader takes a path and reads an fd, so the input goes into a memfd and the
// pipeline opens /proc/self/fd/N: the production code runs unchanged, from open() on.
// A file that holds packets is analysed again with a BPF filter (libpcap
// compiles it per link type met in the file, hostile link types included).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "capture/offline_analysis.hpp"
#include "dissect/decode/error.hpp"
#include "reports/json_reader.hpp"
#include "reports/renderer.hpp"

namespace {

const std::string& input_path(const std::uint8_t* data, std::size_t size) {
  static const int fd = [] {
    const int f = ::memfd_create("synprobe-fuzz", MFD_CLOEXEC);
    if (f < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    return f;
  }();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (::ftruncate(fd, 0) != 0) std::abort();
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  synprobe::OfflineOptions options;
  options.path = input_path(data, size);
  options.digest = true;
  synprobe::AnalysisReport report;
  try {
    report = synprobe::analyze_capture(options);
  } catch (const synprobe::Failure&) {
    return 0;  // unreadable: exit 3 (or 2), one line on stderr
  }
  std::string json;
  for (const synprobe::Renderer& r : synprobe::renderers()) {
    std::string text = r.render(report, synprobe::RenderOptions{});
    if (r.name == "json") json = std::move(text);
  }
  // What we write, we must read back (`synprobe report`): a Failure here is a finding.
  try {
    (void)synprobe::read_json_report(json, "fuzz.json");
  } catch (const synprobe::Failure& e) {
    std::fprintf(stderr, "our own JSON was refused: %s\n%s\n", e.what(), json.c_str());
    std::abort();
  }

  if (report.input.packets == 0) return 0;
  options.filter = "tcp or icmp or icmp6";
  try {
    (void)synprobe::analyze_capture(options);
  } catch (const synprobe::Failure&) {
  }
  return 0;
}
