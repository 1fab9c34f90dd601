#pragma once
// A tcpdump-style BPF filter expression, compiled by libpcap once per link type
// met in the input (a pcapng may mix several) and run with pcap_offline_filter.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/raw_frame.hpp"

namespace synprobe {

class BpfFilter {
 public:
  // Throws Failure(usage) when the expression does not compile.
  explicit BpfFilter(std::string expression);
  ~BpfFilter();
  BpfFilter(const BpfFilter&) = delete;
  BpfFilter& operator=(const BpfFilter&) = delete;

  [[nodiscard]] bool matches(const RawFrame& frame);
  [[nodiscard]] const std::string& expression() const { return expression_; }

 private:
  struct Program;
  Program* program_for(std::uint16_t link_type);

  std::string expression_;
  std::vector<std::unique_ptr<Program>> programs_;
};

}  // namespace synprobe
