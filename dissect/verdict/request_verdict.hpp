#pragma once
// The request stage's rules (docs/verdicts.md, "The request stage"): once the SYN was
// answered, what followed the client's request decides whether the connection was
// refused after all, by whom and where. The connection's own SYN/ACK and packets are the
// baseline: after a handshake one always exists.

#include "dissect/infer/attempt.hpp"
#include "dissect/verdict/reasoning.hpp"
#include "dissect/verdict/verdict.hpp"

namespace synprobe {

// Called by judge() when the SYN-stage rules found the attempt open; leaves the judgement
// as it is (stage syn) when the capture holds nothing that decides the request stage.
void judge_request_stage(const Attempt& a, const JudgeContext& ctx, Reasoning& r);

}  // namespace synprobe
