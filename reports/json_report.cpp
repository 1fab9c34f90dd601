// The JSON renderer: the machine-readable contract (docs/json.md,
// docs/schema/synprobe.schema.json). Field names here are a promise to other tools.
#include <fmt/format.h>

#include <algorithm>

#include "dissect/decode/icmp_names.hpp"
#include "dissect/verdict/attempt_tally.hpp"
#include "dissect/verdict/trace_model.hpp"
#include "json_writer.hpp"
#include "renderer.hpp"

namespace synprobe {
namespace {

std::string_view answer_kind_name(AnswerKind k) {
  switch (k) {
    case AnswerKind::syn_ack: return "syn-ack";
    case AnswerKind::reset: return "reset";
    case AnswerKind::icmp_error: return "icmp-error";
    case AnswerKind::segment: return "segment";
  }
  return "unknown";
}

void write_icmp(JsonWriter& w, std::uint8_t type, std::uint8_t code, std::string_view name) {
  w.begin_object().field("type", unsigned{type}).field("code", unsigned{code}).field("name", name).end_object();
}

void write_answer(JsonWriter& w, const Attempt& a, const Answer& x) {
  w.begin_object();
  w.field("kind", answer_kind_name(x.kind));
  w.field("time", iso8601(x.ts));
  w.field("from", x.from.to_string());
  w.field("ttl", unsigned{x.ttl.observed});
  w.field("initial_ttl", unsigned{x.ttl.initial});
  w.field("hop", x.ttl.hop);
  w.key("ip_id");
  x.has_ip_id ? w.value(unsigned{x.ip_id}) : w.null();
  w.key("rtt_ms").number(x.rtt_ms, 3);
  w.field("syn", static_cast<std::uint64_t>(x.transmission + 1));
  if (x.kind == AnswerKind::icmp_error) {
    w.key("icmp");
    write_icmp(w, x.icmp_type, x.icmp_code, icmp_name(a.family(), x.icmp_type, x.icmp_code));
    w.key("quoted_ttl");
    x.quoted_ttl ? w.value(unsigned{*x.quoted_ttl}) : w.null();
  } else {
    w.field("flags", tcp_flags_text(x.tcp_flags));
    w.field("seq", std::uint64_t{x.seq});
    w.field("ack", std::uint64_t{x.ack});
    w.field("window", unsigned{x.window});
    if (x.kind == AnswerKind::segment) w.field("data", std::uint64_t{x.payload});
  }
  w.end_object();
}

// The request stage as captured (null before the handshake ended): what the client asked
// for and what the server's side sent after the handshake.
void write_request_stage(JsonWriter& w, const Attempt& a) {
  w.key("request");
  if (!a.request_stage) {
    w.null();
    return;
  }
  const RequestStage& s = *a.request_stage;
  w.begin_object();
  w.field("opened", iso8601(s.opened));
  if (s.request) {
    const ClientRequest& q = *s.request;
    w.field("sent", iso8601(q.sent));
    w.field("protocol", request_protocol_name(q.protocol));
    w.optional_field("trigger", q.trigger);
    w.field("seq", std::uint64_t{q.seq});
    w.field("bytes", std::uint64_t{q.length});
    w.field("transmissions", std::uint64_t{q.transmissions});
    w.field("ttl", unsigned{q.ttl});
  } else {
    w.key("sent").null();
  }
  w.field("server_spoke_first", s.server_spoke_first);
  w.key("client_closed");
  s.client_closed ? w.value(iso8601(*s.client_closed)) : w.null();
  w.key("replies").begin_array();
  for (const Answer& x : s.replies) write_answer(w, a, x);
  w.end_array();
  w.end_object();
}

void write_optional_address(JsonWriter& w, std::string_view key, const std::optional<IpAddress>& a) {
  w.key(key);
  a ? w.value(a->to_string()) : w.null();
}

void write_hops(JsonWriter& w, const Trace& trace, const Judgement& j) {
  w.key("hops").begin_array();
  for (const TraceHop& h : trace.hops) {
    w.begin_object();
    w.field("hop", h.hop);
    write_optional_address(w, "address", h.address);
    w.key("addresses").begin_array();
    for (const IpAddress& a : h.addresses) w.value(a.to_string());
    w.end_array();
    w.key("rtt_ms");
    h.rtt_ms ? w.number(*h.rtt_ms, 3) : w.null();
    w.key("answers").begin_array();
    for (const HopAnswer a : h.answers) w.value(hop_answer_name(a));
    w.end_array();
    w.field("majority", hop_answer_name(h.majority));
    w.key("icmp");
    if (h.icmp) write_icmp(w, h.icmp->type, h.icmp->code, h.icmp->name);
    else w.null();
    w.field("refuser", j.hop && *j.hop == h.hop && j.verdict != Verdict::open && j.verdict != Verdict::dropped);
    w.key("changes").begin_array();
    for (const PathChange& c : h.changes)
      w.begin_object().field("field", c.field).field("sent", c.sent).field("quoted", c.quoted).end_object();
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

void write_attempt(JsonWriter& w, const AttemptResult& r) {
  const Attempt& a = r.attempt;
  const Judgement& j = r.judgement;
  w.begin_object();
  w.field("id", a.id);
  w.field("src", a.client.to_string());
  w.field("sport", unsigned{a.client_port});
  w.field("dst", a.server.to_string());
  w.field("dport", unsigned{a.server_port});
  w.field("family", static_cast<int>(a.family()));
  w.field("isn", std::uint64_t{a.isn});
  w.field("syn_count", std::uint64_t{a.syn_count});
  w.field("syn_data", std::uint64_t{a.syn_payload});
  w.field("first_seen", iso8601(a.first_seen));
  w.field("last_seen", iso8601(a.last_seen));
  w.field("verdict", verdict_name(j.verdict));
  w.field("stage", stage_name(j.stage));
  w.optional_field("trigger", j.trigger);
  w.field("actor", actor_name(j.actor));
  write_optional_address(w, "responder", j.responder);
  w.optional_field("hop", j.hop);
  w.key("hop_range");
  if (j.hop_range) w.begin_array().value(j.hop_range->first).value(j.hop_range->second).end_array();
  else w.null();
  w.key("icmp");
  if (j.icmp) write_icmp(w, j.icmp->type, j.icmp->code, j.icmp->name);
  else w.null();
  w.key("confidence").number(j.confidence, 2);
  w.key("rtt_ms");
  j.rtt_ms ? w.number(*j.rtt_ms, 3) : w.null();
  w.key("evidence").begin_array();
  for (const Evidence& e : j.evidence)
    w.begin_object().field("signal", signal_name(e.signal)).field("detail", e.detail).end_object();
  w.end_array();
  w.field("rule", rule_name(j.rule));
  w.key("cause");
  j.cause == Cause::none ? w.null() : w.value(cause_name(j.cause));
  w.key("to_settle").begin_array();
  for (const std::string& step : j.to_settle) w.value(step);
  w.end_array();
  w.key("syns").begin_array();
  for (const SynTransmission& t : a.transmissions) {
    w.begin_object().field("time", iso8601(t.ts)).field("ttl", unsigned{t.ttl});
    w.key("ip_id");
    t.has_ip_id ? w.value(unsigned{t.ip_id}) : w.null();
    w.end_object();
  }
  w.end_array();
  w.key("answers").begin_array();
  for (const Answer& x : a.answers) write_answer(w, a, x);
  w.end_array();
  write_request_stage(w, a);
  write_hops(w, r.trace, j);
  w.key("baseline").begin_object();
  w.field("packets", r.host_packets);
  w.key("hop");
  r.host_hop ? w.value(r.host_hop->hop) : w.null();
  w.key("initial_ttl");
  r.host_hop ? w.value(unsigned{r.host_hop->initial}) : w.null();
  w.field("ip_id", ip_id_behaviour_name(r.host_ip_id));
  w.key("syn_ack_rtt_ms");
  r.host_syn_ack_rtt_ms ? w.number(*r.host_syn_ack_rtt_ms, 3) : w.null();
  w.end_object();
  w.end_object();
}

void write_name(JsonWriter& w, const NameFinding& f) {
  w.begin_object();
  w.field("name", f.name);
  w.field("port", unsigned{f.port});
  w.field("accepting", std::uint64_t{f.accepting});
  w.key("family_split");
  f.family_split == FamilySplit::none ? w.null() : w.value(family_split_name(f.family_split));
  write_optional_address(w, "first_try", f.first_try);
  write_optional_address(w, "browser_connects_to", f.browser_connects_to);
  w.field("finding", f.finding);
  w.field("clients", f.clients);
  w.key("addresses").begin_array();
  for (const AddressOutcome& o : f.addresses) {
    w.begin_object();
    w.field("address", o.address.to_string());
    w.field("attempt", o.attempt_id);
    w.field("verdict", verdict_name(o.verdict));
    w.field("actor", actor_name(o.actor));
    w.key("cause");
    o.cause == Cause::none ? w.null() : w.value(cause_name(o.cause));
    write_optional_address(w, "responder", o.responder);
    w.optional_field("hop", o.hop);
    w.key("rtt_ms");
    o.rtt_ms ? w.number(*o.rtt_ms, 3) : w.null();
    w.field("fate", o.fate);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_input(JsonWriter& w, const InputSummary& in) {
  w.begin_object();
  w.field("file", in.path);
  w.field("format", in.format);
  w.key("link_types").begin_array();
  for (const std::string& l : in.link_types) w.value(l);
  w.end_array();
  w.optional_field("filter", in.filter);
  w.field("packets", in.packets);
  w.field("bytes", in.bytes);
  w.field("filtered_out", in.filtered_out);
  w.key("decode").begin_object();
  for (std::size_t i = 0; i < in.decode.size(); ++i)
    w.field(decode_status_name(static_cast<DecodeStatus>(i)), in.decode[i]);
  w.end_object();
  if (in.sha256) w.field("sha256", *in.sha256);
  // Only when it happened: a capture of fewer hosts than the table holds never shows it.
  if (in.baselines_forgotten > 0) w.field("baselines_forgotten", in.baselines_forgotten);
  if (in.attempts_judged_early > 0) {
    w.field("attempts_judged_early", in.attempts_judged_early);
    w.field("late_syns", in.late_syns);
  }
  w.field("complete", !in.damage.has_value());
  w.optional_field("damage", in.damage);
  w.key("first_packet");
  in.first_packet ? w.value(iso8601(*in.first_packet)) : w.null();
  w.key("last_packet");
  in.last_packet ? w.value(iso8601(*in.last_packet)) : w.null();
  w.end_object();
}

void write_probe(JsonWriter& w, const ProbeSummary& p) {
  auto strings = [&](std::string_view key, const std::vector<std::string>& list) {
    w.key(key).begin_array();
    for (const std::string& s : list) w.value(s);
    w.end_array();
  };
  w.begin_object();
  strings("interfaces", p.interfaces);
  strings("sources", p.sources);
  strings("next_hops", p.next_hops);
  w.field("source_port", unsigned{p.source_port});
  w.field("count", p.count);
  w.field("ttl", p.ttl);
  w.key("interval_s").number(p.interval_s, 3);
  w.key("timeout_s").number(p.timeout_s, 3);
  w.key("rate_pps").number(p.rate_pps, 1);
  w.field("baseline", p.baseline);
  w.key("control_ports").begin_array();
  for (const std::uint16_t port : p.control_ports) w.value(unsigned{port});
  w.end_array();
  w.field("packets_sent", std::uint64_t{p.packets_sent});
  w.field("packets_captured", p.packets_captured);
  w.field("kernel_drops", p.kernel_drops);
  w.field("user", p.user);
  w.optional_field("evidence_file", p.evidence_file);
  w.key("trace_budget_s");
  if (p.trace_budget_s) w.number(*p.trace_budget_s, 3);
  else w.null();
  w.optional_field("locate_rest", p.locate_rest);
  w.end_object();
}

void write_vantage(JsonWriter& w, const VantageInfo& v, const std::vector<std::string>& clients) {
  auto strings = [&](std::string_view key, const std::vector<std::string>& list) {
    w.key(key).begin_array();
    for (const std::string& s : list) w.value(s);
    w.end_array();
  };
  w.begin_object();
  w.field("name", v.name);
  w.field("host", v.host);
  strings("sources", v.sources.empty() ? clients : v.sources);
  strings("interfaces", v.interfaces);
  w.optional_field("first_hop", v.first_hop);
  w.end_object();
}

// The head and tail of the one JSON object. The attempts come between them, and the
// fields known only at the end (finish time, what was read, the counts) after them, so
// that the attempts can be written as they are judged. Key order means nothing in JSON;
// the names and nesting are the contract.
void write_head(JsonWriter& w, const RunInfo& run) {
  w.begin_object();
  w.field("tool", "synprobe");
  w.field("version", run.version);
  w.field("schema_version", json_schema_version);
  w.field("mode", run.mode);
  w.field("command", run.command_line);
  w.field("started", iso8601(run.started));
  w.key("attempts").begin_array();
}

void write_verdict_counts(JsonWriter& w, const VerdictCounts& counts) {
  w.begin_object();
  for (std::size_t i = 0; i < verdict_count; ++i) w.field(verdict_name(static_cast<Verdict>(i)), counts[i]);
  w.end_object();
}

// --summary: what the counts of every attempt say, in place of the attempts (docs/json.md).
void write_tally(JsonWriter& w, const AttemptTally& tally) {
  w.field("attempts_listed", false);
  w.key("destinations").begin_object();
  w.field("tracked", std::uint64_t{tally.destinations_tracked()});
  w.field("tracked_limit", std::uint64_t{AttemptTally::max_destinations});
  w.field("untracked_attempts", tally.untracked_attempts());
  const std::vector<DestinationCount> top = tally.top_destinations(summary_top_destinations_json);
  std::uint64_t listed = 0;
  w.key("top").begin_array();
  for (const DestinationCount& d : top) {
    listed += d.attempts;
    w.begin_object();
    w.field("address", d.address.to_string());
    w.field("attempts", d.attempts);
    w.key("by_verdict");
    write_verdict_counts(w, d.by_verdict);
    w.end_object();
  }
  w.end_array();
  w.field("other_attempts", tally.attempts() - listed);
  w.end_object();
  w.key("refusers").begin_array();
  for (const RefuserCount& c : tally.refusers()) {
    w.begin_object();
    w.field("actor", actor_name(c.actor));
    w.optional_field("hop", c.hop);
    w.field("verdict", verdict_name(c.verdict));
    w.field("attempts", c.attempts);
    w.key("responders").begin_array();
    for (const IpAddress& a : c.responders) w.value(a.to_string());
    w.end_array();
    w.field("more_responders", c.more_responders);
    w.end_object();
  }
  w.end_array();
}

void write_tail(JsonWriter& w, const AnalysisReport& report, std::uint64_t attempts,
                const std::array<std::uint64_t, verdict_count>& counts, const std::vector<std::string>& clients,
                const AttemptTally* tally = nullptr) {
  w.end_array();
  w.field("finished", iso8601(report.run.finished));
  w.field("interrupted", report.run.interrupted);
  if (report.vantage) {
    w.key("vantage");
    write_vantage(w, *report.vantage, clients);
  }
  if (report.probe) {
    w.key("probe");
    write_probe(w, *report.probe);
    w.key("names").begin_array();
    for (const NameFinding& f : report.names) write_name(w, f);
    w.end_array();
  } else {
    w.key("input");
    write_input(w, report.input);
  }
  w.key("summary").begin_object();
  w.field("attempts", attempts);
  w.key("by_verdict");
  write_verdict_counts(w, counts);
  if (tally) write_tally(w, *tally);
  w.end_object();
  w.end_object();
}

class JsonStream final : public ReportStream {
 public:
  using ReportStream::ReportStream;

 private:
  // Output leaves in pieces of about this size: few writes, little memory.
  static constexpr std::size_t flush_at = 64 * 1024;

  void write_attempt(const AttemptResult& r) override {
    start();
    synprobe::write_attempt(w_, r);
    // The clients seen, for an analyze run's vantage (its sources): a few, in order.
    if (clients_.size() < max_clients) {
      std::string client = r.attempt.client.to_string();
      if (std::find(clients_.begin(), clients_.end(), client) == clients_.end()) clients_.push_back(std::move(client));
    }
    if (w_.pending_size() >= flush_at) flush();
  }

  void write_end(const AnalysisReport& report) override {
    start();
    write_tail(w_, report, attempts(), counts(), clients_);
    flush();
    emit("\n");
  }

  void start() {
    if (started_) return;
    started_ = true;
    write_head(w_, head().run);
  }

  void flush() {
    emit(w_.pending());
    w_.clear_pending();
  }

  static constexpr std::size_t max_clients = 16;
  JsonWriter w_;
  bool started_ = false;
  std::vector<std::string> clients_;
};

// --summary --json: the document without its attempts (an empty list) and a summary that
// counts them per verdict, destination and refuser. Memory: the tally's bounds.
class JsonSummaryStream final : public ReportStream {
 public:
  using ReportStream::ReportStream;
  [[nodiscard]] bool shows_details() const override { return false; }

 private:
  void write_attempt(const AttemptResult& r) override {
    tally_.add(r);
    if (clients_.size() < max_clients) {
      std::string client = r.attempt.client.to_string();
      if (std::find(clients_.begin(), clients_.end(), client) == clients_.end()) clients_.push_back(std::move(client));
    }
  }

  void write_end(const AnalysisReport& report) override {
    JsonWriter w;
    write_head(w, head().run);
    write_tail(w, report, attempts(), counts(), clients_, &tally_);
    emit(w.pending());
    emit("\n");
  }

  static constexpr std::size_t max_clients = 16;
  AttemptTally tally_;
  std::vector<std::string> clients_;
};

}  // namespace

std::unique_ptr<ReportStream> stream_json(const RenderOptions&, TextSink sink) {
  return std::make_unique<JsonStream>(std::move(sink));
}

std::unique_ptr<ReportStream> stream_json_summary(const RenderOptions&, TextSink sink) {
  return std::make_unique<JsonSummaryStream>(std::move(sink));
}

std::string render_json(const AnalysisReport& report, const RenderOptions& options) {
  return render_through_stream(stream_json, report, options);
}

}  // namespace synprobe
