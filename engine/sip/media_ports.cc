#include "engine/sip/media_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace acd::sip {
namespace {

// A bound UDP socket on address:port, or -1.
int bind_udp(const std::string& address, std::uint16_t port) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return -1;
  }
  const int fd = ::socket(storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

RtpEndpoint::RtpEndpoint(RtpEndpoint&& other) noexcept
    : rtp_fd_(std::exchange(other.rtp_fd_, -1)),
      rtcp_fd_(std::exchange(other.rtcp_fd_, -1)),
      port_(std::exchange(other.port_, 0)) {}

RtpEndpoint& RtpEndpoint::operator=(RtpEndpoint&& other) noexcept {
  if (this != &other) {
    close();
    rtp_fd_ = std::exchange(other.rtp_fd_, -1);
    rtcp_fd_ = std::exchange(other.rtcp_fd_, -1);
    port_ = std::exchange(other.port_, 0);
  }
  return *this;
}

RtpEndpoint::~RtpEndpoint() {
  close();
}

void RtpEndpoint::close() {
  if (rtp_fd_ >= 0) ::close(rtp_fd_);
  if (rtcp_fd_ >= 0) ::close(rtcp_fd_);
  rtp_fd_ = rtcp_fd_ = -1;
  port_ = 0;
}

MediaPorts::MediaPorts(std::string address, std::uint16_t min_port, std::uint16_t max_port)
    : address_(std::move(address)),
      min_port_(static_cast<std::uint16_t>(min_port & ~1U)),
      max_port_(max_port),
      next_(min_port_) {}

std::optional<RtpEndpoint> MediaPorts::allocate() {
  const unsigned pairs = (static_cast<unsigned>(max_port_) - min_port_ + 1) / 2;
  for (unsigned tried = 0; tried < pairs; ++tried) {
    const std::uint16_t port = next_;
    next_ = static_cast<std::uint16_t>(port + 2 > max_port_ - 1 ? min_port_ : port + 2);
    const int rtp = bind_udp(address_, port);
    if (rtp < 0) continue;
    const int rtcp = bind_udp(address_, static_cast<std::uint16_t>(port + 1));
    if (rtcp < 0) {
      ::close(rtp);
      continue;
    }
    RtpEndpoint endpoint;
    endpoint.rtp_fd_ = rtp;
    endpoint.rtcp_fd_ = rtcp;
    endpoint.port_ = port;
    return endpoint;
  }
  return std::nullopt;
}

}  // namespace acd::sip
