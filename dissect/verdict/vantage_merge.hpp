#pragma once
// "Is it just me?": one target seen from several vantage points, in one finding.
// Pure: the runs come in as report values (read from their JSON by the caller); the paths
// the traces found are aligned by address, the join point named, and the refusal placed on
// one side of it (docs/merge.md).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/verdict/report_diff.hpp"
#include "dissect/verdict/report_model.hpp"

namespace synprobe {

// One hop of a path: the addresses that answered for that TTL (several where a load
// balancer spreads the probes); none: a silent hop (`*`).
struct PathNode {
  int hop = 0;
  std::vector<IpAddress> addresses;  // sorted, unique
  [[nodiscard]] bool silent() const { return addresses.empty(); }
  [[nodiscard]] bool holds(const IpAddress& a) const;
};
using Path = std::vector<PathNode>;

// Where the paths join: the first address from which all of them agree to their end.
// Aligned by that address, not by hop number (the vantages may be 2 and 5 hops from it);
// after it, a silent hop agrees with anything and two load-balanced hops agree when they
// share an address. join_index[i] is the join's position in paths[i] (0-based).
struct Alignment {
  std::optional<IpAddress> join;
  std::vector<std::size_t> join_index;
};
[[nodiscard]] Alignment align_paths(const std::vector<Path>& paths);

// One run as merge sees it.
struct VantageRun {
  std::string name;               // the label shown (vantage.name, else the file's name)
  std::string place;              // what identifies the place (vantage.name): equal places, one vantage
  std::string mode;               // analyze, probe, trace
  Timestamp from, to;             // when its packets were seen (analyze: the capture's first and last)
  const AnalysisReport* report = nullptr;  // not owned
};

// Where a vantage's refusal (or drop) is, against the join.
enum class Side : std::uint8_t { unknown, before_join, at_join, after_join, none };
[[nodiscard]] std::string_view side_name(Side s);

// What one vantage saw of one target.
struct VantageFate {
  std::size_t run = 0;           // index into the runs
  TargetState state;
  Path path;                     // the trace's hops, cut at the refuser (or the last answering hop of a drop); the destination last when it answered
  bool reached = false;          // the path ends at the destination
  std::optional<std::uint16_t> path_port;  // the path came from this other port's trace of the same address
  Path route;                    // the path aligned: `path`, or the same run's trace of another port that reached the host
  std::optional<std::size_t> join_index;  // the join's position in `route`
  std::optional<int> join_hop;   // this vantage's hop number of the join point
  Side side = Side::unknown;     // where its refusal or drop is against the join
  std::size_t attempts = 0;      // attempts to the target in this run (the last one counts)
};

enum class MergeKind : std::uint8_t {
  open_everywhere,   // the same: open from every vantage
  global,            // the same refusal (or drop) from every vantage
  local,             // differs, and the refusal is on the refusing vantages' side, before the join
  by_source,         // differs, and the refuser is on a shared part: it tells the sources apart
  differs,           // differs, and the paths cannot place it
  runs_apart,        // differs, but the runs are too far apart in time (or straddle a change) to blame a side
  dropped_between,   // captures of the same attempts: the SYN seen at one point and not at the next
  changed_between,   // captures of the same attempts: the answer differs between the points
  one_vantage,       // seen from one vantage only
};
inline constexpr std::size_t merge_kind_count = 9;
[[nodiscard]] std::string_view merge_kind_name(MergeKind k);

struct TargetMerge {
  std::string target;            // "198.18.4.10:443" ([v6]:port)
  IpAddress address;
  std::uint16_t port = 0;
  std::vector<VantageFate> fates;  // in the runs' order
  std::optional<IpAddress> join;   // over the paths known
  MergeKind kind = MergeKind::one_vantage;
  std::string finding;           // one sentence
  std::vector<std::string> notes;  // caveats: silent hops, load balancing, paths unknown, times
};

struct MergeOptions {
  double max_apart_s = 600;              // runs further apart than this are not compared as simultaneous
  std::optional<Timestamp> change_at;    // a change made then: runs on both sides of it are not compared
};

struct MergeResult {
  std::vector<std::string> vantages;     // the runs' labels, in order
  std::vector<TargetMerge> targets;      // ordered by address, then port
  double spread_s = 0;                   // from the earliest run's start to the latest run's end
  bool runs_apart = false;               // further apart than the bound, or straddling the change
  std::vector<std::string> notes;        // about the runs as a whole
};

[[nodiscard]] MergeResult merge_vantages(const std::vector<VantageRun>& runs, const MergeOptions& options);

}  // namespace synprobe
