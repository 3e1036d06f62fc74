#include "engine/media/asio_media_engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sndfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/media/rtcp.h"
#include "engine/media/rtp_packet.h"

namespace acd::media {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr int kWaitMs = 10'000;  // generous: a loaded CI machine

int bind_udp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// An RTP/RTCP socket pair on adjacent loopback ports.
struct SocketPair {
  int rtp = -1, rtcp = -1;
  std::uint16_t port = 0;
  SocketPair() {
    for (int tries = 0; tries < 200 && rtp < 0; ++tries) {
      const int probe = bind_udp(0);
      const std::uint16_t p = port_of(probe) & ~1U;
      ::close(probe);
      rtp = bind_udp(p);
      if (rtp < 0) continue;
      rtcp = bind_udp(static_cast<std::uint16_t>(p + 1));
      if (rtcp < 0) {
        ::close(rtp);
        rtp = -1;
        continue;
      }
      port = p;
    }
    REQUIRE(rtp >= 0);
  }
};

// A phone or trunk on the far side of a stream.
struct Peer {
  SocketPair sockets;
  ~Peer() {
    ::close(sockets.rtp);
    ::close(sockets.rtcp);
  }
  [[nodiscard]] std::uint16_t port() const { return sockets.port; }
  void send_raw(const Bytes& datagram, std::uint16_t to_port, int fd = -1) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to_port);
    ::sendto(fd < 0 ? sockets.rtp : fd, datagram.data(), datagram.size(), 0,
             reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  void send_rtp(const RtpHeader& h, const Bytes& payload, std::uint16_t to_port) const {
    Bytes packet(kMaxRtpDatagram);
    packet.resize(write_rtp(h, payload, packet));
    send_raw(packet, to_port);
  }
  std::optional<Bytes> receive(int fd = -1, int timeout_ms = kWaitMs) const {
    pollfd p{fd < 0 ? sockets.rtp : fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    Bytes buffer(2048);
    const ssize_t n = ::recv(p.fd, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
  std::optional<RtpPacket> receive_rtp(Bytes& storage) const {
    auto datagram = receive();
    if (!datagram) return std::nullopt;
    storage = std::move(*datagram);
    return parse_rtp(storage);
  }
};

// An engine stream: its sockets (handed to the engine) and where a test sends to it.
struct EngineSide {
  SocketPair sockets;
  StreamSockets handover() const { return {sockets.rtp, sockets.rtcp}; }
};

StreamMedia media_to(const Peer& peer, Codec codec = Codec::kPcmu, int te = 101) {
  StreamMedia m;
  m.remote_address = "127.0.0.1";
  m.remote_port = peer.port();
  m.codec = codec;
  m.payload_type = codec == Codec::kPcmu ? 0 : 8;
  m.telephone_event_payload_type = te;
  return m;
}

MohClass counting_class(MohMode mode) {
  // Frame n of the class: every sample encodes to a byte that names n (a ramp of levels).
  std::vector<std::int16_t> pcm(kFrameSamples * 8);
  for (std::size_t i = 0; i < pcm.size(); ++i)
    pcm[i] = static_cast<std::int16_t>(1000 * (1 + static_cast<int>(i / kFrameSamples)));
  MohClass c;
  c.name = "ramp";
  c.mode = mode;
  c.audio = std::make_shared<const EncodedAudio>(pcm);
  return c;
}

Bytes frame_bytes(std::uint8_t value) {
  return Bytes(kFrameSamples, value);
}

// What the engine reported on its thread, for a test to wait on.
template <typename T>
struct EventLog {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<T> items;
  void add(T item) {
    {
      std::lock_guard lock(mutex);
      items.push_back(std::move(item));
    }
    changed.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::milliseconds(kWaitMs),
                            [&] { return items.size() >= n; });
  }
};

// ctest runs the engine tests twice: as they are (io_uring where the kernel allows it) and
// with ACD_MEDIA_IO=epoll.
AsioMediaOptions with_io_from_environment(AsioMediaOptions options) {
  const char* io = std::getenv("ACD_MEDIA_IO");
  if (io != nullptr && std::string(io) == "epoll") options.io_uring = false;
  return options;
}

struct Fixture {
  EventLog<std::pair<StreamId, char>> keys;
  EventLog<std::tuple<StreamId, std::uint64_t, bool>> prompts;
  EventLog<RecordingResult> recordings;
  AsioMediaEngine engine;
  explicit Fixture(AsioMediaOptions options = {})
      : engine(with_io_from_environment(std::move(options)),
               MediaEvents{[this](StreamId id, char key) {
                             keys.add({id, key});
                           },
                           [this](StreamId id, std::uint64_t token, bool completed) {
                             prompts.add({id, token, completed});
                           },
                           [this](const RecordingResult& result) { recordings.add(result); }}) {
    engine.start();
  }
};

// Returns when the engine has run every command given before: commands run in order, so
// an empty prompt list played on a scratch stream reports its end after them.
void wait_until_commands_ran(Fixture& f) {
  constexpr StreamId kScratch = 9999;
  constexpr std::uint64_t kToken = 0xba551e;
  EngineSide scratch;
  StreamMedia m;
  m.remote_address = "127.0.0.1";
  m.remote_port = 9;  // never sent to: the empty prompt list plays nothing
  f.engine.open_stream(kScratch, scratch.handover(), m);
  std::size_t before = 0;
  {
    std::lock_guard lock(f.prompts.mutex);
    before = f.prompts.items.size();
  }
  f.engine.play_prompts(kScratch, {}, kToken);
  REQUIRE(f.prompts.wait_for(before + 1));
  f.engine.close_stream(kScratch);
}

// `frames` 20 ms frames of one level (a clip whose frames are told apart by level).
Clip level_clip(std::int16_t level, std::size_t frames) {
  return std::make_shared<const EncodedAudio>(
      std::vector<std::int16_t>(frames * kFrameSamples, level));
}

// PCMU frames of a DTMF key's two tones (RFC 4733 table / ITU-T Q.23), -10 dBm0 each.
std::vector<Bytes> dtmf_tone_frames(double low, double high, std::size_t frames) {
  std::vector<Bytes> out;
  for (std::size_t f = 0; f < frames; ++f) {
    std::vector<std::int16_t> pcm(kFrameSamples);
    for (std::size_t i = 0; i < kFrameSamples; ++i) {
      const double t = static_cast<double>(f * kFrameSamples + i) / 8000.0;
      pcm[i] = static_cast<std::int16_t>(5000 * std::sin(2 * M_PI * low * t) +
                                         5000 * std::sin(2 * M_PI * high * t));
    }
    Bytes frame(kFrameSamples);
    encode(G711::kUlaw, pcm, frame);
    out.push_back(frame);
  }
  return out;
}

TEST_CASE("the engine uses the socket I/O it was told to", "[media][engine]") {
  Fixture f;
  const std::string backend = f.engine.io_backend();
  const char* io = std::getenv("ACD_MEDIA_IO");
  if (io != nullptr && std::string(io) == "epoll") {
    CHECK(backend == "epoll");
  } else {
    // io_uring unless the kernel refuses it (then the engine said why in a warning).
    CHECK((backend == "io_uring" || backend == "epoll"));
    if (backend != "io_uring") WARN("io_uring is not available here: the engine uses epoll");
  }
  AsioMediaOptions off;
  off.io_uring = false;
  AsioMediaEngine plain(off, MediaEvents{});
  CHECK(std::string(plain.io_backend()) == "epoll");
}

TEST_CASE("music on hold arrives as a paced, numbered 20 ms stream", "[media][engine]") {
  Fixture f;
  f.engine.set_moh_classes({counting_class(MohMode::kFromStart)});
  Peer caller;
  EngineSide side;
  f.engine.open_stream(1, side.handover(), media_to(caller));
  f.engine.play_moh(1, "ramp");
  const auto expected = counting_class(MohMode::kFromStart);
  Bytes storage;
  std::optional<RtpHeader> previous;
  for (std::size_t n = 0; n < 60; ++n) {
    const auto packet = caller.receive_rtp(storage);
    REQUIRE(packet);
    CHECK(packet->header.payload_type == 0);
    CHECK(packet->payload.size() == kFrameSamples);
    const auto want = expected.audio->frame(G711::kUlaw, n);
    CHECK(std::equal(want.begin(), want.end(), packet->payload.begin()));
    if (previous) {
      CHECK(packet->header.ssrc == previous->ssrc);
      CHECK(packet->header.sequence == static_cast<std::uint16_t>(previous->sequence + 1));
      CHECK(packet->header.timestamp == previous->timestamp + kFrameSamples);
      CHECK_FALSE(packet->header.marker);
    } else {
      CHECK(packet->header.marker);
    }
    previous = packet->header;
  }
  CHECK(f.engine.stats().playing == 1);
  f.engine.silence(1);
  f.engine.close_stream(1);
}

TEST_CASE("shared music plays one position to every listener", "[media][engine]") {
  Fixture f;
  f.engine.set_moh_classes({counting_class(MohMode::kShared)});
  Peer a, b;
  EngineSide sa, sb;
  f.engine.open_stream(1, sa.handover(), media_to(a));
  f.engine.open_stream(2, sb.handover(), media_to(b, Codec::kPcma, -1));
  f.engine.play_moh(1, "ramp");
  f.engine.play_moh(2, "no-such-class");  // falls back to the first class
  // Both hear the same frame at the same tick: compare the decoded levels of a few packets.
  Bytes sa_storage, sb_storage;
  int same = 0;
  for (int i = 0; i < 20; ++i) {
    auto pa = a.receive_rtp(sa_storage);
    auto pb = b.receive_rtp(sb_storage);
    REQUIRE(pa);
    REQUIRE(pb);
    CHECK(pb->header.payload_type == 8);
    if (std::lround(ulaw_to_linear(pa->payload[0]) / 1000.0) ==
        std::lround(alaw_to_linear(pb->payload[0]) / 1000.0))
      ++same;
  }
  CHECK(same >= 18);  // the two may straddle one tick at the start
}

TEST_CASE("a bridge relays both ways, transcoding and passing DTMF through", "[media][engine]") {
  Fixture f;
  Peer caller, agent;
  EngineSide caller_side, agent_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller, Codec::kPcmu, 101));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent, Codec::kPcma, 96));
  f.engine.bridge(1, 2);
  RtpHeader h;
  h.ssrc = 0xC0FFEE;
  h.payload_type = 0;
  Bytes storage;
  // Caller to agent: PCMU in, PCMA out, payload converted sample by sample.
  const Bytes voice = frame_bytes(0x9A);
  for (std::uint16_t i = 0; i < 5; ++i) {
    h.sequence = static_cast<std::uint16_t>(100 + i);
    h.timestamp = 1000 + i * 160U;
    caller.send_rtp(h, voice, caller_side.sockets.port);
    const auto out = agent.receive_rtp(storage);
    REQUIRE(out);
    CHECK(out->header.payload_type == 8);
    CHECK(out->header.ssrc != h.ssrc);
    CHECK(out->payload.size() == kFrameSamples);
    CHECK(out->payload[0] == linear_to_alaw(ulaw_to_linear(0x9A)));
    CHECK(out->header.marker == (i == 0));
  }
  // Agent to caller.
  RtpHeader g;
  g.ssrc = 0xBEEF;
  g.payload_type = 8;
  g.sequence = 7;
  agent.send_rtp(g, frame_bytes(0x55), agent_side.sockets.port);
  const auto back = caller.receive_rtp(storage);
  REQUIRE(back);
  CHECK(back->header.payload_type == 0);
  CHECK(back->payload[0] == linear_to_ulaw(alaw_to_linear(0x55)));
  // The caller presses 5: reported once, relayed with the agent's event type.
  RtpHeader e = h;
  e.payload_type = 101;
  e.timestamp = 5000;
  for (std::uint16_t i = 0; i < 4; ++i) {
    e.sequence = static_cast<std::uint16_t>(105 + i);
    e.marker = i == 0;
    TelephoneEvent event;
    event.event = 5;
    event.end = i == 3;
    event.duration = static_cast<std::uint16_t>(160 * (i + 1));
    Bytes payload(4);
    write_telephone_event(event, std::span<std::uint8_t, 4>(payload.data(), 4));
    caller.send_rtp(e, payload, caller_side.sockets.port);
    const auto relayed = agent.receive_rtp(storage);
    REQUIRE(relayed);
    CHECK(relayed->header.payload_type == 96);
    CHECK(parse_telephone_event(relayed->payload)->event == 5);
  }
  REQUIRE(f.keys.wait_for(1));
  {
    std::lock_guard lock(f.keys.mutex);
    CHECK(f.keys.items.size() == 1);
    CHECK(f.keys.items[0] == std::pair<StreamId, char>(1, '5'));
  }
  const auto stats = f.engine.stats();
  CHECK(stats.bridges == 1);
  CHECK(stats.packets_relayed == 10);
  CHECK(stats.dtmf_keys == 1);
}

