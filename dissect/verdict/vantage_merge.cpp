#include "dissect/verdict/vantage_merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "dissect/decode/words.hpp"

namespace synprobe {

bool PathNode::holds(const IpAddress& a) const {
  return std::binary_search(addresses.begin(), addresses.end(), a);
}

std::string_view side_name(Side s) {
  switch (s) {
    case Side::unknown: return "unknown";
    case Side::before_join: return "before-join";
    case Side::at_join: return "at-join";
    case Side::after_join: return "after-join";
    case Side::none: return "none";
  }
  return "unknown";
}

std::string_view merge_kind_name(MergeKind k) {
  switch (k) {
    case MergeKind::open_everywhere: return "open-everywhere";
    case MergeKind::global: return "global";
    case MergeKind::local: return "local";
    case MergeKind::by_source: return "by-source";
    case MergeKind::differs: return "differs";
    case MergeKind::runs_apart: return "runs-apart";
    case MergeKind::dropped_between: return "dropped-between";
    case MergeKind::changed_between: return "changed-between";
    case MergeKind::one_vantage: return "one-vantage";
  }
  return "differs";
}

namespace {

// The non-silent nodes of one column agree when they share an address: a silent hop (*)
// agrees with anything, two load-balanced hops agree when one router answered both.
bool column_agrees(const std::vector<const PathNode*>& column) {
  std::optional<std::vector<IpAddress>> common;
  for (const PathNode* n : column) {
    if (n->silent()) continue;
    if (!common) {
      common = n->addresses;
      continue;
    }
    std::vector<IpAddress> both;
    std::set_intersection(common->begin(), common->end(), n->addresses.begin(), n->addresses.end(),
                          std::back_inserter(both));
    if (both.empty()) return false;
    common = std::move(both);
  }
  return true;
}

}  // namespace

Alignment align_paths(const std::vector<Path>& paths) {
  Alignment none;
  if (paths.size() < 2) return none;
  for (const Path& p : paths)
    if (p.empty()) return none;
  // Candidates in the first path's order, from its source: the first that holds is the
  // earliest join, the longest shared part.
  for (const PathNode& node : paths.front()) {
    for (const IpAddress& candidate : node.addresses) {
      std::vector<std::size_t> at;
      for (const Path& p : paths) {
        const auto it = std::find_if(p.begin(), p.end(), [&](const PathNode& n) { return n.holds(candidate); });
        if (it == p.end()) break;
        at.push_back(static_cast<std::size_t>(it - p.begin()));
      }
      if (at.size() != paths.size()) continue;
      // From the candidate to the end, column by column (a path that ends early, cut at
      // its refuser or its last answer, agrees for as far as it goes).
      bool agree = true;
      for (std::size_t k = 1; agree; ++k) {
        std::vector<const PathNode*> column;
        for (std::size_t i = 0; i < paths.size(); ++i)
          if (at[i] + k < paths[i].size()) column.push_back(&paths[i][at[i] + k]);
        if (column.size() < 2) break;
        agree = column_agrees(column);
      }
      if (agree) return Alignment{candidate, at};
    }
  }
  return none;
}

namespace {

using Key = std::pair<IpAddress, std::uint16_t>;

Path nodes_of(const Trace& t) {
  Path out;
  for (const TraceHop& h : t.hops) {
    PathNode n{h.hop, h.addresses};
    if (n.addresses.empty() && h.address) n.addresses.push_back(*h.address);
    std::sort(n.addresses.begin(), n.addresses.end());
    n.addresses.erase(std::unique(n.addresses.begin(), n.addresses.end()), n.addresses.end());
    out.push_back(std::move(n));
  }
  return out;
}

void trim_silent_tail(Path& p) {
  while (!p.empty() && p.back().silent()) p.pop_back();
}

bool host_answered(const Judgement& j) {
  return j.verdict == Verdict::open || j.verdict == Verdict::refused_by_host ||
         (j.verdict == Verdict::icmp_unreachable && j.actor == Actor::host);
}

bool refused_by_device(const Judgement& j) {
  return (j.verdict == Verdict::refused_by_middlebox || j.verdict == Verdict::injected_reset ||
          j.verdict == Verdict::icmp_unreachable) &&
         j.actor != Actor::host;
}

// The path as the trace found it, cut where it stops telling the path: at the refuser (a
// RST forged in the host's name from further TTLs is not the host), after the last
// answering hop of a drop; the destination last when the host itself answered.
Path path_of(const AttemptResult& r, bool& reached) {
  const Judgement& j = r.judgement;
  const IpAddress& dst = r.attempt.server;
  Path all = nodes_of(r.trace);
  Path out;
  reached = false;
  if (host_answered(j)) {
    int dst_hop = j.hop.value_or(0);
    for (const PathNode& n : all) {
      if (n.holds(dst)) {
        dst_hop = n.hop;
        break;
      }
      if (j.hop && n.hop >= *j.hop) break;
      out.push_back(n);
    }
    trim_silent_tail(out);
    reached = true;
    if (all.empty()) return out;  // nothing known of the path: no trace
    if (dst_hop <= (out.empty() ? 0 : out.back().hop)) dst_hop = (out.empty() ? 0 : out.back().hop) + 1;
    out.push_back(PathNode{dst_hop, {dst}});
    reached = true;
    return out;
  }
  if (refused_by_device(j) && j.hop) {
    const int k = *j.hop;
    for (const PathNode& n : all)
      if (n.hop < k && !n.holds(dst)) out.push_back(n);
    // Hops the trace did not reach (an analyze run has no trace): unknown, silent.
    for (int h = out.empty() ? 1 : out.back().hop + 1; h < k && all.empty(); ++h) out.push_back(PathNode{h, {}});
    PathNode refuser{k, {}};
    if (j.responder && *j.responder != dst) refuser.addresses.push_back(*j.responder);
    else
      for (const PathNode& n : all)
        if (n.hop == k && !n.holds(dst)) refuser.addresses = n.addresses;
    out.push_back(refuser);
    return out;
  }
  if (j.verdict == Verdict::dropped && (j.hop || j.hop_range)) {
    const int last = j.hop ? *j.hop : j.hop_range->first;
    for (const PathNode& n : all)
      if (n.hop <= last && !n.holds(dst)) out.push_back(n);
    trim_silent_tail(out);
    return out;
  }
  for (const PathNode& n : all) {
    if (n.holds(dst)) break;
    out.push_back(n);
  }
  trim_silent_tail(out);
  return out;
}

TargetState state_of(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  TargetState s{j.verdict, j.actor, j.hop, j.responder, std::nullopt, j.confidence};
  if (j.icmp) s.icmp = j.icmp->name;
  return s;
}

// The same answer from two places: hop numbers differ with the distance, drops have no
// responder of their own (the last answering hop is where each path went quiet).
bool same_answer(const TargetState& a, const TargetState& b) {
  if (a.verdict != b.verdict) return false;
  if (a.verdict == Verdict::dropped || a.verdict == Verdict::inconclusive || a.verdict == Verdict::open) return true;
  return a.actor == b.actor && a.responder == b.responder && a.icmp == b.icmp;
}

std::string joined(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : std::string(sep)) + p;
  return out;
}

// "refused-by-middlebox by hop 2 (198.18.2.2)", hops per vantage when they differ.
std::string group_text(const std::vector<const VantageFate*>& group, const std::vector<VantageRun>& runs) {
  const TargetState& s = group.front()->state;
  std::string out(verdict_name(s.verdict));
  if (s.icmp) out += fmt::format(" ({})", *s.icmp);
  if (s.verdict == Verdict::open) return out;
  if (s.verdict == Verdict::refused_by_host) return out + " (the server)";
  std::set<std::optional<int>> hops;
  for (const VantageFate* f : group) hops.insert(f->state.hop);
  const std::string who = s.responder && s.actor != Actor::host ? fmt::format(" ({})", s.responder->to_string()) : "";
  const char* word = s.verdict == Verdict::dropped ? "after" : "by";
  if (hops.size() == 1 && *hops.begin()) return out + fmt::format(" {} hop {}{}", word, **hops.begin(), who);
  std::vector<std::string> parts;
  for (const VantageFate* f : group)
    if (f->state.hop) parts.push_back(fmt::format("hop {} from {}", *f->state.hop, runs[f->run].name));
  if (parts.empty()) return out + who;
  return out + fmt::format(" {} {}{}", word, and_list(parts), who);
}

std::string seconds_text(double s) {
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.0f} min", s / 60);
  if (s < 172800) return fmt::format("{:.1f} h", s / 3600);
  return fmt::format("{:.1f} days", s / 86400);
}

