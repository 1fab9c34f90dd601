// The HTML renderer: one self-contained page (inline CSS and SVG, no script, nothing
// fetched), readable on screen and on paper, with a diagram of the path that shows
// where the connection was refused.
#include <fmt/format.h>

#include <algorithm>

#include "dissect/verdict/trace_model.hpp"
#include "markup.hpp"
#include "narrative.hpp"
#include "renderer.hpp"

namespace synprobe {
namespace {

std::string esc(std::string_view s) { return html_escape(s); }

// Backticks in the narrative become <code>.
std::string prose(std::string_view s) {
  std::string out;
  bool open = false;
  for (const char c : esc(s)) {
    if (c == '`') {
      out += open ? "</code>" : "<code>";
      open = !open;
    } else {
      out += c;
    }
  }
  if (open) out += "</code>";
  return out;
}

constexpr const char* style = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.25rem;border-bottom:1px solid #ccd;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.1rem;margin-top:1.6rem} h4{font-size:1rem;margin:1.2rem 0 .4rem}
.finding{font-size:1.08rem;background:#f4f6fb;border-left:4px solid #3b5bdb;padding:.7rem 1rem;margin:1rem 0}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.92rem} th,td{border:1px solid #ccd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f6} td.num{text-align:right} code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;background:#f0f1f4;padding:0 .2em}
.verdict{font-weight:600} .refused{color:#a61e4d} .open{color:#2b8a3e} .dropped{color:#e67700} .inconclusive{color:#666}
tr.refuser td{background:#fff0f0;font-weight:600}
svg{max-width:100%;height:auto;display:block;margin:.5rem 0 1rem}
.ask{background:#fff9db;border-left:4px solid #f08c00;padding:.6rem 1rem}
footer{margin-top:2rem;font-size:.85rem;color:#555}
@media print{body{margin:0;max-width:none;color:#000}.finding,.ask{background:none;border-left:3px solid #000}
 th{background:none} tr.refuser td{background:none;text-decoration:underline} section.attempt{break-inside:avoid-page}
 a{color:#000}}
)";

std::string verdict_class(Verdict v) {
  switch (v) {
    case Verdict::open: return "open";
    case Verdict::dropped: return "dropped";
    case Verdict::inconclusive: return "inconclusive";
    default: return "refused";
  }
}

struct Node {
  std::string title;  // "hop 2"
  std::string label;  // its address or "?"
};

// Client → hops → server, with the refusal drawn where it happened.
std::string path_svg(const AttemptResult& r) {
  const Judgement& j = r.judgement;
  int hops = 0;
  for (const TraceHop& h : r.trace.hops)
    if (h.majority == HopAnswer::time_exceeded) hops = std::max(hops, h.hop);
  if (r.host_hop) hops = std::max(hops, r.host_hop->hop - 1);
  if (j.hop && j.actor != Actor::host) hops = std::max(hops, *j.hop);
  hops = std::min(hops, 12);  // beyond that the drawing says nothing more

  std::vector<Node> nodes{{"client", r.attempt.client.to_string()}};
  for (int k = 1; k <= hops; ++k) {
    std::string address = "?";
    for (const TraceHop& h : r.trace.hops)
      if (h.hop == k && h.majority == HopAnswer::time_exceeded && h.address) address = h.address->to_string();
    if (j.hop && *j.hop == k && j.responder && address == "?") address = j.responder->to_string();
    nodes.push_back({fmt::format("hop {}", k), address});
  }
  nodes.push_back({r.host_hop ? fmt::format("server (hop {})", r.host_hop->hop) : "server", r.attempt.server.to_string()});

  const int box_w = 150, box_h = 54, gap = 46, top = 40;
  const int width = static_cast<int>(nodes.size()) * (box_w + gap) - gap + 20;
  const int height = top + box_h + 70;
  // Which node refused (its index), and whether the break is a drop after it.
  int refuser = -1;
  bool drop = j.verdict == Verdict::dropped && j.hop;
  if (j.verdict != Verdict::open && j.verdict != Verdict::inconclusive) {
    if (j.actor == Actor::host) refuser = static_cast<int>(nodes.size()) - 1;
    else if (j.hop) refuser = std::min(*j.hop, hops);
  }
  std::string svg = fmt::format(
      "<svg role=\"img\" aria-label=\"path diagram\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" font-family=\"system-ui,sans-serif\" font-size=\"12\">\n",
      width, height, width, height);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const int x = 10 + static_cast<int>(i) * (box_w + gap);
    const bool is_refuser = static_cast<int>(i) == refuser && !drop;
    const bool is_open_server = j.verdict == Verdict::open && i + 1 == nodes.size();
    const char* stroke = is_refuser ? "#c92a2a" : is_open_server ? "#2b8a3e" : "#556";
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{}\" "
                       "stroke-width=\"{}\"/>\n",
                       x, top, box_w, box_h, is_refuser ? "#fff0f0" : "#ffffff", stroke, is_refuser ? 3 : 1.5);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"600\">{}</text>\n", x + box_w / 2,
                       top + 21, esc(nodes[i].title));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + box_w / 2, top + 40,
                       esc(nodes[i].label));
    if (i + 1 < nodes.size()) {
      const int x1 = x + box_w, x2 = x + box_w + gap, y = top + box_h / 2;
      const bool broken = drop && static_cast<int>(i) == std::min(*j.hop, hops);
      const bool beyond = (refuser >= 0 && !drop && static_cast<int>(i) >= refuser) ||
                          (drop && static_cast<int>(i) > std::min(*j.hop, hops));
      svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", x1, y, x2,
                         y, broken ? "#c92a2a" : beyond ? "#bbb" : "#556",
                         broken || beyond ? " stroke-dasharray=\"5,4\"" : "");
      if (broken)
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c92a2a\" font-size=\"22\" "
                           "font-weight=\"700\">✕</text>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c92a2a\">"
                           "dropped here</text>\n",
                           (x1 + x2) / 2, y + 8, (x1 + x2) / 2, top + box_h + 22);
    }
    if (is_refuser) {
      const std::string what = j.verdict == Verdict::icmp_unreachable
                                   ? "ICMP " + (j.icmp ? j.icmp->name : std::string("unreachable"))
                                   : j.verdict == Verdict::injected_reset ? "forged RST" : "RST";
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c92a2a\" font-weight=\"700\">"
                         "✕ refuses: {}</text>\n",
                         x + box_w / 2, top + box_h + 22, esc(what));
    }
    if (is_open_server)
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#2b8a3e\" font-weight=\"700\">"
                         "✓ SYN/ACK</text>\n",
                         x + box_w / 2, top + box_h + 22);
  }
  svg += fmt::format("<text x=\"10\" y=\"22\" font-weight=\"600\">{} → {}</text>\n", esc(r.attempt.client.to_string()),
                     esc(target_text(r.attempt)));
  return svg + "</svg>\n";
}

std::string hop_table(const AttemptResult& r) {
  if (r.trace.hops.empty()) return {};
  const Judgement& j = r.judgement;
  std::string out = "<h4>The path (TTL-limited SYNs)</h4>\n<table><tr><th>hop</th><th>address</th><th>RTT</th>"
                    "<th>answers</th></tr>\n";
  for (const TraceHop& h : r.trace.hops) {
    const std::string answers = hop_answers_text(h, true);
    const bool marked = names_hop(j, h);
    out += fmt::format("<tr{}><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}{}</td></tr>\n",
                       marked ? " class=\"refuser\"" : "", h.hop, h.address ? esc(h.address->to_string()) : "*",
                       h.rtt_ms ? fmt::format("{:.3f} ms", *h.rtt_ms) : "-", esc(answers),
                       marked ? " ← " + std::string(verdict_name(j.verdict)) : "");
  }
  return out + "</table>\n";
}

std::string details(const AttemptResult& r, bool heading, const std::vector<AttemptResult>& all) {
  const Judgement& j = r.judgement;
  std::string out = "<section class=\"attempt\">\n";
  if (heading) out += fmt::format("<h3>{} → {}</h3>\n", esc(r.attempt.client.to_string()), esc(target_text(r.attempt)));
  out += fmt::format("<p class=\"finding\">{}</p>\n", prose(finding(r)));
  if (const std::string control = control_text(r, all); !control.empty())
    out += fmt::format("<p class=\"control\">{}</p>\n", prose(control));
  out += fmt::format("<table><tr><th>verdict</th><th>actor</th><th>hop</th><th>responder</th><th>confidence</th></tr>"
                     "<tr><td class=\"verdict {}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.2f}</td>"
                     "</tr></table>\n",
                     verdict_class(j.verdict), verdict_name(j.verdict), actor_name(j.actor),
                     j.hop_range ? fmt::format("{}–{}", j.hop_range->first, j.hop_range->second)
                                 : (j.hop ? std::to_string(*j.hop) : "-"),
                     j.responder ? esc(j.responder->to_string()) : "-", j.confidence);
  if (const std::string t = trigger_text(r.attempt); !t.empty() || j.stage != Stage::syn)
    out += fmt::format("<p class=\"stage\">Stage: <code>{}</code>{}{}.</p>\n", stage_name(j.stage),
                       t.empty() ? "" : "; the request named ", esc(t));
  out += path_svg(r);
  out += hop_table(r);
  out += "<h4>Evidence</h4>\n<ul>\n";
  for (const Evidence& e : j.evidence)
    out += fmt::format("<li><code>{}</code>: {}</li>\n", signal_name(e.signal), prose(e.detail));
  if (r.host_hop)
    out += fmt::format("<li>Baseline: {} packet{} of the server's own arrive with initial TTL {}, hop {}; IP-ID: {}{}."
                       "</li>\n",
                       r.host_packets, r.host_packets == 1 ? "" : "s", r.host_hop->initial, r.host_hop->hop,
                       ip_id_behaviour_name(r.host_ip_id),
                       r.host_syn_ack_rtt_ms ? fmt::format("; its SYN/ACKs take {:.3f} ms", *r.host_syn_ack_rtt_ms) : "");
  out += "</ul>\n<h4>Packets</h4>\n<table><tr><th>time (UTC)</th><th></th><th>packet</th><th>from</th><th>TTL</th>"
         "<th>IP-ID</th><th>seq / ack</th></tr>\n";
  for (const PacketRow& p : packet_rows(r))
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       p.time, p.direction, esc(p.packet), esc(p.from), esc(p.ttl), p.ip_id, esc(p.seq_ack));
  out += fmt::format("</table>\n<h4>What to ask for</h4>\n<p class=\"ask\">{}</p>\n</section>\n", prose(next_step(r)));
  return out;
}

