// The merge renderers: one finding per target seen from several vantage points, with each
// vantage's fate and path. Text for a terminal, Markdown for a ticket, HTML with an SVG of
// the paths joining, JSON for tools (docs/json.md, "merge").
#include "merge_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "json_writer.hpp"
#include "markup.hpp"
#include "renderer.hpp"

namespace synprobe {
namespace {

std::string node_text(const PathNode& n) {
  if (n.silent()) return "*";
  if (n.addresses.size() == 1) return n.addresses.front().to_string();
  std::string out = "{";
  for (std::size_t i = 0; i < n.addresses.size(); ++i) out += (i ? "|" : "") + n.addresses[i].to_string();
  return out + "}";
}

std::string vantage_name(const MergeDocument& doc, const VantageFate& f) { return doc.inputs[f.run].name; }

// "local: refused ..." — the kind, unless the finding already starts with it ("global: ...").
std::string headline(const TargetMerge& t) {
  const std::string kind(merge_kind_name(t.kind));
  return t.finding.rfind(kind + ":", 0) == 0 ? t.finding : kind + ": " + t.finding;
}

std::string fate_text(const VantageFate& f) {
  std::string out = describe(f.state);
  if (f.side != Side::none && f.side != Side::unknown) out += fmt::format(" [{}]", side_name(f.side));
  return out;
}

std::string fate_path(const VantageFate& f) {
  if (f.route.empty()) return "(no hop table)";
  std::string out = path_text(f.route, f.join_index);
  if (f.path_port) out += fmt::format(" (the trace to port {})", *f.path_port);
  return out;
}

std::string header_line(const MergeDocument& doc) {
  std::vector<std::string> names;
  for (const MergeInput& in : doc.inputs) names.push_back(in.name);
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
  return fmt::format("{} target{} from {} vantage{} ({}); the runs span {:.0f} s{}", doc.result.targets.size(),
                     doc.result.targets.size() == 1 ? "" : "s", doc.inputs.size(), doc.inputs.size() == 1 ? "" : "s",
                     list, doc.result.spread_s, doc.result.runs_apart ? " (too far apart to compare as simultaneous)" : "");
}

std::string esc(std::string_view s) { return html_escape(s); }

std::string md_cell(std::string_view s) { return markdown_cell(s); }

const char* fate_colour(const TargetState& s) {
  switch (s.verdict) {
    case Verdict::open: return "#2b8a3e";
    case Verdict::dropped: return "#e67700";
    case Verdict::inconclusive: return "#666";
    default: return "#c92a2a";
  }
}

// The paths as a tree that joins: each vantage's own hops on its row, up to the join; from
// the join on, one trunk shared by all. A vantage's refusal is marked where it happened:
// on its row (before the join) or on the trunk (at or after it).
std::string paths_svg(const MergeDocument& doc, const TargetMerge& t) {
  constexpr int box_w = 128, box_h = 34, gap = 26, row_h = 56, left = 150, top = 30;
  const std::size_t n = t.fates.size();
  // Hops before the join per vantage (the whole route when there is no join).
  std::size_t before_max = 0;
  std::vector<std::size_t> before(n);
  for (std::size_t i = 0; i < n; ++i) {
    before[i] = t.fates[i].join_index ? *t.fates[i].join_index : t.fates[i].route.size();
    before[i] = std::min<std::size_t>(before[i], 10);
    before_max = std::max(before_max, before[i]);
  }
  // The trunk: the longest shared part from the join on.
  Path trunk;
  if (t.join)
    for (const VantageFate& f : t.fates)
      if (f.join_index && f.route.size() - *f.join_index > trunk.size())
        trunk.assign(f.route.begin() + static_cast<std::ptrdiff_t>(*f.join_index), f.route.end());
  if (trunk.size() > 10) trunk.resize(10);
  const int step = box_w + gap;
  const int trunk_x = left + static_cast<int>(before_max) * step;
  const int width = trunk_x + static_cast<int>(trunk.size()) * step + 40;
  const int height = top + static_cast<int>(n) * row_h + 30;
  const int trunk_y = top + (static_cast<int>(n) * row_h) / 2 - box_h / 2;

  std::string svg = fmt::format(
      "<svg role=\"img\" aria-label=\"paths from each vantage\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" font-family=\"system-ui,sans-serif\" font-size=\"11\">\n",
      width, height, width, height);
  auto box = [&](int x, int y, const std::string& label, const std::string& title, bool refuser, const char* colour) {
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"5\" fill=\"{}\" stroke=\"{}\" "
                       "stroke-width=\"{}\"/>\n",
                       x, y, box_w, box_h, refuser ? "#fff0f0" : "#fff", refuser ? colour : "#556", refuser ? 3 : 1.2);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n", x + box_w / 2, y + 13,
                       esc(title));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + box_w / 2, y + 27, esc(label));
  };
  auto refused_at = [&](const VantageFate& f, const PathNode& node) {
    const TargetState& s = f.state;
    if (s.verdict == Verdict::open || s.verdict == Verdict::inconclusive || s.verdict == Verdict::dropped) return false;
    if (s.responder) return node.holds(*s.responder);
    return false;
  };
  // The trunk first, with the refusals of every vantage that happened on it.
  for (std::size_t k = 0; k < trunk.size(); ++k) {
    const int x = trunk_x + static_cast<int>(k) * step;
    std::vector<std::string> who;
    const char* colour = "#c92a2a";
    for (const VantageFate& f : t.fates)
      if (f.side != Side::before_join && refused_at(f, trunk[k])) {
        who.push_back(vantage_name(doc, f));
        colour = fate_colour(f.state);
      }
    box(x, trunk_y, node_text(trunk[k]), k == 0 ? "join" : fmt::format("+{}", k), !who.empty(), colour);
    if (!who.empty()) {
      std::string names;
      for (std::size_t i = 0; i < who.size(); ++i) names += (i ? ", " : "") + who[i];
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" font-weight=\"700\">✕ refuses {}</text>\n",
                         x + box_w / 2, trunk_y + box_h + 14, colour, esc(names));
    }
    if (k + 1 < trunk.size())
      svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#556\" stroke-width=\"2\"/>\n", x + box_w,
                         trunk_y + box_h / 2, x + step, trunk_y + box_h / 2);
  }
  // Each vantage's row: its name and fate, its hops before the join, then into the trunk.
  for (std::size_t i = 0; i < n; ++i) {
    const VantageFate& f = t.fates[i];
    const int y = top + static_cast<int>(i) * row_h;
    const char* colour = fate_colour(f.state);
    svg += fmt::format("<text x=\"6\" y=\"{}\" font-weight=\"700\">{}</text>\n", y + 14, esc(vantage_name(doc, f)));
    svg += fmt::format("<text x=\"6\" y=\"{}\" fill=\"{}\" font-weight=\"600\">{}</text>\n", y + 29, colour,
                       esc(verdict_name(f.state.verdict)));
    int x = left + static_cast<int>(before_max - before[i]) * step;
    int prev_x = 110, prev_y = y + box_h / 2;
    for (std::size_t k = 0; k < before[i]; ++k, x += step) {
      const PathNode& node = f.route[k];
      const bool refuser = refused_at(f, node);
      svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#556\" stroke-width=\"1.5\"/>\n", prev_x,
                         prev_y, x, y + box_h / 2);
      box(x, y, node_text(node), fmt::format("hop {}", node.hop), refuser, colour);
      if (refuser)
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\" font-weight=\"700\">✕ {}</text>\n",
                           x + box_w / 2, y + box_h + 12, colour, esc(verdict_name(f.state.verdict)));
      prev_x = x + box_w;
      prev_y = y + box_h / 2;
    }
    if (f.join_index && !trunk.empty()) {
      // Into the join; dashed when this vantage's own probes stopped before it (the path is
      // known from another port's trace, or its refusal cut it short).
      const bool stopped = f.side == Side::before_join;
      svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n", prev_x,
                         prev_y, trunk_x, trunk_y + box_h / 2, stopped ? "#bbb" : "#556",
                         stopped ? " stroke-dasharray=\"5,4\"" : "");
    }
    if (f.state.verdict == Verdict::dropped)
      svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\" font-size=\"18\" font-weight=\"700\">✕</text>\n", prev_x + 4,
                         prev_y + 6, colour);
  }
  return svg + "</svg>\n";
}

