#pragma once
// The versions of the libraries synprobe runs with, for `synprobe --version`: libpcap
// asked at run time (pcap_lib_version()), libtins as built against (it has no version
// call nor macro: pkg-config's and Debian's package version, read when CMake configured
// the build), fmt from its header (FMT_VERSION).

#include <string>
#include <vector>

namespace synprobe {

// One line per library, e.g. "libpcap version 1.10.3 (with TPACKET_V3)".
[[nodiscard]] std::vector<std::string> library_version_lines();

}  // namespace synprobe
