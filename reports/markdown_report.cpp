// The Markdown renderer: a report to attach to a firewall change request. It must
// stand on its own for a reader who did not run the tool. Plain GFM tables and code
// spans only, so it renders the same on the common forges.
#include <fmt/format.h>

#include "dissect/verdict/trace_model.hpp"
#include "markup.hpp"
#include "narrative.hpp"
#include "renderer.hpp"

namespace synprobe {
namespace {

// Table cells may not hold a bare "|" or a newline.
std::string cell(std::string_view s) { return markdown_cell(s); }

std::string what_was_done(const AnalysisReport& report) {
  const RunInfo& run = report.run;
  std::string out = "## What was done\n\n";
  out += fmt::format("- Command: `{}`\n", run.command_line);
  out += fmt::format("- Tool: synprobe {} ({} mode)\n", run.version, run.mode);
  out += fmt::format("- Run: {} to {} (UTC){}\n", iso8601(run.started), iso8601(run.finished),
                     run.interrupted ? " — **interrupted**: the results cover what was seen before" : "");
  if (report.probe) {
    const ProbeSummary& p = *report.probe;
    std::string sources, interfaces;
    for (const auto& s : p.sources) sources += (sources.empty() ? "" : ", ") + s;
    for (const auto& i : p.interfaces) interfaces += (interfaces.empty() ? "" : ", ") + i;
    out += fmt::format("- From: {} on {} (source port {}, fixed for the run)\n", sources, interfaces, p.source_port);
    out += fmt::format("- Probes: {} packets sent, {} captured; {} SYN{} per target, TTL {}, {} s timeout; baseline "
                       "probes {}\n",
                       p.packets_sent, p.packets_captured, p.count, p.count == 1 ? "" : "s", p.ttl, p.timeout_s,
                       p.baseline ? "on" : "off");
    if (p.evidence_file)
      out += fmt::format("- Packets: every packet sent and received is in `{}` (pcapng; each packet carries a comment "
                         "saying its role — open it in Wireshark)\n",
                         *p.evidence_file);
    if (p.locate_rest)
      out += fmt::format("- Not every target was traced within the trace budget; to locate the rest: `sudo {}`\n",
                         *p.locate_rest);
  } else {
    out += fmt::format("- Input: `{}` ({}, {} packets{})\n", report.input.path, report.input.format,
                       report.input.packets,
                       report.input.filter ? fmt::format(", filter `{}`", *report.input.filter) : "");
    if (report.input.sha256) out += fmt::format("- SHA-256 of the input: `{}`\n", *report.input.sha256);
    if (report.input.damage) out += fmt::format("- The input is damaged: {}\n", *report.input.damage);
  }
  return out + "\n";
}

std::string hop_table(const AttemptResult& r) {
  if (r.trace.hops.empty()) return {};
  std::string out = "#### The path (TTL-limited SYNs)\n\n| hop | address | RTT | answers | |\n|---:|---|---:|---|---|\n";
  const Judgement& j = r.judgement;
  for (const TraceHop& h : r.trace.hops) {
    const std::string answers = hop_answers_text(h, true);
    const bool marked = names_hop(j, h);
    out += fmt::format("| {} | {} | {} | {} | {} |\n", h.hop, h.address ? h.address->to_string() : "*",
                       h.rtt_ms ? fmt::format("{:.3f} ms", *h.rtt_ms) : "-", cell(answers),
                       marked ? "**← " + std::string(verdict_name(j.verdict)) + "**" : "");
  }
  return out + "\n";
}

std::string details(const AttemptResult& r, bool heading, const std::vector<AttemptResult>& all) {
  const Judgement& j = r.judgement;
  std::string out;
  if (heading) out += fmt::format("### {} → {}\n\n", r.attempt.client.to_string(), target_text(r.attempt));
  out += finding(r) + "\n\n";
  if (const std::string control = control_text(r, all); !control.empty()) out += control + "\n\n";
  out += fmt::format("| verdict | actor | hop | responder | confidence |\n|---|---|---|---|---|\n| `{}` | {} | {} | {} | "
                     "{:.2f} |\n\n",
                     verdict_name(j.verdict), actor_name(j.actor),
                     j.hop_range ? fmt::format("{}–{}", j.hop_range->first, j.hop_range->second)
                                 : (j.hop ? std::to_string(*j.hop) : "-"),
                     j.responder ? j.responder->to_string() : "-", j.confidence);
  if (const std::string t = trigger_text(r.attempt); !t.empty() || j.stage != Stage::syn)
    out += fmt::format("Stage: `{}`{}{}.\n\n", stage_name(j.stage), t.empty() ? "" : "; the request named ", cell(t));
  out += hop_table(r);
  out += "#### Evidence\n\n";
  for (const Evidence& e : j.evidence) out += fmt::format("- `{}`: {}\n", signal_name(e.signal), e.detail);
  if (r.host_hop)
    out += fmt::format("- Baseline: {} packet{} of the server's own arrive with initial TTL {}, hop {}; its IP-ID "
                       "behaviour: {}{}.\n",
                       r.host_packets, r.host_packets == 1 ? "" : "s", r.host_hop->initial, r.host_hop->hop,
                       ip_id_behaviour_name(r.host_ip_id),
                       r.host_syn_ack_rtt_ms ? fmt::format("; its SYN/ACKs take {:.3f} ms", *r.host_syn_ack_rtt_ms) : "");
  out += "\n#### Packets\n\n| time (UTC) | | packet | from | TTL | IP-ID | seq / ack |\n|---|---|---|---|---|---|---|\n";
  for (const PacketRow& p : packet_rows(r))
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", p.time, p.direction, cell(p.packet), p.from, p.ttl,
                       p.ip_id, cell(p.seq_ack));
  out += "\n#### What to ask for\n\n" + next_step(r) + "\n\n";
  return out;
}

// Every address of each name compared (probe of NAME:PORT).
std::string names_section(const AnalysisReport& report) {
  if (report.names.empty()) return {};
  std::string out = "## Names\n\n";
  for (const NameFinding& f : report.names) {
    out += fmt::format("### {} port {}\n\n{}\n\n{}\n\n| address | fate | verdict | hop | responder |\n|---|---|---|---|---|\n",
                       f.name, f.port, f.finding, f.clients);
    for (const AddressOutcome& o : f.addresses)
      out += fmt::format("| {} | {} | `{}` | {} | {} |\n", o.address.to_string(), cell(o.fate), verdict_name(o.verdict),
                         o.hop ? std::to_string(*o.hop) : "-", o.responder ? o.responder->to_string() : "-");
    out += "\n**What to ask for:** " + name_next_step(f) + "\n\n";
  }
  return out;
}

}  // namespace