TEST_CASE("bad media input is dropped and counted, and the stream goes on", "[media][engine]") {
  Fixture f;
  Peer caller, agent, stranger;
  EngineSide caller_side, agent_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent));
  f.engine.bridge(1, 2);
  const std::uint16_t to = caller_side.sockets.port;
  RtpHeader h;
  h.ssrc = 9;
  h.sequence = 1;
  caller.send_rtp(h, frame_bytes(1), to);  // latches the caller
  Bytes storage;
  REQUIRE(agent.receive_rtp(storage));

  caller.send_raw(Bytes{0x80, 0x00, 0x01}, to);                          // too short
  caller.send_raw(Bytes(3000, 0x80), to);                                // oversized
  caller.send_raw(Bytes{0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 1}, to);  // version 1
  caller.send_raw(Bytes{0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, to);   // RTCP on the RTP port
  RtpHeader wrong = h;
  wrong.payload_type = 18;  // G.729, not negotiated
  wrong.sequence = 2;
  caller.send_rtp(wrong, frame_bytes(2), to);
  for (std::uint16_t i = 0; i < 5; ++i) {  // a stranger's run while the caller talks
    RtpHeader s = h;
    s.sequence = static_cast<std::uint16_t>(500 + i);
    stranger.send_rtp(s, frame_bytes(3), to);
  }
  std::mt19937 random(7);
  // Random garbage of random sizes (few enough to fit the socket's receive buffer).
  for (int i = 0; i < 100; ++i) {
    Bytes junk(random() % 400);
    for (auto& b : junk) b = static_cast<std::uint8_t>(random());
    caller.send_raw(junk, to);
  }
  h.sequence = 3;
  caller.send_rtp(h, frame_bytes(4), to);
  // Whatever the garbage held, the next real packet still gets through...
  std::optional<RtpPacket> out;
  for (int i = 0; i < 250; ++i) {
    out = agent.receive_rtp(storage);
    REQUIRE(out);
    if (out->payload.size() == kFrameSamples && out->payload[0] == 4) break;
  }
  REQUIRE(out);
  CHECK(out->payload[0] == 4);
  // ...and everything else was dropped and counted by reason.
  const auto stats = f.engine.stats();
  auto dropped = [&](DropReason r) { return stats.dropped[static_cast<std::size_t>(r)]; };
  CHECK(dropped(DropReason::kTooShort) >= 1);
  CHECK(dropped(DropReason::kTooLong) == 1);  // 1472 and above: only the 3000-byte one
  CHECK(dropped(DropReason::kBadVersion) >= 1);
  CHECK(dropped(DropReason::kRtcpOnRtpPort) >= 1);
  CHECK(dropped(DropReason::kWrongPayloadType) >= 1);
  CHECK(dropped(DropReason::kUnexpectedSource) == 5);
  CHECK(stats.packets_received >= 2);
}

