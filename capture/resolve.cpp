#include "resolve.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

#include "dissect/decode/error.hpp"

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

namespace {

// What needs no resolver: a literal address, "localhost", or a mistyped address (refused).
// None for a name.
std::optional<std::vector<IpAddress>> resolve_without_resolver(const std::string& host, FamilyChoice family) {
  if (const auto literal = IpAddress::parse(host)) {
    if (!wanted(*literal, family))
      throw Failure(ExitCode::usage, fmt::format("{} is not an IPv{} address", host, family == FamilyChoice::v4_only ? 4 : 6));
    return std::vector<IpAddress>{*literal};
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
  return std::nullopt;
}

// A name, through glibc's resolver (/etc/hosts, DNS).
std::vector<IpAddress> getaddrinfo_addresses(const std::string& host, FamilyChoice family) {
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

}  // namespace

std::vector<IpAddress> resolve_host(const std::string& host, FamilyChoice family) {
  if (auto local = resolve_without_resolver(host, family)) return std::move(*local);
  return getaddrinfo_addresses(host, family);
}

namespace {

// What the resolving child writes to its parent: one status byte (0, or the ExitCode of
// its Failure), then either the addresses (a family byte, 4 or 6, and 16 address bytes
// each) or the Failure's message.
constexpr std::size_t address_record = 17;

std::string answer_of(const std::vector<IpAddress>& addresses) {
  std::string out(1, '\0');
  for (const IpAddress& a : addresses) {
    out += static_cast<char>(a.is_v4() ? 4 : 6);
    out.append(reinterpret_cast<const char*>(a.bytes().data()), 16);
  }
  return out;
}

std::string answer_of(const Failure& f) { return static_cast<char>(f.code()) + std::string(f.what()); }

void write_all(int fd, const std::string& bytes) {
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string in;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return in;
    in.append(chunk, static_cast<std::size_t>(n));
  }
}

// The child: become `who`, resolve, answer, and leave without running the parent's
// exit handlers or flushing its buffers (_exit).
[[noreturn]] void resolve_in_child(int fd, const std::string& host, FamilyChoice family, const Identity& who) {
  // Nothing of the parent's but the pipe and stdio: a privileged socket opened before
  // (none is, today) must not reach the resolver.
  if (fd > 3) ::close_range(3, static_cast<unsigned>(fd) - 1, 0);
  ::close_range(static_cast<unsigned>(fd) + 1, ~0u, 0);
  std::string answer;
  try {
    drop_privileges(who);
    answer = answer_of(getaddrinfo_addresses(host, family));
  } catch (const Failure& f) {
    answer = answer_of(f);
  } catch (const std::exception& e) {
    answer = answer_of(Failure(ExitCode::internal, e.what()));
  } catch (...) {
    answer = answer_of(Failure(ExitCode::internal, "resolving " + host + ": unknown error"));
  }
  write_all(fd, answer);
  ::_exit(0);
}

// The child's answer, checked whole: a child that died (a signal, or an exit other than
// its own after answering) or an answer cut short is the resolver's failure, never an
// empty or partial list of addresses.
std::vector<IpAddress> addresses_from(const std::string& answer, int status, const std::string& host) {
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || answer.empty())
    throw Failure(ExitCode::internal,
                  WIFSIGNALED(status)
                      ? fmt::format("resolving {}: the resolver process died (signal {})", host, WTERMSIG(status))
                      : fmt::format("resolving {}: the resolver process died", host));
  if (answer[0] != 0) throw Failure(static_cast<ExitCode>(static_cast<unsigned char>(answer[0])), answer.substr(1));
  const bool whole = answer.size() > 1 && (answer.size() - 1) % address_record == 0;
  std::vector<IpAddress> addresses;
  for (std::size_t at = 1; whole && at < answer.size(); at += address_record) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(answer.data() + at + 1);
    if (answer[at] != 4 && answer[at] != 6) break;
    addresses.push_back(answer[at] == 4 ? IpAddress::v4(bytes) : IpAddress::v6(bytes));
  }
  if (!whole || addresses.size() != (answer.size() - 1) / address_record)
    throw Failure(ExitCode::internal, fmt::format("resolving {}: the resolver process answered garbled", host));
  return addresses;
}

}  // namespace

std::vector<IpAddress> resolve_host_as(const std::string& host, FamilyChoice family, const Identity& who) {
  if (auto local = resolve_without_resolver(host, family)) return std::move(*local);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw Failure(ExitCode::internal, fmt::format("resolving {}: pipe: {}", host, std::strerror(errno)));
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw Failure(ExitCode::internal, fmt::format("resolving {}: fork: {}", host, std::strerror(errno)));
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    resolve_in_child(pipe_fds[1], host, family, who);
  }
  ::close(pipe_fds[1]);
  const std::string answer = read_all(pipe_fds[0]);
  ::close(pipe_fds[0]);
  // If SIGCHLD is ignored the child is reaped already (ECHILD): `status` stays 0 and the
  // answer, checked whole, decides.
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return addresses_from(answer, status, host);
}

}  // namespace synprobe