void write_fate(JsonWriter& w, const MergeDocument& doc, const VantageFate& f) {
  w.begin_object();
  w.field("vantage", vantage_name(doc, f));
  w.field("verdict", verdict_name(f.state.verdict));
  w.field("actor", actor_name(f.state.actor));
  w.optional_field("hop", f.state.hop);
  w.key("responder");
  f.state.responder ? w.value(f.state.responder->to_string()) : w.null();
  w.optional_field("icmp", f.state.icmp);
  w.key("confidence").number(f.state.confidence, 2);
  w.field("side", side_name(f.side));
  w.optional_field("join_hop", f.join_hop);
  w.field("reached", f.reached);
  w.key("path_port");
  f.path_port ? w.value(unsigned{*f.path_port}) : w.null();
  w.field("attempts", static_cast<std::uint64_t>(f.attempts));
  w.key("path").begin_array();
  for (const PathNode& node : f.route) {
    w.begin_object().field("hop", node.hop).key("addresses").begin_array();
    for (const IpAddress& a : node.addresses) w.value(a.to_string());
    w.end_array().end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace

std::string path_text(const Path& path, std::optional<std::size_t> join_index) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (i) out += " → ";
    out += join_index && *join_index == i ? "[" + node_text(path[i]) + "]" : node_text(path[i]);
  }
  return out;
}

