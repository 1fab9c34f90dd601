#pragma once
// Probes waited for together: the first phase of a run, or one pass of a trace. A group
// says when it is settled (the run stops waiting for it) and which of its TTLs drew an
// answer; the first phase also answers per target (answered yet? first SYN sent when?).
// Pure: the time is passed in.

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "dissect/trace/planned_probe.hpp"

namespace synprobe {

struct ProbeGroup {
  std::vector<PlannedProbe*> probes;

  // Settled once every probe has left and either each was answered or `wait_s` passed
  // since the last one left. ICMP echo requests are never waited for: they only add to
  // the baseline. Once every probe is answered, a little longer still (the slowest round
  // trip, at least 20 ms): a forged RST comes first, the host's own answer after it.
  [[nodiscard]] bool settled(Timestamp now, double wait_s) const;
  // Each TTL of the group that was asked (not every probe of it skipped), and whether any
  // probe with it was answered.
  [[nodiscard]] std::map<int, bool> answered_by_ttl() const;
  // The TTLs of the group's answered probes.
  [[nodiscard]] std::set<int> answered_ttls() const;
  // The slowest round trip of its answered probes with `ttl`, in seconds.
  [[nodiscard]] std::optional<double> slowest_answer_s(int ttl) const;
};

// The first phase of a run: every target's SYNs and the baseline probes, waited for
// together; and each target's own SYNs, in the order planned.
struct FirstPhase {
  ProbeGroup group;
  std::map<TargetKey, std::vector<PlannedProbe*>> by_target;

  [[nodiscard]] bool answered(const TargetKey& key) const;
  [[nodiscard]] std::optional<Timestamp> first_sent(const TargetKey& key) const;
  // Whether every target that drew no answer yet has been listened to for `wait_s` since
  // its first SYN left (a late answer may still come: late_answer_wait_s).
  [[nodiscard]] bool silent_targets_waited(Timestamp now, double wait_s) const;
  // The host's fastest answer to any probe of this phase, in seconds.
  [[nodiscard]] std::optional<double> fastest_answer_s(const IpAddress& host) const;
  // The same for every host at once, in one pass over the phase's probes.
  [[nodiscard]] std::map<IpAddress, double> fastest_answers_s() const;
};

}  // namespace synprobe
