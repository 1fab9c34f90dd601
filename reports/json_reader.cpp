#include "json_reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "dissect/decode/error.hpp"
#include "dissect/verdict/trace_model.hpp"

namespace synprobe {
namespace {

using nlohmann::json;

// Every problem in the document becomes one Failure naming the file and the field.
class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Failure(ExitCode::input_unreadable, fmt::format("{}: {}", name_, what));
  }

  const json& at(const json& j, const char* key) const {
    if (!j.is_object() || !j.contains(key)) fail(fmt::format("missing field '{}'", key));
    return j.at(key);
  }
  std::string str(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_string()) fail(fmt::format("field '{}' is not a string", key));
    return v.get<std::string>();
  }
  std::optional<std::string> opt_str(const json& j, const char* key) const {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return str(j, key);
  }
  std::int64_t integer(const json& j, const char* key) const { return integer_value(at(j, key), key); }
  // An element that must be an integer: a float (1e20) converted to an integer type is
  // undefined behaviour, so it is refused here (the fuzzer found one in `decode`).
  std::int64_t integer_value(const json& v, const char* what) const {
    if (!v.is_number_integer()) fail(fmt::format("field '{}' is not an integer", what));
    return v.get<std::int64_t>();
  }
  std::optional<std::int64_t> opt_integer(const json& j, const char* key) const {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return integer(j, key);
  }
  double number(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_number()) fail(fmt::format("field '{}' is not a number", key));
    return v.get<double>();
  }
  std::optional<double> opt_number(const json& j, const char* key) const {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return number(j, key);
  }
  bool boolean(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_boolean()) fail(fmt::format("field '{}' is not a boolean", key));
    return v.get<bool>();
  }
  Timestamp time(const json& j, const char* key) const {
    const auto t = parse_iso8601(str(j, key));
    if (!t) fail(fmt::format("field '{}' is not an ISO 8601 time", key));
    return *t;
  }
  IpAddress address(const json& j, const char* key) const {
    const auto a = IpAddress::parse(str(j, key));
    if (!a) fail(fmt::format("field '{}' is not an IP address", key));
    return *a;
  }
  template <typename T>
  T small(const json& j, const char* key, std::int64_t max) const {
    const std::int64_t v = integer(j, key);
    if (v < 0 || v > max) fail(fmt::format("field '{}' is out of range", key));
    return static_cast<T>(v);
  }
  const json& array(const json& j, const char* key) const {
    const json& v = at(j, key);
    if (!v.is_array()) fail(fmt::format("field '{}' is not an array", key));
    return v;
  }

  template <typename Enum, std::size_t N>
  Enum named(const json& j, const char* key, std::string_view (*name_of)(Enum)) const {
    const std::string value = str(j, key);
    for (std::size_t i = 0; i < N; ++i)
      if (name_of(static_cast<Enum>(i)) == value) return static_cast<Enum>(i);
    fail(fmt::format("field '{}' has an unknown value '{}'", key, value));
  }

 private:
  std::string name_;
};

IcmpSummary read_icmp(const Reader& r, const json& j) {
  return IcmpSummary{r.small<std::uint8_t>(j, "type", 255), r.small<std::uint8_t>(j, "code", 255), r.str(j, "name")};
}

