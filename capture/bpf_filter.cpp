#include "bpf_filter.hpp"

#include <pcap/pcap.h>

#include <fmt/format.h>

#include "dissect/decode/decode.hpp"
#include "dissect/decode/error.hpp"

namespace synprobe {

struct BpfFilter::Program {
  std::uint16_t link_type = 0;
  bool usable = false;  // false: libpcap cannot filter this link type; nothing matches
  bpf_program code{};

  ~Program() {
    if (usable) pcap_freecode(&code);
  }
};

namespace {

// pcap_open_dead() takes a DLT_* value, but files store LINKTYPE_* values; the two differ
// for raw IP (LINKTYPE_RAW 101, DLT_RAW 12 or 14) and OpenBSD loopback. libpcap maps them when
// it reads a file itself; here the mapping is ours.
int dlt_of(std::uint16_t link) {
  switch (link) {
    case link_type::raw:
    case link_type::raw_dlt12:
    case link_type::raw_dlt14: return DLT_RAW;
    case link_type::loop: return DLT_LOOP;
    default: return link;
  }
}

// Compiles for one link type; returns libpcap's message on failure.
std::string compile(const std::string& expression, std::uint16_t link_type, bpf_program& code) {
  pcap_t* dead = pcap_open_dead(dlt_of(link_type), 262144);
  if (!dead) return "libpcap cannot create a compiler";
  std::string error;
  if (pcap_compile(dead, &code, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    error = pcap_geterr(dead);
  pcap_close(dead);
  return error;
}

}  // namespace

BpfFilter::BpfFilter(std::string expression) : expression_(std::move(expression)) {
  // Compile once for Ethernet up front so that a typo fails before any reading.
  bpf_program probe{};
  const std::string error = compile(expression_, link_type::ethernet, probe);
  if (!error.empty())
    throw Failure(ExitCode::usage, fmt::format("bad filter expression '{}': {}", expression_, error));
  pcap_freecode(&probe);
}

BpfFilter::~BpfFilter() = default;

BpfFilter::Program* BpfFilter::program_for(std::uint16_t link_type) {
  for (const auto& p : programs_)
    if (p->link_type == link_type) return p.get();
  auto p = std::make_unique<Program>();
  p->link_type = link_type;
  // A valid expression may still not apply to a link type (e.g. "vlan" on raw IP);
  // then no frame of that link type matches, as with tcpdump.
  p->usable = compile(expression_, link_type, p->code).empty();
  programs_.push_back(std::move(p));
  return programs_.back().get();
}

bool BpfFilter::matches(const RawFrame& frame) {
  Program* p = program_for(frame.link_type);
  if (!p->usable) return false;
  pcap_pkthdr header{};
  header.caplen = static_cast<bpf_u_int32>(frame.data.size());
  header.len = frame.wire_length;
  return pcap_offline_filter(&p->code, &header, frame.data.data()) != 0;
}

}  // namespace synprobe
