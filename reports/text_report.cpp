// The text renderer: for a person at a terminal. One aligned line per attempt
// (time, client → server:port, verdict, who, hop) with its reason indented under it,
// then a summary per verdict.
#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "dissect/verdict/attempt_tally.hpp"
#include "dissect/verdict/trace_model.hpp"
#include "narrative.hpp"
#include "renderer.hpp"

namespace synprobe {
namespace {

// SGR colour per verdict: green for open, red for refusals, and so on.
std::string_view colour_of(Verdict v) {
  switch (v) {
    case Verdict::open: return "\x1b[32m";
    case Verdict::refused_by_host: return "\x1b[31m";
    case Verdict::refused_by_middlebox:
    case Verdict::injected_reset: return "\x1b[1;35m";
    case Verdict::icmp_unreachable: return "\x1b[33m";
    case Verdict::dropped: return "\x1b[1;33m";
    case Verdict::inconclusive: return "\x1b[2m";
  }
  return "";
}

struct Row {
  std::string time, client, server, verdict, actor, hop, responder, rtt;
  Verdict v;
};

// Fills `row` in place: the streaming listing reuses one Row, whose strings keep their
// buffers from line to line (allocating them anew was a fifth of writing a line).
void fill_row(Row& row, const AttemptResult& r) {
  const Attempt& a = r.attempt;
  const Judgement& j = r.judgement;
  row.time = time_of_day(a.first_seen);
  row.client.clear();
  append_endpoint(row.client, a.client, a.client_port);
  row.server.clear();
  append_endpoint(row.server, a.server, a.server_port);
  row.verdict = verdict_name(j.verdict);
  if (j.icmp) {
    row.verdict += " (";
    row.verdict += j.icmp->name;
    row.verdict += ')';
  }
  row.actor = actor_name(j.actor);
  row.hop.clear();
  if (j.hop_range) fmt::format_to(std::back_inserter(row.hop), FMT_COMPILE("{}-{}"), j.hop_range->first, j.hop_range->second);
  else if (j.hop) fmt::format_to(std::back_inserter(row.hop), FMT_COMPILE("{}"), *j.hop);
  else row.hop = "-";
  row.responder.clear();
  if (j.responder) j.responder->append_to(row.responder);
  else row.responder = "-";
  row.rtt.clear();
  if (j.rtt_ms) fmt::format_to(std::back_inserter(row.rtt), FMT_COMPILE("{:.3f} ms"), *j.rtt_ms);
  else row.rtt = "-";
  row.v = j.verdict;
}

Row row_of(const AttemptResult& r) {
  Row row;
  fill_row(row, r);
  return row;
}

std::string human_bytes(std::uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format(FMT_COMPILE("{:.1f} GiB"), static_cast<double>(n) / (1ull << 30));
  if (n >= (1ull << 20)) return fmt::format(FMT_COMPILE("{:.1f} MiB"), static_cast<double>(n) / (1ull << 20));
  if (n >= (1ull << 10)) return fmt::format(FMT_COMPILE("{:.1f} KiB"), static_cast<double>(n) / (1ull << 10));
  return fmt::format(FMT_COMPILE("{} B"), n);
}

std::string input_line(const InputSummary& in) {
  std::string line = fmt::format(FMT_COMPILE("read {} packet{} ({}) from {} ({}"), in.packets,
                                 in.packets == 1 ? "" : "s", human_bytes(in.bytes), in.path, in.format);
  for (const std::string& l : in.link_types) line += ", " + l;
  line += ")";
  if (in.filter) line += fmt::format(FMT_COMPILE("; filter '{}' kept {}"), *in.filter, in.packets - in.filtered_out);
  std::string problems;
  for (std::size_t i = 1; i < in.decode.size(); ++i) {
    if (!in.decode[i]) continue;
    problems += fmt::format(FMT_COMPILE("{}{} {}"), problems.empty() ? "" : ", ", in.decode[i],
                            decode_status_name(static_cast<DecodeStatus>(i)));
  }
  if (!problems.empty()) line += "; " + problems;
  if (in.attempts_judged_early > 0)
    line += fmt::format(FMT_COMPILE("; {} attempts judged before they settled, to bound memory (more than {} at "
                                    "once), {} SYNs retransmitted for them after"),
                        in.attempts_judged_early, Analyzer::max_held_attempts, in.late_syns);
  if (in.baselines_forgotten > 0)
    line += fmt::format(FMT_COMPILE("; baselines of {} least recently seen addresses forgotten to bound memory"),
                        in.baselines_forgotten);
  return line;
}

// The hop table of a traced attempt, the refusing hop marked.
std::string hop_table(const AttemptResult& r, bool color) {
  const Trace& t = r.trace;
  if (t.hops.empty()) return {};
  std::size_t w_address = 7;
  for (const TraceHop& h : t.hops) w_address = std::max(w_address, h.address ? h.address->to_string().size() : 1);
  std::string out = fmt::format(FMT_COMPILE("    {:>3}  {:<{}}  {:>10}  {}\n"), "HOP", "ADDRESS", w_address, "RTT", "ANSWERS");
  const Judgement& j = r.judgement;
  // Trailing hops that never answered collapse into one line.
  std::size_t shown = t.hops.size();
  while (shown > 1 && t.hops[shown - 1].majority == HopAnswer::none && t.hops[shown - 2].majority == HopAnswer::none)
    --shown;
  for (std::size_t i = 0; i < shown; ++i) {
    const TraceHop& h = t.hops[i];
    if (i + 1 == shown && shown < t.hops.size()) {
      out += fmt::format(FMT_COMPILE("    {:>3}  {:<{}}  {:>10}  no answer to any probe up to TTL {}\n"),
                         fmt::format(FMT_COMPILE("{}+"), h.hop), "*", w_address, "-", t.hops.back().hop);
      break;
    }
    const std::string answers = hop_answers_text(h, true);
    const bool marked = names_hop(j, h);
    std::string mark;
    if (marked && j.verdict == Verdict::dropped)
      mark = fmt::format(FMT_COMPILE("{}  <- last hop that answers: dropped after it{}"), color ? "\x1b[1;33m" : "", color ? "\x1b[0m" : "");
    else if (marked)
      mark = fmt::format(FMT_COMPILE("{}  <- {} ({}){}"), color ? "\x1b[1;31m" : "", verdict_name(j.verdict), actor_name(j.actor),
                         color ? "\x1b[0m" : "");
    out += fmt::format(FMT_COMPILE("    {:>3}  {:<{}}  {:>10}  {}{}\n"), h.hop, h.address ? h.address->to_string() : "*", w_address,
                       h.rtt_ms ? fmt::format(FMT_COMPILE("{:.3f} ms"), *h.rtt_ms) : "-", answers, mark);
  }
  return out;
}

// What every attempt prints under its line: the reason in a few words, the hop table
// and, with -v, the evidence.
void append_details(std::string& out, const AttemptResult& r, const RenderOptions& options) {
  out += "    reason: ";
  out += reason_text(r);
  out += '\n';
  if (const std::string t = trigger_text(r.attempt); !t.empty() || r.judgement.stage != Stage::syn)
    out += fmt::format("    stage: {}{}{}\n", stage_name(r.judgement.stage), t.empty() ? "" : "; request: ", t);
  out += hop_table(r, options.color);
  if (!options.verbose) return;
  const Judgement& j = r.judgement;
  out += fmt::format(FMT_COMPILE("    confidence {:.2f} (rule {}); {} SYN{}\n"), j.confidence, rule_name(j.rule),
                     r.attempt.syn_count, r.attempt.syn_count == 1 ? "" : "s");
  for (const Evidence& e : j.evidence) out += fmt::format(FMT_COMPILE("    - {}: {}\n"), signal_name(e.signal), e.detail);
  for (const std::string& step : j.to_settle) out += fmt::format(FMT_COMPILE("    to settle: {}\n"), step);
}

std::string details_of(const AttemptResult& r, const RenderOptions& options) {
  std::string out;
  append_details(out, r, options);
  return out;
}

struct Widths {
  std::size_t time, client, server, verdict, actor, hop, responder;

