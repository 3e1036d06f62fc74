#include "engine/media/rtp_packet.h"

#include <catch2/catch.hpp>
#include <vector>

namespace acd::media {
namespace {

std::vector<std::uint8_t> packet(const RtpHeader& header, std::vector<std::uint8_t> payload) {
  std::vector<std::uint8_t> out(kRtpHeaderSize + payload.size());
  REQUIRE(write_rtp(header, payload, out) == out.size());
  return out;
}

RtpError error_of(const std::vector<std::uint8_t>& datagram) {
  RtpError error{};
  REQUIRE_FALSE(parse_rtp(datagram, &error).has_value());
  return error;
}

TEST_CASE("an RTP packet written is read back the same") {
  const RtpHeader header{true, 8, 65535, 4000000000u, 0xDEADBEEF};
  const auto datagram = packet(header, {1, 2, 3, 4, 5});
  CHECK(datagram[0] == 0x80);
  const auto parsed = parse_rtp(datagram);
  REQUIRE(parsed);
  CHECK(parsed->header.marker);
  CHECK(parsed->header.payload_type == 8);
  CHECK(parsed->header.sequence == 65535);
  CHECK(parsed->header.timestamp == 4000000000u);
  CHECK(parsed->header.ssrc == 0xDEADBEEF);
  CHECK(std::vector<std::uint8_t>(parsed->payload.begin(), parsed->payload.end()) ==
        std::vector<std::uint8_t>{1, 2, 3, 4, 5});
}

TEST_CASE("CSRCs, a header extension and padding are skipped") {
  std::vector<std::uint8_t> d = {0xB2, 0x00, 0, 1, 0,    0,    0,    2,
                                 0,    0,    0, 3,                          // V2 P X CC=2
                                 0,    0,    0, 9, 0,    0,    0,    10,    // two CSRCs
                                 0xBE, 0xDE, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD,  // extension, 1 word
                                 7,    7,    7,                             // payload
                                 0,    0,    3};                            // 3 bytes of padding
  const auto parsed = parse_rtp(d);
  REQUIRE(parsed);
  CHECK(std::vector<std::uint8_t>(parsed->payload.begin(), parsed->payload.end()) ==
        std::vector<std::uint8_t>{7, 7, 7});
}

TEST_CASE("bad RTP is refused with its reason, never read past its end") {
  CHECK(error_of({}) == RtpError::kTooShort);
  CHECK(error_of(std::vector<std::uint8_t>(11, 0x80)) == RtpError::kTooShort);
  CHECK(error_of(std::vector<std::uint8_t>(kMaxRtpDatagram + 1, 0x80)) == RtpError::kTooLong);
  std::vector<std::uint8_t> v1(20, 0);
  v1[0] = 0x40;  // version 1
  CHECK(error_of(v1) == RtpError::kBadVersion);
  std::vector<std::uint8_t> csrc(16, 0);
  csrc[0] = 0x8F;  // 15 CSRCs announced, none there
  CHECK(error_of(csrc) == RtpError::kTooShort);
  std::vector<std::uint8_t> ext(16, 0);
  ext[0] = 0x90;   // extension announced
  ext[14] = 0xFF;  // 65535 words
  ext[15] = 0xFF;
  CHECK(error_of(ext) == RtpError::kTooShort);
  std::vector<std::uint8_t> pad(14, 0);
  pad[0] = 0xA0;
  pad[13] = 0;  // padding count 0
  CHECK(error_of(pad) == RtpError::kBadPadding);
  pad[13] = 200;  // more padding than packet
  CHECK(error_of(pad) == RtpError::kBadPadding);
  std::vector<std::uint8_t> rtcp(20, 0);
  rtcp[0] = 0x80;
  rtcp[1] = 200;  // RTCP sender report: second byte 200 = marker + payload type 72
  CHECK(error_of(rtcp) == RtpError::kRtcp);
  CHECK(std::string(to_string(RtpError::kBadPadding)) == "bad-padding");
}

TEST_CASE("write_rtp refuses a buffer too small or a payload type above 127") {
  std::vector<std::uint8_t> small(12);
  const std::vector<std::uint8_t> payload = {1};
  CHECK(write_rtp(RtpHeader{}, payload, small) == 0);
  std::vector<std::uint8_t> big(64);
  RtpHeader bad;
  bad.payload_type = 128;
  CHECK(write_rtp(bad, payload, big) == 0);
}

TEST_CASE("telephone-events (RFC 4733) and DTMF keys") {
  std::array<std::uint8_t, 4> bytes{};
  write_telephone_event(TelephoneEvent{11, true, 10, 1600}, bytes);
  CHECK(bytes == std::array<std::uint8_t, 4>{11, 0x8A, 0x06, 0x40});
  const auto event = parse_telephone_event(bytes);
  REQUIRE(event);
  CHECK(event->event == 11);
  CHECK(event->end);
  CHECK(event->volume == 10);
  CHECK(event->duration == 1600);
  CHECK_FALSE(parse_telephone_event(std::span<const std::uint8_t>(bytes.data(), 3)));

  const std::string keys = "0123456789*#ABCD";
  for (char k : keys) {
    const auto code = dtmf_event(k);
    REQUIRE(code);
    CHECK(dtmf_key(*code) == k);
  }
  CHECK(dtmf_event('d') == std::optional<std::uint8_t>(15));
  CHECK_FALSE(dtmf_event('x'));
  CHECK(dtmf_key(16) == '\0');  // flash
}

TEST_CASE("sequence numbers compare across the wrap") {
  CHECK(sequence_delta(65535, 0) == 1);
  CHECK(sequence_delta(0, 65535) == -1);
  CHECK(sequence_delta(100, 100) == 0);
  CHECK(sequence_delta(10, 20) == 10);
}

}  // namespace
}  // namespace acd::media
