#include "dissect/trace/request_payload.hpp"

#include <algorithm>

namespace synprobe {
namespace {

void put16(std::vector<std::uint8_t>& v, std::size_t n) {
  v.push_back(static_cast<std::uint8_t>(n >> 8));
  v.push_back(static_cast<std::uint8_t>(n));
}

void extension(std::vector<std::uint8_t>& out, std::uint16_t type, const std::vector<std::uint8_t>& body) {
  put16(out, type);
  put16(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

// A list of 16-bit values, prefixed by its length in bytes (`length_bytes` wide).
std::vector<std::uint8_t> u16_list(std::initializer_list<std::uint16_t> values, int length_bytes = 2) {
  std::vector<std::uint8_t> v;
  if (length_bytes == 2) put16(v, values.size() * 2);
  else v.push_back(static_cast<std::uint8_t>(values.size() * 2));
  for (const std::uint16_t x : values) put16(v, x);
  return v;
}

}  // namespace

std::string trigger_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > max_trigger_length) return "is longer than 253 characters";
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    return "holds a space or a byte that is not printable ASCII";
  return {};
}

std::vector<std::uint8_t> tls_client_hello(std::string_view name) {
  std::vector<std::uint8_t> ext;
  {
    std::vector<std::uint8_t> sni;
    put16(sni, name.size() + 3);
    sni.push_back(0);  // host_name
    put16(sni, name.size());
    sni.insert(sni.end(), name.begin(), name.end());
    extension(ext, 0x0000, sni);
  }
  extension(ext, 0x000a, u16_list({0x001d, 0x0017, 0x0018}));  // supported_groups: x25519, P-256, P-384
  extension(ext, 0x000b, {0x01, 0x00});                          // ec_point_formats: uncompressed
  extension(ext, 0x000d, u16_list({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}));
  extension(ext, 0x002b, {0x04, 0x03, 0x04, 0x03, 0x03});        // supported_versions: 1.3, 1.2
  extension(ext, 0x002d, {0x01, 0x01});                          // psk_key_exchange_modes: psk_dhe_ke
  {
    std::vector<std::uint8_t> share;
    put16(share, 2 + 2 + 32);
    put16(share, 0x001d);
    put16(share, 32);
    share.insert(share.end(), 32, 0x09);  // any 32 bytes are an X25519 public key (RFC 7748 5)
    extension(ext, 0x0033, share);
  }
  std::vector<std::uint8_t> body{0x03, 0x03};
  for (int i = 0; i < 32; ++i) body.push_back(static_cast<std::uint8_t>("synprobe"[i % 8]));  // random
  body.push_back(32);
  body.insert(body.end(), 32, 0x5a);  // legacy session id (RFC 8446 D.4: middlebox compatibility)
  const std::vector<std::uint8_t> suites =
      u16_list({0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x009d, 0x002f, 0x0035});
  body.insert(body.end(), suites.begin(), suites.end());
  body.push_back(1);
  body.push_back(0);  // compression: null
  put16(body, ext.size());
  body.insert(body.end(), ext.begin(), ext.end());
  std::vector<std::uint8_t> out{0x16, 0x03, 0x01};
  put16(out, body.size() + 4);
  out.push_back(0x01);  // ClientHello
  out.push_back(0);
  put16(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<std::uint8_t> http_get(std::string_view name) {
  std::string text = "GET / HTTP/1.1\r\nHost: ";
  text += name;
  text += "\r\nUser-Agent: synprobe\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::vector<std::uint8_t> request_bytes(const RequestTrigger& t) {
  return t.protocol == RequestProtocol::http ? http_get(t.name) : tls_client_hello(t.name);
}

}  // namespace synprobe