  void fit(const Row& r) {
    time = std::max(time, r.time.size());
    client = std::max(client, r.client.size());
    server = std::max(server, r.server.size());
    verdict = std::max(verdict, r.verdict.size());
    actor = std::max(actor, r.actor.size());
    hop = std::max(hop, r.hop.size());
    responder = std::max(responder, r.responder.size());
  }
};

const Row header_row{"TIME (UTC)", "CLIENT", "SERVER", "VERDICT", "ACTOR", "HOP", "RESPONDER", "RTT",
                     Verdict::inconclusive};

// Streams the table. Columns are as wide as their widest value among the first
// `lookahead` attempts, which are held back until then; a longer value later pushes its
// own line out of alignment instead of holding every line in memory. A capture with up
// to `lookahead` attempts prints exactly as if the whole list had been measured.
class TextStream final : public ReportStream {
 public:
  TextStream(const RenderOptions& options, TextSink sink) : ReportStream(std::move(sink)), options_(options) {}
  [[nodiscard]] bool shows_details() const override { return options_.verbose; }

 private:
  static constexpr std::size_t lookahead = 1000;

  void write_attempt(const AttemptResult& r) override {
    if (widths_) {
      fill_row(row_, r);
      text_.clear();
      append_line(text_, row_, false);
      append_details(text_, r, options_);
      emit(text_);
      return;
    }
    Held h{row_of(r), details_of(r, options_)};
    held_.push_back(std::move(h));
    if (held_.size() >= lookahead) release_held();
  }