std::string what_was_done(const AnalysisReport& report) {
  const RunInfo& run = report.run;
  std::string out = "<h2>What was done</h2>\n<ul>\n";
  out += fmt::format("<li>Command: <code>{}</code></li>\n", esc(run.command_line));
  out += fmt::format("<li>Tool: synprobe {} ({} mode)</li>\n", esc(run.version), esc(run.mode));
  out += fmt::format("<li>Run: {} to {} (UTC){}</li>\n", iso8601(run.started), iso8601(run.finished),
                     run.interrupted ? " — <strong>interrupted</strong>: results cover what was seen before" : "");
  if (report.probe) {
    const ProbeSummary& p = *report.probe;
    std::string sources, interfaces;
    for (const auto& s : p.sources) sources += (sources.empty() ? "" : ", ") + s;
    for (const auto& i : p.interfaces) interfaces += (interfaces.empty() ? "" : ", ") + i;
    out += fmt::format("<li>From: {} on {} (source port {})</li>\n<li>Probes: {} packets sent, {} captured</li>\n",
                       esc(sources), esc(interfaces), p.source_port, p.packets_sent, p.packets_captured);
    if (p.evidence_file)
      out += fmt::format("<li>Packets: every packet sent and received is in <code>{}</code> (pcapng; each packet "
                         "carries a comment saying its role)</li>\n",
                         esc(*p.evidence_file));
    if (p.locate_rest)
      out += fmt::format("<li>Not every target was traced within the trace budget; to locate the rest: <code>sudo {}</code></li>\n",
                         esc(*p.locate_rest));
  } else {
    out += fmt::format("<li>Input: <code>{}</code> ({}, {} packets)</li>\n", esc(report.input.path),
                       esc(report.input.format), report.input.packets);
    if (report.input.sha256) out += fmt::format("<li>SHA-256 of the input: <code>{}</code></li>\n", *report.input.sha256);
    if (report.input.damage) out += fmt::format("<li>The input is damaged: {}</li>\n", esc(*report.input.damage));
  }
  return out + "</ul>\n";
}

