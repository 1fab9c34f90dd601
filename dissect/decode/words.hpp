#pragma once
// Lists in words, for the sentences of findings: "a", "a and b", "a, b and c".

#include <string>
#include <vector>

namespace synprobe {

[[nodiscard]] std::string and_list(const std::vector<std::string>& items);

}  // namespace synprobe
