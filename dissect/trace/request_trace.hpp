#pragma once
// Where a refusal after the handshake happens (CenTrace's method): the run sends the same
// request again on fresh connections of one flow (Paris-style: one source port), each copy
// with a limited TTL, and reads which TTL first draws the RST, or after which hop the copies
// vanish. build_request_trace() makes the hop table from those connections;
// locate_request() refines the request-stage verdict with it.

#include <vector>

#include "dissect/verdict/analyzer.hpp"
#include "dissect/verdict/trace_model.hpp"

namespace synprobe {

// `sweep`: the attempts whose request went out TTL-limited (ClientRequest::ttl is its TTL).
[[nodiscard]] Trace build_request_trace(const std::vector<const Attempt*>& sweep);

// Refines `r`'s request-stage verdict with the hop table: sets hop, responder and hop
// range, adds evidence, and sets rule trace-located when the table moved or located it.
void locate_request(AttemptResult& r, const Trace& trace);

}  // namespace synprobe
