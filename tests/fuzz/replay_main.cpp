// Replays inputs through a fuzz target's entry point without libFuzzer, so that the
// normal (g++) and asan builds keep every regression input fixed (CTest: fuzz.replay.*).
//
//   fuzz_replay_<target> PATH...
// A file is run as it is; a directory runs its files named "<target>-*" (the naming of
// tests/fuzz/regressions/), in name order. Exits 0 when every input ran; a crash is the
// failure (and the sanitizers' report, in the asan build).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#ifndef SYNPROBE_FUZZ_TARGET
#error "define SYNPROBE_FUZZ_TARGET as the target's name"
#endif

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const std::string prefix = std::string(SYNPROBE_FUZZ_TARGET) + "-";
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path path(argv[i]);
    if (fs::is_directory(path)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(path))
        if (entry.is_regular_file() && entry.path().filename().string().starts_with(prefix))
          found.push_back(entry.path());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(path)) {
      files.push_back(path);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::printf("replay %s: %s (%zu bytes)\n", SYNPROBE_FUZZ_TARGET, file.c_str(), bytes.size());
    std::fflush(stdout);
    // A copy of exactly the input's size, so that ASan sees any read past its end.
    auto* copy = new std::uint8_t[bytes.size() + (bytes.empty() ? 1 : 0)];
    std::copy(bytes.begin(), bytes.end(), copy);
    LLVMFuzzerTestOneInput(copy, bytes.size());
    delete[] copy;
  }
  std::printf("replay %s: %zu input%s, no crash\n", SYNPROBE_FUZZ_TARGET, files.size(), files.size() == 1 ? "" : "s");
  return 0;
}
