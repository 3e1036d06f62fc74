#include "engine/media/g711.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

namespace acd::media {
namespace {

TEST_CASE("G.711 silence and the extremes") {
  CHECK(linear_to_ulaw(0) == kUlawSilence);
  CHECK(ulaw_to_linear(kUlawSilence) == 0);
  CHECK(linear_to_alaw(0) == kAlawSilence);
  CHECK(alaw_to_linear(kAlawSilence) == 8);  // A-law has no zero: the smallest step is +-8
  CHECK(ulaw_to_linear(0x80) == 32124);      // the largest mu-law magnitudes
  CHECK(ulaw_to_linear(0x00) == -32124);
  CHECK(alaw_to_linear(0xAA) == 32256);  // the largest A-law magnitudes
  CHECK(alaw_to_linear(0x2A) == -32256);
  CHECK(linear_to_ulaw(32767) == 0x80);
  CHECK(linear_to_ulaw(-32768) == 0x00);
  CHECK(linear_to_alaw(32767) == 0xAA);
  CHECK(linear_to_alaw(-32768) == 0x2A);
}

TEST_CASE("G.711 decoding is odd-symmetric and increases with the code's magnitude") {
  for (int c = 0; c < 128; ++c) {
    // mu-law: code c and c | 0x80 are the same magnitude, opposite signs.
    CHECK(ulaw_to_linear(static_cast<std::uint8_t>(c)) ==
          -ulaw_to_linear(static_cast<std::uint8_t>(c | 0x80)));
    CHECK(alaw_to_linear(static_cast<std::uint8_t>(c)) ==
          -alaw_to_linear(static_cast<std::uint8_t>(c | 0x80)));
  }
  // Positive mu-law codes 0xFF (smallest) down to 0x80 (largest) grow strictly.
  for (int c = 0xFF; c > 0x80; --c)
    CHECK(ulaw_to_linear(static_cast<std::uint8_t>(c)) <
          ulaw_to_linear(static_cast<std::uint8_t>(c - 1)));
}

TEST_CASE("G.711 encode then decode stays within the law's step") {
  for (int s = -32768; s <= 32767; s += 7) {
    const auto sample = static_cast<std::int16_t>(s);
    const int u = ulaw_to_linear(linear_to_ulaw(sample));
    const int a = alaw_to_linear(linear_to_alaw(sample));
    // The quantisation step grows with the magnitude: at most 1/16 of it plus the
    // smallest step, and the clipped top range.
    const int magnitude = std::abs(s);
    const int bound = magnitude / 16 + 16 + (magnitude > 32000 ? 800 : 0);
    CHECK(std::abs(u - s) <= bound);
    CHECK(std::abs(a - s) <= bound);
  }
}

TEST_CASE("G.711 decoded codes encode back to themselves") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    if (code != 0x7F)  // mu-law's negative zero encodes as positive zero (0xFF)
      CHECK(linear_to_ulaw(ulaw_to_linear(code)) == code);
    CHECK(linear_to_alaw(alaw_to_linear(code)) == code);
  }
}

TEST_CASE("G.711 whole frames") {
  const std::vector<std::int16_t> pcm = {0, 1000, -1000, 32767, -32768, 8, -8};
  for (G711 law : {G711::kUlaw, G711::kAlaw}) {
    std::vector<std::uint8_t> coded(pcm.size());
    encode(law, pcm, coded);
    std::vector<std::int16_t> back(pcm.size(), 12345);
    decode(law, coded, back);
    for (std::size_t i = 0; i < pcm.size(); ++i) {
      const auto expect = law == G711::kUlaw ? ulaw_to_linear(coded[i]) : alaw_to_linear(coded[i]);
      CHECK(back[i] == expect);
    }
    std::vector<std::int16_t> shorter(3, 7);
    decode(law, coded, shorter);  // only what fits
    CHECK(shorter.size() == 3);
  }
}

}  // namespace
}  // namespace acd::media
