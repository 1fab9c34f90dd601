#pragma once
// Writes a whole output file or nothing: a temporary file beside the target, flushed
// to disk, then renamed over it. An interrupted run or a full disk leaves no half file.

#include <string>
#include <string_view>

namespace synprobe {

// Throws Failure(output) naming the path and the reason. "-" writes to standard output.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace synprobe
