#include "dissect/verdict/trace_model.hpp"

namespace synprobe {

std::string_view hop_answer_name(HopAnswer a) {
  switch (a) {
    case HopAnswer::none: return "*";
    case HopAnswer::time_exceeded: return "time-exceeded";
    case HopAnswer::reset: return "reset";
    case HopAnswer::syn_ack: return "syn-ack";
    case HopAnswer::unreachable: return "unreachable";
    case HopAnswer::other_icmp: return "other-icmp";
    case HopAnswer::data: return "data";
  }
  return "*";
}

}  // namespace synprobe
