#pragma once
// Refusal signatures as data: the known shapes of the packets that refuse a connection
// (which stack or device builds its RST or ICMP error how), kept in one versioned table.
// The verdict engine names the signature an answer matches in its evidence.

#include <optional>
#include <span>
#include <string_view>

#include "dissect/infer/attempt.hpp"

namespace synprobe {

// Bumped whenever an entry is added, changed or removed.
inline constexpr int signature_table_version = 1;

struct RefusalSignature {
  std::string_view name;         // "linux-rst"
  std::string_view description;  // what builds packets of this shape, and how
  bool (*matches)(const Answer& answer);
};

[[nodiscard]] std::span<const RefusalSignature> signature_table();
// The first entry the answer matches, if any (entries run from specific to general).
[[nodiscard]] const RefusalSignature* match_signature(const Answer& answer);

}  // namespace synprobe
