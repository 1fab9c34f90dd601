#pragma once
// What a client's first bytes after the handshake ask for: the server name of a TLS
// ClientHello (RFC 8446 4.1.2, RFC 6066 3) or the Host of an HTTP/1.x request (RFC 9112
// 3.2). This is what an application firewall matches, so it is the trigger a request-stage
// refusal is reported with.

#include <optional>
#include <string>
#include <string_view>

#include "dissect/decode/byte_reader.hpp"

namespace synprobe {

enum class RequestProtocol : std::uint8_t { unknown, tls, http };
[[nodiscard]] std::string_view request_protocol_name(RequestProtocol p);  // "tls", "http", "unknown"

struct RequestHead {
  RequestProtocol protocol = RequestProtocol::unknown;
  std::optional<std::string> name;  // the server name or Host, printable ASCII only
  // The bytes end before the answer could be read (a ClientHello longer than one segment,
  // a request cut by the capture's snap length): more bytes of the stream may tell.
  bool needs_more = false;
};

// Reads the start of the client's byte stream (in order, from its first byte).
[[nodiscard]] RequestHead read_request_head(Bytes head);

// The longest name kept: a DNS name has at most 253 characters.
inline constexpr std::size_t max_trigger_length = 253;

}  // namespace synprobe
