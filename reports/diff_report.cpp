#include "diff_report.hpp"

#include <fmt/format.h>

#include "dissect/decode/error.hpp"
#include "json_writer.hpp"

namespace synprobe {
namespace {

std::string sentence(const TargetDiff& d) {
  if (!d.before) return fmt::format("{} is only in the after file: {}", d.target, describe(*d.after));
  if (!d.after) return fmt::format("{} is only in the before file: {}", d.target, describe(*d.before));
  if (!d.changed()) return fmt::format("{} is unchanged: {}", d.target, describe(*d.after));
  return fmt::format("{} was {}, is now {}", d.target, describe(*d.before), describe(*d.after));
}

void write_state(JsonWriter& w, const char* key, const std::optional<TargetState>& s) {
  w.key(key);
  if (!s) {
    w.null();
    return;
  }
  w.begin_object();
  w.field("verdict", verdict_name(s->verdict));
  w.field("actor", actor_name(s->actor));
  w.optional_field("hop", s->hop);
  w.key("responder");
  s->responder ? w.value(s->responder->to_string()) : w.null();
  w.optional_field("icmp", s->icmp);
  w.key("confidence").number(s->confidence, 2);
  w.end_object();
}

}  // namespace

std::string render_diff(const std::vector<TargetDiff>& diffs, std::string_view format, const std::string& before_name,
                        const std::string& after_name) {
  std::size_t changed = 0;
  for (const TargetDiff& d : diffs) changed += d.changed();
  if (format == "text") {
    std::string out;
    for (const TargetDiff& d : diffs) out += fmt::format("{} {}\n", d.changed() ? "*" : " ", sentence(d));
    out += fmt::format("{} target{}, {} changed ({} → {})\n", diffs.size(), diffs.size() == 1 ? "" : "s", changed,
                       before_name, after_name);
    return out;
  }
  if (format == "md") {
    std::string out = fmt::format("# What changed — synprobe\n\nBefore: `{}`  \nAfter: `{}`\n\n{} target{}, {} changed.\n\n"
                                  "| target | before | after | |\n|---|---|---|---|\n",
                                  before_name, after_name, diffs.size(), diffs.size() == 1 ? "" : "s", changed);
    for (const TargetDiff& d : diffs)
      out += fmt::format("| {} | {} | {} | {} |\n", d.target, d.before ? describe(*d.before) : "(absent)",
                         d.after ? describe(*d.after) : "(absent)", d.changed() ? "**changed**" : "");
    out += "\n";
    for (const TargetDiff& d : diffs)
      if (d.changed()) out += "- " + sentence(d) + "\n";
    return out;
  }
  if (format == "json") {
    JsonWriter w;
    w.begin_object().field("tool", "synprobe").field("mode", "diff").field("before", before_name).field("after", after_name);
    w.field("changed", static_cast<std::uint64_t>(changed));
    w.key("targets").begin_array();
    for (const TargetDiff& d : diffs) {
      w.begin_object().field("target", d.target).field("changed", d.changed()).field("summary", sentence(d));
      write_state(w, "before", d.before);
      write_state(w, "after", d.after);
      w.end_object();
    }
    w.end_array().end_object();
    return w.str();
  }
  throw Failure(ExitCode::usage, fmt::format("diff: unknown format '{}' (text, md, json)", format));
}

}  // namespace synprobe
