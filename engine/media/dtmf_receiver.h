// DtmfReceiver: the keys a peer sends as RFC 4733 telephone-events, each reported once.
//
// A sender repeats every event in several packets that share one RTP timestamp (the
// event's start), growing the duration, and sends the end packet three times; packets
// can be lost, duplicated or reordered. A key is reported with the first packet of an
// event the receiver has not seen (whatever its E bit, so a key whose start packets were
// lost still counts), never again for the same event. Events that are not DTMF keys
// (flash, tones) are ignored. One receiver per RTP stream; a new SSRC starts afresh.
// Thread-safety: none (the media thread owns it).
#pragma once

#include <cstdint>
#include <optional>

#include "engine/media/rtp_packet.h"

namespace acd::media {

class DtmfReceiver {
 public:
  // `payload_type`: the telephone-event type negotiated in SDP (often 101).
  explicit DtmfReceiver(std::uint8_t payload_type) : payload_type_(payload_type) {}

  // The key this packet starts, if it starts one; packets of other payload types and
  // malformed payloads give nothing.
  std::optional<char> on_packet(const RtpPacket& packet);

  [[nodiscard]] std::uint64_t keys() const { return keys_; }
  [[nodiscard]] std::uint64_t malformed() const { return malformed_; }

 private:
  std::uint8_t payload_type_;
  bool have_last_ = false;
  std::uint32_t last_ssrc_ = 0;
  std::uint32_t last_timestamp_ = 0;  // the start of the newest event seen
  std::uint64_t keys_ = 0;
  std::uint64_t malformed_ = 0;
};

}  // namespace acd::media
