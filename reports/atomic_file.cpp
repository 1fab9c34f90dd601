#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "dissect/error.hpp"

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
  if (path == "-") {
    write_all(STDOUT_FILENO, content, "<stdout>");
    return;
  }
  // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written in place: renaming a
  // temporary file over it would replace the device itself.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw Failure(ExitCode::output, fmt::format("{}: is a directory", path));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw Failure(ExitCode::output, fmt::format("{}: {}", path, std::strerror(errno)));
    try {
      write_all(fd, content, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return;
  }
  std::vector<char> temp(path.begin(), path.end());
  const std::string suffix = ".synprobe-XXXXXX";
  temp.insert(temp.end(), suffix.begin(), suffix.end());
  temp.push_back('\0');
  const int fd = ::mkstemp(temp.data());
  if (fd < 0)
    throw Failure(ExitCode::output, fmt::format("{}: cannot create a file there: {}", path, std::strerror(errno)));
  try {
    write_all(fd, content, path);
    if (::fsync(fd) != 0)
      throw Failure(ExitCode::output, fmt::format("{}: cannot flush to disk: {}", path, std::strerror(errno)));
    // mkstemp creates 0600; an output file is as readable as any other the user writes.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
  } catch (...) {
    ::close(fd);
    ::unlink(temp.data());
    throw;
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(temp.data());
    throw Failure(ExitCode::output, fmt::format("{}: close failed: {}", path, std::strerror(e)));
  }
  if (::rename(temp.data(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp.data());
    throw Failure(ExitCode::output, fmt::format("{}: cannot replace: {}", path, std::strerror(e)));
  }
}

}  // namespace synprobe
