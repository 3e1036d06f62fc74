#include "engine/media/mixer.h"

#include <algorithm>
#include <limits>

namespace acd::media {

std::optional<std::size_t> Mixer::add() {
  for (std::size_t slot = 0; slot < kMaxMembers; ++slot) {
    if (used_[slot]) continue;
    used_[slot] = true;
    hears_[slot] = 0;
    queues_[slot].clear();
    return slot;
  }
  return std::nullopt;
}

void Mixer::remove(std::size_t slot) {
  if (!used(slot)) return;
  used_[slot] = false;
  hears_[slot] = 0;
  queues_[slot].clear();
  for (auto& heard : hears_) heard = static_cast<std::uint8_t>(heard & ~(1U << slot));
}

std::size_t Mixer::size() const {
  return static_cast<std::size_t>(std::count(used_.begin(), used_.end(), true));
}

void Mixer::set_hears(std::size_t listener, std::size_t speaker, bool on) {
  if (!used(listener) || !used(speaker) || listener == speaker) return;
  if (on) {
    hears_[listener] = static_cast<std::uint8_t>(hears_[listener] | 1U << speaker);
  } else {
    hears_[listener] = static_cast<std::uint8_t>(hears_[listener] & ~(1U << speaker));
  }
}

bool Mixer::hears(std::size_t listener, std::size_t speaker) const {
  return used(listener) && used(speaker) && (hears_[listener] >> speaker & 1U) != 0;
}

void Mixer::push(std::size_t slot, std::span<const std::int16_t> pcm) {
  if (!used(slot)) return;
  Queue& q = queues_[slot];
  if (pcm.size() > kMaxBacklog) pcm = pcm.last(kMaxBacklog);
  if (q.size + pcm.size() > kMaxBacklog) q.drop(q.size + pcm.size() - kMaxBacklog);
  std::size_t tail = (q.head + q.size) % kMaxBacklog;
  for (const std::int16_t sample : pcm) {
    q.samples[tail] = sample;
    tail = tail + 1 == kMaxBacklog ? 0 : tail + 1;
  }
  q.size += pcm.size();
}

std::size_t Mixer::queued(std::size_t slot) const {
  return used(slot) ? queues_[slot].size : 0;
}

void Mixer::mix(Frames& out) {
  // This tick's frame of every member: the head of its queue, silence after what it had.
  Frames in;
  for (std::size_t slot = 0; slot < kMaxMembers; ++slot) {
    if (!used_[slot]) continue;
    Queue& q = queues_[slot];
    q.low_water = std::min(q.low_water, q.size);
    const std::size_t n = std::min(q.size, kFrameSamples);
    for (std::size_t i = 0; i < n; ++i) in[slot][i] = q.samples[(q.head + i) % kMaxBacklog];
    std::fill(in[slot].begin() + static_cast<std::ptrdiff_t>(n), in[slot].end(), 0);
    q.drop(n);
  }
  if (++ticks_in_window_ == kTrimTicks) {
    ticks_in_window_ = 0;
    for (std::size_t slot = 0; slot < kMaxMembers; ++slot) {
      Queue& q = queues_[slot];
      if (used_[slot] && q.low_water > kFrameSamples + kTrimMargin)
        q.drop(std::min(q.size, q.low_water - kFrameSamples - kTrimMargin));
      q.low_water = kMaxBacklog;
    }
  }
  for (std::size_t listener = 0; listener < kMaxMembers; ++listener) {
    if (!used_[listener]) continue;
    std::array<std::int32_t, kFrameSamples> sum{};
    for (std::size_t speaker = 0; speaker < kMaxMembers; ++speaker) {
      if ((hears_[listener] >> speaker & 1U) == 0) continue;
      for (std::size_t i = 0; i < kFrameSamples; ++i) sum[i] += in[speaker][i];
    }
    for (std::size_t i = 0; i < kFrameSamples; ++i)
      out[listener][i] = static_cast<std::int16_t>(
          std::clamp<std::int32_t>(sum[i], std::numeric_limits<std::int16_t>::min(),
                                   std::numeric_limits<std::int16_t>::max()));
  }
}

}  // namespace acd::media
