#include "engine/media/rtp_stream.h"

#include <catch2/catch.hpp>

namespace acd::media {
namespace {

using boost::asio::ip::make_address;
using std::chrono::seconds;

const UdpEndpoint kSignalled{make_address("192.0.2.10"), 4000};
const UdpEndpoint kNatted{make_address("198.51.100.7"), 31000};
const UdpEndpoint kStranger{make_address("203.0.113.66"), 5555};
const MediaClock::time_point kStart{};

TEST_CASE("a packet from the signalled address latches at once", "[media][latch]") {
  SourceLatch latch(kSignalled, seconds(5));
  CHECK(latch.destination() == kSignalled);
  CHECK(latch.on_packet(kSignalled, 100, kStart) == SourceLatch::Verdict::kAccept);
  CHECK(latch.latched());
  CHECK(latch.on_packet(kStranger, 500, kStart) == SourceLatch::Verdict::kUnexpectedSource);
  CHECK(latch.destination() == kSignalled);
}

TEST_CASE("a NATed peer latches after a run of packets in sequence", "[media][latch]") {
  SourceLatch latch(kSignalled, seconds(5));
  CHECK(latch.on_packet(kNatted, 7, kStart) == SourceLatch::Verdict::kLearning);
  CHECK(latch.on_packet(kNatted, 8, kStart) == SourceLatch::Verdict::kLearning);
  CHECK(latch.on_packet(kNatted, 9, kStart) == SourceLatch::Verdict::kAccept);
  CHECK(latch.destination() == kNatted);
  CHECK(latch.latches() == 1);
}

TEST_CASE("stray and interleaved packets do not latch", "[media][latch]") {
  SourceLatch latch(kSignalled, seconds(5));
  // Two sources interleaving never build a run; nor do packets out of sequence.
  for (std::uint16_t s = 0; s < 20; ++s) {
    CHECK(latch.on_packet(s % 2 ? kNatted : kStranger, s, kStart) ==
          SourceLatch::Verdict::kLearning);
  }
  CHECK(latch.on_packet(kStranger, 100, kStart) == SourceLatch::Verdict::kLearning);
  CHECK(latch.on_packet(kStranger, 102, kStart) == SourceLatch::Verdict::kLearning);
  CHECK(latch.on_packet(kStranger, 101, kStart) == SourceLatch::Verdict::kLearning);
  CHECK_FALSE(latch.latched());
  // Sequence numbers wrap.
  CHECK(latch.on_packet(kNatted, 65534, kStart) == SourceLatch::Verdict::kLearning);
  CHECK(latch.on_packet(kNatted, 65535, kStart) == SourceLatch::Verdict::kLearning);
  CHECK(latch.on_packet(kNatted, 0, kStart) == SourceLatch::Verdict::kAccept);
}

TEST_CASE("a latched stream relearns only after its source went silent", "[media][latch]") {
  SourceLatch latch(kSignalled, seconds(5));
  REQUIRE(latch.on_packet(kSignalled, 1, kStart) == SourceLatch::Verdict::kAccept);
  // A run from another source while the peer talks is refused, however long.
  for (std::uint16_t s = 0; s < 10; ++s)
    CHECK(latch.on_packet(kStranger, s, kStart + seconds(1)) ==
          SourceLatch::Verdict::kUnexpectedSource);
  CHECK(latch.destination() == kSignalled);
  // Silent for 5 s (a NAT rebinding): the new source learns as usual.
  const auto later = kStart + seconds(6);
  CHECK(latch.on_packet(kNatted, 40, later) == SourceLatch::Verdict::kUnexpectedSource);
  CHECK(latch.on_packet(kNatted, 41, later) == SourceLatch::Verdict::kUnexpectedSource);
  CHECK(latch.on_packet(kNatted, 42, later) == SourceLatch::Verdict::kAccept);
  CHECK(latch.destination() == kNatted);
  CHECK(latch.latches() == 2);
  // A re-INVITE names a new address: learning starts again.
  latch.reset(kStranger);
  CHECK_FALSE(latch.latched());
  CHECK(latch.destination() == kStranger);
  CHECK(latch.on_packet(kStranger, 9, later) == SourceLatch::Verdict::kAccept);
}

TEST_CASE("generated packets number on from a random start", "[media][sender]") {
  RtpSender sender(0xCAFE, 65535, 0xFFFFFF00);
  const auto a = sender.next_generated(0, 160);
  const auto b = sender.next_generated(0, 160);
  CHECK(a.marker);
  CHECK_FALSE(b.marker);
  CHECK(a.ssrc == 0xCAFE);
  CHECK(a.sequence == 65535);
  CHECK(b.sequence == 0);
  CHECK(a.timestamp == 0xFFFFFF00);
  CHECK(b.timestamp == 0xFFFFFF00 + 160);
  CHECK(sender.packets() == 2);
}

TEST_CASE("relayed packets continue the numbering and keep their spacing", "[media][sender]") {
  RtpSender sender(1, 1000, 50'000);
  sender.next_generated(0, 160);  // hold music: seq 1000, ts 50000
  RtpHeader in;
  in.ssrc = 77;
  in.sequence = 9;
  in.timestamp = 123'456;
  const auto first = sender.next_relayed(in, 8, 160);
  CHECK(first.marker);  // a new origin
  CHECK(first.sequence == 1001);
  CHECK(first.timestamp == 50'160);
  CHECK(first.payload_type == 8);
  // A lost packet stays a gap; a late one keeps its place behind.
  in.sequence = 11;
  in.timestamp = 123'456 + 320;
  const auto third = sender.next_relayed(in, 8, 160);
  CHECK_FALSE(third.marker);
  CHECK(third.sequence == 1003);
  CHECK(third.timestamp == 50'480);
  in.sequence = 10;
  in.timestamp = 123'456 + 160;
  const auto late = sender.next_relayed(in, 8, 160);
  CHECK(late.sequence == 1002);
  // The source's SSRC changes (its phone restarted the stream): numbering runs on.
  in.ssrc = 78;
  in.sequence = 5000;
  in.timestamp = 9;
  const auto fresh = sender.next_relayed(in, 8, 160);
  CHECK(fresh.marker);
  CHECK(fresh.sequence == 1004);
  CHECK(fresh.timestamp == 50'640);
  // Back to generated audio: continuous, with a marker.
  const auto music = sender.next_generated(0, 160);
  CHECK(music.marker);
  CHECK(music.sequence == 1005);
  CHECK(music.timestamp == 50'800);
}

TEST_CASE("telephone-events keep their start timestamp when relayed", "[media][sender]") {
  RtpSender sender(1, 0, 0);
  RtpHeader voice;
  voice.ssrc = 5;
  voice.sequence = 100;
  voice.timestamp = 8000;
  sender.next_relayed(voice, 0, 160);  // ts 0
  RtpHeader event = voice;
  event.sequence = 101;
  event.timestamp = 8160;  // the event starts after the voice packet
  const auto e1 = sender.next_relayed(event, 101, 0);
  event.sequence = 102;
  const auto e2 = sender.next_relayed(event, 101, 0);
  CHECK(e1.timestamp == 160);
  CHECK(e2.timestamp == 160);
  CHECK(e2.sequence == e1.sequence + 1);
}

}  // namespace
}  // namespace acd::media
