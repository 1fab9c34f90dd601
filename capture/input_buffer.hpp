#pragma once
// Sequential reads from a file descriptor, handing out contiguous views without copying
// each record: the offline hot path allocates nothing per packet.
//
// A regular file is mapped (mmap) a window at a time, so its bytes are not copied at
// all; the window slides forward and the pages behind are unmapped, keeping the
// resident size small. Pipes, standard input, and digests read() through one reusable
// buffer instead. The mapping follows the file's size when it was opened: a file that
// grows meanwhile is read up to that size, and one truncated meanwhile stops the
// process with SIGBUS (as with any reader that maps files, e.g. ripgrep).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dissect/decode/sha256.hpp"

namespace synprobe {

class InputBuffer {
 public:
  // A regular file is mapped this much at a time: few remaps (512 per GiB). The window is
  // mapped with MAP_POPULATE, so all of it is resident while it is mapped and counts whole
  // in a stream's peak memory: 8 MiB windows (128 remaps per GiB) cost 6 MB more for no
  // time saved.
  static constexpr std::size_t map_window = 2u << 20;

  // Takes ownership of `fd` (closed on destruction unless it is standard input).
  InputBuffer(int fd, std::string name);
  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // A view of the next `n` bytes, or nullptr when the input ends first (available()
  // then tells how many bytes were left). Valid until the next peek/consume.
  const std::uint8_t* peek(std::size_t n) {
    // Inline: the common case, a record inside the current window, is two compares.
    if (mapped_ && window_ && consumed_ - window_offset_ + n <= window_length_)
      return window_ + (consumed_ - window_offset_);
    return peek_slow(n);
  }
  void consume(std::size_t n);
  // How many bytes from the next one on are in memory now, readable without a refill or a
  // remap: how far a prefetch hint may look ahead.
  [[nodiscard]] std::size_t in_view() const {
    if (mapped_) return window_ ? static_cast<std::size_t>(window_offset_ + window_length_ - consumed_) : 0;
    return end_ - begin_;
  }
  [[nodiscard]] std::size_t available() const;
  [[nodiscard]] std::uint64_t consumed() const { return consumed_; }
  // The input's size when it is a regular file (not a pipe or a terminal).
  [[nodiscard]] std::optional<std::uint64_t> size() const { return size_; }

  // Hash every byte read from now on (call before the first peek). Reads, never maps.
  void enable_digest();
  // Reads the rest of the input and returns the SHA-256 of all of it.
  [[nodiscard]] std::string finish_digest();

 private:
  const std::uint8_t* peek_slow(std::size_t n);
  bool fill(std::size_t n);
  const std::uint8_t* peek_mapped(std::size_t n);
  void unmap();

  int fd_;
  std::string name_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t consumed_ = 0;
  bool eof_ = false;
  std::optional<std::uint64_t> size_;
  std::unique_ptr<Sha256> digest_;
  // Mapped reading (when mapped_): the window [window_offset_, + window_length_) of the file.
  bool mapped_ = false;
  const std::uint8_t* window_ = nullptr;
  std::uint64_t window_offset_ = 0;
  std::size_t window_length_ = 0;
};

}  // namespace synprobe
