#include "json_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// How many bytes at the start of `s` need no escaping: 16 at a time where SSE2 is there
// (every x86-64), else 8 at a time, then byte by byte. The JSON of an attempt is mostly
// strings (keys, addresses, evidence sentences): this scan ran over all of them.
#if defined(__SSE2__)
// A mask of the bytes among 16 at `p` that need escaping.
inline int escape_mask16(const char* p) {
  const __m128i below = _mm_set1_epi8(0x1f), quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // unsigned v <= 0x1f  <=>  max(v, 0x1f) == 0x1f
  const __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, below), below),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
  return _mm_movemask_epi8(hit);
}
#endif

std::size_t clean_prefix(std::string_view s) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16)
    if (const int mask = escape_mask16(s.data() + i); mask != 0)
      return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
#endif
  for (std::uint64_t word; i + 8 <= s.size(); i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    if (word_needs_escape(word)) break;
  }
  while (i < s.size() && !needs_escape(s[i])) ++i;
  return i;
}

// Appends `s` escaped to `out` (a std::string or a JsonWriter, both with append-like
// calls). Most strings need no escaping: they are copied in one piece.
struct StringOut {
  std::string& s;
  void put(const char* p, std::size_t n) { s.append(p, n); }
  void put(std::string_view v) { s.append(v); }
  void put(char c) { s += c; }
};

template <typename Out>
void append_escaped(Out& out, std::string_view s) {
  const std::size_t clean = clean_prefix(s);
  out.put(s.data(), clean);
  for (const char c : s.substr(clean)) {
    switch (c) {
      case '"': out.put("\\\""); break;
      case '\\': out.put("\\\\"); break;
      case '\n': out.put("\\n"); break;
      case '\r': out.put("\\r"); break;
      case '\t': out.put("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out.put(fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c))));
        } else {
          out.put(c);
        }
    }
  }
}

template <typename Int>
void append_integer(JsonWriter& out, Int n) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.put(digits, static_cast<std::size_t>(end - digits));
}

}  // namespace

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  StringOut sink{out};
  append_escaped(sink, s);
  return out;
}

void JsonWriter::grow(std::size_t n) {
  buffer_.resize(std::max<std::size_t>(buffer_.size() * 2, used_ + n + 4096));
}

void JsonWriter::newline() {
  if (!pretty_) return;
  // A newline and the indentation in one append: this runs once per field.
  static constexpr std::string_view line_start =
      "\n                                                                ";  // 64 spaces
  const std::size_t indent = has_element_.size() * 2;
  if (indent < line_start.size()) {
    // A fixed-size copy (a few vector stores, no call), of which indent + 1 bytes count.
    if (line_start.size() > buffer_.size() - used_) grow(line_start.size());
    std::memcpy(buffer_.data() + used_, line_start.data(), line_start.size());
    used_ += indent + 1;
  } else {
    put('\n');
    for (std::size_t i = 0; i < indent; ++i) put(' ');
  }
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_element_.empty()) {
    if (has_element_.back()) put(',');
    has_element_.back() = true;
    newline();
  }
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  put('{');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_container(char close) {
  const bool had = has_element_.back();
  has_element_.pop_back();
  if (had) newline();
  put(close);
  return *this;
}

JsonWriter& JsonWriter::end_object() { return end_container('}'); }

JsonWriter& JsonWriter::begin_array() {
  before_value();
  put('[');
  has_element_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_array() { return end_container(']'); }

namespace {

// Keys and most values are short names with nothing to escape: one scan, then one copy
// with the quotes around it.
// Short ones (most keys) end in a branchless byte loop.
inline bool is_clean(std::string_view s) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16)
    if (escape_mask16(s.data() + i) != 0) return false;
#endif
  for (std::uint64_t word; i + 8 <= s.size(); i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    if (word_needs_escape(word)) return false;
  }
  bool escape = false;
  for (; i < s.size(); ++i) escape |= needs_escape(s[i]);
  return !escape;
}

}  // namespace

void JsonWriter::put_quoted(std::string_view s, std::string_view after) {
  if (!is_clean(s)) {
    put('"');
    append_escaped(*this, s);
    put(after);
    return;
  }
  const std::size_t n = s.size() + 1 + after.size();
  if (n > buffer_.size() - used_) grow(n);
  char* p = buffer_.data() + used_;
  *p = '"';
  std::memcpy(p + 1, s.data(), s.size());
  std::memcpy(p + 1 + s.size(), after.data(), after.size());
  used_ += n;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  before_value();
  using namespace std::string_view_literals;
  put_quoted(k, pretty_ ? "\": "sv : "\":"sv);
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  using namespace std::string_view_literals;
  put_quoted(s, "\""sv);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  put(b ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t n) {
  before_value();
  append_integer(*this, n);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t n) {
  before_value();
  append_integer(*this, n);
  return *this;
}

namespace {

// Fixed-point by integer arithmetic when that provably rounds as fmt's "{:.Nf}" would (the
// exact binary value, correctly rounded): the scaled value is far from a rounding tie, so
// the multiplication's error (below 2^-12 here) cannot change the result. fmt costs
// ≈ 1 000 instructions a number; there are several per attempt.
bool append_fixed_fast(JsonWriter& out, double d, int decimals) {
  static constexpr std::array<double, 7> scales{1, 10, 100, 1e3, 1e4, 1e5, 1e6};
  if (decimals < 0 || decimals >= static_cast<int>(scales.size())) return false;
  const double scaled = std::fabs(d) * scales[static_cast<std::size_t>(decimals)];
  if (!(scaled < 0x1p40)) return false;
  const double whole = std::floor(scaled);
  if (std::fabs(scaled - whole - 0.5) < 1e-3) return false;  // near a tie: let fmt decide
  auto n = static_cast<std::uint64_t>(whole) + (scaled - whole > 0.5 ? 1 : 0);
  const auto scale = static_cast<std::uint64_t>(scales[static_cast<std::size_t>(decimals)]);
  if (n != 0 && d < 0) out.put('-');  // "-0" prints as "0", as number() wants
  append_integer(out, n / scale);
  std::uint64_t fraction = n % scale;
  if (fraction == 0) return true;
  int digits = decimals;
  while (fraction % 10 == 0) {  // trailing zeros trimmed
    fraction /= 10;
    --digits;
  }
  char text[8];
  for (int i = digits - 1; i >= 0; --i, fraction /= 10) text[i] = static_cast<char>('0' + fraction % 10);
  out.put('.');
  out.put(text, static_cast<std::size_t>(digits));
  return true;
}

}  // namespace

JsonWriter& JsonWriter::number(double d, int decimals) {
  if (!std::isfinite(d)) return null();
  before_value();
  if (append_fixed_fast(*this, d, decimals)) return *this;
  fmt::basic_memory_buffer<char, 64> buffer;
  fmt::format_to(std::back_inserter(buffer), "{:.{}f}", d, decimals);
  std::string_view text(buffer.data(), buffer.size());
  if (text.find('.') != std::string_view::npos) {
    while (text.back() == '0') text.remove_suffix(1);
    if (text.back() == '.') text.remove_suffix(1);
  }
  if (text == "-0") text = "0";
  put(text);
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  put("null");
  return *this;
}

}  // namespace synprobe
