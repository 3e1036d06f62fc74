#include "engine/media/dtmf_receiver.h"

namespace acd::media {

std::optional<char> DtmfReceiver::on_packet(const RtpPacket& packet) {
  if (packet.header.payload_type != payload_type_) return std::nullopt;
  const auto event = parse_telephone_event(packet.payload);
  if (!event) {
    ++malformed_;
    return std::nullopt;
  }
  const std::uint32_t start = packet.header.timestamp;
  if (have_last_ && packet.header.ssrc == last_ssrc_) {
    // The same event again, or an older one arriving late (timestamps modulo 2^32).
    const auto ahead = static_cast<std::int32_t>(start - last_timestamp_);
    if (ahead <= 0) return std::nullopt;
  }
  have_last_ = true;
  last_ssrc_ = packet.header.ssrc;
  last_timestamp_ = start;
  const char key = dtmf_key(event->event);
  if (key == '\0') return std::nullopt;
  ++keys_;
  return key;
}

}  // namespace acd::media
