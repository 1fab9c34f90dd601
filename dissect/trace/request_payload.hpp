#pragma once
// The requests a live run sends after the handshake (probe --sni / --http-host): fixed,
// small, and documented (docs/probing.md, "Requests"), so that a firewall team can see
// exactly what was asked. Neither carries anything but the name under test.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/decode/request_head.hpp"

namespace synprobe {

struct RequestTrigger {
  RequestProtocol protocol = RequestProtocol::tls;  // tls: --sni, http: --http-host
  std::string name;
};

// Why `name` cannot be sent as a server name or Host ("" when it can): it must be 1 to 253
// printable ASCII characters without spaces, so that it can be neither a second header
// nor anything but one name.
[[nodiscard]] std::string trigger_name_problem(std::string_view name);

// A TLS 1.3 ClientHello (RFC 8446 4.1.2; TLS 1.2 suites offered too) naming `name`
// (RFC 6066 3): fixed random, session id and X25519 key share, 214 bytes plus the name.
[[nodiscard]] std::vector<std::uint8_t> tls_client_hello(std::string_view name);

// "GET / HTTP/1.1" with Host `name`, a User-Agent of synprobe and Connection: close.
[[nodiscard]] std::vector<std::uint8_t> http_get(std::string_view name);

[[nodiscard]] std::vector<std::uint8_t> request_bytes(const RequestTrigger& t);

}  // namespace synprobe
