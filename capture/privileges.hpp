#pragma once
// Privilege handling for live probing: check for CAP_NET_RAW up front (with a hint on
// how to grant it), and drop everything once the raw socket and the capture are open —
// before a single packet is parsed, as tcpdump -Z does.

#include <optional>
#include <string>
#include <sys/types.h>

namespace synprobe {

// Whether the process can open raw sockets (effective CAP_NET_RAW).
[[nodiscard]] bool has_net_raw();

// The one line that says what is missing and how to grant it.
[[nodiscard]] std::string missing_privilege_message();

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
};

// Who to become: --user if given, else the user who ran sudo (SUDO_UID/SUDO_GID),
// else "nobody". Throws Failure(usage) for an unknown user.
[[nodiscard]] Identity unprivileged_identity(const std::optional<std::string>& user);

// Switches to `who` when running as root, then clears every capability set (effective,
// permitted, inheritable, ambient) and sets no_new_privs. Throws Failure(no_privilege)
// if any step fails or anything privileged is left afterwards.
void drop_privileges(const Identity& who);

// The capability sets of this process as /proc/self/status shows them (hex strings).
struct CapabilitySets {
  unsigned long long effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};
[[nodiscard]] CapabilitySets read_capabilities();

}  // namespace synprobe
