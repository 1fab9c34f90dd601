#include "privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "dissect/decode/error.hpp"

namespace synprobe {
namespace {

// capget/capset through the raw system call: libcap is not needed for two calls.
bool capability_sets(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return ::syscall(SYS_capget, &header, data) == 0;
}

Identity identity_of(const passwd& pw) { return Identity{pw.pw_uid, pw.pw_gid, pw.pw_name}; }

[[noreturn]] void fail(const std::string& step) {
  throw Failure(ExitCode::no_privilege, fmt::format("cannot drop privileges ({}): {}", step, std::strerror(errno)));
}

}  // namespace

bool has_net_raw() {
  __user_cap_data_struct data[2] = {};
  if (!capability_sets(data)) return false;
  return (data[CAP_NET_RAW / 32].effective & (1u << (CAP_NET_RAW % 32))) != 0;
}

std::string missing_privilege_message() {
  return "probing needs CAP_NET_RAW to send raw packets and capture answers: run it with sudo, or "
         "grant it once with 'sudo setcap cap_net_raw,cap_net_admin+ep $(command -v synprobe)'";
}

Identity unprivileged_identity(const std::optional<std::string>& user) {
  if (user) {
    const passwd* pw = ::getpwnam(user->c_str());
    if (!pw) throw Failure(ExitCode::usage, fmt::format("--user {}: no such user", *user));
    return identity_of(*pw);
  }
  if (const char* sudo_uid = std::getenv("SUDO_UID"); sudo_uid && *sudo_uid) {
    char* end = nullptr;
    const unsigned long uid = std::strtoul(sudo_uid, &end, 10);
    if (end && *end == '\0' && uid != 0) {
      if (const passwd* pw = ::getpwuid(static_cast<uid_t>(uid))) return identity_of(*pw);
    }
  }
  const passwd* nobody = ::getpwnam("nobody");
  if (!nobody) throw Failure(ExitCode::no_privilege, "there is no user 'nobody' to run as: use --user");
  return identity_of(*nobody);
}

void drop_privileges(const Identity& who) {
  if (::geteuid() == 0 || ::getuid() == 0) {
    if (::setgroups(0, nullptr) != 0) fail("setgroups");
    if (::setresgid(who.gid, who.gid, who.gid) != 0) fail("setresgid");
    if (::setresuid(who.uid, who.uid, who.uid) != 0) fail("setresuid");
  }
  // A non-root process may still hold file capabilities (setcap): clear every set.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("ambient");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct empty[2] = {};
  if (::syscall(SYS_capset, &header, empty) != 0) fail("capset");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs");

  // Trust, but verify: nothing privileged may remain.
  const CapabilitySets caps = read_capabilities();
  if (caps.effective || caps.permitted || caps.inheritable || caps.ambient)
    throw Failure(ExitCode::no_privilege, "capabilities remain after dropping privileges");
  if (who.uid != 0 && (::getuid() == 0 || ::geteuid() == 0 || ::setuid(0) == 0))
    throw Failure(ExitCode::no_privilege, "root remains after dropping privileges");
}

CapabilitySets read_capabilities() {
  CapabilitySets sets;
  std::ifstream status("/proc/self/status");
  std::string line;
  auto parse = [&](const char* name, unsigned long long& out) {
    if (line.rfind(name, 0) == 0) out = std::stoull(line.substr(std::strlen(name)), nullptr, 16);
  };
  while (std::getline(status, line)) {
    parse("CapEff:", sets.effective);
    parse("CapPrm:", sets.permitted);
    parse("CapInh:", sets.inheritable);
    parse("CapAmb:", sets.ambient);
  }
  return sets;
}

}  // namespace synprobe