struct Group {
  std::vector<const VantageFate*> fates;
  [[nodiscard]] const TargetState& state() const { return fates.front()->state; }
};

std::vector<Group> group_by_answer(const std::vector<VantageFate>& fates) {
  std::vector<Group> groups;
  for (const VantageFate& f : fates) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return same_answer(g.state(), f.state); });
    if (it == groups.end()) groups.push_back(Group{{&f}});
    else it->fates.push_back(&f);
  }
  return groups;
}

std::vector<std::string> names_of(const Group& g, const std::vector<VantageRun>& runs) {
  std::vector<std::string> out;
  for (const VantageFate* f : g.fates) out.push_back(runs[f->run].name);
  return out;
}

// Where a fate's refusal or drop sits on the path used for the alignment.
Side side_of(const VantageFate& f, const Path& aligned, std::optional<std::size_t> join_index,
             const std::optional<IpAddress>& join, const IpAddress& dst) {
  const TargetState& s = f.state;
  if (s.verdict == Verdict::open || s.verdict == Verdict::inconclusive) return Side::none;
  if (!join_index) return Side::unknown;
  const std::size_t ji = *join_index;
  if (s.verdict == Verdict::refused_by_host || (s.verdict == Verdict::icmp_unreachable && s.actor == Actor::host))
    return join && *join == dst ? Side::at_join : Side::after_join;
  std::optional<std::size_t> at;
  if (s.verdict == Verdict::dropped) {
    if (f.path.empty()) return Side::unknown;
    // The drop is between the last answering hop and the next one.
    const PathNode& last = f.path.back();
    for (std::size_t i = 0; i < aligned.size(); ++i)
      if (!last.silent() && std::any_of(last.addresses.begin(), last.addresses.end(),
                                        [&](const IpAddress& a) { return aligned[i].holds(a); }))
        at = i;
    if (!at) return Side::unknown;
    if (*at >= ji) return Side::after_join;
    return *at + 1 < ji ? Side::before_join : Side::at_join;
  }
  if (s.responder && *s.responder != dst)
    for (std::size_t i = 0; i < aligned.size() && !at; ++i)
      if (aligned[i].holds(*s.responder)) at = i;
  if (!at && s.hop && !f.path_port && !f.path.empty() && f.path.back().hop == *s.hop) at = f.path.size() - 1;
  if (!at) return Side::unknown;
  return *at < ji ? Side::before_join : *at == ji ? Side::at_join : Side::after_join;
}

