// rtp_probe: a stand-in for the audio side of a phone or trunk in black-box tests. SIPp
// does the signalling with an SDP that names this probe's port; the probe:
//   - binds 127.0.0.1:<port> (RTP) and <port>+1 (RTCP, read and counted);
//   - logs every RTP packet it receives, one line each, to --out:
//       <ms since start> <seq> <pt> <ssrc> <class> <exact> <level>
//     class: "tone<hz>" when at least 80 % of the frame's power is at one of the tones
//     of --listen-for (Goertzel), "silence" below -50 dBov, else "other"; exact: 1 when
//     the payload is byte for byte the frame the probe itself would send for that tone
//     (PCMU, phase continuous: 400 Hz and 1000 Hz repeat every 20 ms frame); level: mean
//     absolute linear sample value;
//   - once a packet arrived, sends back to its source (symmetric RTP, as phones behind
//     NAT are reached) 20 ms PCMU frames of --tone <hz> (0: silence) at 50 packets/s;
//   - --dtmf <key>@<ms>: sends an RFC 4733 event for <key> (payload type --te-pt, 100 ms,
//     three end packets) <ms> after sending started;
//   - --inband <key>@<ms>: sends <key> as its two tones in the audio instead (120 ms);
// until SIGTERM, SIGINT or --seconds. Loopback only. Exit status 0.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/media/g711.h"
#include "engine/media/rtp_packet.h"

namespace {

using namespace acd::media;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

constexpr std::size_t kFrame = 160;

struct Options {
  int port = 0;
  std::string out;
  int tone = 0;
  std::vector<int> listen_for = {400, 1000};
  char dtmf_key = 0;
  int dtmf_at_ms = 0;
  char inband_key = 0;
  int inband_at_ms = 0;
  int te_pt = 101;
  int seconds = 300;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "rtp_probe: %s\nusage: rtp_probe --port P --out FILE [--tone HZ] "
               "[--listen-for HZ,HZ] [--dtmf KEY@MS] [--te-pt N] [--seconds N]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value of " + arg).c_str());
    const std::string value = argv[++i];
    if (arg == "--port") {
      o.port = std::atoi(value.c_str());
    } else if (arg == "--out") {
      o.out = value;
    } else if (arg == "--tone") {
      o.tone = std::atoi(value.c_str());
    } else if (arg == "--listen-for") {
      o.listen_for.clear();
      for (std::size_t at = 0; at < value.size();) {
        const std::size_t comma = value.find(',', at);
        o.listen_for.push_back(std::atoi(value.substr(at, comma - at).c_str()));
        at = comma == std::string::npos ? value.size() : comma + 1;
      }
    } else if (arg == "--dtmf") {
      const auto at = value.find('@');
      if (at != 1) usage("--dtmf wants KEY@MS");
      o.dtmf_key = value[0];
      o.dtmf_at_ms = std::atoi(value.c_str() + 2);
    } else if (arg == "--inband") {
      if (value.find('@') != 1) usage("--inband wants KEY@MS");
      o.inband_key = value[0];
      o.inband_at_ms = std::atoi(value.c_str() + 2);
    } else if (arg == "--te-pt") {
      o.te_pt = std::atoi(value.c_str());
    } else if (arg == "--seconds") {
      o.seconds = std::atoi(value.c_str());
    } else {
      usage(("unknown option " + arg).c_str());
    }
  }
  if (o.port <= 0 || o.port > 65534 || o.out.empty()) usage("--port and --out are required");
  return o;
}

int bind_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "rtp_probe: cannot bind 127.0.0.1:%d: %s\n", port, std::strerror(errno));
    std::exit(1);
  }
  return fd;
}

// One 20 ms PCMU frame of a tone at -10 dBov, phase continuous across frames.
std::array<std::uint8_t, kFrame> tone_frame(int hz, std::uint64_t frame_index) {
  std::array<std::int16_t, kFrame> pcm{};
  for (std::size_t i = 0; i < kFrame; ++i) {
    const double t = static_cast<double>(frame_index * kFrame + i) / 8000.0;
    pcm[i] = hz == 0 ? 0 : static_cast<std::int16_t>(10362.0 * std::sin(2 * M_PI * hz * t));
  }
  std::array<std::uint8_t, kFrame> out{};
  encode(G711::kUlaw, pcm, out);
  return out;
}

// One 20 ms PCMU frame of a DTMF key's two tones (ITU-T Q.23), about -10 dBm0 each.
std::array<std::uint8_t, kFrame> dtmf_frame(char key, std::uint64_t frame_index) {
  static const char* const kKeys = "123A456B789C*0#D";
  static const double kLow[] = {697, 770, 852, 941};
  static const double kHigh[] = {1209, 1336, 1477, 1633};
  const char* at = std::strchr(kKeys, key);
  const auto index = at == nullptr ? 0 : at - kKeys;
  std::array<std::int16_t, kFrame> pcm{};
  for (std::size_t i = 0; i < kFrame; ++i) {
    const double t = static_cast<double>(frame_index * kFrame + i) / 8000.0;
    pcm[i] = static_cast<std::int16_t>(5000 * std::sin(2 * M_PI * kLow[index / 4] * t) +
                                       5000 * std::sin(2 * M_PI * kHigh[index % 4] * t));
  }
  std::array<std::uint8_t, kFrame> out{};
  encode(G711::kUlaw, pcm, out);
  return out;
}

