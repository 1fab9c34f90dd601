#pragma once
// Live probing sends several SYNs to one target (--count), each with its own ISN, so
// the analyzer judges each as an attempt of its own. This folds them into one result
// per target: the verdict most probes agree on, with every disagreement kept as evidence.

#include <vector>

#include "dissect/verdict/analyzer.hpp"

namespace synprobe {

// `probes` are the results for one target, in the order sent; must not be empty.
[[nodiscard]] AttemptResult combine_probes(const std::vector<AttemptResult>& probes);

}  // namespace synprobe