// Captures of the same attempts at several points of one path (analyze results): the
// attempts are the same SYNs (client, port, ISN), so what one point saw and another did not
// happened between them. Returns false when the captures hold no attempt in common.
bool compare_captures(TargetMerge& m, const std::vector<VantageRun>& runs, const std::map<std::size_t, std::vector<const AttemptResult*>>& by_run) {
  using AttemptKey = std::tuple<IpAddress, std::uint16_t, std::uint32_t>;
  std::map<AttemptKey, std::map<std::size_t, const AttemptResult*>> seen;
  for (const auto& [run, list] : by_run)
    for (const AttemptResult* a : list)
      seen[{a->attempt.client, a->attempt.client_port, a->attempt.isn}][run] = a;
  bool shared = false;
  for (const auto& [key, where] : seen) shared = shared || where.size() >= 2;
  if (!shared) return false;

  std::vector<std::string> missing, changed;
  std::size_t compared = 0;
  for (const auto& [key, where] : seen) {
    const AttemptResult& first = *where.begin()->second;
    const std::string syn = fmt::format("the SYN {} → {} (ISN {})", endpoint_text(first.attempt.client, first.attempt.client_port),
                                        m.target, first.attempt.isn);
    std::vector<std::string> saw, not_saw;
    for (const auto& [run, list] : by_run) {
      if (where.count(run)) {
        saw.push_back(runs[run].name);
        continue;
      }
      // A capture that was not running when the SYN passed proves nothing.
      const Timestamp t = first.attempt.first_seen;
      if (t.ns + 1'000'000'000 >= runs[run].from.ns && t.ns <= runs[run].to.ns + 1'000'000'000)
        not_saw.push_back(runs[run].name);
    }
    if (!not_saw.empty()) {
      const TargetState s = state_of(first);
      std::string what = s.verdict == Verdict::dropped ? "nothing came back there"
                                                       : fmt::format("there it drew {}", describe(s));
      missing.push_back(fmt::format("{} was seen at {} but never at {} ({}): the device between {} and {} dropped it",
                                    syn, and_list(saw), and_list(not_saw), what, and_list(saw),
                                    and_list(not_saw)));
      continue;
    }
    if (where.size() < 2) continue;
    ++compared;
    const TargetState ref = state_of(*where.begin()->second);
    bool same = true;
    for (const auto& [run, a] : where) same = same && same_answer(state_of(*a), ref);
    if (!same) {
      std::vector<std::string> parts;
      for (const auto& [run, a] : where) parts.push_back(fmt::format("{} at {}", describe(state_of(*a)), runs[run].name));
      changed.push_back(fmt::format("{}: {}: the answer changed between the capture points, so a device between them "
                                    "answered or dropped in the server's place",
                                    syn, and_list(parts)));
    }
  }
  if (!missing.empty()) {
    m.kind = MergeKind::dropped_between;
    m.finding = missing.front();
    if (missing.size() > 1) m.finding += fmt::format(" ({} such SYNs)", missing.size());
    for (std::size_t i = 1; i < missing.size() && i < 8; ++i) m.notes.push_back(missing[i]);
  } else if (!changed.empty()) {
    m.kind = MergeKind::changed_between;
    m.finding = changed.front();
    for (std::size_t i = 1; i < changed.size() && i < 8; ++i) m.notes.push_back(changed[i]);
  } else {
    const Group all{[&] {
      std::vector<const VantageFate*> v;
      for (const VantageFate& f : m.fates) v.push_back(&f);
      return v;
    }()};
    m.kind = all.state().verdict == Verdict::open ? MergeKind::open_everywhere : MergeKind::global;
    m.finding = fmt::format("every capture point ({}) saw the same SYNs ({}) with the same answer: {}",
                            and_list(names_of(all, runs)), compared, group_text(all.fates, runs));
  }
  return true;
}

