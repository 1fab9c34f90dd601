#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "dissect/decode/error.hpp"

namespace synprobe {
namespace {

void write_all(int fd, std::string_view content, const std::string& path) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Failure(ExitCode::output, fmt::format("{}: write failed: {}", path, std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  AtomicFile file(path);
  file.write(content);
  file.commit();
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    fd_ = STDOUT_FILENO;
    return;
  }
  // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place: renaming a
  // temporary file over it would replace the device itself.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw Failure(ExitCode::output, fmt::format("{}: is a directory", path_));
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw Failure(ExitCode::output, fmt::format("{}: {}", path_, std::strerror(errno)));
    return;
  }
  std::vector<char> temp(path_.begin(), path_.end());
  const std::string suffix = ".synprobe-XXXXXX";
  temp.insert(temp.end(), suffix.begin(), suffix.end());
  temp.push_back('\0');
  fd_ = ::mkstemp(temp.data());
  if (fd_ < 0)
    throw Failure(ExitCode::output, fmt::format("{}: cannot create a file there: {}", path_, std::strerror(errno)));
  temp_ = temp.data();
}

AtomicFile::~AtomicFile() {
  if (fd_ > STDOUT_FILENO) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());  // not committed
}

void AtomicFile::write(std::string_view content) {
  write_all(fd_, content, fd_ == STDOUT_FILENO ? std::string("<stdout>") : path_);
}

void AtomicFile::commit() {
  if (temp_.empty()) {
    if (fd_ > STDOUT_FILENO) ::close(fd_);
    fd_ = -1;
    return;
  }
  if (::fsync(fd_) != 0)
    throw Failure(ExitCode::output, fmt::format("{}: cannot flush to disk: {}", path_, std::strerror(errno)));
  // mkstemp creates 0600; an output file is as readable as any other the user writes.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0)
    throw Failure(ExitCode::output, fmt::format("{}: close failed: {}", path_, std::strerror(errno)));
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Failure(ExitCode::output, fmt::format("{}: cannot replace: {}", path_, std::strerror(errno)));
  temp_.clear();
}

}  // namespace synprobe
