#include "json_writer.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace synprobe {
namespace {

// A table rather than three compares: the scan runs over every string of the output.
constexpr std::array<bool, 256> escaped_bytes = [] {
  std::array<bool, 256> t{};
  for (std::size_t c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

bool needs_escape(char c) { return escaped_bytes[static_cast<unsigned char>(c)]; }

// Whether any of 8 bytes is below 0x20, '"' or '\\' (the "has less than" bit trick: exact as
// a yes/no). Evidence sentences are long; most of their words pass 8 bytes at a time.
bool word_needs_escape(std::uint64_t x) {
  constexpr std::uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
  auto has_below = [&](std::uint64_t v, std::uint64_t n) { return (v - ones * n) & ~v & high; };
  return (has_below(x, 0x20) | has_below(x ^ (ones * '"'), 1) | has_below(x ^ (ones * '\\'), 1)) != 0;
}

// Appends `s` escaped. Most strings need no escaping: they are copied in one piece.
void append_escaped(std::string& out, std::string_view s) {
  std::size_t clean = 0;
  for (std::uint64_t word; clean + 8 <= s.size(); clean += 8) {
    std::memcpy(&word, s.data() + clean, 8);
    if (word_needs_escape(word)) break;
  }
  while (clean < s.size() && !needs_escape(s[clean])) ++clean;
  out.append(s.data(), clean);
  for (const char c : s.substr(clean)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
}

template <typename Int>
void append_integer(std::string& out, Int n) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

}  // namespace

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_escaped(out, s);
  return out;
}

void JsonWriter::newline() {
  if (!pretty_) return;
  // A newline and the indentation in one append: this runs once per field.
  static constexpr std::string_view line_start =
      "\n                                                                ";  // 64 spaces
  const std::size_t indent = has_element_.size() * 2;
  if (indent < line_start.size()) {
    out_.append(line_start.data(), indent + 1);
  } else {
    out_ += '\n';
    out_.append(indent, ' ');
  }
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) out_ += ',';
    has_element_.back() = true;
    newline();
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_container(char close) {
  const bool had = has_element_.back();
  has_element_.pop_back();
  if (had) newline();
  out_ += close;
  return *this;
}

JsonWriter& JsonWriter::end_object() { return end_container('}'); }

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_array() { return end_container(']'); }

JsonWriter& JsonWriter::key(std::string_view k) {
  before_value();
  out_ += '"';
  append_escaped(out_, k);
  out_ += pretty_ ? "\": " : "\":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  out_ += '"';
  append_escaped(out_, s);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  before_value();
  append_integer(out_, n);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n) {
  before_value();
  append_integer(out_, n);
  return *this;
}

JsonWriter& JsonWriter::number(double d, int decimals) {
  if (!std::isfinite(d)) return null();
  before_value();
  fmt::basic_memory_buffer<char, 64> buffer;
  fmt::format_to(std::back_inserter(buffer), "{:.{}f}", d, decimals);
  std::string_view text(buffer.data(), buffer.size());
  if (text.find('.') != std::string_view::npos) {
    while (text.back() == '0') text.remove_suffix(1);
    if (text.back() == '.') text.remove_suffix(1);
  }
  if (text == "-0") text = "0";
  out_ += text;
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

}  // namespace synprobe