TEST_CASE("a peer behind NAT is latched after a run and then sent to", "[media][engine]") {
  Fixture f;
  f.engine.set_moh_classes({counting_class(MohMode::kShared)});
  Peer natted, nowhere;  // SDP names `nowhere`; packets really come from `natted`
  EngineSide side;
  f.engine.open_stream(1, side.handover(), media_to(nowhere));
  f.engine.play_moh(1, "ramp");
  Bytes storage;
  REQUIRE(nowhere.receive_rtp(storage));  // before latching: to the signalled address
  RtpHeader h;
  h.ssrc = 1;
  for (std::uint16_t i = 0; i < 3; ++i) {
    h.sequence = static_cast<std::uint16_t>(10 + i);
    natted.send_rtp(h, frame_bytes(1), side.sockets.port);
  }
  REQUIRE(natted.receive_rtp(storage));  // now the music comes here
  CHECK(f.engine.stats().latches == 1);
  CHECK(f.engine.stats().dropped[static_cast<std::size_t>(DropReason::kLearning)] == 2);
}

TEST_CASE("streams send RTCP sender reports with a reception block", "[media][engine]") {
  AsioMediaOptions options;
  options.rtcp_interval = std::chrono::milliseconds(100);
  Fixture f(options);
  f.engine.set_moh_classes({counting_class(MohMode::kShared)});
  Peer caller;
  EngineSide side;
  f.engine.open_stream(1, side.handover(), media_to(caller));
  f.engine.play_moh(1, "ramp");
  RtpHeader h;
  h.ssrc = 0xABCD;
  h.sequence = 1;
  caller.send_rtp(h, frame_bytes(1), side.sockets.port);
  // The first report may come before the caller's packet was read; wait for one with a block.
  bool with_block = false;
  for (int i = 0; i < 20 && !with_block; ++i) {
    auto report = caller.receive(caller.sockets.rtcp);
    REQUIRE(report);
    REQUIRE(is_rtcp(*report));
    CHECK((*report)[1] == 200);
    with_block = ((*report)[0] & 0x1F) == 1;
    if (with_block)
      CHECK(((*report)[28] << 24 | (*report)[29] << 16 | (*report)[30] << 8 | (*report)[31]) ==
            0xABCD);
  }
  CHECK(with_block);
  // RTCP the caller sends is read and counted.
  caller.send_raw(Bytes{0x80, 201, 0, 1, 0, 0, 0xAB, 0xCD},
                  static_cast<std::uint16_t>(side.sockets.port + 1), caller.sockets.rtcp);
  h.sequence = 2;
  caller.send_rtp(h, frame_bytes(1), side.sockets.port);
  REQUIRE(caller.receive());
  // Counting happens on the media thread; the RTCP datagram was sent first but on another
  // socket, so wait for it through the reports the engine keeps sending.
  for (int i = 0; i < 50 && f.engine.stats().rtcp_received == 0; ++i)
    caller.receive(caller.sockets.rtcp);
  CHECK(f.engine.stats().rtcp_received == 1);
  CHECK(f.engine.stats().rtcp_sent >= 1);
}