std::string render_merge_text(const MergeDocument& doc) {
  std::string out;
  std::size_t width = 0;
  for (const MergeInput& in : doc.inputs) width = std::max(width, in.name.size());
  for (const TargetMerge& t : doc.result.targets) {
    out += fmt::format("{}  {}\n", t.target, headline(t));
    for (const VantageFate& f : t.fates)
      out += fmt::format("    {:<{}}  {:<44}  {}\n", vantage_name(doc, f), width, fate_text(f), fate_path(f));
    for (const std::string& note : t.notes) out += "    note: " + note + "\n";
  }
  for (const std::string& note : doc.result.notes) out += "note: " + note + "\n";
  return out + header_line(doc) + "\n";
}

std::string render_merge_markdown(const MergeDocument& doc) {
  std::string out = "# Is it just me? — synprobe merge\n\n";
  out += header_line(doc) + ".\n\n| vantage | file | mode | from | to | sources | first hop |\n|---|---|---|---|---|---|---|\n";
  for (const MergeInput& in : doc.inputs) {
    std::string sources;
    if (in.vantage)
      for (const std::string& s : in.vantage->sources) sources += (sources.empty() ? "" : ", ") + s;
    out += fmt::format("| {} | `{}` | {} | {} | {} | {} | {} |\n", md_cell(in.name), md_cell(in.file), in.mode,
                       iso8601(in.from), iso8601(in.to), md_cell(sources),
                       in.vantage && in.vantage->first_hop ? *in.vantage->first_hop : "-");
  }
  for (const std::string& note : doc.result.notes) out += "\n> " + note + "\n";
  for (const TargetMerge& t : doc.result.targets) {
    out += fmt::format("\n## {}\n\n{}\n\n| vantage | answer | side | join at hop | path (join in brackets) |\n"
                       "|---|---|---|---|---|\n",
                       t.target, md_cell(headline(t)));
    for (const VantageFate& f : t.fates)
      out += fmt::format("| {} | {} | {} | {} | {} |\n", md_cell(vantage_name(doc, f)), md_cell(describe(f.state)),
                         side_name(f.side), f.join_hop ? std::to_string(*f.join_hop) : "-", md_cell(fate_path(f)));
    if (!t.notes.empty()) {
      out += "\n";
      for (const std::string& note : t.notes) out += "- " + note + "\n";
    }
  }
  return out;
}

