#include "engine/media/rtp_packet.h"

namespace acd::media {
namespace {

std::uint16_t read16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t read32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

void write16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void write32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::optional<RtpPacket> fail(RtpError reason, RtpError* error) {
  if (error != nullptr) *error = reason;
  return std::nullopt;
}

}  // namespace

const char* to_string(RtpError error) {
  switch (error) {
    case RtpError::kTooShort: return "too-short";
    case RtpError::kTooLong: return "too-long";
    case RtpError::kBadVersion: return "bad-version";
    case RtpError::kBadPadding: return "bad-padding";
    case RtpError::kRtcp: return "rtcp";
  }
  return "?";
}

std::optional<RtpPacket> parse_rtp(std::span<const std::uint8_t> datagram, RtpError* error) {
  if (datagram.size() > kMaxRtpDatagram) return fail(RtpError::kTooLong, error);
  if (datagram.size() < kRtpHeaderSize) return fail(RtpError::kTooShort, error);
  const std::uint8_t* p = datagram.data();
  if ((p[0] >> 6) != 2) return fail(RtpError::kBadVersion, error);
  const bool padding = (p[0] & 0x20) != 0;
  const bool extension = (p[0] & 0x10) != 0;
  const std::size_t csrc_count = p[0] & 0x0F;
  const std::uint8_t payload_type = p[1] & 0x7F;
  if (payload_type >= 72 && payload_type <= 76) return fail(RtpError::kRtcp, error);

  std::size_t offset = kRtpHeaderSize + 4 * csrc_count;
  if (datagram.size() < offset) return fail(RtpError::kTooShort, error);
  if (extension) {
    if (datagram.size() < offset + 4) return fail(RtpError::kTooShort, error);
    const std::size_t words = read16(p + offset + 2);
    offset += 4 + 4 * words;
    if (datagram.size() < offset) return fail(RtpError::kTooShort, error);
  }
  std::size_t end = datagram.size();
  if (padding) {
    const std::size_t pad = p[end - 1];
    if (pad == 0 || pad > end - offset) return fail(RtpError::kBadPadding, error);
    end -= pad;
  }
  RtpPacket packet;
  packet.header.marker = (p[1] & 0x80) != 0;
  packet.header.payload_type = payload_type;
  packet.header.sequence = read16(p + 2);
  packet.header.timestamp = read32(p + 4);
  packet.header.ssrc = read32(p + 8);
  packet.payload = datagram.subspan(offset, end - offset);
  return packet;
}

std::size_t write_rtp(const RtpHeader& header, std::span<const std::uint8_t> payload,
                      std::span<std::uint8_t> out) {
  const std::size_t size = kRtpHeaderSize + payload.size();
  if (header.payload_type > 127 || out.size() < size) return 0;
  std::uint8_t* p = out.data();
  p[0] = 0x80;  // version 2
  p[1] = static_cast<std::uint8_t>((header.marker ? 0x80 : 0) | header.payload_type);
  write16(p + 2, header.sequence);
  write32(p + 4, header.timestamp);
  write32(p + 8, header.ssrc);
  for (std::size_t i = 0; i < payload.size(); ++i) p[kRtpHeaderSize + i] = payload[i];
  return size;
}

std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload) {
  if (payload.size() < kTelephoneEventSize) return std::nullopt;
  TelephoneEvent event;
  event.event = payload[0];
  event.end = (payload[1] & 0x80) != 0;
  event.volume = payload[1] & 0x3F;
  event.duration = read16(payload.data() + 2);
  return event;
}

void write_telephone_event(const TelephoneEvent& event, std::span<std::uint8_t, 4> out) {
  out[0] = event.event;
  out[1] = static_cast<std::uint8_t>((event.end ? 0x80 : 0) | (event.volume & 0x3F));
  write16(out.data() + 2, event.duration);
}

char dtmf_key(std::uint8_t event) {
  if (event <= 9) return static_cast<char>('0' + event);
  if (event == 10) return '*';
  if (event == 11) return '#';
  if (event >= 12 && event <= 15) return static_cast<char>('A' + (event - 12));
  return '\0';
}

std::optional<std::uint8_t> dtmf_event(char key) {
  if (key >= '0' && key <= '9') return static_cast<std::uint8_t>(key - '0');
  if (key == '*') return 10;
  if (key == '#') return 11;
  if (key >= 'A' && key <= 'D') return static_cast<std::uint8_t>(12 + (key - 'A'));
  if (key >= 'a' && key <= 'd') return static_cast<std::uint8_t>(12 + (key - 'a'));
  return std::nullopt;
}

}  // namespace acd::media
