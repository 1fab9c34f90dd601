#include "dissect/infer/syn_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace synprobe {
namespace {

// Timers fire late by scheduling and coarse clocks, never much early: a gap fits an
// expected one within 20 % plus 50 ms.
bool close_to(double gap_s, double expected_s) { return std::abs(gap_s - expected_s) <= 0.2 * expected_s + 0.05; }

bool all_equal(const std::vector<double>& g) {
  return std::all_of(g.begin(), g.end(), [&](double x) { return close_to(x, g.front()); });
}

bool doubling_from(const std::vector<double>& g, std::size_t from) {
  for (std::size_t i = from + 1; i < g.size(); ++i)
    if (!close_to(g[i], 2 * g[i - 1])) return false;
  return true;
}

std::string_view name_doubling(double first_s) {
  if (close_to(first_s, 1.0)) return "doubling from 1 s (RFC 6298's initial timeout: Linux, BSD, macOS, recent Windows)";
  if (close_to(first_s, 3.0)) return "doubling from 3 s (RFC 1122's initial timeout: older Linux and Windows)";
  return "doubling from an unusual initial timeout";
}

}  // namespace

std::optional<SynSchedule> syn_schedule(const Attempt& a) {
  if (a.transmissions.size() < 2) return std::nullopt;
  std::vector<double> gaps;
  for (std::size_t i = 1; i < a.transmissions.size(); ++i)
    gaps.push_back(a.transmissions[i].ts.seconds_since(a.transmissions[i - 1].ts));
  SynSchedule s;
  for (const double g : gaps) s.gaps += fmt::format("{}{:.2f}", s.gaps.empty() ? "" : ", ", g);
  s.gaps += " s";
  // A lone gap fits everything; two or more tell a schedule.
  if (gaps.size() == 1) {
    s.fits = "";
  } else if (all_equal(gaps)) {
    s.fits = "a fixed interval (an application or a scanner retrying, or Linux's linear first retries)";
  } else if (doubling_from(gaps, 0)) {
    s.fits = name_doubling(gaps.front());
  } else {
    // Linux 6.5+ retries at the initial timeout a few times (tcp_syn_linear_timeouts,
    // default 4) before doubling; macOS does the same.
    std::size_t linear = 1;
    while (linear < gaps.size() && close_to(gaps[linear], gaps.front())) ++linear;
    if (linear >= 2 && doubling_from(gaps, linear - 1))
      s.fits = "linear, then doubling (Linux 6.5+ tcp_syn_linear_timeouts, macOS)";
  }
  return s;
}

std::string_view client_stack(const Attempt& a) {
  const TcpOptions& o = a.syn_options;
  const auto kinds_are = [&](std::initializer_list<std::uint8_t> expected) {
    return o.kind_count >= expected.size() && std::equal(expected.begin(), expected.end(), o.kinds.begin());
  };
  const std::uint8_t initial = a.transmissions.empty() ? 0 : infer_initial_ttl(a.transmissions.front().ttl);
  // The options' order is each stack's own (p0f's and nmap's fingerprints use it).
  if (initial == 64 && (kinds_are({2, 4, 8, 1, 3}) || kinds_are({2, 1, 1, 4, 1, 3})))
    return "Linux";
  if (initial == 64 && kinds_are({2, 1, 3, 1, 1, 8, 4})) return "macOS";
  if (initial == 128 && kinds_are({2, 1, 3, 1, 1, 4})) return "Windows";
  return "";
}

}  // namespace synprobe