std::string render_markdown(const AnalysisReport& report, const RenderOptions&) {
  std::string out = "# Who refused the connection? — synprobe report\n\n";
  if (report.attempts.empty()) {
    out += "No connection attempt was found.\n\n" + what_was_done(report);
    return out;
  }
  out += names_section(report);
  if (report.attempts.size() == 1) {
    out += "## Finding\n\n" + details(report.attempts.front(), false, report.attempts);
    out += what_was_done(report);
  } else {
    out += fmt::format("## Summary\n\n{} connection attempts.\n\n| # | client | target | verdict | who | hop | confidence |\n"
                       "|---:|---|---|---|---|---|---:|\n",
                       report.attempts.size());
    for (const AttemptResult& r : report.attempts)
      out += fmt::format("| {} | {} | {} | `{}` | {} | {} | {:.2f} |\n", r.attempt.id, r.attempt.client.to_string(),
                         target_text(r.attempt), verdict_name(r.judgement.verdict), cell(who_text(r)),
                         r.judgement.hop ? std::to_string(*r.judgement.hop) : "-", r.judgement.confidence);
    out += "\n" + what_was_done(report) + "## Details\n\n";
    for (const AttemptResult& r : report.attempts) out += details(r, true, report.attempts);
  }
  out += "---\nThe packets behind this report can be kept as pcapng with `-w FILE` (each packet carries a comment "
         "saying its role); re-render this report from its JSON with `synprobe report`.\n";
  return out;
}

}  // namespace synprobe