Answer read_answer(const Reader& r, const json& j) {
  Answer a;
  const std::string kind = r.str(j, "kind");
  a.kind = kind == "syn-ack" ? AnswerKind::syn_ack
           : kind == "reset"  ? AnswerKind::reset
           : kind == "segment" ? AnswerKind::segment
                               : AnswerKind::icmp_error;
  if (kind != "syn-ack" && kind != "reset" && kind != "icmp-error" && kind != "segment")
    r.fail("answer kind '" + kind + "' is unknown");
  a.ts = r.time(j, "time");
  a.from = r.address(j, "from");
  a.ttl = estimate_hop(r.small<std::uint8_t>(j, "ttl", 255));
  if (const auto id = r.opt_integer(j, "ip_id")) {
    a.has_ip_id = true;
    a.ip_id = static_cast<std::uint16_t>(*id);
  }
  a.rtt_ms = r.number(j, "rtt_ms");
  a.transmission = static_cast<std::size_t>(std::max<std::int64_t>(r.integer(j, "syn") - 1, 0));
  if (a.kind == AnswerKind::icmp_error) {
    const IcmpSummary icmp = read_icmp(r, r.at(j, "icmp"));
    a.icmp_type = icmp.type;
    a.icmp_code = icmp.code;
    if (const auto q = r.opt_integer(j, "quoted_ttl")) a.quoted_ttl = static_cast<std::uint8_t>(*q);
  } else {
    std::uint8_t flags = 0;
    const std::string text = r.str(j, "flags");
    const std::pair<const char*, std::uint8_t> names[] = {{"SYN", tcp_flag::syn}, {"RST", tcp_flag::rst},
                                                          {"FIN", tcp_flag::fin}, {"PSH", tcp_flag::psh},
                                                          {"ACK", tcp_flag::ack}, {"URG", tcp_flag::urg},
                                                          {"ECE", tcp_flag::ece}, {"CWR", tcp_flag::cwr}};
    std::istringstream parts(text);
    for (std::string part; std::getline(parts, part, '/');)
      for (const auto& [n, bit] : names)
        if (part == n) flags = static_cast<std::uint8_t>(flags | bit);
    a.tcp_flags = flags;
    a.seq = static_cast<std::uint32_t>(r.integer(j, "seq"));
    a.ack = static_cast<std::uint32_t>(r.integer(j, "ack"));
    a.window = r.small<std::uint16_t>(j, "window", 65535);
    if (const auto data = r.opt_integer(j, "data")) a.payload = static_cast<std::uint32_t>(*data);
  }
  return a;
}

// The request stage (schema 1.2): absent or null in older files and before a handshake.
std::optional<RequestStage> read_request_stage(const Reader& r, const json& j) {
  if (!j.contains("request") || j.at("request").is_null()) return std::nullopt;
  const json& q = j.at("request");
  RequestStage s;
  s.opened = r.time(q, "opened");
  s.following = false;
  if (q.contains("sent") && !q.at("sent").is_null()) {
    ClientRequest c;
    c.sent = c.last_sent = r.time(q, "sent");
    const std::string protocol = r.opt_str(q, "protocol").value_or("unknown");
    c.protocol = protocol == "tls" ? RequestProtocol::tls : protocol == "http" ? RequestProtocol::http : RequestProtocol::unknown;
    c.trigger = r.opt_str(q, "trigger");
    c.seq = static_cast<std::uint32_t>(r.opt_integer(q, "seq").value_or(0));
    c.length = static_cast<std::uint32_t>(r.opt_integer(q, "bytes").value_or(0));
    c.transmissions = static_cast<std::uint32_t>(std::max<std::int64_t>(r.opt_integer(q, "transmissions").value_or(1), 1));
    c.ttl = static_cast<std::uint8_t>(r.opt_integer(q, "ttl").value_or(0));
    c.head_done = true;
    s.request = std::move(c);
  }
  if (q.contains("server_spoke_first") && q.at("server_spoke_first").is_boolean())
    s.server_spoke_first = q.at("server_spoke_first").get<bool>();
  if (const auto closed = r.opt_str(q, "client_closed")) s.client_closed = r.time(q, "client_closed");
  for (const json& x : r.array(q, "replies")) s.replies.push_back(read_answer(r, x));
  return s;
}

TraceHop read_hop(const Reader& r, const json& j) {
  TraceHop h;
  h.hop = static_cast<int>(r.integer(j, "hop"));
  if (const auto a = r.opt_str(j, "address")) h.address = IpAddress::parse(*a);
  if (j.contains("addresses"))  // schema 1.1
    for (const json& a : r.array(j, "addresses")) {
      const auto parsed = a.is_string() ? IpAddress::parse(a.get<std::string>()) : std::nullopt;
      if (!parsed) r.fail("a hop address is not an IP address");
      h.addresses.push_back(*parsed);
    }
  h.rtt_ms = r.opt_number(j, "rtt_ms");
  auto answer_of = [&](const std::string& text) {
    for (int i = 0; i < hop_answer_count; ++i)
      if (hop_answer_name(static_cast<HopAnswer>(i)) == text) return static_cast<HopAnswer>(i);
    r.fail("hop answer '" + text + "' is unknown");
  };
  for (const json& a : r.array(j, "answers")) {
    if (!a.is_string()) r.fail("a hop answer is not a string");
    h.answers.push_back(answer_of(a.get<std::string>()));
  }
  h.majority = answer_of(r.str(j, "majority"));
  if (!r.at(j, "icmp").is_null()) h.icmp = read_icmp(r, r.at(j, "icmp"));
  for (const json& c : r.array(j, "changes"))
    h.changes.push_back(PathChange{r.str(c, "field"), r.str(c, "sent"), r.str(c, "quoted")});
  return h;
}

