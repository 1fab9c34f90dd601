#include "input_buffer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dissect/error.hpp"

namespace synprobe {
namespace {
constexpr std::size_t initial_buffer = 4u << 20;  // large sequential reads, few syscalls
}

InputBuffer::InputBuffer(int fd, std::string name)
    : fd_(fd), name_(std::move(name)), buffer_(initial_buffer) {}

InputBuffer::~InputBuffer() {
  if (fd_ > STDIN_FILENO) ::close(fd_);
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

const std::uint8_t* InputBuffer::peek(std::size_t n) {
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
