#include "engine/media/mixer.h"

#include <catch2/catch.hpp>
#include <vector>

namespace acd::media {
namespace {

std::vector<std::int16_t> level(std::int16_t value, std::size_t samples = kFrameSamples) {
  return std::vector<std::int16_t>(samples, value);
}

TEST_CASE("a mixer gives each member the sum of the members it hears", "[media][mixer]") {
  Mixer m;
  const auto a = m.add(), b = m.add(), c = m.add();
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(m.size() == 3);
  // a and b talk; c listens to both (a monitor), nobody hears c.
  m.set_hears(*a, *b, true);
  m.set_hears(*b, *a, true);
  m.set_hears(*c, *a, true);
  m.set_hears(*c, *b, true);
  m.set_hears(*a, *a, true);  // never hears itself
  CHECK_FALSE(m.hears(*a, *a));
  CHECK_FALSE(m.hears(*a, *c));
  m.push(*a, level(100));
  m.push(*b, level(20));
  m.push(*c, level(3));
  Mixer::Frames out{};
  m.mix(out);
  CHECK(out[*a] == Mixer::Frame{[] {
          Mixer::Frame f;
          f.fill(20);
          return f;
        }()});
  CHECK(out[*b][0] == 100);
  CHECK(out[*c][0] == 120);
  CHECK(out[*c][kFrameSamples - 1] == 120);
  CHECK(m.queued(*a) == 0);
  // Nothing more came: silence, not the last frame again.
  m.mix(out);
  CHECK(out[*c][0] == 0);
}

TEST_CASE("a mixer saturates instead of wrapping", "[media][mixer]") {
  Mixer m;
  const auto a = *m.add(), b = *m.add(), c = *m.add();
  m.set_hears(c, a, true);
  m.set_hears(c, b, true);
  m.set_hears(a, b, true);
  m.set_hears(a, c, true);
  m.push(a, level(30000));
  m.push(b, level(30000));
  m.push(c, level(-32768));
  Mixer::Frames out{};
  m.mix(out);
  CHECK(out[c][0] == 32767);
  CHECK(out[a][0] == -2768);
  m.push(b, level(-30000));
  m.push(c, level(-30000));
  m.mix(out);
  CHECK(out[a][0] == -32768);
}

TEST_CASE("a short input is padded with silence and a partial queue carries on", "[media][mixer]") {
  Mixer m;
  const auto a = *m.add(), b = *m.add();
  m.set_hears(b, a, true);
  m.push(a, level(7, 100));
  Mixer::Frames out{};
  m.mix(out);
  CHECK(out[b][99] == 7);
  CHECK(out[b][100] == 0);
  // A 30 ms packet spans two ticks.
  m.push(a, level(9, 240));
  m.mix(out);
  CHECK(out[b][159] == 9);
  CHECK(m.queued(a) == 80);
  m.mix(out);
  CHECK(out[b][79] == 9);
  CHECK(out[b][80] == 0);
}

TEST_CASE("a mixer's queues are bounded and trimmed when they only add delay", "[media][mixer]") {
  Mixer m;
  const auto a = *m.add(), b = *m.add();
  m.set_hears(b, a, true);
  for (int i = 0; i < 20; ++i) m.push(a, level(static_cast<std::int16_t>(i)));
  CHECK(m.queued(a) == Mixer::kMaxBacklog);  // the newest kept
  Mixer::Frames out{};
  m.mix(out);
  CHECK(out[b][0] == 20 - static_cast<std::int16_t>(Mixer::kMaxBacklog / kFrameSamples));
  // A steady peer one burst ahead: three frames always waiting. After a window the
  // queue is cut down to a frame and the margin.
  Mixer t;
  const auto x = *t.add(), y = *t.add();
  t.set_hears(y, x, true);
  t.push(x, level(1, 2 * kFrameSamples));
  for (std::size_t i = 0; i < Mixer::kTrimTicks; ++i) {
    t.push(x, level(1));
    t.mix(out);
  }
  CHECK(t.queued(x) == Mixer::kTrimMargin);
}

TEST_CASE("a removed member is heard no more and its slot is reused", "[media][mixer]") {
  Mixer m;
  for (std::size_t i = 0; i < Mixer::kMaxMembers; ++i) REQUIRE(m.add());
  CHECK_FALSE(m.add());
  m.set_hears(0, 3, true);
  m.push(3, level(5));
  m.remove(3);
  CHECK_FALSE(m.hears(0, 3));
  CHECK(m.size() == Mixer::kMaxMembers - 1);
  CHECK(m.add() == std::optional<std::size_t>(3));
  CHECK(m.queued(3) == 0);
  CHECK_FALSE(m.hears(0, 3));
}

}  // namespace
}  // namespace acd::media
