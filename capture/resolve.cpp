#include "resolve.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string_view>

#include "dissect/error.hpp"

namespace synprobe {
namespace {

bool is_localhost(std::string host) {
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!host.empty() && host.back() == '.') host.pop_back();
  return host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"));
}

bool wanted(const IpAddress& a, FamilyChoice f) {
  return f == FamilyChoice::any || (f == FamilyChoice::v4_only) == a.is_v4();
}

// getaddrinfo() takes inet_aton()'s legacy forms: "10.1.5" is 10.1.0.5, "10" is 0.0.0.10,
// "0x7f.1" is 127.0.0.1. A name whose last label is a number is no DNS name (RFC 3696
// section 2), so such text is a mistyped address, refused rather than probed.
bool is_legacy_numeric(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  const bool hex = last.size() > 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X');
  if (hex) last.remove_prefix(2);
  return !last.empty() && std::all_of(last.begin(), last.end(), [&](char c) {
    return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

std::vector<IpAddress> resolve_host(const std::string& host, FamilyChoice family) {
  if (const auto literal = IpAddress::parse(host)) {
    if (!wanted(*literal, family))
      throw Failure(ExitCode::usage, fmt::format("{} is not an IPv{} address", host, family == FamilyChoice::v4_only ? 4 : 6));
    return {*literal};
  }
  // RFC 6761 6.3: "localhost" is always the loopback, and a development server may listen
  // on either family, so probe both (as browsers try both), whatever /etc/hosts says.
  if (is_localhost(host)) {
    std::vector<IpAddress> loopback;
    const std::uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (family != FamilyChoice::v6_only) loopback.push_back(IpAddress::v4(0x7f000001u));
    if (family != FamilyChoice::v4_only) loopback.push_back(IpAddress::v6(v6));
    return loopback;
  }
  if (is_legacy_numeric(host))
    throw Failure(ExitCode::usage, fmt::format("{}: not an IP address (IPv4 is four numbers, a.b.c.d)", host));
  addrinfo hints{};
  hints.ai_family = family == FamilyChoice::v4_only ? AF_INET : family == FamilyChoice::v6_only ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (error != 0)
    throw Failure(error == EAI_AGAIN ? ExitCode::network : ExitCode::usage,
                  fmt::format("cannot resolve {}: {}", host, gai_strerror(error)));
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  std::vector<IpAddress> addresses;
  for (const addrinfo* a = found; a; a = a->ai_next) {
    IpAddress address;
    if (a->ai_family == AF_INET) {
      address = IpAddress::v4(reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr));
    } else if (a->ai_family == AF_INET6) {
      address = IpAddress::v6(reinterpret_cast<const std::uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr));
    } else {
      continue;
    }
    if (wanted(address, family) && std::find(addresses.begin(), addresses.end(), address) == addresses.end())
      addresses.push_back(address);
  }
  if (addresses.empty()) throw Failure(ExitCode::usage, fmt::format("{} has no address of the family asked for", host));
  return addresses;
}

}  // namespace synprobe
