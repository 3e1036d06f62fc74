#include "engine/media/rtcp.h"

#include <array>
#include <catch2/catch.hpp>

namespace acd::media {
namespace {

std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

TEST_CASE("reception stats count loss across a sequence wrap", "[media][rtcp]") {
  ReceptionStats stats;
  CHECK_FALSE(stats.next_report());
  // 65530 .. 65535, 0 .. 9 with 65533 and 4 lost: 16 expected, 14 received.
  std::uint32_t arrival = 0;
  for (std::uint32_t i = 0; i < 16; ++i) {
    const auto seq = static_cast<std::uint16_t>(65530 + i);
    arrival += 160;
    if (seq == 65533 || seq == 4) continue;
    stats.on_packet(42, seq, 1000 + i * 160, arrival);
  }
  const auto block = stats.next_report();
  REQUIRE(block);
  CHECK(block->ssrc == 42);
  CHECK(block->extended_highest_sequence == 65536 + 9);
  CHECK(block->cumulative_lost == 2);
  CHECK(block->fraction_lost == 2 * 256 / 16);
  CHECK(block->jitter == 0);  // perfectly paced
  // The next interval has no loss.
  for (std::uint16_t seq = 10; seq < 20; ++seq)
    stats.on_packet(42, seq, 1000 + (seq + 6) * 160U, arrival += 160);
  CHECK(stats.next_report()->fraction_lost == 0);
}

TEST_CASE("jitter follows RFC 3550 A.8", "[media][rtcp]") {
  ReceptionStats stats;
  // Packets every 160 units, arriving alternately 40 units early and late: |D| = 80 each time.
  for (std::uint32_t i = 0; i < 200; ++i)
    stats.on_packet(1, static_cast<std::uint16_t>(i), i * 160, i * 160 + (i % 2 ? 40 : 0));
  CHECK(stats.jitter() >= 30);  // converges to 40... on the way from 0: J -> |D| = 40
  CHECK(stats.jitter() <= 40);
}

TEST_CASE("a sender report with a block and a CNAME is well formed", "[media][rtcp]") {
  SenderInfo info;
  info.ssrc = 0x11223344;
  info.ntp_time = 0xAABBCCDD00112233ULL;
  info.rtp_timestamp = 8000;
  info.packets = 50;
  info.octets = 8000;
  ReportBlock block;
  block.ssrc = 7;
  block.cumulative_lost = -1;
  block.extended_highest_sequence = 99;
  std::array<std::uint8_t, 128> out{};
  const std::size_t n = write_sender_report(info, block, "acd@media", out);
  REQUIRE(n == 52 + 8 + 12);
  CHECK(n % 4 == 0);
  CHECK(out[0] == 0x81);
  CHECK(out[1] == 200);
  CHECK(((out[2] << 8 | out[3]) + 1) * 4 == 52);
  CHECK(get32(&out[4]) == 0x11223344);
  CHECK(get32(&out[8]) == 0xAABBCCDD);
  CHECK(get32(&out[20]) == 50);
  CHECK(get32(&out[28]) == 7);
  CHECK(out[33] == 0xFF);  // -1 in 24 bits
  CHECK(out[52 + 1] == 202);
  CHECK(out[52 + 8] == 1);
  CHECK(out[52 + 9] == 9);
  CHECK(is_rtcp(std::span<const std::uint8_t>(out.data(), n)));
  CHECK(write_sender_report(info, block, "acd@media", std::span<std::uint8_t>(out.data(), 40)) ==
        0);
}

TEST_CASE("only plausible RTCP is taken", "[media][rtcp]") {
  std::array<std::uint8_t, 8> rr{0x80, 201, 0, 1, 0, 0, 0, 1};
  CHECK(is_rtcp(rr));
  rr[1] = 96;  // an RTP packet on the RTCP port
  CHECK_FALSE(is_rtcp(rr));
  rr[1] = 201;
  rr[3] = 9;  // claims 40 bytes
  CHECK_FALSE(is_rtcp(rr));
  rr[3] = 1;
  rr[0] = 0x40;  // version 1
  CHECK_FALSE(is_rtcp(rr));
}

}  // namespace
}  // namespace acd::media
