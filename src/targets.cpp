#include "targets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "dissect/decode/error.hpp"
#include "dissect/decode/ip_address.hpp"

namespace synprobe {
namespace {

// A port list may name at most this many ports: beyond it the send cap refuses anyway.
constexpr std::size_t max_ports = 65535;

std::uint16_t parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < 1 || value > 65535)
    throw Failure(ExitCode::usage, fmt::format("bad port '{}' in '{}': ports are 1-65535", text, whole));
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::vector<std::uint16_t> parse_port_list(std::string_view text) {
  std::vector<std::uint16_t> ports;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, comma - start);
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      ports.push_back(parse_port(item, text));
    } else {
      const std::uint16_t low = parse_port(item.substr(0, dash), text);
      const std::uint16_t high = parse_port(item.substr(dash + 1), text);
      if (low > high) throw Failure(ExitCode::usage, fmt::format("bad port range '{}': {} > {}", item, low, high));
      for (unsigned p = low; p <= high; ++p) ports.push_back(static_cast<std::uint16_t>(p));
    }
    if (ports.size() > max_ports) throw Failure(ExitCode::usage, "too many ports");
    start = comma + 1;
  }
  // Keep the order given, without repeats (a bitmap: `-p 1-65535` must not be quadratic).
  std::vector<bool> seen(65536);
  std::vector<std::uint16_t> unique;
  for (const std::uint16_t p : ports)
    if (!seen[p]) {
      seen[p] = true;
      unique.push_back(p);
    }
  return unique;
}

TargetSpec parse_target(std::string_view text) {
  if (text.empty()) throw Failure(ExitCode::usage, "empty target");
  TargetSpec spec;
  if (text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos)
      throw Failure(ExitCode::usage, fmt::format("bad target '{}': missing ']'", text));
    spec.host = std::string(text.substr(1, close - 1));
    if (spec.host.empty()) throw Failure(ExitCode::usage, fmt::format("bad target '{}': no host", text));
    // Brackets say "an IPv6 address": never hand what is inside them to a resolver.
    const std::optional<IpAddress> literal = IpAddress::parse(std::string_view(spec.host).substr(0, spec.host.find('%')));
    if (!literal || literal->is_v4())
      throw Failure(ExitCode::usage, fmt::format("bad target '{}': '{}' is not an IPv6 address", text, spec.host));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || rest.size() == 1)
        throw Failure(ExitCode::usage, fmt::format("bad target '{}': expected [ADDRESS]:PORT", text));
      spec.ports = parse_port_list(rest.substr(1));
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    spec.host = std::string(text);  // a bare IPv6 address: its port comes from -p
  } else if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    if (colon + 1 == text.size())
      throw Failure(ExitCode::usage, fmt::format("bad target '{}': expected HOST:PORT", text));
    spec.host = std::string(text.substr(0, colon));
    spec.ports = parse_port_list(text.substr(colon + 1));
  } else {
    spec.host = std::string(text);
  }
  if (spec.host.empty()) throw Failure(ExitCode::usage, fmt::format("bad target '{}': no host", text));
  return spec;
}

}  // namespace synprobe
