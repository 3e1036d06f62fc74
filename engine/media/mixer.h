// Mixer: the audio of one conference or supervisor listen-in, in 16-bit linear PCM, with
// no sockets and no clock. Up to kMaxMembers members, each in a slot of its own with
//  - a bounded queue of the audio it sent, decoded as its packets arrive (push), and
//  - the set of members it hears (set_hears: the "who hears whom" matrix).
// Once per media-clock tick, mix() takes the next 20 ms from every queue (silence where a
// member sent too little) and gives every member the saturating sum of the frames of the
// members it hears; a member never hears itself.
//
// Jitter and clock drift: a queue holds at most kMaxBacklog samples (the oldest go when a
// peer's clock runs fast or a burst arrives), and audio that sat in a queue for a whole
// window of kTrimTicks ticks without ever being needed (the queue never ran lower) is
// dropped down to kTrimMargin, so a burst of late packets does not leave a lasting delay.
// Thread-safety: none (the media thread owns each mix).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "engine/media/audio.h"

namespace acd::media {

class Mixer {
 public:
  static constexpr std::size_t kMaxMembers = 8;
  static constexpr std::size_t kMaxBacklog = 6 * kFrameSamples;  // 120 ms
  static constexpr std::size_t kTrimTicks = 50;                  // 1 s
  static constexpr std::size_t kTrimMargin = kFrameSamples / 4;  // 5 ms of slack kept
  using Frame = std::array<std::int16_t, kFrameSamples>;
  using Frames = std::array<Frame, kMaxMembers>;

  // A free slot (hearing nobody, heard by nobody, nothing queued), or nullopt when full.
  std::optional<std::size_t> add();
  // Frees the slot: its queue is dropped and nobody hears it any more.
  void remove(std::size_t slot);
  [[nodiscard]] bool used(std::size_t slot) const { return slot < kMaxMembers && used_[slot]; }
  [[nodiscard]] std::size_t size() const;

  // Whether `listener` hears `speaker` (both used slots; a member never hears itself).
  void set_hears(std::size_t listener, std::size_t speaker, bool on);
  [[nodiscard]] bool hears(std::size_t listener, std::size_t speaker) const;

  // Audio the member sent (any length; what exceeds kMaxBacklog pushes the oldest out).
  void push(std::size_t slot, std::span<const std::int16_t> pcm);
  [[nodiscard]] std::size_t queued(std::size_t slot) const;

  // One tick: out[slot] of every used slot gets what that member hears now (unused slots
  // are left alone).
  void mix(Frames& out);

 private:
  struct Queue {
    std::array<std::int16_t, kMaxBacklog> samples{};
    std::size_t head = 0, size = 0;
    std::size_t low_water = kMaxBacklog;  // the least held at a tick in this trim window
    void clear() { head = size = 0, low_water = kMaxBacklog; }
    void drop(std::size_t n) {
      head = (head + n) % kMaxBacklog;
      size -= n;
    }
  };

  std::array<bool, kMaxMembers> used_{};
  std::array<std::uint8_t, kMaxMembers> hears_{};  // bit s of hears_[l]: l hears s
  std::array<Queue, kMaxMembers> queues_{};
  std::size_t ticks_in_window_ = 0;
};

}  // namespace acd::media