AttemptResult read_attempt(const Reader& r, const json& j) {
  AttemptResult result;
  Attempt& a = result.attempt;
  a.id = static_cast<std::uint64_t>(r.integer(j, "id"));
  a.client = r.address(j, "src");
  a.client_port = r.small<std::uint16_t>(j, "sport", 65535);
  a.server = r.address(j, "dst");
  a.server_port = r.small<std::uint16_t>(j, "dport", 65535);
  a.isn = static_cast<std::uint32_t>(r.integer(j, "isn"));
  a.syn_count = static_cast<std::uint32_t>(r.integer(j, "syn_count"));
  a.first_seen = r.time(j, "first_seen");
  a.last_seen = r.time(j, "last_seen");
  if (j.contains("syns")) {
    for (const json& s : r.array(j, "syns")) {
      SynTransmission t;
      t.ts = r.time(s, "time");
      t.ttl = r.small<std::uint8_t>(s, "ttl", 255);
      if (const auto id = r.opt_integer(s, "ip_id")) {
        t.has_ip_id = true;
        t.ip_id = static_cast<std::uint16_t>(*id);
      }
      a.transmissions.push_back(t);
    }
  }
  for (const json& x : r.array(j, "answers")) a.answers.push_back(read_answer(r, x));
  if (std::optional<RequestStage> stage = read_request_stage(r, j)) a.request_stage = *stage;

  Judgement& g = result.judgement;
  g.verdict = r.named<Verdict, verdict_count>(j, "verdict", verdict_name);
  g.actor = r.named<Actor, 4>(j, "actor", actor_name);
  if (const auto responder = r.opt_str(j, "responder")) g.responder = IpAddress::parse(*responder);
  if (const auto hop = r.opt_integer(j, "hop")) g.hop = static_cast<int>(*hop);
  if (j.contains("hop_range") && j.at("hop_range").is_array() && j.at("hop_range").size() == 2)
    g.hop_range = std::make_pair(static_cast<int>(r.integer_value(j.at("hop_range")[0], "hop_range")),
                                 static_cast<int>(r.integer_value(j.at("hop_range")[1], "hop_range")));
  if (!r.at(j, "icmp").is_null()) g.icmp = read_icmp(r, r.at(j, "icmp"));
  g.confidence = r.number(j, "confidence");
  g.rtt_ms = r.opt_number(j, "rtt_ms");
  for (const json& e : r.array(j, "evidence")) {
    // A signal this version does not know (written by a newer minor version) is kept
    // out rather than refused: its sentence is still in "detail" for people.
    if (const auto s = signal_from_name(r.str(e, "signal"))) g.evidence.push_back({*s, r.str(e, "detail")});
  }
  if (const auto data = r.opt_integer(j, "syn_data")) a.syn_payload = static_cast<std::uint32_t>(*data);
  // Added in schema 1.x: absent from older files, and a newer rule name is left out.
  if (const auto rule = r.opt_str(j, "rule"))
    if (const auto known = rule_from_name(*rule)) g.rule = *known;
  if (const auto cause = r.opt_str(j, "cause"))
    if (const auto known = cause_from_name(*cause)) g.cause = *known;
  if (const auto stage = r.opt_str(j, "stage"))  // schema 1.2; older files: the SYN stage
    if (const auto known = stage_from_name(*stage)) g.stage = *known;
  g.trigger = r.opt_str(j, "trigger");
  if (j.contains("to_settle"))
    for (const json& step : r.array(j, "to_settle"))
      if (step.is_string()) g.to_settle.push_back(step.get<std::string>());
  if (j.contains("hops"))
    for (const json& h : r.array(j, "hops")) result.trace.hops.push_back(read_hop(r, h));

  const json& b = r.at(j, "baseline");
  result.host_packets = static_cast<std::uint64_t>(r.integer(b, "packets"));
  if (const auto hop = r.opt_integer(b, "hop"))
    result.host_hop = HopCount{static_cast<std::uint8_t>(r.opt_integer(b, "initial_ttl").value_or(0)),
                               static_cast<int>(*hop), 0};
  result.host_ip_id = r.named<IpIdBehaviour, 6>(b, "ip_id", ip_id_behaviour_name);
  result.host_syn_ack_rtt_ms = r.opt_number(b, "syn_ack_rtt_ms");
  return result;
}

