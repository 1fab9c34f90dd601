// Privilege handling. drop_privileges() is only ever called in a forked child: the test
// runner itself keeps whatever it runs with.
#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "capture/privileges.hpp"
#include "dissect/decode/error.hpp"

using namespace synprobe;

namespace {

// Sets or unsets an environment variable for the scope, and restores it after.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Our own reading of one "CapXxx:\t<hex>" line of /proc/self/status.
unsigned long long cap_line(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size() + 1, field + ":") != 0) continue;
    const std::size_t start = line.find_first_not_of(" \t", field.size() + 1);
    unsigned long long value = 0;
    for (std::size_t i = start; i < line.size(); ++i) {
      const char c = line[i];
      const unsigned digit = c >= 'a' ? static_cast<unsigned>(c - 'a' + 10) : static_cast<unsigned>(c - '0');
      value = value * 16 + digit;
    }
    return value;
  }
  throw std::runtime_error("no " + field + " line");
}

}  // namespace

TEST_CASE("privileges: read_capabilities matches /proc/self/status", "[privileges]") {
  const CapabilitySets caps = read_capabilities();
  CHECK(caps.effective == cap_line("CapEff"));
  CHECK(caps.permitted == cap_line("CapPrm"));
  CHECK(caps.inheritable == cap_line("CapInh"));
  CHECK(caps.ambient == cap_line("CapAmb"));
  // CAP_NET_RAW is bit 13 of the effective set.
  CHECK(has_net_raw() == ((caps.effective >> 13) & 1ULL));
}

TEST_CASE("privileges: whom to become", "[privileges]") {
  const passwd* nobody = ::getpwnam("nobody");
  if (!nobody) {
    WARN("no user 'nobody' on this system: skipped");
    SUCCEED();
    return;
  }
  const uid_t nobody_uid = nobody->pw_uid;
  const gid_t nobody_gid = nobody->pw_gid;

  SECTION("without SUDO_UID: nobody") {
    EnvGuard no_sudo("SUDO_UID", nullptr);
    const Identity who = unprivileged_identity(std::nullopt);
    CHECK(who.user == "nobody");
    CHECK(who.uid == nobody_uid);
    CHECK(who.gid == nobody_gid);
  }
  SECTION("SUDO_UID=0 is not an unprivileged user: nobody") {
    EnvGuard sudo("SUDO_UID", "0");
    CHECK(unprivileged_identity(std::nullopt).user == "nobody");
  }
  SECTION("SUDO_UID that is not a number: nobody") {
    EnvGuard sudo("SUDO_UID", "12abc");
    CHECK(unprivileged_identity(std::nullopt).user == "nobody");
  }
  SECTION("SUDO_UID names the user who ran sudo") {
    // Any existing non-root account other than nobody, found by uid.
    const passwd* other = nullptr;
    ::setpwent();
    while (const passwd* pw = ::getpwent()) {
      if (pw->pw_uid != 0 && pw->pw_uid != nobody_uid) {
        other = pw;
        break;
      }
    }
    if (!other) {
      ::endpwent();
      SUCCEED("no second account to try");
      return;
    }
    const uid_t uid = other->pw_uid;
    const std::string name = other->pw_name;
    ::endpwent();
    EnvGuard sudo("SUDO_UID", std::to_string(uid).c_str());
    const Identity who = unprivileged_identity(std::nullopt);
    CHECK(who.uid == uid);
    CHECK(who.user == name);
  }
  SECTION("--user nobody") {
    EnvGuard sudo("SUDO_UID", "1");
    const Identity who = unprivileged_identity(std::string("nobody"));
    CHECK(who.uid == nobody_uid);
    CHECK(who.user == "nobody");
  }
  SECTION("--user of an unknown name is a usage error") {
    try {
      (void)unprivileged_identity(std::string("no-such-user-synprobe-test"));
      FAIL("no Failure");
    } catch (const Failure& f) {
      CHECK(f.code() == ExitCode::usage);
      CHECK_THAT(std::string(f.what()), Catch::Contains("no-such-user-synprobe-test"));
    }
  }
}

TEST_CASE("privileges: drop_privileges in a child leaves nothing privileged", "[privileges][root]") {
  if (::geteuid() != 0) {
    WARN("not running as root: drop_privileges is not tried");
    SUCCEED();
    return;
  }
  const passwd* nobody = ::getpwnam("nobody");
  if (!nobody) {
    SUCCEED("no user 'nobody'");
    return;
  }
  const Identity who{nobody->pw_uid, nobody->pw_gid, "nobody"};
  // Exit codes of the child: 0 all good; 10+n the n-th check failed; 99 an exception.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 0;
    try {
      drop_privileges(who);
      const CapabilitySets caps = read_capabilities();
      if (::getuid() != who.uid || ::geteuid() != who.uid) code = 10;
      else if (::getgid() != who.gid || ::getegid() != who.gid) code = 11;
      else if (caps.effective || caps.permitted || caps.inheritable || caps.ambient) code = 12;
      else if (has_net_raw()) code = 13;
      else if (::setuid(0) == 0) code = 14;
      else if (::getgroups(0, nullptr) != 0) code = 15;
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The parent is untouched.
  CHECK(::geteuid() == 0);
}