// The share of the frame's power at `hz` (Goertzel).
double power_share(const std::vector<std::int16_t>& pcm, int hz) {
  const double w = 2 * M_PI * hz / 8000.0;
  const double coefficient = 2 * std::cos(w);
  double s1 = 0, s2 = 0, total = 0;
  for (auto x : pcm) {
    const double s0 = x + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += static_cast<double>(x) * x;
  }
  const double power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  if (total <= 0) return 0;
  return (2.0 * power / static_cast<double>(pcm.size())) / total;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const int rtp = bind_loopback(options.port);
  const int rtcp = bind_loopback(options.port + 1);
  std::FILE* out = std::fopen(options.out.c_str(), "w");
  if (out == nullptr) usage("cannot write --out");
  std::setvbuf(out, nullptr, _IOLBF, 0);

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(options.seconds);
  bool sending = false;
  sockaddr_in peer{};
  Clock::time_point send_start, next_send;
  std::uint64_t frames_sent = 0;
  std::uint16_t sequence = 1000;
  std::uint32_t timestamp = 50'000;
  const std::uint32_t ssrc = 0x50000000U + static_cast<std::uint32_t>(options.port);
  int dtmf_packets_sent = 0;
  std::uint32_t dtmf_timestamp = 0;
  std::uint64_t rtcp_received = 0;
  const auto expected_frames = [&](int hz) { return tone_frame(hz, 0); };

  std::array<std::uint8_t, 2048> buffer{};
  while (g_stop == 0 && Clock::now() < deadline) {
    int timeout_ms = 100;
    if (sending) {
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_send - Clock::now()).count();
      timeout_ms = static_cast<int>(std::max<long long>(0, std::min<long long>(wait, 100)));
    }
    pollfd fds[2] = {{rtp, POLLIN, 0}, {rtcp, POLLIN, 0}};
    ::poll(fds, 2, timeout_ms);
    for (;;) {
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(rtp, buffer.data(), buffer.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &length);
      if (n < 0) break;
      const auto now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      const auto packet =
          parse_rtp(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
      if (!packet) {
        std::fprintf(out, "%lld - - - malformed 0 0\n", static_cast<long long>(now_ms));
        continue;
      }
      if (!sending) {
        sending = true;
        peer = from;
        send_start = next_send = Clock::now();
      }
      std::string cls = "other";
      int exact = 0;
      double level = 0;
      if (packet->header.payload_type == 0 || packet->header.payload_type == 8) {
        std::vector<std::int16_t> pcm(packet->payload.size());
        decode(packet->header.payload_type == 0 ? G711::kUlaw : G711::kAlaw, packet->payload, pcm);
        for (auto x : pcm) level += std::abs(static_cast<double>(x));
        level /= std::max<std::size_t>(1, pcm.size());
        if (level < 32) cls = "silence";
        for (int hz : options.listen_for) {
          if (power_share(pcm, hz) >= 0.8) {
            cls = "tone" + std::to_string(hz);
            const auto want = expected_frames(hz);
            exact = packet->header.payload_type == 0 && packet->payload.size() == kFrame &&
                    std::equal(want.begin(), want.end(), packet->payload.begin());
          }
        }
      } else if (auto event = parse_telephone_event(packet->payload)) {
        cls = std::string("dtmf") + (dtmf_key(event->event) ? dtmf_key(event->event) : '?');
      }
      std::fprintf(out, "%lld %u %u %u %s %d %.0f\n", static_cast<long long>(now_ms),
                   packet->header.sequence, packet->header.payload_type, packet->header.ssrc,
                   cls.c_str(), exact, level);
    }
    while (::recv(rtcp, buffer.data(), buffer.size(), 0) > 0) ++rtcp_received;
    // Send what is due (catching up at most a few frames after a stall).
    for (int burst = 0; sending && Clock::now() >= next_send && burst < 5; ++burst) {
      std::array<std::uint8_t, kMaxRtpDatagram> datagram{};
      std::size_t size = 0;
      const auto since_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_send - send_start).count();
      if (options.dtmf_key != 0 && since_ms >= options.dtmf_at_ms && dtmf_packets_sent < 8) {
        // 5 updates of 20 ms, then the end packet three times.
        if (dtmf_packets_sent == 0) dtmf_timestamp = timestamp;
        TelephoneEvent event;
        event.event = dtmf_event(options.dtmf_key).value_or(0);
        event.end = dtmf_packets_sent >= 5;
        event.duration = static_cast<std::uint16_t>(160 * std::min(dtmf_packets_sent + 1, 5));
        std::array<std::uint8_t, 4> payload{};
        write_telephone_event(event, payload);
        RtpHeader h;
        h.marker = dtmf_packets_sent == 0;
        h.payload_type = static_cast<std::uint8_t>(options.te_pt);
        h.sequence = sequence++;
        h.timestamp = dtmf_timestamp;
        h.ssrc = ssrc;
        size = write_rtp(h, payload, datagram);
        ++dtmf_packets_sent;
      } else {
        const bool inband = options.inband_key != 0 && since_ms >= options.inband_at_ms &&
                            since_ms < options.inband_at_ms + 120;
        const auto frame = inband ? dtmf_frame(options.inband_key, frames_sent)
                                  : tone_frame(options.tone, frames_sent);
        RtpHeader h;
        h.payload_type = 0;
        h.sequence = sequence++;
        h.timestamp = timestamp;
        h.ssrc = ssrc;
        size = write_rtp(h, frame, datagram);
      }
      timestamp += kFrame;
      ++frames_sent;
      ::sendto(rtp, datagram.data(), size, 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer);
      next_send += std::chrono::milliseconds(20);
    }
  }
  std::fprintf(out, "# sent %llu rtcp_received %llu\n",
               static_cast<unsigned long long>(frames_sent),
               static_cast<unsigned long long>(rtcp_received));
  std::fclose(out);
  return 0;
}
