#include "capture/library_versions.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>

namespace synprobe {

std::vector<std::string> library_version_lines() {
  std::vector<std::string> lines;
  lines.emplace_back(pcap_lib_version());
  std::string tins = fmt::format("libtins {} (built against", SYNPROBE_TINS_VERSION);
  if (std::string_view(SYNPROBE_TINS_PACKAGE).empty())
    tins += ")";
  else
    tins += fmt::format("; Debian package {})", SYNPROBE_TINS_PACKAGE);
  lines.push_back(std::move(tins));
  lines.push_back(fmt::format("fmt {}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100));
  return lines;
}

}  // namespace synprobe