  void write_end(const AnalysisReport& report) override {
    if (!widths_) release_held();
    emit(summary(report));
  }

  void release_held() {
    Widths w{header_row.time.size(),    header_row.client.size(), header_row.server.size(),
             header_row.verdict.size(), header_row.actor.size(),  header_row.hop.size(),
             header_row.responder.size()};
    for (const Held& h : held_) w.fit(h.row);
    widths_ = w;
    std::string out;
    if (!held_.empty()) out += line(header_row, true);
    for (const Held& h : held_) out += line(h.row, false) + h.details;
    held_.clear();
    held_.shrink_to_fit();
    emit(out);
  }

  // The same line as line_by_fmt, padded by hand: fmt parses the format at run time
  // (≈ 11 800 instructions a line). fmt pads to display width; for ASCII that is the length,
  // so any other text still goes through fmt.
  std::string line(const Row& r, bool is_header) const {
    std::string out;
    append_line(out, r, is_header);
    return out;
  }

  void append_line(std::string& out, const Row& r, bool is_header) const {
    for (const std::string* s : {&r.time, &r.client, &r.server, &r.verdict, &r.actor, &r.hop, &r.responder})
      if (!is_ascii(*s)) {
        out += line_by_fmt(r, is_header);
        return;
      }
    const Widths& w = *widths_;
    const std::string_view reset = options_.color ? "\x1b[0m" : "";
    const std::string_view on = options_.color ? (is_header ? "\x1b[1m" : colour_of(r.v)) : "";
    auto left = [&](const std::string& s, std::size_t width) {
      out += s;
      if (s.size() < width) out.append(width - s.size(), ' ');
    };
    left(r.time, w.time);
    out += "  ";
    left(r.client, w.client);
    out += is_header ? "   " : " → ";
    left(r.server, w.server);
    out += "  ";
    out += on;
    left(r.verdict, w.verdict);
    if (!on.empty()) out += reset;
    out += "  ";
    left(r.actor, w.actor);
    out += "  ";
    if (r.hop.size() < w.hop) out.append(w.hop - r.hop.size(), ' ');
    out += r.hop;
    out += "  ";
    left(r.responder, w.responder);
    out += "  ";
    out += r.rtt;
    out += '\n';
  }

  static bool is_ascii(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  }