TEST_CASE("prompts play in order, then silence, and report their end", "[media][engine]") {
  Fixture f;
  Peer caller;
  EngineSide side;
  f.engine.open_stream(1, side.handover(), media_to(caller));
  f.engine.play_prompts(1, {level_clip(4000, 3), nullptr, level_clip(-8000, 2)}, 42);
  Bytes storage;
  std::vector<int> levels;
  for (int i = 0; i < 7; ++i) {
    const auto packet = caller.receive_rtp(storage);
    REQUIRE(packet);
    levels.push_back(ulaw_to_linear(packet->payload[0]));
  }
  CHECK(levels[0] > 3800);
  CHECK(levels[2] > 3800);
  CHECK(levels[3] < -7600);
  CHECK(levels[4] < -7600);
  CHECK(levels[5] == 0);  // then silence, still 50 packets/s
  CHECK(levels[6] == 0);
  REQUIRE(f.prompts.wait_for(1));
  {
    std::lock_guard lock(f.prompts.mutex);
    CHECK(f.prompts.items[0] == std::tuple<StreamId, std::uint64_t, bool>(1, 42, true));
  }
  // A sequence replaced before its end reports that too.
  f.engine.play_prompts(1, {level_clip(4000, 500)}, 43);
  f.engine.silence(1);
  REQUIRE(f.prompts.wait_for(2));
  std::lock_guard lock(f.prompts.mutex);
  CHECK(f.prompts.items[1] == std::tuple<StreamId, std::uint64_t, bool>(1, 43, false));
}

TEST_CASE("in-band DTMF tones are heard when asked for", "[media][engine]") {
  Fixture f;
  Peer caller, agent;
  EngineSide side, agent_side;
  f.engine.open_stream(1, side.handover(), media_to(caller, Codec::kPcmu, -1));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent));
  f.engine.bridge(1, 2);  // the agent's copy tells when the engine has read the packets
  RtpHeader h;
  h.ssrc = 3;
  std::uint16_t seq = 0;
  auto send_key = [&](double low, double high) {
    for (const auto& frame : dtmf_tone_frames(low, high, 5)) {
      h.sequence = seq++;
      caller.send_rtp(h, frame, side.sockets.port);
    }
    for (int i = 0; i < 5; ++i) {
      h.sequence = seq++;
      caller.send_rtp(h, frame_bytes(kUlawSilence), side.sockets.port);
    }
  };
  send_key(852, 1209);  // '7' while detection is off: not heard
  Bytes storage;
  for (int i = 0; i < 10; ++i) REQUIRE(agent.receive_rtp(storage));
  f.engine.detect_inband_dtmf(1, true);
  wait_until_commands_ran(f);  // else input already read may race the command
  send_key(852, 1209);         // '7'
  send_key(941, 1477);         // '#'
  REQUIRE(f.keys.wait_for(2));
  std::lock_guard lock(f.keys.mutex);
  CHECK(f.keys.items == std::vector<std::pair<StreamId, char>>{{1, '7'}, {1, '#'}});
}

// The frames of a recording, as read back with libsndfile.
std::vector<std::int16_t> read_wav(const std::string& path, int& channels) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  REQUIRE(f != nullptr);
  channels = info.channels;
  std::vector<std::int16_t> samples(static_cast<std::size_t>(info.frames * info.channels));
  sf_readf_short(f, samples.data(), info.frames);
  sf_close(f);
  return samples;
}