// Every address of each name compared (probe of NAME:PORT).
std::string names_section(const AnalysisReport& report) {
  if (report.names.empty()) return {};
  std::string out = "<h2>Names</h2>\n";
  for (const NameFinding& f : report.names) {
    out += fmt::format("<h3>{} port {}</h3>\n<p>{}</p>\n<p>{}</p>\n<table><tr><th>address</th><th>fate</th>"
                       "<th>verdict</th><th>hop</th><th>responder</th></tr>\n",
                       esc(f.name), f.port, esc(f.finding), esc(f.clients));
    for (const AddressOutcome& o : f.addresses)
      out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"verdict {}\">{}</td><td class=\"num\">{}</td>"
                         "<td>{}</td></tr>\n",
                         esc(o.address.to_string()), esc(o.fate), verdict_class(o.verdict), verdict_name(o.verdict),
                         o.hop ? std::to_string(*o.hop) : "-", o.responder ? esc(o.responder->to_string()) : "-");
    out += fmt::format("</table>\n<p><strong>What to ask for:</strong> {}</p>\n", esc(name_next_step(f)));
  }
  return out;
}

}  // namespace

std::string render_html(const AnalysisReport& report, const RenderOptions&) {
  std::string out = fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                                "<title>synprobe report</title>\n<style>{}</style>\n</head>\n<body>\n"
                                "<h1>Who refused the connection?</h1>\n<p>synprobe report</p>\n",
                                style);
  out += names_section(report);
  if (report.attempts.empty()) {
    out += "<p>No connection attempt was found.</p>\n" + what_was_done(report);
  } else if (report.attempts.size() == 1) {
    out += "<h2>Finding</h2>\n" + details(report.attempts.front(), false, report.attempts) + what_was_done(report);
  } else {
    out += fmt::format("<h2>Summary</h2>\n<p>{} connection attempts.</p>\n<table><tr><th>#</th><th>client</th><th>target"
                       "</th><th>verdict</th><th>who</th><th>hop</th><th>confidence</th></tr>\n",
                       report.attempts.size());
    for (const AttemptResult& r : report.attempts)
      out += fmt::format("<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"verdict {}\">{}</td><td>{}</td>"
                         "<td class=\"num\">{}</td><td class=\"num\">{:.2f}</td></tr>\n",
                         r.attempt.id, esc(r.attempt.client.to_string()), esc(target_text(r.attempt)),
                         verdict_class(r.judgement.verdict), verdict_name(r.judgement.verdict), esc(who_text(r)),
                         r.judgement.hop ? std::to_string(*r.judgement.hop) : "-", r.judgement.confidence);
    out += "</table>\n" + what_was_done(report) + "<h2>Details</h2>\n";
    for (const AttemptResult& r : report.attempts) out += details(r, true, report.attempts);
  }
  out += "<footer>Made by synprobe. The packets behind this report can be kept as pcapng with <code>-w FILE</code>; "
         "each packet carries a comment saying its role.</footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace synprobe
