// MediaPorts: the engine's own RTP/RTCP sockets, one even/odd UDP port pair per call leg,
// from a configured range. The SDP the SIP layer writes names these ports, so a peer's
// media reaches a socket the engine holds; the media plane (its own issue) reads and
// writes them. Ports are handed out round robin so a just-freed port is not reused at
// once. Thread-safety: none; owned by the SIP thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace acd::sip {

class MediaPorts;

// An RTP/RTCP socket pair; closes both when destroyed.
class RtpEndpoint {
 public:
  RtpEndpoint() = default;
  RtpEndpoint(RtpEndpoint&& other) noexcept;
  RtpEndpoint& operator=(RtpEndpoint&& other) noexcept;
  RtpEndpoint(const RtpEndpoint&) = delete;
  RtpEndpoint& operator=(const RtpEndpoint&) = delete;
  ~RtpEndpoint();

  [[nodiscard]] bool valid() const { return rtp_fd_ >= 0; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Gives the sockets away (to the media engine, which closes them); the port stays
  // known for SDP. {rtp, rtcp}; -1 for sockets already given away.
  std::pair<int, int> release_sockets() {
    return {std::exchange(rtp_fd_, -1), std::exchange(rtcp_fd_, -1)};
  }

 private:
  friend class MediaPorts;
  void close();
  int rtp_fd_ = -1;
  int rtcp_fd_ = -1;
  std::uint16_t port_ = 0;
};

class MediaPorts {
 public:
  // address: a literal IPv4 or IPv6 address to bind; ports [min, max], min even.
  MediaPorts(std::string address, std::uint16_t min_port, std::uint16_t max_port);

  // A bound pair, or nullopt when every port of the range is taken.
  std::optional<RtpEndpoint> allocate();
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  std::string address_;
  std::uint16_t min_port_;
  std::uint16_t max_port_;
  std::uint16_t next_;
};

}  // namespace acd::sip
