// RTCP (RFC 3550 section 6): what the engine receives on a stream, summed up as a
// reception report block (A.1 sequence tracking, A.3 loss, A.8 interarrival jitter), and
// the compound packet it sends every few seconds: a sender report with that block, then
// an SDES CNAME. Pure: the caller passes arrival times in. Thread-safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace acd::media {

struct ReportBlock {
  std::uint32_t ssrc = 0;            // the source reported on
  std::uint8_t fraction_lost = 0;    // since the last report, /256
  std::int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  std::uint32_t extended_highest_sequence = 0;
  std::uint32_t jitter = 0;  // timestamp units
};

class ReceptionStats {
 public:
  // A packet accepted from the peer; `arrival` in the stream's timestamp units (8 kHz).
  void on_packet(std::uint32_t ssrc, std::uint16_t sequence, std::uint32_t rtp_timestamp,
                 std::uint32_t arrival);
  // The block for the next report (nullopt before any packet); starts a new interval.
  std::optional<ReportBlock> next_report();
  [[nodiscard]] std::uint64_t received() const { return received_; }
  [[nodiscard]] std::uint32_t jitter() const { return static_cast<std::uint32_t>(jitter_ / 16); }

 private:
  bool have_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint32_t base_sequence_ = 0;
  std::uint32_t cycles_ = 0;
  std::uint16_t max_sequence_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t expected_prior_ = 0, received_prior_ = 0;
  std::int64_t last_transit_ = 0;
  std::uint32_t jitter_ = 0;  // scaled by 16 (A.8)
};

struct SenderInfo {
  std::uint32_t ssrc = 0;
  std::uint64_t ntp_time = 0;  // NTP format: seconds since 1900 << 32 | fraction
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packets = 0;
  std::uint32_t octets = 0;
};

// SR (with `block` if given) + SDES with CNAME `cname` (at most 255 bytes); returns the
// size written, or 0 when `out` is too small.
std::size_t write_sender_report(const SenderInfo& sender, const std::optional<ReportBlock>& block,
                                std::string_view cname, std::span<std::uint8_t> out);

// Whether a datagram is plausibly RTCP (version 2, first packet type 200-207 and a
// length within the datagram); anything else on the RTCP port is dropped.
bool is_rtcp(std::span<const std::uint8_t> datagram);

}  // namespace acd::media