  std::string line_by_fmt(const Row& r, bool is_header) const {
    const Widths& w = *widths_;
    const std::string_view reset = options_.color ? "\x1b[0m" : "";
    const std::string_view on = options_.color ? (is_header ? "\x1b[1m" : colour_of(r.v)) : "";
    const std::string_view arrow = is_header ? "   " : " → ";
    std::string verdict = fmt::format(FMT_COMPILE("{:<{}}"), r.verdict, w.verdict);
    if (!on.empty()) verdict = fmt::format(FMT_COMPILE("{}{}{}"), on, verdict, reset);
    return fmt::format(FMT_COMPILE("{:<{}}  {:<{}}{}{:<{}}  {}  {:<{}}  {:>{}}  {:<{}}  {}\n"), r.time, w.time, r.client,
                       w.client, arrow, r.server, w.server, verdict, r.actor, w.actor, r.hop, w.hop,
                       r.responder, w.responder, r.rtt);
  }

  std::string summary(const AnalysisReport& report) const {
    std::string counted;
    for (std::size_t i = 0; i < verdict_count; ++i) {
      if (!counts()[i]) continue;
      counted += fmt::format(FMT_COMPILE("{}{} {}"), counted.empty() ? "" : ", ", counts()[i], verdict_name(static_cast<Verdict>(i)));
    }
    std::string out;
    if (attempts() > 0) out += '\n';
    out += fmt::format(FMT_COMPILE("{} connection attempt{}{}{}\n"), attempts(), attempts() == 1 ? "" : "s",
                       counted.empty() ? "" : ": ", counted);
    if (report.run.mode == "analyze") out += input_line(report.input) + "\n";
    for (const NameFinding& f : report.names) out += fmt::format(FMT_COMPILE("\n{}\n  {}\n"), f.finding, f.clients);
    if (report.probe && report.probe->locate_rest)
      out += fmt::format("not every target was traced within --trace-budget; to locate the rest: sudo {}\n",
                         *report.probe->locate_rest);
    if (report.input.damage) out += fmt::format(FMT_COMPILE("input damaged: {}\n"), *report.input.damage);
    if (report.run.interrupted) out += "interrupted: results cover what was seen before the signal\n";
    return out;
  }

  struct Held {
    Row row;
    std::string details;
  };

  RenderOptions options_;
  std::vector<Held> held_;
  std::optional<Widths> widths_;  // set once the held attempts are out
  Row row_;            // once widths_ is set: the row being written, reused
  std::string text_;   // and its text, reused
};

// --summary: no line per attempt; at the end the counts per verdict, the destinations with
// the most attempts and who refused, for a person to read (a few dozen lines whatever the
// number of attempts).
class TextSummaryStream final : public ReportStream {
 public:
  using ReportStream::ReportStream;
  [[nodiscard]] bool shows_details() const override { return false; }

 private:
  void write_attempt(const AttemptResult& r) override { tally_.add(r); }

  void write_end(const AnalysisReport& report) override {
    std::string out = fmt::format(FMT_COMPILE("{} connection attempt{}"), attempts(), attempts() == 1 ? "" : "s");
    if (report.run.mode == "analyze") out += "; " + input_line(report.input);
    out += '\n';
    if (attempts() > 0) out += verdicts() + destinations() + refusers();
    if (report.input.damage) out += fmt::format(FMT_COMPILE("input damaged: {}\n"), *report.input.damage);
    if (report.run.interrupted) out += "interrupted: results cover what was seen before the signal\n";
    emit(out);
  }

  static std::string share(std::uint64_t n, std::uint64_t of) {
    return fmt::format(FMT_COMPILE("{:.1f}%"), 100.0 * static_cast<double>(n) / static_cast<double>(of));
  }

  std::string verdicts() const {
    std::string out = fmt::format(FMT_COMPILE("\n{:<22}  {:>10}  {:>6}\n"), "VERDICT", "ATTEMPTS", "SHARE");
    for (std::size_t i = 0; i < verdict_count; ++i) {
      const std::uint64_t n = tally_.by_verdict()[i];
      if (n == 0) continue;
      out += fmt::format(FMT_COMPILE("{:<22}  {:>10}  {:>6}\n"), verdict_name(static_cast<Verdict>(i)), n, share(n, attempts()));
    }
    return out;
  }

