#include "engine/media/g711.h"

#include <array>
#include <cstddef>

namespace acd::media {
namespace {

constexpr int kUlawBias = 0x84;
constexpr int kUlawClip = 32635;

// The segment (exponent) of a 13-bit A-law magnitude: the first segment end it does not
// exceed; 8 when above all of them.
constexpr int alaw_segment(int magnitude) {
  constexpr std::array<int, 8> kSegmentEnds = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
  for (int s = 0; s < 8; ++s)
    if (magnitude <= kSegmentEnds[static_cast<std::size_t>(s)]) return s;
  return 8;
}

constexpr std::int16_t ulaw_decode(std::uint8_t code) {
  const int inverted = static_cast<std::uint8_t>(~code);
  const int exponent = (inverted >> 4) & 0x07;
  const int mantissa = inverted & 0x0F;
  const int magnitude = (((mantissa << 3) + kUlawBias) << exponent) - kUlawBias;
  return static_cast<std::int16_t>((inverted & 0x80) != 0 ? -magnitude : magnitude);
}

constexpr std::int16_t alaw_decode(std::uint8_t code) {
  const int value = code ^ 0x55;
  const int segment = (value & 0x70) >> 4;
  int magnitude = (value & 0x0F) << 4;
  if (segment == 0) {
    magnitude += 8;
  } else {
    magnitude = (magnitude + 0x108) << (segment - 1);
  }
  return static_cast<std::int16_t>((value & 0x80) != 0 ? magnitude : -magnitude);
}

template <std::int16_t (*Decode)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_table() {
  std::array<std::int16_t, 256> table{};
  for (int c = 0; c < 256; ++c)
    table[static_cast<std::size_t>(c)] = Decode(static_cast<std::uint8_t>(c));
  return table;
}

constexpr auto kUlawTable = make_table<ulaw_decode>();
constexpr auto kAlawTable = make_table<alaw_decode>();

}  // namespace

std::uint8_t linear_to_ulaw(std::int16_t sample) {
  int value = sample;
  const int sign = value < 0 ? 0x80 : 0x00;
  if (value < 0) value = -value;
  if (value > kUlawClip) value = kUlawClip;
  value += kUlawBias;
  int exponent = 7;
  for (int mask = 0x4000; (value & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (value >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

std::int16_t ulaw_to_linear(std::uint8_t code) {
  return kUlawTable[code];
}

std::uint8_t linear_to_alaw(std::int16_t sample) {
  int value = sample >> 3;  // 13 bits
  int mask = 0xD5;          // positive: sign bit set, after the even-bit inversion
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const int segment = alaw_segment(value);
  if (segment >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  int code = segment << 4;
  code |= segment < 2 ? (value >> 1) & 0x0F : (value >> segment) & 0x0F;
  return static_cast<std::uint8_t>(code ^ mask);
}

std::int16_t alaw_to_linear(std::uint8_t code) {
  return kAlawTable[code];
}

void decode(G711 law, std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  const auto& table = law == G711::kUlaw ? kUlawTable : kAlawTable;
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

void encode(G711 law, std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  if (law == G711::kUlaw) {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(in[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(in[i]);
  }
}

}  // namespace acd::media
