// The per-stream rules of the media plane that need no socket: where a peer's RTP may come
// from (SourceLatch, symmetric RTP) and the sequence numbers and timestamps of what the
// engine sends (RtpSender), whether it generates the audio (music on hold, prompts) or
// relays a bridged peer's packets. Pure: the caller passes addresses and times in.
// Thread-safety: none (the media thread owns each stream).
#pragma once

#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>

#include "engine/media/rtp_packet.h"

namespace acd::media {

using MediaClock = std::chrono::steady_clock;
using UdpEndpoint = boost::asio::ip::udp::endpoint;

// Symmetric RTP (RFC 4961 practice): the engine sends to where the peer's packets really
// come from, which behind NAT is not the address its SDP names. Rules:
//  - Learning: packets from the signalled address (SDP) are taken and latch at once.
//    From any other source, kLatchRun packets in sequence (each one more than the last)
//    latch it; until then they are dropped. A stray or spoofed packet therefore never
//    takes a stream over, and a real peer behind NAT loses at most 40 ms.
//  - Latched: only the latched source is taken. Another source is dropped
//    (kUnexpectedSource), unless the latched one has been silent for `relearn_after`
//    (a NAT rebinding, a phone that moved): then that source learns afresh as above.
//  - A new offer/answer (re-INVITE) starts learning again from its address.
class SourceLatch {
 public:
  static constexpr int kLatchRun = 3;
  enum class Verdict : std::uint8_t { kAccept, kLearning, kUnexpectedSource };

  SourceLatch(UdpEndpoint signalled, MediaClock::duration relearn_after);

  Verdict on_packet(const UdpEndpoint& from, std::uint16_t sequence, MediaClock::time_point now);
  void reset(UdpEndpoint signalled);

  // Where packets go: the latched source, else the signalled address.
  [[nodiscard]] const UdpEndpoint& destination() const { return latched_ ? source_ : signalled_; }
  [[nodiscard]] bool latched() const { return latched_; }
  [[nodiscard]] std::uint64_t latches() const { return latches_; }  // times a source latched

 private:
  void latch(const UdpEndpoint& from, MediaClock::time_point now);

  UdpEndpoint signalled_;
  MediaClock::duration relearn_after_;
  bool latched_ = false;
  UdpEndpoint source_;
  MediaClock::time_point last_heard_{};
  UdpEndpoint candidate_;
  std::uint16_t candidate_sequence_ = 0;
  int candidate_run_ = 0;
  std::uint64_t latches_ = 0;
};

// The header of every packet the engine sends on one stream: one SSRC for the life of the
// stream, sequence numbers and timestamps that run on without a jump when the audio's
// origin changes (music on hold, then the agent's relayed voice, then hold music again),
// with the marker bit on the first packet after each change (RFC 3550 5.1). Relayed
// packets keep their spacing: a gap or reordering of the source shows in the output, so
// the receiver's jitter buffer and loss figures stay true.
class RtpSender {
 public:
  RtpSender(std::uint32_t ssrc, std::uint16_t first_sequence, std::uint32_t first_timestamp);

  // The header of the next generated packet of `samples` samples (a 20 ms frame: 160).
  RtpHeader next_generated(std::uint8_t payload_type, std::uint32_t samples);
  // The header for relaying `in` (a packet of `samples` samples; 0 for telephone-events,
  // whose timestamp stays the event's start) with the payload type it has on this stream.
  RtpHeader next_relayed(const RtpHeader& in, std::uint8_t payload_type, std::uint32_t samples);
  // The next packet starts a new talk spurt / origin (marker bit, fresh offsets).
  void restart() {
    relaying_ = false;
    generated_since_restart_ = false;
  }

  [[nodiscard]] std::uint32_t ssrc() const { return ssrc_; }
  [[nodiscard]] std::uint32_t packets() const { return packets_; }
  [[nodiscard]] std::uint32_t last_timestamp() const { return next_timestamp_; }

 private:
  std::uint32_t ssrc_;
  std::uint16_t next_sequence_;
  std::uint32_t next_timestamp_;
  std::uint32_t packets_ = 0;
  bool generated_since_restart_ = false;
  bool relaying_ = false;
  std::uint32_t relayed_ssrc_ = 0;
  std::uint16_t sequence_offset_ = 0;
  std::uint32_t timestamp_offset_ = 0;
};

}  // namespace acd::media
