#pragma once
// Sequential reads from a file descriptor through one reusable buffer, handing out
// contiguous views without copying each record: the offline hot path allocates nothing
// per packet.

#include <cstddef>
#include <cstdint>
#include <string>
#include <memory>
#include <vector>

#include "dissect/sha256.hpp"

namespace synprobe {

class InputBuffer {
 public:
  // Takes ownership of `fd` (closed on destruction unless it is standard input).
  InputBuffer(int fd, std::string name);
  ~InputBuffer();
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  // A view of the next `n` bytes, or nullptr when the input ends first (available()
  // then tells how many bytes were left). Valid until the next peek/consume.
  const std::uint8_t* peek(std::size_t n);
  void consume(std::size_t n);
  [[nodiscard]] std::size_t available() const { return end_ - begin_; }
  [[nodiscard]] std::uint64_t consumed() const { return consumed_; }

  // Hash every byte read from now on (call before the first peek).
  void enable_digest() { digest_ = std::make_unique<Sha256>(); }
  // Reads the rest of the input and returns the SHA-256 of all of it.
  [[nodiscard]] std::string finish_digest();

 private:
  bool fill(std::size_t n);

  int fd_;
  std::string name_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t consumed_ = 0;
  bool eof_ = false;
  std::unique_ptr<Sha256> digest_;
};

}  // namespace synprobe
