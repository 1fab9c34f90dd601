#pragma once
// A small streaming JSON writer: correct escaping, commas and nesting, nothing else.

#include <cstdint>
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

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  template <typename T>
  JsonWriter& optional_field(std::string_view k, const std::optional<T>& v) {
    key(k);
    return v ? value(*v) : null();
  }

  [[nodiscard]] std::string str() const { return out_ + "\n"; }
  // The text written so far, in place: a streaming caller writes it out and clear()s it,
  // keeping the nesting state, so the buffer never holds more than one attempt's worth.
  [[nodiscard]] std::string_view pending() const { return out_; }
  [[nodiscard]] std::size_t pending_size() const { return out_.size(); }
  void clear_pending() { out_.clear(); }

 private:
  void before_value();
  JsonWriter& end_container(char close);
  void newline();

  std::string out_;
  bool pretty_;
  // Per open container: whether it already holds an element.
  std::vector<char> has_element_;  // not vector<bool>: its bit fiddling shows in profiles
  bool after_key_ = false;
};

// JSON string escaping (RFC 8259), shared with the readers' tests.
[[nodiscard]] std::string json_escape(std::string_view s);

}  // namespace synprobe