TEST_CASE("a bridged call is recorded in stereo, caller left, agent right", "[media][engine]") {
  const auto mode = GENERATE(RecordingMode::kStereo, RecordingMode::kMixed);
  Fixture f;
  Peer caller, agent;
  EngineSide caller_side, agent_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent, Codec::kPcma));
  f.engine.bridge(1, 2);
  const std::string path =
      "/tmp/acd-recording-test-" + std::to_string(::getpid()) + "/" + to_string(mode) + "/call.wav";
  f.engine.start_recording(1, path, mode, 77);
  RtpHeader c, a;
  c.ssrc = 1;
  a.ssrc = 2;
  a.payload_type = 8;
  const Bytes caller_voice = frame_bytes(linear_to_ulaw(4000));
  const Bytes agent_voice = frame_bytes(linear_to_alaw(-8000));
  Bytes storage;
  for (std::uint16_t i = 0; i < 25; ++i) {  // half a second, paced like real phones
    c.sequence = a.sequence = i;
    c.timestamp = a.timestamp = i * 160U;
    caller.send_rtp(c, caller_voice, caller_side.sockets.port);
    agent.send_rtp(a, agent_voice, agent_side.sockets.port);
    REQUIRE(agent.receive_rtp(storage));
    REQUIRE(caller.receive_rtp(storage));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  f.engine.stop_recording(1);
  REQUIRE(f.recordings.wait_for(1));
  const RecordingResult result = [&] {
    std::lock_guard lock(f.recordings.mutex);
    return f.recordings.items[0];
  }();
  CHECK(result.ok);
  CHECK(result.token == 77);
  CHECK(result.path == path);
  CHECK(result.duration_ms() >= 400);
  int channels = 0;
  const auto samples = read_wav(path, channels);
  CHECK(samples.size() / static_cast<std::size_t>(channels) == result.frames);
  std::size_t left = 0, right = 0, both = 0;
  for (std::size_t i = 0; i + static_cast<std::size_t>(channels) <= samples.size();
       i += static_cast<std::size_t>(channels)) {
    if (mode == RecordingMode::kStereo) {
      left += std::abs(samples[i] - 4000) < 200;
      right += std::abs(samples[i + 1] + 8000) < 400;
    } else {
      both += std::abs(samples[i] + 4000) < 500;  // 4000 + (-8000)
    }
  }
  if (mode == RecordingMode::kStereo) {
    CHECK(channels == 2);
    CHECK(left >= 20 * kFrameSamples);
    CHECK(right >= 20 * kFrameSamples);
  } else {
    CHECK(channels == 1);
    CHECK(both >= 15 * kFrameSamples);
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path().parent_path());
}

TEST_CASE("closing a stream in a bridge leaves its partner quiet", "[media][engine]") {
  Fixture f;
  Peer caller, agent;
  EngineSide caller_side, agent_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent));
  f.engine.bridge(1, 2);
  f.engine.close_stream(2);
  f.engine.close_stream(2);   // twice: harmless
  f.engine.play_moh(7, "x");  // unknown stream: harmless
  RtpHeader h;
  h.sequence = 1;
  caller.send_rtp(h, frame_bytes(1), caller_side.sockets.port);
  CHECK_FALSE(agent.receive(-1, 300));
  f.engine.stop();
  CHECK(f.engine.stats().streams == 0);
  CHECK(f.engine.stats().bridges == 0);
}

// ---- mixes: conferences and supervisors listening in ----