NameFinding read_name(const Reader& r, const json& j) {
  NameFinding f;
  f.name = r.str(j, "name");
  f.port = r.small<std::uint16_t>(j, "port", 65535);
  f.accepting = static_cast<std::size_t>(r.small<std::uint64_t>(j, "accepting", 1 << 20));
  if (const auto split = r.opt_str(j, "family_split")) f.family_split = family_split_from_name(*split).value_or(FamilySplit::none);
  if (r.opt_str(j, "first_try")) f.first_try = r.address(j, "first_try");
  if (r.opt_str(j, "browser_connects_to")) f.browser_connects_to = r.address(j, "browser_connects_to");
  f.finding = r.str(j, "finding");
  f.clients = r.str(j, "clients");
  for (const json& a : r.array(j, "addresses")) {
    AddressOutcome o;
    o.address = r.address(a, "address");
    o.port = f.port;
    o.attempt_id = static_cast<std::uint64_t>(r.integer(a, "attempt"));
    o.verdict = r.named<Verdict, verdict_count>(a, "verdict", verdict_name);
    o.actor = r.named<Actor, 4>(a, "actor", actor_name);
    if (const auto cause = r.opt_str(a, "cause")) o.cause = cause_from_name(*cause).value_or(Cause::none);
    if (r.opt_str(a, "responder")) o.responder = r.address(a, "responder");
    if (const auto hop = r.opt_integer(a, "hop")) o.hop = static_cast<int>(*hop);
    o.rtt_ms = r.opt_number(a, "rtt_ms");
    o.fate = r.str(a, "fate");
    f.addresses.push_back(std::move(o));
  }
  return f;
}

AnalysisReport read_document(const Reader& r, json& doc) {
  if (!doc.is_object() || !doc.contains("tool") || doc["tool"] != "synprobe") r.fail("not a synprobe result");
  const std::string version = r.str(doc, "schema_version");
  const std::size_t dot = version.find('.');
  const std::string major = version.substr(0, dot);
  if (major != "1")
    r.fail(fmt::format("schema_version {} is newer than this synprobe understands (1.x): use a newer synprobe",
                       version));

  AnalysisReport report;
  report.run.mode = r.str(doc, "mode");
  report.run.version = r.str(doc, "version");
  report.run.command_line = r.str(doc, "command");
  report.run.started = r.time(doc, "started");
  report.run.finished = r.time(doc, "finished");
  report.run.interrupted = r.boolean(doc, "interrupted");
  if (doc.contains("input")) {
    const json& in = doc["input"];
    report.input.path = r.str(in, "file");
    report.input.format = r.str(in, "format");
    for (const json& l : r.array(in, "link_types")) report.input.link_types.push_back(l.get<std::string>());
    report.input.filter = r.opt_str(in, "filter");
    report.input.packets = static_cast<std::uint64_t>(r.integer(in, "packets"));
    report.input.bytes = static_cast<std::uint64_t>(r.integer(in, "bytes"));
    report.input.filtered_out = static_cast<std::uint64_t>(r.integer(in, "filtered_out"));
    const json& decode = r.at(in, "decode");
    for (std::size_t i = 0; i < report.input.decode.size(); ++i) {
      const std::string key(decode_status_name(static_cast<DecodeStatus>(i)));
      if (decode.contains(key)) report.input.decode[i] = static_cast<std::uint64_t>(r.integer(decode, key.c_str()));
    }
    report.input.damage = r.opt_str(in, "damage");
    report.input.sha256 = r.opt_str(in, "sha256");
    if (const auto forgotten = r.opt_integer(in, "baselines_forgotten"))
      report.input.baselines_forgotten = static_cast<std::uint64_t>(*forgotten);
    if (const auto early = r.opt_integer(in, "attempts_judged_early"))
      report.input.attempts_judged_early = static_cast<std::uint64_t>(*early);
    if (const auto late = r.opt_integer(in, "late_syns")) report.input.late_syns = static_cast<std::uint64_t>(*late);
    if (r.opt_str(in, "first_packet")) report.input.first_packet = r.time(in, "first_packet");
    if (r.opt_str(in, "last_packet")) report.input.last_packet = r.time(in, "last_packet");
  }
  if (doc.contains("probe")) {
    const json& p = doc["probe"];
    ProbeSummary s;
    for (const json& v : r.array(p, "interfaces")) s.interfaces.push_back(v.get<std::string>());
    for (const json& v : r.array(p, "sources")) s.sources.push_back(v.get<std::string>());
    for (const json& v : r.array(p, "next_hops")) s.next_hops.push_back(v.get<std::string>());
    s.source_port = r.small<std::uint16_t>(p, "source_port", 65535);
    s.count = static_cast<unsigned>(r.integer(p, "count"));
    s.ttl = static_cast<unsigned>(r.integer(p, "ttl"));
    s.interval_s = r.number(p, "interval_s");
    s.timeout_s = r.number(p, "timeout_s");
    s.rate_pps = r.number(p, "rate_pps");
    s.baseline = r.boolean(p, "baseline");
    for (const json& v : r.array(p, "control_ports"))
      s.control_ports.push_back(static_cast<std::uint16_t>(r.integer_value(v, "control_ports")));
    s.packets_sent = static_cast<std::uint32_t>(r.integer(p, "packets_sent"));
    s.packets_captured = static_cast<std::uint64_t>(r.integer(p, "packets_captured"));
    s.kernel_drops = static_cast<std::uint64_t>(r.integer(p, "kernel_drops"));
    s.user = r.str(p, "user");
    s.evidence_file = r.opt_str(p, "evidence_file");
    s.trace_budget_s = r.opt_number(p, "trace_budget_s");  // schema 1.x additions: absent in older files
    s.locate_rest = r.opt_str(p, "locate_rest");
    report.probe = s;
  }
  if (doc.contains("vantage") && !doc["vantage"].is_null()) {  // schema 1.1; older files have none
    const json& v = doc["vantage"];
    VantageInfo info;
    info.name = r.str(v, "name");
    info.host = r.opt_str(v, "host").value_or("");
    auto strings = [&](const char* key, std::vector<std::string>& out) {
      if (!v.contains(key)) return;
      for (const json& s : r.array(v, key)) {
        if (!s.is_string()) r.fail(fmt::format("an element of vantage '{}' is not a string", key));
        out.push_back(s.get<std::string>());
      }
    };
    strings("sources", info.sources);
    strings("interfaces", info.interfaces);
    info.first_hop = r.opt_str(v, "first_hop");
    report.vantage = info;
  }
  for (const json& a : r.array(doc, "attempts")) report.attempts.push_back(read_attempt(r, a));
  // Added in schema 1.x (probe mode): absent from older files.
  if (doc.contains("names"))
    for (const json& n : r.array(doc, "names")) report.names.push_back(read_name(r, n));
  return report;
}

}  // namespace