  std::string destinations() const {
    static constexpr std::array<std::string_view, verdict_count> heads{
        "OPEN", "BY-HOST", "BY-MIDDLEBOX", "INJECTED", "ICMP", "DROPPED", "INCONCLUSIVE"};
    const std::vector<DestinationCount> top = tally_.top_destinations(summary_top_destinations_text);
    std::size_t width = 11;
    for (const DestinationCount& d : top) width = std::max(width, d.address.to_string().size());
    const std::size_t known = tally_.destinations_tracked();
    std::string out = fmt::format(FMT_COMPILE("\n{} destination{}{}, the most attempts first:\n"), known, known == 1 ? "" : "s",
                                  tally_.untracked_attempts() > 0 ? " counted one by one" : "");
    auto row = [&](std::string_view name, std::uint64_t n, const VerdictCounts& v) {
      std::string line = fmt::format(FMT_COMPILE("{:<{}}  {:>10}"), name, width, n);
      for (std::size_t i = 0; i < verdict_count; ++i) line += fmt::format(FMT_COMPILE("  {:>{}}"), v[i], heads[i].size());
      return line + "\n";
    };
    std::string head = fmt::format(FMT_COMPILE("{:<{}}  {:>10}"), "DESTINATION", width, "ATTEMPTS");
    for (const std::string_view h : heads) head += fmt::format(FMT_COMPILE("  {}"), h);
    out += head + "\n";
    VerdictCounts rest = tally_.by_verdict();
    std::uint64_t rest_n = attempts();
    for (const DestinationCount& d : top) {
      out += row(d.address.to_string(), d.attempts, d.by_verdict);
      for (std::size_t i = 0; i < verdict_count; ++i) rest[i] -= d.by_verdict[i];
      rest_n -= d.attempts;
    }
    if (rest_n > 0) {
      const std::size_t others = known - top.size();
      out += row(fmt::format(FMT_COMPILE("{} other{}"), others, others == 1 ? "" : "s"), rest_n, rest);
    }
    if (tally_.untracked_attempts() > 0)
      out += fmt::format(FMT_COMPILE("(of these, {} attempts went to destinations beyond the first {} counted one by one)\n"),
                         tally_.untracked_attempts(), AttemptTally::max_destinations);
    return out;
  }

  std::string refusers() const {
    const std::vector<RefuserCount> all = tally_.refusers();
    if (all.empty()) return {};
    std::string out = fmt::format(FMT_COMPILE("\nWho refused (every attempt not open):\n{:<10}  {:>4}  {:<22}  {:>10}  {}\n"),
                                  "ACTOR", "HOP", "VERDICT", "ATTEMPTS", "ANSWERED FROM");
    for (const RefuserCount& c : all) {
      std::string from;
      for (const IpAddress& a : c.responders) from += (from.empty() ? "" : ", ") + a.to_string();
      if (c.more_responders) from += ", and more";
      if (from.empty()) from = "-";
      out += fmt::format(FMT_COMPILE("{:<10}  {:>4}  {:<22}  {:>10}  {}\n"), actor_name(c.actor),
                         c.hop ? std::to_string(*c.hop) : "-", verdict_name(c.verdict), c.attempts, from);
    }
    return out;
  }

  AttemptTally tally_;
};

}  // namespace

std::unique_ptr<ReportStream> stream_text(const RenderOptions& options, TextSink sink) {
  return std::make_unique<TextStream>(options, std::move(sink));
}

std::unique_ptr<ReportStream> stream_text_summary(const RenderOptions&, TextSink sink) {
  return std::make_unique<TextSummaryStream>(std::move(sink));
}

std::string render_text(const AnalysisReport& report, const RenderOptions& options) {
  return render_through_stream(stream_text, report, options);
}

}  // namespace synprobe
