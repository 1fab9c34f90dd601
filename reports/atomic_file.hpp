#pragma once
// Writes a whole output file or nothing: a temporary file beside the target, flushed
// to disk, then renamed over it. An interrupted run or a full disk leaves no half file.

#include <string>
#include <string_view>

namespace synprobe {

// Throws Failure(output) naming the path and the reason. "-" writes to standard output.
void write_file_atomically(const std::string& path, std::string_view content);

// The same, written a piece at a time: write() as often as needed, then commit(). A file
// not committed (an exception on the way) is removed, leaving the target as it was.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view content);
  void commit();

 private:
  std::string path_;
  std::string temp_;  // empty when writing in place (stdout, a device, a pipe)
  int fd_ = -1;
};

}  // namespace synprobe
