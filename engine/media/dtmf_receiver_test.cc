#include "engine/media/dtmf_receiver.h"

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace acd::media {
namespace {

constexpr std::uint8_t kEventType = 101;

// One telephone-event packet as a sender makes it (the packet views this object's bytes,
// so it is made where it is used).
struct Sent {
  std::array<std::uint8_t, 4> payload{};
  RtpHeader header;
  Sent(std::uint8_t event, bool end, std::uint32_t timestamp, std::uint16_t duration,
       std::uint32_t ssrc = 7, std::uint8_t payload_type = kEventType) {
    write_telephone_event(TelephoneEvent{event, end, 10, duration}, payload);
    header.payload_type = payload_type;
    header.timestamp = timestamp;
    header.ssrc = ssrc;
  }
  [[nodiscard]] RtpPacket packet() const { return RtpPacket{header, payload}; }
};

std::string feed(DtmfReceiver& receiver, const std::vector<Sent>& packets) {
  std::string keys;
  for (const auto& s : packets)
    if (auto key = receiver.on_packet(s.packet())) keys += *key;
  return keys;
}

TEST_CASE("each telephone-event is one key, however often its packets come") {
  DtmfReceiver receiver(kEventType);
  // '1' at timestamp 1000: three updates and the end packet three times; then '#'.
  const std::vector<Sent> packets = {
      {1, false, 1000, 160},  {1, false, 1000, 320}, {1, false, 1000, 480},
      {1, true, 1000, 640},   {1, true, 1000, 640},  {1, true, 1000, 640},
      {11, false, 2000, 160}, {11, true, 2000, 320}, {11, true, 2000, 320}};
  CHECK(feed(receiver, packets) == "1#");
  CHECK(receiver.keys() == 2);
}

TEST_CASE("the same key pressed twice is two keys (two events)") {
  DtmfReceiver receiver(kEventType);
  CHECK(feed(receiver, {{5, false, 100, 160},
                        {5, true, 100, 800},
                        {5, false, 2000, 160},
                        {5, true, 2000, 800}}) == "55");
}

TEST_CASE("an event whose start packets were lost still counts, once") {
  DtmfReceiver receiver(kEventType);
  CHECK(feed(receiver, {{9, true, 5000, 800}, {9, true, 5000, 800}}) == "9");
}

TEST_CASE("late packets of an older event and other payload types give nothing") {
  DtmfReceiver receiver(kEventType);
  CHECK(feed(receiver,
             {{2, false, 3000, 160}, {1, true, 1000, 800}, {3, false, 4000, 160, 7, 0}}) == "2");
}

TEST_CASE("timestamps wrap; a new SSRC starts afresh; non-DTMF events and bad payloads") {
  DtmfReceiver receiver(kEventType);
  CHECK(feed(receiver, {{4, false, 0xFFFFFF00u, 160}, {6, false, 0x00000100u, 160}}) == "46");
  // A new stream whose timestamps happen to be behind: its first event counts.
  CHECK(feed(receiver, {{7, false, 50, 160, 99}}) == "7");
  // Flash (16) is an event but not a key: consumed, nothing reported.
  CHECK(feed(receiver, {{16, false, 9000, 160, 99}, {16, true, 9000, 320, 99}}) == "");
  RtpPacket bad;
  bad.header.payload_type = kEventType;
  const std::array<std::uint8_t, 2> short_payload{1, 2};
  bad.payload = short_payload;
  CHECK_FALSE(receiver.on_packet(bad));
  CHECK(receiver.malformed() == 1);
}

}  // namespace
}  // namespace acd::media
