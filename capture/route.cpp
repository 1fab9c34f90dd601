#include "route.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "dissect/decode/error.hpp"

// The kernel's rtnetlink macros (NLMSG_DATA, RTA_NEXT…) are C casts; allow them here only.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"

namespace synprobe {
namespace {

struct Message {
  nlmsghdr header;
  rtmsg route;
  std::array<char, 256> attributes;
};

void add_attribute(Message& m, unsigned short type, const void* data, std::size_t length) {
  auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&m) + NLMSG_ALIGN(m.header.nlmsg_len));
  attribute->rta_type = type;
  attribute->rta_len = static_cast<unsigned short>(RTA_LENGTH(length));
  std::memcpy(RTA_DATA(attribute), data, length);
  m.header.nlmsg_len = static_cast<__u32>(NLMSG_ALIGN(m.header.nlmsg_len) + RTA_ALIGN(attribute->rta_len));
}

IpAddress address_from(const rtattr* attribute, bool v6) {
  const auto* bytes = static_cast<const std::uint8_t*>(RTA_DATA(attribute));
  return v6 ? IpAddress::v6(bytes) : IpAddress::v4(bytes);
}

class NetlinkSocket {
 public:
  NetlinkSocket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    if (fd_ < 0)
      throw Failure(ExitCode::network, fmt::format("cannot ask the kernel for routes: {}", std::strerror(errno)));
  }
  ~NetlinkSocket() { ::close(fd_); }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Route lookup_route(const IpAddress& destination, const std::optional<IpAddress>& source) {
  const bool v6 = !destination.is_v4();
  Message request{};
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  request.header.nlmsg_type = RTM_GETROUTE;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.header.nlmsg_seq = 1;
  request.route.rtm_family = static_cast<unsigned char>(v6 ? AF_INET6 : AF_INET);
  request.route.rtm_dst_len = static_cast<unsigned char>(v6 ? 128 : 32);
  add_attribute(request, RTA_DST, destination.bytes().data(), destination.length());
  if (source) {
    request.route.rtm_src_len = static_cast<unsigned char>(v6 ? 128 : 32);
    add_attribute(request, RTA_SRC, source->bytes().data(), source->length());
  }

  NetlinkSocket socket;
  if (::send(socket.fd(), &request, request.header.nlmsg_len, 0) < 0)
    throw Failure(ExitCode::network, fmt::format("route lookup failed: {}", std::strerror(errno)));
  alignas(nlmsghdr) std::array<char, 8192> reply{};
  const ssize_t got = ::recv(socket.fd(), reply.data(), reply.size(), 0);
  if (got < 0) throw Failure(ExitCode::network, fmt::format("route lookup failed: {}", std::strerror(errno)));

  auto* header = reinterpret_cast<nlmsghdr*>(reply.data());
  auto remaining = static_cast<unsigned int>(got);
  for (; NLMSG_OK(header, remaining); header = NLMSG_NEXT(header, remaining)) {
    if (header->nlmsg_type == NLMSG_ERROR) {
      const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
      throw Failure(ExitCode::network, fmt::format("no route to {}: {}", destination.to_string(),
                                                   std::strerror(-error->error)));
    }
    if (header->nlmsg_type != RTM_NEWROUTE) continue;
    Route route;
    auto* message = static_cast<rtmsg*>(NLMSG_DATA(header));
    auto attributes_length = static_cast<unsigned int>(RTM_PAYLOAD(header));
    bool have_source = false;
    for (auto* a = RTM_RTA(message); RTA_OK(a, attributes_length); a = RTA_NEXT(a, attributes_length)) {
      switch (a->rta_type) {
        case RTA_OIF: route.interface_index = *static_cast<const int*>(RTA_DATA(a)); break;
        case RTA_PREFSRC: route.source = address_from(a, v6); have_source = true; break;
        case RTA_GATEWAY: route.next_hop = address_from(a, v6); break;
        default: break;
      }
    }
    if (message->rtm_type != RTN_UNICAST && message->rtm_type != RTN_LOCAL)
      throw Failure(ExitCode::network, fmt::format("no usable route to {} (the route is of type {})",
                                                   destination.to_string(), unsigned{message->rtm_type}));
    char name[IF_NAMESIZE] = {};
    if (route.interface_index <= 0 || !if_indextoname(static_cast<unsigned>(route.interface_index), name))
      throw Failure(ExitCode::network, fmt::format("the route to {} names no interface", destination.to_string()));
    route.interface = name;
    if (source) route.source = *source;
    else if (!have_source)
      throw Failure(ExitCode::network, fmt::format("the route to {} gives no source address", destination.to_string()));
    return route;
  }
  throw Failure(ExitCode::network, fmt::format("no route to {}", destination.to_string()));
}

}  // namespace synprobe
