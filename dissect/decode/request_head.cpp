#include "dissect/decode/request_head.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace synprobe {
namespace {

// Names come from the wire: only what a DNS name or a Host header may hold is kept, each
// other byte shown as '?', so that no report is fed control characters.
std::string printable(Bytes bytes) {
  std::string out;
  const std::size_t n = std::min(bytes.size(), max_trigger_length);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = bytes[i];
    out.push_back(c >= 0x21 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

constexpr std::uint8_t tls_handshake = 0x16;
constexpr std::uint8_t tls_client_hello = 0x01;
constexpr std::uint16_t tls_ext_server_name = 0x0000;
constexpr std::uint8_t sni_host_name = 0x00;

// A ClientHello: record header (5 bytes), handshake header (4), version (2), random (32),
// session id, cipher suites, compression methods, then the extensions. The ClientHello is
// read from the first record only; a name past the bytes given asks for more.
RequestHead read_client_hello(ByteReader b) {
  RequestHead head{RequestProtocol::tls, std::nullopt, false};
  std::size_t at = 5 + 4 + 2 + 32;
  const auto skip = [&](std::size_t length_bytes) {
    if (!b.has(at, length_bytes)) return false;
    const std::size_t n = length_bytes == 1 ? b.at(at) : b.load_be16(at);
    at += length_bytes + n;
    return true;
  };
  if (!skip(1) || !skip(2) || !skip(1) || !b.has(at, 2)) {
    head.needs_more = true;
    return head;
  }
  const std::size_t extensions_end = at + 2 + b.load_be16(at);
  at += 2;
  while (at + 4 <= extensions_end) {
    if (!b.has(at, 4)) {
      head.needs_more = true;
      return head;
    }
    const std::uint16_t type = b.load_be16(at);
    const std::size_t length = b.load_be16(at + 2);
    const std::size_t body = at + 4;
    if (type == tls_ext_server_name) {
      // server_name_list: length (2), then entries of type (1), length (2), name.
      if (!b.has(body, 5)) {
        head.needs_more = true;
        return head;
      }
      if (b.at(body + 2) != sni_host_name) return head;
      const std::size_t name_length = b.load_be16(body + 3);
      const ByteReader name = b.slice(body + 5, name_length);
      if (name.size() != name_length || name_length == 0) {
        head.needs_more = name_length != 0;
        return head;
      }
      head.name = printable(name.bytes());
      return head;
    }
    at = body + length;
  }
  return head;  // every extension walked: the ClientHello names no server
}

bool starts_with_token(ByteReader b, std::string_view token) {
  if (!b.has(0, token.size())) return false;
  for (std::size_t i = 0; i < token.size(); ++i)
    if (b.at(i) != static_cast<std::uint8_t>(token[i])) return false;
  return true;
}

bool is_http_request(ByteReader b) {
  static constexpr std::array<std::string_view, 9> methods{"GET ",    "POST ",  "HEAD ",    "PUT ",  "DELETE ",
                                                           "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  return std::any_of(methods.begin(), methods.end(), [&](std::string_view m) { return starts_with_token(b, m); });
}

bool equals_ignoring_case(ByteReader b, std::size_t at, std::string_view lower) {
  if (!b.has(at, lower.size())) return false;
  for (std::size_t i = 0; i < lower.size(); ++i)
    if (std::tolower(b.at(at + i)) != lower[i]) return false;
  return true;
}

// The Host header of the request's header block, up to its empty line.
RequestHead read_http_request(ByteReader b) {
  RequestHead head{RequestProtocol::http, std::nullopt, false};
  std::size_t line = 0;
  while (true) {
    std::size_t end = line;
    while (end < b.size() && b.at(end) != '\n') ++end;
    if (end == b.size()) {
      head.needs_more = true;  // the header block goes on past these bytes
      return head;
    }
    const std::size_t content_end = end > line && b.at(end - 1) == '\r' ? end - 1 : end;
    if (content_end == line) return head;  // the empty line: no Host header
    if (line > 0 && equals_ignoring_case(b, line, "host:")) {
      std::size_t v = line + 5;
      std::size_t v_end = content_end;
      while (v < v_end && (b.at(v) == ' ' || b.at(v) == '\t')) ++v;
      while (v_end > v && (b.at(v_end - 1) == ' ' || b.at(v_end - 1) == '\t')) --v_end;
      head.name = printable(b.slice(v, v_end - v).bytes());
      return head;
    }
    line = end + 1;
  }
}

}  // namespace

std::string_view request_protocol_name(RequestProtocol p) {
  switch (p) {
    case RequestProtocol::tls: return "tls";
    case RequestProtocol::http: return "http";
    case RequestProtocol::unknown: break;
  }
  return "unknown";
}

RequestHead read_request_head(Bytes bytes) {
  const ByteReader b{bytes};
  if (b.size() >= 1 && b.at(0) == tls_handshake) {
    if (!b.has(0, 6)) return RequestHead{RequestProtocol::tls, std::nullopt, true};
    if (b.at(1) != 3 || b.at(5) != tls_client_hello) return RequestHead{};
    return read_client_hello(b);
  }
  if (is_http_request(b)) return read_http_request(b);
  // Too short to tell a method from other bytes: perhaps the start of one.
  if (b.size() < 8 && !b.bytes().empty() && std::isupper(b.at(0))) return RequestHead{RequestProtocol::unknown, std::nullopt, true};
  return RequestHead{};
}

}  // namespace synprobe