// The amplitude of the `hz` component of a frame (Goertzel; 8 kHz, so a 160-sample frame
// has 50 Hz bins and the test tones sit on bins).
double tone_amplitude(std::span<const std::int16_t> pcm, double hz) {
  const double coeff = 2 * std::cos(2 * M_PI * hz / kSampleRate);
  double s1 = 0, s2 = 0;
  for (const std::int16_t x : pcm) {
    const double s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 2 * std::sqrt(std::max(power, 0.0)) / static_cast<double>(pcm.size());
}

constexpr double kToneLevel = 4000;

// Phones talking at once, each a steady sine of its own, paced every 20 ms on an absolute
// schedule from a thread of its own.
class Talkers {
 public:
  struct Voice {
    const Peer* peer;
    std::uint16_t to_port;  // the engine side of its stream
    double hz;
    Codec codec = Codec::kPcmu;
  };
  explicit Talkers(std::vector<Voice> voices)
      : voices_(std::move(voices)), thread_([this] { run(); }) {}
  ~Talkers() {
    stop_ = true;
    thread_.join();
  }
  Talkers(const Talkers&) = delete;
  Talkers& operator=(const Talkers&) = delete;

 private:
  void run() {
    auto next = std::chrono::steady_clock::now();
    for (std::uint32_t n = 0; !stop_; ++n) {
      for (std::size_t v = 0; v < voices_.size(); ++v) {
        const Voice& voice = voices_[v];
        std::vector<std::int16_t> pcm(kFrameSamples);
        for (std::size_t i = 0; i < kFrameSamples; ++i) {
          const double t = static_cast<double>(n * kFrameSamples + i) / kSampleRate;
          pcm[i] = static_cast<std::int16_t>(kToneLevel * std::sin(2 * M_PI * voice.hz * t));
        }
        Bytes frame(kFrameSamples);
        encode(voice.codec == Codec::kPcmu ? G711::kUlaw : G711::kAlaw, pcm, frame);
        RtpHeader h;
        h.ssrc = static_cast<std::uint32_t>(0x1000 + v);
        h.payload_type = voice.codec == Codec::kPcmu ? 0 : 8;
        h.sequence = static_cast<std::uint16_t>(n);
        h.timestamp = n * static_cast<std::uint32_t>(kFrameSamples);
        h.marker = n == 0;
        voice.peer->send_rtp(h, frame, voice.to_port);
      }
      next += std::chrono::milliseconds(20);
      std::this_thread::sleep_until(next);
    }
  }

  const std::vector<Voice> voices_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Tones a listener should (heard) or should not hear.
struct Tone {
  double hz;
  bool heard;
};

// Discards what a peer has received so far.
void drain(const Peer& peer) {
  while (peer.receive(-1, 0)) {
  }
}

// Reads the listener's audio until 5 frames in a row hear exactly the tones marked heard
// (a heard tone above half its level, any other below a tenth), then requires 20 of the
// next 25 frames to match as well (a frame may fall short when a packet and a clock tick
// cross). Empty when it does; what it heard otherwise.
std::string settles_on(const Peer& listener, Codec codec, const std::vector<Tone>& tones) {
  const std::uint8_t pt = codec == Codec::kPcmu ? 0 : 8;
  const G711 law = codec == Codec::kPcmu ? G711::kUlaw : G711::kAlaw;
  std::ostringstream last;
  auto matches = [&](const RtpPacket& packet) {
    std::vector<std::int16_t> pcm(packet.payload.size());
    decode(law, packet.payload, pcm);
    last.str("");
    bool ok = true;
    for (const Tone& tone : tones) {
      const double a = tone_amplitude(pcm, tone.hz);
      last << tone.hz << " Hz: " << std::lround(a) << (tone.heard ? " (want)" : " (not)") << "; ";
      ok = ok && (tone.heard ? a > kToneLevel / 2 : a < kToneLevel / 10);
    }
    return ok;
  };
  Bytes storage;
  auto next_audio = [&]() -> std::optional<RtpPacket> {
    for (int i = 0; i < 50; ++i) {  // telephone-events are skipped
      auto packet = listener.receive_rtp(storage);
      if (!packet) return std::nullopt;
      if (packet->header.payload_type == pt && packet->payload.size() == kFrameSamples)
        return packet;
    }
    return std::nullopt;
  };
  int in_a_row = 0;
  for (int frames = 0; frames < 500 && in_a_row < 5; ++frames) {
    auto packet = next_audio();
    if (!packet) return "no audio (payload type " + std::to_string(pt) + ")";
    in_a_row = matches(*packet) ? in_a_row + 1 : 0;
  }
  if (in_a_row < 5) return "never settled; last frame: " + last.str();
  int good = 0;
  std::string bad;
  for (int i = 0; i < 25; ++i) {
    auto packet = next_audio();
    if (!packet) return "audio stopped";
    if (matches(*packet)) {
      ++good;
    } else {
      bad = last.str();
    }
  }
  if (good < 20) return std::to_string(good) + " of 25 frames matched; e.g. " + bad;
  return "";
}

// Polls the engine's stats (updated on the media thread) until `done` holds.
template <typename Predicate>
bool stats_reach(const AsioMediaEngine& engine, Predicate done) {
  for (int i = 0; i < kWaitMs / 5; ++i) {
    if (done(engine.stats())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

constexpr double kCallerHz = 400, kAgentHz = 1000, kSupervisorHz = 1800, kFourthHz = 2600;

TEST_CASE("to_string names listen modes", "[media][engine][mix]") {
  CHECK(std::string(to_string(ListenMode::kMonitor)) == "monitor");
  CHECK(std::string(to_string(ListenMode::kWhisper)) == "whisper");
  CHECK(std::string(to_string(ListenMode::kBarge)) == "barge");
}

TEST_CASE("a supervisor monitors, whispers and barges in, then leaves", "[media][engine][mix]") {
  Fixture f;
  Peer caller, agent, supervisor;
  EngineSide caller_side, agent_side, supervisor_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent, Codec::kPcma, 96));
  f.engine.open_stream(3, supervisor_side.handover(), media_to(supervisor));
  f.engine.listen_in(3, 1, 2, ListenMode::kMonitor);  // no call between them yet: ignored
  f.engine.bridge(1, 2);
  REQUIRE(stats_reach(f.engine, [](const MediaStats& s) { return s.bridges == 1; }));
  CHECK(f.engine.stats().mixes == 0);
  Talkers talkers({{&caller, caller_side.sockets.port, kCallerHz},
                   {&agent, agent_side.sockets.port, kAgentHz, Codec::kPcma},
                   {&supervisor, supervisor_side.sockets.port, kSupervisorHz}});
  const Codec pcmu = Codec::kPcmu, pcma = Codec::kPcma;
  CHECK(settles_on(caller, pcmu, {{kCallerHz, false}, {kAgentHz, true}}).empty());

  SECTION("monitor, whisper, barge and back; leaving restores the bridge") {
    // Monitor: the supervisor hears both, nobody hears the supervisor.
    f.engine.listen_in(3, 1, 2, ListenMode::kMonitor);
    CHECK(settles_on(supervisor, pcmu,
                     {{kCallerHz, true}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");
    drain(caller);
    drain(agent);
    CHECK(settles_on(caller, pcmu,
                     {{kCallerHz, false}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");
    CHECK(settles_on(agent, pcma, {{kCallerHz, true}, {kAgentHz, false}, {kSupervisorHz, false}}) ==
          "");
    CHECK(f.engine.stats().mixes == 1);
    CHECK(f.engine.stats().bridges == 0);

    // Whisper: the agent hears the supervisor too, the caller still does not.
    f.engine.listen_in(3, 1, 2, ListenMode::kWhisper);
    CHECK(settles_on(agent, pcma, {{kCallerHz, true}, {kAgentHz, false}, {kSupervisorHz, true}}) ==
          "");
    drain(caller);
    drain(supervisor);
    CHECK(settles_on(caller, pcmu,
                     {{kCallerHz, false}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");
    CHECK(settles_on(supervisor, pcmu,
                     {{kCallerHz, true}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");

    // Barge: everybody hears the two others.
    f.engine.listen_in(3, 1, 2, ListenMode::kBarge);
    CHECK(settles_on(caller, pcmu, {{kCallerHz, false}, {kAgentHz, true}, {kSupervisorHz, true}}) ==
          "");
    drain(agent);
    drain(supervisor);
    CHECK(settles_on(agent, pcma, {{kCallerHz, true}, {kAgentHz, false}, {kSupervisorHz, true}}) ==
          "");
    CHECK(settles_on(supervisor, pcmu,
                     {{kCallerHz, true}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");

    // Back to monitoring: the supervisor goes quiet for both.
    f.engine.listen_in(3, 1, 2, ListenMode::kMonitor);
    CHECK(settles_on(caller, pcmu,
                     {{kCallerHz, false}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");
    drain(agent);
    CHECK(settles_on(agent, pcma, {{kCallerHz, true}, {kAgentHz, false}, {kSupervisorHz, false}}) ==
          "");
    CHECK(f.engine.stats().mixes == 1);

    // The supervisor leaves: caller and agent are a plain bridge again.
    f.engine.leave_mix(3);
    REQUIRE(
        stats_reach(f.engine, [](const MediaStats& s) { return s.mixes == 0 && s.bridges == 1; }));
    drain(supervisor);
    CHECK_FALSE(supervisor.receive(-1, 300));
    drain(caller);
    drain(agent);
    CHECK(settles_on(caller, pcmu, {{kAgentHz, true}, {kSupervisorHz, false}}) == "");
    CHECK(settles_on(agent, pcma, {{kCallerHz, true}, {kSupervisorHz, false}}) == "");
  }

  SECTION("the caller hanging up leaves the supervisor monitoring the agent") {
    f.engine.listen_in(3, 1, 2, ListenMode::kMonitor);
    CHECK(settles_on(supervisor, pcmu,
                     {{kCallerHz, true}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");
    f.engine.close_stream(1);
    CHECK(settles_on(supervisor, pcmu, {{kCallerHz, false}, {kAgentHz, true}}) == "");
    drain(agent);
    CHECK(settles_on(agent, pcma, {{kCallerHz, false}, {kSupervisorHz, false}}) == "");
    CHECK(f.engine.stats().mixes == 1);
    // Music for the agent takes it out: the supervisor, alone, hears nothing more.
    f.engine.set_moh_classes({counting_class(MohMode::kShared)});
    f.engine.play_moh(2, "ramp");
    REQUIRE(stats_reach(f.engine, [](const MediaStats& s) { return s.mixes == 0; }));
    drain(supervisor);
    CHECK_FALSE(supervisor.receive(-1, 300));
    CHECK(f.engine.stats().bridges == 0);
  }
}

TEST_CASE("an agent's three-way conference, PCMU and PCMA mixed", "[media][engine][mix]") {
  Fixture f;
  Peer a, b, c, d;
  EngineSide sa, sb, sc, sd;
  f.engine.open_stream(1, sa.handover(), media_to(a));
  f.engine.open_stream(2, sb.handover(), media_to(b, Codec::kPcma));
  f.engine.open_stream(3, sc.handover(), media_to(c));
  f.engine.open_stream(4, sd.handover(), media_to(d, Codec::kPcma));
  f.engine.bridge(1, 2);
  f.engine.set_moh_classes({counting_class(MohMode::kShared)});
  f.engine.play_moh(3, "ramp");  // the third party on hold, then conferenced in
  Talkers talkers({{&a, sa.sockets.port, kCallerHz},
                   {&b, sb.sockets.port, kAgentHz, Codec::kPcma},
                   {&c, sc.sockets.port, kSupervisorHz},
                   {&d, sd.sockets.port, kFourthHz, Codec::kPcma}});
  const Codec pcmu = Codec::kPcmu, pcma = Codec::kPcma;
  f.engine.conference({1, 2, 3, 3, 99});  // a repeat and an unknown stream: skipped
  CHECK(settles_on(c, pcmu, {{kCallerHz, true}, {kAgentHz, true}, {kSupervisorHz, false}}) == "");
  drain(a);
  drain(b);
  CHECK(settles_on(a, pcmu, {{kCallerHz, false}, {kAgentHz, true}, {kSupervisorHz, true}}) == "");
  CHECK(settles_on(b, pcma, {{kCallerHz, true}, {kAgentHz, false}, {kSupervisorHz, true}}) == "");
  auto stats = f.engine.stats();
  CHECK(stats.mixes == 1);
  CHECK(stats.bridges == 0);
  CHECK(stats.playing == 0);

  // A fourth joins: the mix grows in place.
  f.engine.conference({1, 2, 3, 4});
  CHECK(settles_on(d, pcma, {{kCallerHz, true}, {kAgentHz, true}, {kSupervisorHz, true}}) == "");
  drain(a);
  CHECK(settles_on(a, pcmu, {{kAgentHz, true}, {kSupervisorHz, true}, {kFourthHz, true}}) == "");
  CHECK(f.engine.stats().mixes == 1);

  // Two leave: the last two are a plain bridge.
  f.engine.leave_mix(4);
  f.engine.close_stream(3);
  REQUIRE(stats_reach(f.engine, [](const MediaStats& s) {
    return s.mixes == 0 && s.bridges == 1 && s.streams == 3;
  }));
  drain(d);
  CHECK_FALSE(d.receive(-1, 300));
  drain(a);
  drain(b);
  CHECK(settles_on(a, pcmu, {{kAgentHz, true}, {kSupervisorHz, false}, {kFourthHz, false}}) == "");
  CHECK(settles_on(b, pcma, {{kCallerHz, true}, {kSupervisorHz, false}, {kFourthHz, false}}) == "");
}

TEST_CASE("DTMF events in a mix go to the members who hear the sender", "[media][engine][mix]") {
  Fixture f;
  Peer caller, agent, supervisor;
  EngineSide caller_side, agent_side, supervisor_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller, Codec::kPcmu, 101));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent, Codec::kPcma, 96));
  f.engine.open_stream(3, supervisor_side.handover(), media_to(supervisor, Codec::kPcmu, 101));
  f.engine.bridge(1, 2);
  f.engine.listen_in(3, 1, 2, ListenMode::kMonitor);
  REQUIRE(stats_reach(f.engine, [](const MediaStats& s) { return s.mixes == 1; }));
  auto press = [](const Peer& from, std::uint16_t to, std::uint8_t event, std::uint32_t ssrc) {
    RtpHeader e;
    e.ssrc = ssrc;
    e.payload_type = 101;
    e.timestamp = 8000;
    for (std::uint16_t i = 0; i < 5; ++i) {
      e.sequence = static_cast<std::uint16_t>(40 + i);
      e.marker = i == 0;
      TelephoneEvent te;
      te.event = event;
      te.end = i >= 3;  // the end packet sent twice, as RFC 4733 asks
      te.duration = static_cast<std::uint16_t>(160 * std::min(i + 1, 4));
      Bytes payload(4);
      write_telephone_event(te, std::span<std::uint8_t, 4>(payload.data(), 4));
      from.send_rtp(e, payload, to);
    }
  };
  // The monitoring supervisor's key is reported, but nobody hears it...
  press(supervisor, supervisor_side.sockets.port, 9, 0x99);
  REQUIRE(f.keys.wait_for(1));
  // ...the caller's reaches the agent (with the agent's event type) and the supervisor.
  press(caller, caller_side.sockets.port, 5, 0x55);
  REQUIRE(f.keys.wait_for(2));
  {
    std::lock_guard lock(f.keys.mutex);
    CHECK(f.keys.items == std::vector<std::pair<StreamId, char>>{{3, '9'}, {1, '5'}});
  }
  auto events_of = [](const Peer& peer, std::uint8_t pt) {
    std::vector<RtpPacket> events;
    std::vector<Bytes> storage(200);
    for (std::size_t i = 0; i < storage.size() && events.size() < 5; ++i) {
      auto packet = peer.receive_rtp(storage[i]);
      if (!packet) break;
      if (packet->header.payload_type == pt) events.push_back(*packet);
    }
    // Copies that outlive `storage`: keep only the header and the event.
    std::vector<std::pair<RtpHeader, TelephoneEvent>> out;
    for (const auto& e : events)
      out.emplace_back(e.header, parse_telephone_event(e.payload).value_or(TelephoneEvent{}));
    return out;
  };
  for (const auto& [peer, pt] : {std::pair{&agent, 96}, std::pair{&supervisor, 101}}) {
    const auto events = events_of(*peer, static_cast<std::uint8_t>(pt));
    REQUIRE(events.size() == 5);
    for (std::size_t i = 0; i < events.size(); ++i) {
      CHECK(events[i].second.event == 5);  // never the supervisor's 9
      CHECK(events[i].first.marker == (i == 0));
      CHECK(events[i].first.timestamp == events[0].first.timestamp);  // one event
      if (i > 0) CHECK(sequence_delta(events[i - 1].first.sequence, events[i].first.sequence) > 0);
    }
    CHECK(events[4].second.end);
  }
}

TEST_CASE("a caller in a mix is recorded with what the mix sends it", "[media][engine][mix]") {
  Fixture f;
  Peer caller, agent, supervisor;
  EngineSide caller_side, agent_side, supervisor_side;
  f.engine.open_stream(1, caller_side.handover(), media_to(caller));
  f.engine.open_stream(2, agent_side.handover(), media_to(agent, Codec::kPcma));
  f.engine.open_stream(3, supervisor_side.handover(), media_to(supervisor));
  f.engine.bridge(1, 2);
  const std::string path =
      "/tmp/acd-recording-test-" + std::to_string(::getpid()) + "/mix/call.wav";
  f.engine.start_recording(1, path, RecordingMode::kStereo, 5);
  f.engine.listen_in(3, 1, 2, ListenMode::kBarge);
  {
    Talkers talkers({{&caller, caller_side.sockets.port, kCallerHz},
                     {&agent, agent_side.sockets.port, kAgentHz, Codec::kPcma},
                     {&supervisor, supervisor_side.sockets.port, kSupervisorHz}});
    CHECK(settles_on(caller, Codec::kPcmu,
                     {{kCallerHz, false}, {kAgentHz, true}, {kSupervisorHz, true}}) == "");
    f.engine.stop_recording(1);
    REQUIRE(f.recordings.wait_for(1));
  }
  std::lock_guard lock(f.recordings.mutex);
  REQUIRE(f.recordings.items[0].ok);
  int channels = 0;
  const auto samples = read_wav(path, channels);
  REQUIRE(channels == 2);
  // Frames whose left channel is the caller, and whose right is the agent and the
  // supervisor together.
  int left = 0, right = 0;
  for (std::size_t frame = 0; (frame + 1) * 2 * kFrameSamples <= samples.size(); ++frame) {
    std::vector<std::int16_t> l(kFrameSamples), r(kFrameSamples);
    for (std::size_t i = 0; i < kFrameSamples; ++i) {
      l[i] = samples[(frame * kFrameSamples + i) * 2];
      r[i] = samples[(frame * kFrameSamples + i) * 2 + 1];
    }
    left += tone_amplitude(l, kCallerHz) > kToneLevel / 2 && tone_amplitude(l, kAgentHz) < 400;
    right += tone_amplitude(r, kAgentHz) > kToneLevel / 2 &&
             tone_amplitude(r, kSupervisorHz) > kToneLevel / 2 &&
             tone_amplitude(r, kCallerHz) < 400;
  }
  CHECK(left >= 20);
  CHECK(right >= 20);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path().parent_path());
}

}  // namespace
}  // namespace acd::media