std::string render_merge_html(const MergeDocument& doc) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>synprobe merge</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.45}\n"
      "h1{font-size:1.6rem} h2{font-size:1.2rem;border-bottom:1px solid #ccd;margin-top:2rem}\n"
      ".finding{background:#f4f6fb;border-left:4px solid #3b5bdb;padding:.7rem 1rem}\n"
      "table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0} th,td{border:1px solid #ccd;padding:.25rem .5rem;"
      "text-align:left} th{background:#eef0f6} code{font-family:ui-monospace,monospace}\n"
      "svg{max-width:100%;height:auto;display:block;margin:.5rem 0}\n"
      "@media print{body{margin:0;max-width:none}.finding{background:none}}\n</style>\n</head>\n<body>\n"
      "<h1>Is it just me? — one target from several vantage points</h1>\n";
  out += fmt::format("<p>{}.</p>\n<table><tr><th>vantage</th><th>file</th><th>mode</th><th>from</th><th>to</th>"
                     "<th>sources</th><th>first hop</th></tr>\n",
                     esc(header_line(doc)));
  for (const MergeInput& in : doc.inputs) {
    std::string sources;
    if (in.vantage)
      for (const std::string& s : in.vantage->sources) sources += (sources.empty() ? "" : ", ") + s;
    out += fmt::format("<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       esc(in.name), esc(in.file), esc(in.mode), iso8601(in.from), iso8601(in.to), esc(sources),
                       in.vantage && in.vantage->first_hop ? esc(*in.vantage->first_hop) : "-");
  }
  out += "</table>\n";
  for (const std::string& note : doc.result.notes) out += fmt::format("<p class=\"finding\">{}</p>\n", esc(note));
  for (const TargetMerge& t : doc.result.targets) {
    out += fmt::format("<section class=\"target\">\n<h2>{}</h2>\n<p class=\"finding\">{}</p>\n", esc(t.target),
                       esc(headline(t)));
    if (t.fates.size() > 1) out += paths_svg(doc, t);
    out += "<table><tr><th>vantage</th><th>answer</th><th>side</th><th>join at hop</th><th>path (join in brackets)</th></tr>\n";
    for (const VantageFate& f : t.fates)
      out += fmt::format("<tr><td>{}</td><td style=\"color:{}\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
                         esc(vantage_name(doc, f)), fate_colour(f.state), esc(describe(f.state)), side_name(f.side),
                         f.join_hop ? std::to_string(*f.join_hop) : "-", esc(fate_path(f)));
    out += "</table>\n";
    if (!t.notes.empty()) {
      out += "<ul>\n";
      for (const std::string& note : t.notes) out += "<li>" + esc(note) + "</li>\n";
      out += "</ul>\n";
    }
    out += "</section>\n";
  }
  out += fmt::format("<footer><p>synprobe {} — <code>{}</code></p></footer>\n</body>\n</html>\n", esc(doc.version),
                     esc(doc.command_line));
  return out;
}

std::string render_merge_json(const MergeDocument& doc) {
  JsonWriter w;
  w.begin_object();
  w.field("tool", "synprobe");
  w.field("version", doc.version);
  w.field("schema_version", json_schema_version);
  w.field("mode", "merge");
  w.field("command", doc.command_line);
  w.key("max_apart_s").number(doc.options.max_apart_s, 3);
  w.key("change_at");
  doc.options.change_at ? w.value(iso8601(*doc.options.change_at)) : w.null();
  w.key("spread_s").number(doc.result.spread_s, 3);
  w.field("runs_apart", doc.result.runs_apart);
  w.key("notes").begin_array();
  for (const std::string& note : doc.result.notes) w.value(note);
  w.end_array();
  w.key("vantages").begin_array();
  for (const MergeInput& in : doc.inputs) {
    w.begin_object().field("name", in.name).field("file", in.file).field("mode", in.mode);
    w.field("from", iso8601(in.from)).field("to", iso8601(in.to));
    w.key("host");
    in.vantage ? w.value(in.vantage->host) : w.null();
    w.key("sources").begin_array();
    if (in.vantage)
      for (const std::string& s : in.vantage->sources) w.value(s);
    w.end_array();
    w.key("first_hop");
    in.vantage && in.vantage->first_hop ? w.value(*in.vantage->first_hop) : w.null();
    w.end_object();
  }
  w.end_array();
  w.key("targets").begin_array();
  for (const TargetMerge& t : doc.result.targets) {
    w.begin_object();
    w.field("target", t.target).field("dst", t.address.to_string()).field("dport", unsigned{t.port});
    w.field("kind", merge_kind_name(t.kind)).field("finding", t.finding);
    w.key("join");
    t.join ? w.value(t.join->to_string()) : w.null();
    w.key("fates").begin_array();
    for (const VantageFate& f : t.fates) write_fate(w, doc, f);
    w.end_array();
    w.key("notes").begin_array();
    for (const std::string& note : t.notes) w.value(note);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

}  // namespace synprobe