AnalysisReport read_json_report(std::string_view text, const std::string& name) {
  const Reader r(name);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1E400
    r.fail(fmt::format("not JSON ({})", e.what()));
  }
  // Hostile input reaches nlohmann's own checks too (get<std::string>() on a number…):
  // those are bad input as well, exit 3, not an internal error.
  try {
    return read_document(r, doc);
  } catch (const json::exception& e) {
    r.fail(fmt::format("not a valid synprobe result ({})", e.what()));
  }
}

AnalysisReport read_json_report_file(const std::string& path) {
  std::FILE* in = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!in) throw Failure(ExitCode::input_unreadable, fmt::format("{}: {}", path, std::strerror(errno)));
  // fopen() opens a directory too; only reading it fails (EISDIR). Say so by name.
  struct stat st {};
  if (in != stdin && ::fstat(::fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(in);
    throw Failure(ExitCode::input_unreadable, fmt::format("{}: is a directory", path));
  }
  // About 2 KB an attempt: the 150,000 attempts of a 10 GB capture fit; an endless input
  // (/dev/zero, a pipe that never ends) must end with a message, not with memory exhausted.
  constexpr std::size_t max_report_bytes = std::size_t{512} << 20;
  std::string text;
  char buffer[65536];
  errno = 0;
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, in)) > 0;) {
    text.append(buffer, n);
    if (text.size() > max_report_bytes) {
      if (in != stdin) std::fclose(in);
      throw Failure(ExitCode::input_unreadable,
                    fmt::format("{}: larger than {} MiB: not a synprobe report", path, max_report_bytes >> 20));
    }
  }
  const int read_errno = errno;
  const bool failed = std::ferror(in) != 0;
  if (in != stdin) std::fclose(in);
  if (failed)
    throw Failure(ExitCode::input_unreadable,
                  fmt::format("{}: read failed: {}", path, read_errno ? std::strerror(read_errno) : "I/O error"));
  return read_json_report(text, path == "-" ? "<stdin>" : path);
}

}  // namespace synprobe
