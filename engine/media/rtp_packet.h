// RTP packets (RFC 3550) and telephone-events (RFC 4733), read and written without
// copying: the media plane's first defence against bad input. A datagram that is not a
// well-formed RTP packet is refused with a reason (so it can be counted per reason) and
// never read past its end. No I/O, no allocation; every function is pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace acd::media {

// The largest datagram the media plane takes: an Ethernet MTU's UDP payload. Anything
// larger is refused (kTooLong) before it is looked at.
inline constexpr std::size_t kMaxRtpDatagram = 1472;
inline constexpr std::size_t kRtpHeaderSize = 12;  // without CSRCs or extension

struct RtpHeader {
  bool marker = false;
  std::uint8_t payload_type = 0;  // 0-127
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
};

enum class RtpError : std::uint8_t {
  kTooShort,    // shorter than its own header (12 bytes, CSRCs, extension)
  kTooLong,     // longer than kMaxRtpDatagram
  kBadVersion,  // version is not 2
  kBadPadding,  // the padding count is 0 or runs into the header
  kRtcp,        // a payload type 72-76: RTCP multiplexed on the RTP port (RFC 5761)
};
const char* to_string(RtpError error);  // "too-short", "too-long", ... (metrics labels)

// A parsed packet; `payload` views the datagram it was parsed from (padding removed,
// header extension skipped).
struct RtpPacket {
  RtpHeader header;
  std::span<const std::uint8_t> payload;
};

// The packet in `datagram`, or nullopt with the reason in *error (when error is given).
std::optional<RtpPacket> parse_rtp(std::span<const std::uint8_t> datagram,
                                   RtpError* error = nullptr);

// Writes a packet (version 2, no padding, CSRCs or extension) into `out`; returns its
// size, or 0 when `out` is too small or the payload type is above 127.
std::size_t write_rtp(const RtpHeader& header, std::span<const std::uint8_t> payload,
                      std::span<std::uint8_t> out);

// RFC 4733 section 2.3: one telephone-event payload (4 bytes).
struct TelephoneEvent {
  std::uint8_t event = 0;      // 0-9, 10 '*', 11 '#', 12-15 'A'-'D', others (e.g. 16 flash)
  bool end = false;            // E bit: the last packets of the event
  std::uint8_t volume = 10;    // 0-63, in -dBm0
  std::uint16_t duration = 0;  // in timestamp units (8 kHz: 1/8 ms)
};
inline constexpr std::size_t kTelephoneEventSize = 4;

// The first event of `payload` (RFC 4733 allows several; the first is the current one);
// nullopt when shorter than 4 bytes.
std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload);
// Writes 4 bytes.
void write_telephone_event(const TelephoneEvent& event, std::span<std::uint8_t, 4> out);

// The DTMF key of an event code ('0'-'9', '*', '#', 'A'-'D'), or '\0' for any other event.
char dtmf_key(std::uint8_t event);
// The event code of a DTMF key (digits, '*', '#', 'A'-'D' or 'a'-'d'); nullopt otherwise.
std::optional<std::uint8_t> dtmf_event(char key);

// Sequence-number arithmetic modulo 2^16 (RFC 3550 A.1): how far `later` is ahead of
// `earlier`, negative when it is behind (a late or duplicate packet).
inline int sequence_delta(std::uint16_t earlier, std::uint16_t later) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(later - earlier));
}

}  // namespace acd::media
