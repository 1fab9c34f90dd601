// libFuzzer target: the IP packet quoted inside an ICMP error, decoded alone.
#include <cstddef>
#include <cstdint>

#include "dissect/decode/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  synprobe::QuotedPacket quote;
  (void)synprobe::decode_quote(synprobe::ByteReader(synprobe::Bytes(data, size)), quote);
  return 0;
}