// The finding for one target seen from several places (live runs, or captures that do not
// hold the same attempts).
void find(TargetMerge& m, const std::vector<VantageRun>& runs, const std::vector<Path>& aligned,
          const MergeOptions& options) {
  const std::vector<Group> groups = group_by_answer(m.fates);
  std::vector<std::size_t> fate_runs;
  for (const VantageFate& f : m.fates) fate_runs.push_back(f.run);

  // Time first: two answers a long time apart may be one place before and after a change.
  Timestamp from = runs[fate_runs.front()].from, to = runs[fate_runs.front()].to;
  for (const std::size_t r : fate_runs) {
    from = std::min(from, runs[r].from);
    to = std::max(to, runs[r].to);
  }
  const double spread = to.seconds_since(from);
  bool before = false, after = false;
  if (options.change_at)
    for (const std::size_t r : fate_runs) {
      before = before || runs[r].to < *options.change_at;
      after = after || runs[r].from > *options.change_at;
    }
  std::string same_place;
  for (std::size_t i = 0; i < m.fates.size() && same_place.empty(); ++i)
    for (std::size_t k = i + 1; k < m.fates.size(); ++k)
      if (runs[m.fates[i].run].place == runs[m.fates[k].run].place &&
          !same_answer(m.fates[i].state, m.fates[k].state)) {
        same_place = fmt::format("{} answered {} at {} and {} at {}: the same place disagrees with itself, so something "
                                 "changed in between",
                                 runs[m.fates[i].run].place, describe(m.fates[i].state), iso8601(runs[m.fates[i].run].from),
                                 describe(m.fates[k].state), iso8601(runs[m.fates[k].run].from));
        break;
      }

  std::vector<std::string> parts;
  for (const Group& g : groups) parts.push_back(fmt::format("{} from {}", group_text(g.fates, runs), and_list(names_of(g, runs))));
  const std::string answers = joined(parts, ", ");
  const std::string join_text = m.join ? fmt::format("the paths join at {}", m.join->to_string()) : std::string();

  if (groups.size() > 1 && (!same_place.empty() || spread > options.max_apart_s || (before && after))) {
    m.kind = MergeKind::runs_apart;
    if (!same_place.empty()) m.finding = same_place;
    else if (before && after)
      m.finding = fmt::format("{}; but the runs were made on both sides of the change at {}: a change explains this as "
                              "well as a path does; run them again together before blaming a side",
                              answers, iso8601(*options.change_at));
    else
      m.finding = fmt::format("{}; but the runs are {} apart (more than {}): a change in between explains this as well "
                              "as a path does; run them again together before blaming a side",
                              answers, seconds_text(spread), seconds_text(options.max_apart_s));
    return;
  }

  if (groups.size() == 1) {
    const Group& g = groups.front();
    const TargetState& s = g.state();
    const std::string who = and_list(names_of(g, runs));
    if (s.verdict == Verdict::open) {
      m.kind = MergeKind::open_everywhere;
      m.finding = fmt::format("open from every vantage ({})", who);
      return;
    }
    m.kind = MergeKind::global;
    if (s.verdict == Verdict::refused_by_host || (s.verdict == Verdict::icmp_unreachable && s.actor == Actor::host)) {
      m.finding = fmt::format("global: the server refuses from every vantage ({}): {}", who, group_text(g.fates, runs));
      return;
    }
    if (s.verdict == Verdict::inconclusive) {
      m.finding = fmt::format("inconclusive from every vantage ({}): nothing to compare", who);
      return;
    }
    std::vector<std::string> hops;
    for (const VantageFate& f : m.fates)
      if (f.state.hop) hops.push_back(fmt::format("hop {} from {}", *f.state.hop, runs[f.run].name));
    const std::string at = hops.empty() ? std::string() : fmt::format(", at {}", and_list(hops));
    if (s.verdict == Verdict::dropped) {
      bool shared = true;
      for (const VantageFate& f : m.fates) shared = shared && f.side == Side::after_join;
      m.finding = shared ? fmt::format("global: dropped from every vantage ({}); each path goes quiet after {}, past the "
                                       "point where {}: a device all paths share drops it",
                                       who, and_list(hops), join_text)
                         : fmt::format("global: dropped from every vantage ({}){}: the server, or a device all paths "
                                       "share, drops it{}",
                                       who, hops.empty() ? "" : fmt::format(" (last answers: {})", and_list(hops)),
                                       m.join ? fmt::format(" ({})", join_text) : "");
      return;
    }
    std::string what(verdict_name(s.verdict));
    if (s.icmp) what += fmt::format(" ({})", *s.icmp);
    if (s.responder) what += fmt::format(" from {}", s.responder->to_string());
    m.finding = fmt::format("global: a device all paths share refuses: {}, from every vantage{}{}", what, at,
                            m.join ? fmt::format(" ({})", join_text) : "");
    return;
  }

  // The answers differ, but no vantage saw a refusal or a drop: those that could not tell
  // are not evidence of a difference.
  const bool any_failure = std::any_of(groups.begin(), groups.end(), [](const Group& g) {
    return g.state().verdict != Verdict::open && g.state().verdict != Verdict::inconclusive;
  });
  if (!any_failure) {
    m.kind = MergeKind::differs;
    m.finding = fmt::format("{}: an inconclusive run tells nothing about its path; run it again (synprobe trace)", answers);
    return;
  }

  // Each failing group's refusal, placed against the join and against the paths of the
  // vantages that got another answer.
  bool all_local = true, all_shared = true;
  std::vector<std::string> local_sides;
  for (const Group& g : groups) {
    const TargetState& s = g.state();
    if (s.verdict == Verdict::open || s.verdict == Verdict::inconclusive) continue;
    bool local = true, shared = true;
    for (const VantageFate* f : g.fates) {
      bool on_other_path = false, others_known = true;
      if (s.responder && s.actor != Actor::host)
        for (std::size_t i = 0; i < m.fates.size(); ++i) {
          const VantageFate& o = m.fates[i];
          if (std::find(g.fates.begin(), g.fates.end(), &o) != g.fates.end()) continue;
          if (aligned[i].empty()) others_known = false;
          on_other_path = on_other_path || std::any_of(aligned[i].begin(), aligned[i].end(),
                                                       [&](const PathNode& n) { return n.holds(*s.responder); });
        }
      const bool is_host = s.verdict == Verdict::refused_by_host || (s.verdict == Verdict::icmp_unreachable && s.actor == Actor::host);
      const bool f_local = !is_host && (f->side == Side::before_join ||
                                        (f->side == Side::unknown && s.responder && !on_other_path && others_known &&
                                         s.verdict != Verdict::dropped));
      const bool f_shared = is_host || f->side == Side::after_join ||
                            (f->side == Side::at_join && s.verdict != Verdict::dropped) || on_other_path;
      local = local && f_local;
      shared = shared && f_shared;
    }
    all_local = all_local && local;
    all_shared = all_shared && shared;
    if (local) local_sides.push_back(fmt::format("{}", joined(names_of(g, runs), "/")));
  }
  if (all_local && !local_sides.empty()) {
    m.kind = MergeKind::local;
    const bool drops_only = std::all_of(groups.begin(), groups.end(), [](const Group& g) {
      return g.state().verdict == Verdict::open || g.state().verdict == Verdict::inconclusive ||
             g.state().verdict == Verdict::dropped;
    });
    m.finding = fmt::format("{}: the {} device is on the {} side, {}", answers, drops_only ? "dropping" : "refusing",
                            joined(local_sides, " and "),
                            m.join ? fmt::format("before {}", join_text)
                                   : "off the other vantages' paths (the paths share no hop the traces found)");
    return;
  }
  if (all_shared) {
    m.kind = MergeKind::by_source;
    bool host = false;
    for (const Group& g : groups)
      host = host || g.state().verdict == Verdict::refused_by_host ||
             (g.state().verdict == Verdict::icmp_unreachable && g.state().actor == Actor::host);
    m.finding = host ? fmt::format("{}: the server itself answers each source differently (a rule on the server by "
                                   "source address, not a path)",
                                   answers)
                     : fmt::format("{}: the refuser is on the part of the path all vantages share{}, so it tells the "
                                   "sources apart: a rule by source address, not a path difference",
                                   answers, m.join ? fmt::format(" (at or after the join at {})", m.join->to_string()) : "");
    return;
  }
  m.kind = MergeKind::differs;
  m.finding = fmt::format("{}: the paths the traces found do not place the difference{}; trace from each vantage "
                          "(synprobe trace) and merge again",
                          answers, m.join ? fmt::format(" ({})", join_text) : " (no join point found)");
}

}  // namespace

