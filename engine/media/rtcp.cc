#include "engine/media/rtcp.h"

#include <algorithm>

#include "engine/media/rtp_packet.h"

namespace acd::media {
namespace {

void put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v);
}

}  // namespace

void ReceptionStats::on_packet(std::uint32_t ssrc, std::uint16_t sequence,
                               std::uint32_t rtp_timestamp, std::uint32_t arrival) {
  if (!have_ || ssrc != ssrc_) {
    // A new source starts the figures afresh (RFC 3550 A.1 init_seq).
    *this = ReceptionStats{};
    have_ = true;
    ssrc_ = ssrc;
    base_sequence_ = sequence;
    max_sequence_ = sequence;
    received_ = 1;
    last_transit_ = static_cast<std::int64_t>(arrival) - rtp_timestamp;
    return;
  }
  const int delta = sequence_delta(max_sequence_, sequence);
  if (delta > 0) {
    if (sequence < max_sequence_) cycles_ += 1U << 16;  // wrapped
    max_sequence_ = sequence;
  }
  ++received_;
  const std::int64_t transit = static_cast<std::int64_t>(arrival) - rtp_timestamp;
  std::int64_t d = transit - last_transit_;
  last_transit_ = transit;
  if (d < 0) d = -d;
  // J += (|D| - J) / 16, kept scaled by 16.
  jitter_ = static_cast<std::uint32_t>(static_cast<std::int64_t>(jitter_) + d -
                                       ((static_cast<std::int64_t>(jitter_) + 8) >> 4));
}

std::optional<ReportBlock> ReceptionStats::next_report() {
  if (!have_) return std::nullopt;
  ReportBlock block;
  block.ssrc = ssrc_;
  block.extended_highest_sequence = cycles_ + max_sequence_;
  const std::uint64_t expected =
      std::uint64_t{block.extended_highest_sequence} - base_sequence_ + 1;
  const std::int64_t lost =
      static_cast<std::int64_t>(expected) - static_cast<std::int64_t>(received_);
  block.cumulative_lost =
      static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7FFFFF));
  const std::uint64_t expected_interval = expected - expected_prior_;
  const std::uint64_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  const std::int64_t lost_interval =
      static_cast<std::int64_t>(expected_interval) - static_cast<std::int64_t>(received_interval);
  block.fraction_lost =
      (expected_interval == 0 || lost_interval <= 0)
          ? 0
          : static_cast<std::uint8_t>(std::min<std::int64_t>(
                255, (lost_interval << 8) / static_cast<std::int64_t>(expected_interval)));
  block.jitter = jitter();
  return block;
}

std::size_t write_sender_report(const SenderInfo& sender, const std::optional<ReportBlock>& block,
                                std::string_view cname, std::span<std::uint8_t> out) {
  cname = cname.substr(0, 255);
  const std::size_t sr_size = 28 + (block ? 24 : 0);
  // SDES: header 4, SSRC 4, item (type, length, text), end item, padded to 4 bytes.
  const std::size_t sdes_items = 2 + cname.size() + 1;
  const std::size_t sdes_size = 8 + (sdes_items + 3) / 4 * 4;
  if (out.size() < sr_size + sdes_size) return 0;
  std::uint8_t* p = out.data();
  std::fill(p, p + sr_size + sdes_size, std::uint8_t{0});
  p[0] = static_cast<std::uint8_t>(0x80 | (block ? 1 : 0));
  p[1] = 200;  // SR
  put16(p + 2, static_cast<std::uint32_t>(sr_size / 4 - 1));
  put32(p + 4, sender.ssrc);
  put32(p + 8, static_cast<std::uint32_t>(sender.ntp_time >> 32));
  put32(p + 12, static_cast<std::uint32_t>(sender.ntp_time));
  put32(p + 16, sender.rtp_timestamp);
  put32(p + 20, sender.packets);
  put32(p + 24, sender.octets);
  if (block) {
    std::uint8_t* b = p + 28;
    put32(b, block->ssrc);
    b[4] = block->fraction_lost;
    const auto lost = static_cast<std::uint32_t>(block->cumulative_lost) & 0xFFFFFF;
    b[5] = static_cast<std::uint8_t>(lost >> 16);
    put16(b + 6, lost);
    put32(b + 8, block->extended_highest_sequence);
    put32(b + 12, block->jitter);
    // LSR and DLSR stay 0: the engine does not track the peer's sender reports.
  }
  std::uint8_t* s = p + sr_size;
  s[0] = 0x81;  // one chunk
  s[1] = 202;   // SDES
  put16(s + 2, static_cast<std::uint32_t>(sdes_size / 4 - 1));
  put32(s + 4, sender.ssrc);
  s[8] = 1;  // CNAME
  s[9] = static_cast<std::uint8_t>(cname.size());
  std::copy(cname.begin(), cname.end(), s + 10);
  return sr_size + sdes_size;
}

bool is_rtcp(std::span<const std::uint8_t> datagram) {
  if (datagram.size() < 8 || datagram.size() > kMaxRtpDatagram) return false;
  if ((datagram[0] >> 6) != 2) return false;
  if (datagram[1] < 200 || datagram[1] > 207) return false;
  const std::size_t length = (std::size_t{datagram[2]} << 8 | datagram[3]) * 4 + 4;
  return length <= datagram.size();
}

}  // namespace acd::media
