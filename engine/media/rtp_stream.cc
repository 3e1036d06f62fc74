#include "engine/media/rtp_stream.h"

#include <utility>

namespace acd::media {

SourceLatch::SourceLatch(UdpEndpoint signalled, MediaClock::duration relearn_after)
    : signalled_(std::move(signalled)), relearn_after_(relearn_after) {}

void SourceLatch::reset(UdpEndpoint signalled) {
  signalled_ = std::move(signalled);
  latched_ = false;
  candidate_run_ = 0;
}

void SourceLatch::latch(const UdpEndpoint& from, MediaClock::time_point now) {
  if (!latched_ || source_ != from) ++latches_;
  latched_ = true;
  source_ = from;
  last_heard_ = now;
  candidate_run_ = 0;
}

SourceLatch::Verdict SourceLatch::on_packet(const UdpEndpoint& from, std::uint16_t sequence,
                                            MediaClock::time_point now) {
  if (latched_) {
    if (from == source_) {
      last_heard_ = now;
      return Verdict::kAccept;
    }
    if (now - last_heard_ < relearn_after_) return Verdict::kUnexpectedSource;
  }
  if (from == signalled_) {
    latch(from, now);
    return Verdict::kAccept;
  }
  if (candidate_run_ > 0 && from == candidate_ &&
      sequence_delta(candidate_sequence_, sequence) == 1) {
    ++candidate_run_;
  } else {
    candidate_ = from;
    candidate_run_ = 1;
  }
  candidate_sequence_ = sequence;
  if (candidate_run_ >= kLatchRun) {
    latch(from, now);
    return Verdict::kAccept;
  }
  return latched_ ? Verdict::kUnexpectedSource : Verdict::kLearning;
}

RtpSender::RtpSender(std::uint32_t ssrc, std::uint16_t first_sequence,
                     std::uint32_t first_timestamp)
    : ssrc_(ssrc), next_sequence_(first_sequence), next_timestamp_(first_timestamp) {}

RtpHeader RtpSender::next_generated(std::uint8_t payload_type, std::uint32_t samples) {
  RtpHeader h;
  h.marker = !generated_since_restart_ || relaying_;
  relaying_ = false;
  generated_since_restart_ = true;
  h.payload_type = payload_type;
  h.sequence = next_sequence_++;
  h.timestamp = next_timestamp_;
  h.ssrc = ssrc_;
  next_timestamp_ += samples;
  ++packets_;
  return h;
}

RtpHeader RtpSender::next_relayed(const RtpHeader& in, std::uint8_t payload_type,
                                  std::uint32_t samples) {
  RtpHeader h;
  if (!relaying_ || in.ssrc != relayed_ssrc_) {
    // A new origin: continue our numbering from where it stands.
    relaying_ = true;
    generated_since_restart_ = false;
    relayed_ssrc_ = in.ssrc;
    sequence_offset_ = static_cast<std::uint16_t>(next_sequence_ - in.sequence);
    timestamp_offset_ = next_timestamp_ - in.timestamp;
    h.marker = true;
  } else {
    h.marker = in.marker;
  }
  h.payload_type = payload_type;
  h.sequence = static_cast<std::uint16_t>(in.sequence + sequence_offset_);
  h.timestamp = in.timestamp + timestamp_offset_;
  h.ssrc = ssrc_;
  // Only a packet ahead of everything sent so far moves the next numbers on (a late one
  // keeps its place behind).
  if (sequence_delta(next_sequence_, h.sequence) >= 0) {
    next_sequence_ = static_cast<std::uint16_t>(h.sequence + 1);
    if (samples > 0) next_timestamp_ = h.timestamp + samples;
  }
  ++packets_;
  return h;
}

}  // namespace acd::media
