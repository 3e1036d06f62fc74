// G.711 (ITU-T): the two 8 kHz telephone codecs the engine speaks, mu-law (PCMU, RTP
// payload type 0) and A-law (PCMA, 8), to and from 16-bit linear PCM. The mixer, the
// recorder and the tone detector work in linear PCM; the wire carries one byte per sample.
// Pure functions; the decoders are table lookups.
#pragma once

#include <cstdint>
#include <span>

namespace acd::media {

std::uint8_t linear_to_ulaw(std::int16_t sample);
std::int16_t ulaw_to_linear(std::uint8_t code);
std::uint8_t linear_to_alaw(std::int16_t sample);
std::int16_t alaw_to_linear(std::uint8_t code);

// The code of silence: what a muted or held stream sends.
inline constexpr std::uint8_t kUlawSilence = 0xFF;
inline constexpr std::uint8_t kAlawSilence = 0xD5;

enum class G711 : std::uint8_t { kUlaw, kAlaw };

// Whole frames: `out` must be at least as long as `in` (extra elements are left alone).
void decode(G711 law, std::span<const std::uint8_t> in, std::span<std::int16_t> out);
void encode(G711 law, std::span<const std::int16_t> in, std::span<std::uint8_t> out);

}  // namespace acd::media