MergeResult merge_vantages(const std::vector<VantageRun>& runs, const MergeOptions& options) {
  MergeResult result;
  for (const VantageRun& r : runs) result.vantages.push_back(r.name);
  if (!runs.empty()) {
    Timestamp from = runs.front().from, to = runs.front().to;
    for (const VantageRun& r : runs) {
      from = std::min(from, r.from);
      to = std::max(to, r.to);
    }
    result.spread_s = to.seconds_since(from);
    bool before = false, after = false;
    if (options.change_at)
      for (const VantageRun& r : runs) {
        before = before || r.to < *options.change_at;
        after = after || r.from > *options.change_at;
      }
    result.runs_apart = result.spread_s > options.max_apart_s || (before && after);
    if (result.spread_s > options.max_apart_s)
      result.notes.push_back(fmt::format("the runs span {} (more than {}): where answers differ, a change in between is "
                                         "as likely as a path",
                                         seconds_text(result.spread_s), seconds_text(options.max_apart_s)));
    if (before && after)
      result.notes.push_back(fmt::format("some runs were made before the change at {} and some after",
                                         iso8601(*options.change_at)));
  }

  // Every target, per run: its attempts (the last one counts), and each run's traces by
  // destination address (another port's trace shows the path a refusal cut short).
  std::map<Key, std::map<std::size_t, std::vector<const AttemptResult*>>> targets;
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (const AttemptResult& a : runs[i].report->attempts)
      targets[{a.attempt.server, a.attempt.server_port}][i].push_back(&a);

  for (const auto& [key, by_run] : targets) {
    TargetMerge m;
    m.address = key.first;
    m.port = key.second;
    m.target = endpoint_text(key.first, key.second);
    for (const auto& [run, list] : by_run) {
      VantageFate f;
      f.run = run;
      f.attempts = list.size();
      f.state = state_of(*list.back());
      f.path = path_of(*list.back(), f.reached);
      m.fates.push_back(std::move(f));
      if (list.size() > 1)
        m.notes.push_back(fmt::format("{} holds {} attempts to it; the last one counts", runs[run].name, list.size()));
    }
    if (m.fates.size() < 2) {
      m.kind = MergeKind::one_vantage;
      m.finding = fmt::format("seen from {} only: {}", runs[m.fates.front().run].name, describe(m.fates.front().state));
      // Captures at two points of one path: a SYN one capture holds and another, running
      // at the time and seeing the same client or server, does not, was dropped between.
      const std::size_t seen_at = m.fates.front().run;
      const AttemptResult& last = *by_run.at(seen_at).back();
      if (runs[seen_at].mode == "analyze") {
        std::vector<std::string> missed;
        for (std::size_t r = 0; r < runs.size(); ++r) {
          if (r == seen_at || runs[r].mode != "analyze") continue;
          const Timestamp t = last.attempt.first_seen;
          if (t < runs[r].from || t > runs[r].to) continue;
          const bool same_path = std::any_of(runs[r].report->attempts.begin(), runs[r].report->attempts.end(),
                                             [&](const AttemptResult& o) {
                                               return o.attempt.client == last.attempt.client ||
                                                      o.attempt.server == last.attempt.server;
                                             });
          if (same_path) missed.push_back(runs[r].name);
        }
        if (!missed.empty()) {
          m.kind = MergeKind::dropped_between;
          const std::string& at = runs[seen_at].name;
          const TargetState& s = m.fates.front().state;
          m.finding = fmt::format(
              "the SYN {} → {} was seen at {} ({}) but never at {}, which saw the same client's or server's other "
              "traffic at the time: the device between {} and {} dropped it",
              endpoint_text(last.attempt.client, last.attempt.client_port), m.target, at,
              s.verdict == Verdict::dropped ? "no answer there" : "there it drew " + describe(s), and_list(missed), at,
              and_list(missed));
        }
      }
      result.targets.push_back(std::move(m));
      continue;
    }

    bool all_analyze = true;
    for (const VantageFate& f : m.fates) all_analyze = all_analyze && runs[f.run].mode == "analyze";
    if (all_analyze && compare_captures(m, runs, by_run)) {
      result.targets.push_back(std::move(m));
      continue;
    }

    // The paths to align: a path cut short by its refuser borrows the same run's trace of
    // another port of the same address that reached the host.
    std::vector<Path> aligned;
    for (VantageFate& f : m.fates) {
      Path p = f.path;
      if (!f.reached) {
        for (const AttemptResult& other : runs[f.run].report->attempts) {
          if (other.attempt.server != m.address || other.attempt.server_port == m.port) continue;
          bool reached = false;
          Path full = path_of(other, reached);
          if (reached && full.size() > 1) {
            p = std::move(full);
            f.path_port = other.attempt.server_port;
            m.notes.push_back(fmt::format("{}: the path is the trace to port {} of the same address (the target's own "
                                          "trace stops where it was refused)",
                                          runs[f.run].name, other.attempt.server_port));
            break;
          }
        }
      }
      if (p.empty()) m.notes.push_back(fmt::format("{}: no hop table (no trace in that run): its path is unknown", runs[f.run].name));
      for (const PathNode& n : p) {
        if (n.addresses.size() > 1) {
          std::vector<std::string> a;
          for (const IpAddress& x : n.addresses) a.push_back(x.to_string());
          m.notes.push_back(fmt::format("{}: hop {} answered from several addresses (load balancing: {})",
                                        runs[f.run].name, n.hop, joined(a, ", ")));
        }
      }
      aligned.push_back(std::move(p));
    }
    std::vector<Path> known;
    std::vector<std::size_t> known_index;
    for (std::size_t i = 0; i < aligned.size(); ++i)
      if (!aligned[i].empty()) {
        known.push_back(aligned[i]);
        known_index.push_back(i);
      }
    const Alignment al = align_paths(known);
    m.join = al.join;
    std::vector<std::optional<std::size_t>> join_index(aligned.size());
    if (al.join)
      for (std::size_t k = 0; k < known_index.size(); ++k) {
        const std::size_t i = known_index[k];
        join_index[i] = al.join_index[k];
        m.fates[i].join_index = al.join_index[k];
        m.fates[i].join_hop = aligned[i][al.join_index[k]].hop;
        for (std::size_t h = al.join_index[k]; h < aligned[i].size(); ++h)
          if (aligned[i][h].silent())
            m.notes.push_back(fmt::format("{}: hop {} (after the join) did not answer (*); taken to agree with the "
                                          "other paths",
                                          runs[m.fates[i].run].name, aligned[i][h].hop));
      }
    for (std::size_t i = 0; i < m.fates.size(); ++i) m.fates[i].route = aligned[i];
    for (std::size_t i = 0; i < m.fates.size(); ++i)
      m.fates[i].side = side_of(m.fates[i], aligned[i], join_index[i], m.join, m.address);
    find(m, runs, aligned, options);
    result.targets.push_back(std::move(m));
  }
  return result;
}

}  // namespace synprobe
