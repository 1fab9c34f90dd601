#include "input_buffer.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dissect/decode/error.hpp"

namespace synprobe {
namespace {
// Big enough that the read() calls cost nothing (4 096 per GiB), small enough that what
// the kernel copies in is still in the CPU's L2 cache when the records are parsed: a
// 4 MiB buffer was measurably slower. It grows for a bigger record.
constexpr std::size_t initial_buffer = 256u << 10;
}

InputBuffer::InputBuffer(int fd, std::string name)
    : fd_(fd), name_(std::move(name)), buffer_(initial_buffer) {
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
  // Standard input may be a regular file opened at an offset: read it.
  mapped_ = size_ && *size_ > 0 && fd_ != STDIN_FILENO;
  if (mapped_) std::vector<std::uint8_t>().swap(buffer_);
}

InputBuffer::~InputBuffer() {
  unmap();
  if (fd_ > STDIN_FILENO) ::close(fd_);
}

void InputBuffer::enable_digest() {
  digest_ = std::make_unique<Sha256>();
  if (mapped_) buffer_.resize(initial_buffer);
  mapped_ = false;
}

void InputBuffer::unmap() {
  if (window_) ::munmap(const_cast<std::uint8_t*>(window_), window_length_);
  window_ = nullptr;
  window_length_ = 0;
}

std::size_t InputBuffer::available() const {
  if (mapped_) return static_cast<std::size_t>(*size_ - std::min(consumed_, *size_));
  return end_ - begin_;
}

// Slides the window so that it starts at the page holding the next byte and holds at
// least `n` bytes (or the rest of the file).
const std::uint8_t* InputBuffer::peek_mapped(std::size_t n) {
  const std::uint64_t in_window = consumed_ - window_offset_;
  if (window_ && consumed_ >= window_offset_ && in_window + n <= window_length_) return window_ + in_window;
  if (consumed_ + n > *size_) return nullptr;
  static const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t offset = consumed_ & ~(page - 1);
  const std::size_t length =
      static_cast<std::size_t>(std::min<std::uint64_t>(std::max<std::uint64_t>(map_window, consumed_ - offset + n),
                                                       *size_ - offset));
  unmap();
  void* m = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, static_cast<off_t>(offset));
  if (m == MAP_FAILED)
    throw Failure(ExitCode::input_unreadable, name_ + ": cannot map the file: " + std::strerror(errno));
  window_ = static_cast<const std::uint8_t*>(m);
  window_offset_ = offset;
  window_length_ = length;
  return window_ + (consumed_ - offset);
}

bool InputBuffer::fill(std::size_t n) {
  if (buffer_.size() < n) {
    // Keep what is pending at the front of a bigger buffer.
    std::vector<std::uint8_t> bigger(n);
    std::memcpy(bigger.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    buffer_.swap(bigger);
  } else if (buffer_.size() - begin_ < n) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ - begin_ < n && !eof_) {
    const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Failure(ExitCode::input_unreadable, name_ + ": read failed: " + std::strerror(errno));
    }
    if (got == 0) eof_ = true;
    if (digest_) digest_->update(Bytes(buffer_.data() + end_, static_cast<std::size_t>(got)));
    end_ += static_cast<std::size_t>(got);
  }
  return end_ - begin_ >= n;
}

const std::uint8_t* InputBuffer::peek_slow(std::size_t n) {
  if (mapped_) return peek_mapped(n);
  if (end_ - begin_ < n && !fill(n)) return nullptr;
  return buffer_.data() + begin_;
}

std::string InputBuffer::finish_digest() {
  if (!digest_) return {};
  while (!eof_) {
    begin_ = end_ = 0;  // the bytes pending were hashed when read
    fill(buffer_.size());
  }
  return digest_->hex_digest();
}

void InputBuffer::consume(std::size_t n) {
  begin_ += n;
  consumed_ += n;
}

}  // namespace synprobe
