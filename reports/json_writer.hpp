#pragma once
// A small streaming JSON writer: correct escaping, commas and nesting, nothing else.

#include <cassert>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synprobe {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  // A key written as a literal (every key of the contract): nothing in it to escape
  // (asserted in debug builds), and its size known to the compiler, so the quotes, the
  // text and ": " go out as a few stores instead of a scan and two calls to memcpy (an
  // attempt has ≈ 60 keys).
  template <std::size_t N>
  JsonWriter& key(const char (&k)[N]) {
    constexpr std::size_t n = N - 1;
#ifndef NDEBUG
    assert(std::string_view(k, n).find_first_of("\"\\") == std::string_view::npos);
#endif
    before_value();
    if (n + 4 > buffer_.size() - used_) grow(n + 4);
    char* p = buffer_.data() + used_;
    p[0] = '"';
    std::memcpy(p + 1, k, n);
    p[n + 1] = '"';
    p[n + 2] = ':';
    p[n + 3] = ' ';
    used_ += pretty_ ? n + 4 : n + 3;
    after_key_ = true;
    return *this;
  }

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(std::uint64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  // Fixed-point with `decimals` places, trailing zeros trimmed.
  JsonWriter& number(double d, int decimals);
  JsonWriter& null();

  // K: a literal (see key above) or anything a std::string_view is made from.
  template <typename K, typename T>
  JsonWriter& field(const K& k, const T& v) {
    key(k);
    return value(v);
  }
  template <typename K, typename T>
  JsonWriter& optional_field(const K& k, const std::optional<T>& v) {
    key(k);
    return v ? value(*v) : null();
  }

  [[nodiscard]] std::string str() const { return std::string(pending()) + "\n"; }
  // The text written so far, in place: a streaming caller writes it out and clear()s it,
  // keeping the nesting state, so the buffer never holds more than one attempt's worth.
  [[nodiscard]] std::string_view pending() const { return {buffer_.data(), used_}; }
  [[nodiscard]] std::size_t pending_size() const { return used_; }
  void clear_pending() { used_ = 0; }

  // Appends raw bytes (inline: the writer makes several such appends per field).
  void put(const char* s, std::size_t n) {
    if (n > buffer_.size() - used_) grow(n);
    std::memcpy(buffer_.data() + used_, s, n);
    used_ += n;
  }
  void put(std::string_view s) { put(s.data(), s.size()); }
  void put(char c) { put(&c, 1); }

 private:
  void before_value();
  JsonWriter& end_container(char close);
  void newline();
  // Appends `s` quoted and escaped, then `after` (the closing quote, and ": " for a key).
  void put_quoted(std::string_view s, std::string_view after);
  void grow(std::size_t n);

  // buffer_[0, used_) is the output; the rest is room to append without reallocating.
  // std::string's own appends check and call out of line each time, which showed in profiles.
  std::string buffer_;
  std::size_t used_ = 0;
  bool pretty_;
  // Per open container: whether it already holds an element.
  std::vector<char> has_element_;  // not vector<bool>: its bit fiddling shows in profiles
  bool after_key_ = false;
};

// JSON string escaping (RFC 8259), shared with the readers' tests.
[[nodiscard]] std::string json_escape(std::string_view s);

}  // namespace synprobe
