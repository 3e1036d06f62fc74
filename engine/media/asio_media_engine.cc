#include "engine/media/asio_media_engine.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <spandsp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <deque>
#include <random>
#include <thread>
#include <unordered_map>

#include "engine/media/dtmf_receiver.h"
#include "engine/media/mixer.h"
#include "engine/media/rtcp.h"
#include "engine/media/rtp_stream.h"
#include "engine/media/uring_socket_io.h"

namespace acd::media {

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::kTooShort: return "too-short";
    case DropReason::kTooLong: return "too-long";
    case DropReason::kBadVersion: return "bad-version";
    case DropReason::kBadPadding: return "bad-padding";
    case DropReason::kRtcpOnRtpPort: return "rtcp-on-rtp-port";
    case DropReason::kWrongPayloadType: return "wrong-payload-type";
    case DropReason::kUnexpectedSource: return "unexpected-source";
    case DropReason::kLearning: return "learning";
    case DropReason::kNoStream: return "no-stream";
    case DropReason::kCount: break;
  }
  return "unknown";
}

const char* to_string(ListenMode mode) {
  switch (mode) {
    case ListenMode::kMonitor: return "monitor";
    case ListenMode::kWhisper: return "whisper";
    case ListenMode::kBarge: return "barge";
  }
  return "unknown";
}

namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using Millis = std::chrono::milliseconds;

constexpr auto kFrame = Millis(20);  // one packet of every stream per frame
// The media clock may tick kPhases times per frame, each stream served in one phase of its
// own, every frame: a frame's sending is then spread over the 20 ms instead of one burst,
// and the time one tick takes (and its variation, which every stream of the tick inherits
// as jitter) shrinks with it. Measured on the 2-vCPU VM of bench/media_bench (1500 music-
// on-hold streams, callers sending): 4 phases cut the jitter p99 from 0.96 to 0.38 ms but
// raised the media thread's CPU per stream from 0.34 to 0.54 ms/s (each extra wake-up
// costs a VM exit), so one phase it is; both keep p99 under 2 ms, and CPU sets the limit.
constexpr int kPhases = 1;
constexpr auto kTick = kFrame / kPhases;
constexpr auto kLateTick = Millis(5);
constexpr int kMaxEvents = 256;         // readiness events taken per epoll_wait
constexpr int kMaxRoundsPerWakeup = 8;  // epoll_wait rounds before yielding to the io_context

constexpr std::array<std::uint8_t, kFrameSamples> filled(std::uint8_t value) {
  std::array<std::uint8_t, kFrameSamples> frame{};
  for (auto& b : frame) b = value;
  return frame;
}
constexpr auto kUlawSilenceFrame = filled(kUlawSilence);
constexpr auto kAlawSilenceFrame = filled(kAlawSilence);

G711 law_of(Codec codec) {
  return codec == Codec::kPcmu ? G711::kUlaw : G711::kAlaw;
}

struct TranscodeTables {
  std::array<std::uint8_t, 256> ulaw_to_alaw{};
  std::array<std::uint8_t, 256> alaw_to_ulaw{};
  TranscodeTables() {
    for (int i = 0; i < 256; ++i) {
      const auto code = static_cast<std::uint8_t>(i);
      ulaw_to_alaw[i] = linear_to_alaw(ulaw_to_linear(code));
      alaw_to_ulaw[i] = linear_to_ulaw(alaw_to_linear(code));
    }
  }
};
const TranscodeTables& transcode_tables() {
  static const TranscodeTables tables;
  return tables;
}

DropReason drop_reason_of(RtpError error) {
  switch (error) {
    case RtpError::kTooShort: return DropReason::kTooShort;
    case RtpError::kTooLong: return DropReason::kTooLong;
    case RtpError::kBadVersion: return DropReason::kBadVersion;
    case RtpError::kBadPadding: return DropReason::kBadPadding;
    case RtpError::kRtcp: return DropReason::kRtcpOnRtpPort;
  }
  return DropReason::kTooShort;
}

UdpEndpoint endpoint_of(const StreamMedia& media) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(media.remote_address, ec);
  if (ec) return UdpEndpoint{};
  return UdpEndpoint{address, media.remote_port};
}

// NTP time (RFC 3550 4) of the system clock.
std::uint64_t ntp_now() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  const std::uint64_t ntp_seconds = static_cast<std::uint64_t>(seconds.count()) + 2208988800ULL;
  const std::uint64_t fraction =
      (static_cast<std::uint64_t>(nanos.count()) << 32) / 1'000'000'000ULL;
  return ntp_seconds << 32 | fraction;
}

}  // namespace

class AsioMediaEngine::Impl {
  struct Stream;

 public:
  Impl(AsioMediaOptions options, MediaEvents events)
      : options_(std::move(options)),
        events_(std::move(events)),
        clock_(io_),
        sockets_ready_(io_),
        ring_ready_(io_),
        recorder_(events_.on_recording_done) {
    // Input and output go through one io_uring where the kernel allows it: every socket
    // has a multishot receive armed, sends are queued and submitted together, so a
    // wake-up costs a few system calls however many packets it carries; the io_context
    // watches the ring's descriptor.
    if (options_.io_uring) {
      std::string why_not;
      uring_ = UringSocketIo::create(&why_not);
      if (!uring_)
        warn("media: io_uring unavailable (" + why_not + "); sockets read through epoll");
    }
    if (uring_) {
      const int ring_fd = ::fcntl(uring_->ring_fd(), F_DUPFD_CLOEXEC, 0);
      if (ring_fd < 0) throw std::system_error(errno, std::generic_category(), "media: dup");
      ring_ready_.assign(ring_fd);
      watch_ring();
      return;
    }
    // Otherwise the streams' sockets sit in an epoll set of their own (level-triggered,
    // registered once); the io_context watches just that set. A wake-up then reads one
    // datagram per ready socket per round: one recvfrom per packet, no re-arming.
    const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
      throw std::system_error(errno, std::generic_category(), "media: epoll_create1");
    sockets_ready_.assign(epoll_fd);
    watch_sockets();
  }

  [[nodiscard]] const char* io_backend() const { return uring_ ? "io_uring" : "epoll"; }

  void start() {
    if (thread_.joinable()) return;
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] {
      apply_realtime_priority();
      io_.run();
    });
  }

  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      while (!streams_.empty()) close(streams_.begin()->first);
      clock_.cancel();
      boost::system::error_code ignored;
      sockets_ready_.cancel(ignored);
      ring_ready_.cancel(ignored);
      work_.reset();
    });
    thread_.join();
  }

  template <typename F>
  void post(F&& f) {
    asio::post(io_, std::forward<F>(f));
  }

  // ---- commands (media thread) ----
  void open(StreamId id, StreamSockets sockets, StreamMedia media) {
    if (streams_.count(id) != 0) close(id);
    auto s = std::make_shared<Stream>(id, media, options_.relearn_after, options_.rtcp_interval,
                                      random_);
    s->rtp_fd = sockets.rtp_fd;
    s->rtcp_fd = sockets.rtcp_fd;
    s->engine = this;
    if (!watch(s->rtp_fd, id, false) || (s->rtcp_fd >= 0 && !watch(s->rtcp_fd, id, true))) {
      warn("media: stream " + std::to_string(id) + ": cannot watch its sockets" +
           (uring_ ? std::string(" (io_uring submission queue full)")
                   : ": epoll_ctl: " + std::string(std::strerror(errno))));
      close_sockets(*s);
      return;
    }
    streams_.emplace(id, std::move(s));
    stat(&Stats::streams, 1);
  }

  // The key input is reported under: the stream, and whether it is the RTCP socket.
  static std::uint64_t input_key(StreamId id, bool is_rtcp) {
    return id << 1 | (is_rtcp ? 1U : 0U);
  }

  bool watch(int fd, StreamId id, bool is_rtcp) {
    if (uring_) return uring_->watch(fd, input_key(id, is_rtcp));
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = input_key(id, is_rtcp);
    return ::epoll_ctl(sockets_ready_.native_handle(), EPOLL_CTL_ADD, fd, &event) == 0;
  }

  void close_sockets(Stream& s) {
    for (int* fd : {&s.rtp_fd, &s.rtcp_fd}) {
      if (*fd < 0) continue;
      if (uring_)
        uring_->unwatch(input_key(s.id, fd == &s.rtcp_fd));
      else
        ::epoll_ctl(sockets_ready_.native_handle(), EPOLL_CTL_DEL, *fd, nullptr);
      ::close(*fd);
      *fd = -1;
    }
  }

  void update(StreamId id, const StreamMedia& media) {
    Stream* s = find(id);
    if (s == nullptr) return;
    const bool moved = media.remote_address != s->media.remote_address ||
                       media.remote_port != s->media.remote_port;
    s->media = media;
    if (moved) s->latch.reset(endpoint_of(media));
    s->dtmf = make_dtmf(media);
  }

  void prompts(StreamId id, std::vector<Clip> clips, std::uint64_t token) {
    Stream* s = find(id);
    if (s == nullptr) return;
    detach(*s);
    s->moh = nullptr;
    s->clips = std::move(clips);
    s->clip_index = 0;
    s->clip_frame = 0;
    s->prompt_token = token;
    s->prompting = true;
    s->sender.restart();
    start_playing(*s);
  }

  void record(StreamId id, std::string path, RecordingMode mode, std::uint64_t token) {
    Stream* s = find(id);
    if (s == nullptr) {
      if (events_.on_recording_done) {
        RecordingResult result;
        result.token = token;
        result.path = path;
        result.error = "no such stream";
        events_.on_recording_done(result);
      }
      return;
    }
    end_recording(*s);
    s->recording = std::make_unique<Recording>();
    s->recording->token = token;
    s->recording->index = recording_streams_.size();
    recording_streams_.push_back(s);
    stat(&Stats::recordings, 1);
    recorder_.open(token, std::move(path), mode);
    start_clock();
  }

  void pause_record(StreamId id, bool paused) {
    Stream* s = find(id);
    if (s != nullptr && s->recording) s->recording->paused = paused;
  }

  void stop_record(StreamId id) {
    if (Stream* s = find(id)) end_recording(*s);
  }

  void inband(StreamId id, bool on) {
    Stream* s = find(id);
    if (s == nullptr) return;
    if (!on) {
      s->inband.reset();
      return;
    }
    if (s->inband || s->rfc4733_seen) return;
    s->inband.reset(dtmf_rx_init(nullptr, &Impl::on_inband_digits, s));
    if (s->inband) dtmf_rx_parms(s->inband.get(), 0, 10.0F, 10.0F, -99.0F);
  }

  void play(StreamId id, const std::string& name) {
    Stream* s = find(id);
    if (s == nullptr) return;
    detach(*s);
    s->moh_class = name;
    s->moh = class_named(name);
    s->moh_frame = 0;
    s->sender.restart();
    start_playing(*s);
  }

  void join(StreamId a, StreamId b) {
    Stream* x = find(a);
    Stream* y = find(b);
    if (x == nullptr || y == nullptr || x == y) return;
    if (x->peer == y) return;
    detach(*x);
    detach(*y);
    x->peer = y;
    y->peer = x;
    x->sender.restart();
    y->sender.restart();
    stat(&Stats::bridges, 1);
  }

  void quiet(StreamId id) {
    Stream* s = find(id);
    if (s == nullptr) return;
    detach(*s);
  }

  void listen(StreamId supervisor, StreamId caller, StreamId agent, ListenMode mode) {
    Stream* s = find(supervisor);
    Stream* c = find(caller);
    Stream* a = find(agent);
    if (s == nullptr || c == nullptr || a == nullptr || s == c || s == a || c == a) return;
    Mix* m = c->mix != nullptr && c->mix == a->mix ? c->mix : nullptr;
    if (m == nullptr && c->peer != a) return;  // no call between them
    const Role role = role_of(mode);
    if (m != nullptr && s->mix == m) {  // a new mode
      m->roles[s->mix_slot] = role;
      m->whisper_to[s->mix_slot] = a->id;
      update_hearing(*m);
      return;
    }
    if (m != nullptr && m->mixer.size() == Mixer::kMaxMembers) {
      warn("media: stream " + std::to_string(supervisor) + ": cannot listen in, the mix is full");
      return;
    }
    detach(*s);  // neither caller nor agent is its partner or in its mix
    if (m == nullptr) {
      unbridge(*c);
      m = &new_mix();
      add_member(*m, *c, Role::kParty, 0);
      add_member(*m, *a, Role::kParty, 0);
    }
    add_member(*m, *s, role, a->id);
    update_hearing(*m);
  }

  void confer(const std::vector<StreamId>& ids) {
    std::vector<Stream*> members;
    for (const StreamId id : ids) {
      Stream* s = find(id);
      if (s == nullptr || std::find(members.begin(), members.end(), s) != members.end()) continue;
      if (members.size() == Mixer::kMaxMembers) {
        warn("media: a conference takes " + std::to_string(Mixer::kMaxMembers) +
             " streams; stream " + std::to_string(id) + " and those after it are left out");
        break;
      }
      members.push_back(s);
    }
    if (members.size() < 2) return;
    if (members.size() == 2) {
      join(members[0]->id, members[1]->id);
      return;
    }
    auto listed = [&](const Stream* s) {
      return std::find(members.begin(), members.end(), s) != members.end();
    };
    // The parties of one mix, with or without newcomers: the mix grows in place (and its
    // supervisors stay).
    Mix* m = nullptr;
    bool grow = true;
    std::size_t newcomers = 0;
    for (Stream* s : members) {
      if (s->mix == nullptr) {
        ++newcomers;
      } else if (m == nullptr) {
        m = s->mix;
      } else if (s->mix != m) {
        grow = false;
      }
    }
    grow = grow && m != nullptr && m->mixer.size() + newcomers <= Mixer::kMaxMembers;
    for (std::size_t slot = 0; grow && slot < Mixer::kMaxMembers; ++slot) {
      if (m->members[slot] != nullptr && m->roles[slot] == Role::kParty &&
          !listed(m->members[slot]))
        grow = false;
    }
    if (!grow) {
      for (Stream* s : members) detach(*s);
      m = &new_mix();
    }
    for (Stream* s : members) {
      if (s->mix == m) {
        m->roles[s->mix_slot] = Role::kParty;
      } else {
        detach(*s);
        add_member(*m, *s, Role::kParty, 0);
      }
    }
    update_hearing(*m);
  }

  void leave(StreamId id) {
    if (Stream* s = find(id)) unmix(*s);
  }

  void close(StreamId id) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return;
    Stream& s = *it->second;
    detach(s);
    end_recording(s);
    close_sockets(s);
    streams_.erase(it);
    stat(&Stats::streams, -1);
  }

  void set_classes(std::vector<MohClass> classes) {
    classes_.clear();
    for (auto& c : classes) classes_.push_back(std::make_shared<const MohClass>(std::move(c)));
    for (auto& [id, s] : streams_) {
      if (s->playing_index != kNotPlaying) s->moh = class_named(s->moh_class);
    }
  }

  MediaStats snapshot() const {
    MediaStats out;
    out.streams = load(stats_.streams);
    out.playing = load(stats_.playing);
    out.bridges = load(stats_.bridges);
    out.packets_received = load(stats_.packets_received);
    out.packets_sent = load(stats_.packets_sent);
    out.packets_relayed = load(stats_.packets_relayed);
    out.send_failures = load(stats_.send_failures);
    out.rtcp_received = load(stats_.rtcp_received);
    out.rtcp_sent = load(stats_.rtcp_sent);
    out.dtmf_keys = load(stats_.dtmf_keys);
    out.latches = load(stats_.latches);
    out.late_ticks = load(stats_.late_ticks);
    out.recordings = load(stats_.recordings);
    out.mixes = load(stats_.mixes);
    for (std::size_t i = 0; i < out.dropped.size(); ++i) out.dropped[i] = load(stats_.dropped[i]);
    return out;
  }

 private:
  static constexpr std::size_t kNotPlaying = static_cast<std::size_t>(-1);

  // A stream being recorded: what it received and what it was sent since the last tick,
  // decoded (each at most kRecordingBacklog samples: a peer whose clock runs fast cannot
  // grow them without bound).
  struct Recording {
    std::uint64_t token = 0;
    bool paused = false;
    std::size_t index = 0;  // in recording_streams_
    std::deque<std::int16_t> heard, said;
  };
  static constexpr std::size_t kRecordingBacklog = 8 * kFrameSamples;

  // What a member of a mix is: a party of the call (caller, agent, a conference member:
  // heard by all) or a supervisor listening in (ListenMode).
  enum class Role : std::uint8_t { kParty, kMonitor, kWhisper, kBarge };
  static Role role_of(ListenMode mode) {
    switch (mode) {
      case ListenMode::kMonitor: return Role::kMonitor;
      case ListenMode::kWhisper: return Role::kWhisper;
      case ListenMode::kBarge: return Role::kBarge;
    }
    return Role::kMonitor;
  }

  // A conference or listen-in: the mixer and who sits in each of its slots.
  struct Mix {
    Mixer mixer;
    std::array<Stream*, Mixer::kMaxMembers> members{};
    std::array<Role, Mixer::kMaxMembers> roles{};
    std::array<StreamId, Mixer::kMaxMembers> whisper_to{};  // kWhisper: the agent
    std::size_t index = 0;                                  // in mixes_
  };

  // The RFC 4733 event a mixed stream is being sent: the sender's event, mapped onto the
  // stream's own timeline (every packet of one event carries the event's start).
  struct MixedEvent {
    bool active = false;
    StreamId from = 0;
    std::uint32_t ssrc = 0, in_timestamp = 0, out_timestamp = 0;
  };

  struct Stream {
    Stream(StreamId stream_id, const StreamMedia& m, MediaClock::duration relearn_after,
           MediaClock::duration rtcp_interval, std::mt19937& random)
        : id(stream_id),
          media(m),
          latch(endpoint_of(m), relearn_after),
          sender(static_cast<std::uint32_t>(random()), static_cast<std::uint16_t>(random()),
                 static_cast<std::uint32_t>(random())),
          dtmf(make_dtmf(m)),
          next_report(MediaClock::now() + rtcp_interval / 2 +
                      rtcp_interval * (random() % 1000) / 1000) {}

    StreamId id;
    int rtp_fd = -1;
    int rtcp_fd = -1;
    StreamMedia media;
    SourceLatch latch;
    RtpSender sender;
    std::optional<DtmfReceiver> dtmf;
    ReceptionStats reception;
    std::uint32_t octets_sent = 0;
    MediaClock::time_point next_report;  // RFC 3550 6.2: randomised first, then every interval
    Stream* peer = nullptr;
    std::string moh_class;
    std::shared_ptr<const MohClass> moh;
    std::size_t moh_frame = 0;
    std::vector<Clip> clips;  // prompts being played
    std::size_t clip_index = 0, clip_frame = 0;
    std::uint64_t prompt_token = 0;
    bool prompting = false;
    struct DtmfRxFree {
      void operator()(dtmf_rx_state_t* s) const { dtmf_rx_free(s); }
    };
    std::unique_ptr<dtmf_rx_state_t, DtmfRxFree> inband;
    bool rfc4733_seen = false;
    std::unique_ptr<Recording> recording;
    Impl* engine = nullptr;
    std::size_t playing_index = kNotPlaying;
    Mix* mix = nullptr;  // the conference or listen-in the stream is in
    std::size_t mix_slot = 0;
    MixedEvent mixed_event;
  };

  struct Stats {
    std::atomic<std::uint64_t> streams{0}, playing{0}, bridges{0}, packets_received{0},
        packets_sent{0}, packets_relayed{0}, send_failures{0}, rtcp_received{0}, rtcp_sent{0},
        dtmf_keys{0}, latches{0}, late_ticks{0}, recordings{0}, mixes{0};
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(DropReason::kCount)> dropped{};
  };

  static std::uint64_t load(const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  }
  void stat(std::atomic<std::uint64_t> Stats::*member, std::int64_t delta) {
    (stats_.*member).fetch_add(static_cast<std::uint64_t>(delta), std::memory_order_relaxed);
  }
  void drop(DropReason reason) {
    stats_.dropped[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }

  static std::optional<DtmfReceiver> make_dtmf(const StreamMedia& media) {
    if (media.telephone_event_payload_type < 0) return std::nullopt;
    return DtmfReceiver(static_cast<std::uint8_t>(media.telephone_event_payload_type));
  }

  void warn(const std::string& message) const {
    if (options_.warn) options_.warn(message);
  }

  void apply_realtime_priority() {
    if (options_.realtime_priority <= 0) return;
    sched_param param{};
    param.sched_priority = options_.realtime_priority;
    if (const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param); rc != 0) {
      warn(std::string("media: real-time scheduling refused (") + std::strerror(rc) +
           "); the media thread runs with normal scheduling");
    }
  }

  Stream* find(StreamId id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  std::shared_ptr<const MohClass> class_named(const std::string& name) const {
    for (const auto& c : classes_)
      if (c->name == name) return c;
    return classes_.empty() ? nullptr : classes_.front();
  }

  void end_recording(Stream& s) {
    if (!s.recording) return;
    Stream* last = recording_streams_.back();
    recording_streams_[s.recording->index] = last;
    last->recording->index = s.recording->index;
    recording_streams_.pop_back();
    recorder_.close(s.recording->token);
    s.recording.reset();
    stat(&Stats::recordings, -1);
  }

  static void capture(std::deque<std::int16_t>& into, Codec codec,
                      std::span<const std::uint8_t> payload) {
    std::array<std::int16_t, kMaxRtpDatagram> pcm;
    const std::size_t n = std::min(payload.size(), pcm.size());
    decode(law_of(codec), payload.first(n), std::span<std::int16_t>(pcm.data(), n));
    capture(into, std::span<const std::int16_t>(pcm.data(), n));
  }

  static void capture(std::deque<std::int16_t>& into, std::span<const std::int16_t> pcm) {
    into.insert(into.end(), pcm.begin(), pcm.end());
    if (into.size() > kRecordingBacklog)
      into.erase(into.begin(),
                 into.begin() + static_cast<std::ptrdiff_t>(into.size() - kRecordingBacklog));
  }

  // One tick of every recording: 20 ms of stereo, silence where nothing came.
  void write_recordings() {
    for (Stream* s : recording_streams_) {
      Recording& r = *s->recording;
      std::vector<std::int16_t> stereo(2 * kFrameSamples, 0);
      for (auto [queue, channel] : {std::pair{&r.heard, 0U}, std::pair{&r.said, 1U}}) {
        const std::size_t n = std::min(queue->size(), kFrameSamples);
        for (std::size_t i = 0; i < n; ++i) stereo[2 * i + channel] = (*queue)[i];
        queue->erase(queue->begin(), queue->begin() + static_cast<std::ptrdiff_t>(n));
      }
      if (!r.paused) recorder_.append(r.token, std::move(stereo));
    }
  }

  // Ends a prompt sequence; the event tells whether it ran to its end.
  void end_prompts(Stream& s, bool completed) {
    if (!s.prompting) return;
    s.prompting = false;
    s.clips.clear();
    if (events_.on_prompts_done) events_.on_prompts_done(s.id, s.prompt_token, completed);
  }

  static void on_inband_digits(void* user_data, const char* digits, int length) {
    auto* s = static_cast<Stream*>(user_data);
    for (int i = 0; i < length; ++i) s->engine->report_key(*s, digits[i]);
  }

  void report_key(Stream& s, char key) {
    stat(&Stats::dtmf_keys, 1);
    if (events_.on_dtmf) events_.on_dtmf(s.id, key);
  }

  void unbridge(Stream& s) {
    if (s.peer == nullptr) return;
    s.peer->peer = nullptr;
    s.peer = nullptr;
    stat(&Stats::bridges, -1);
  }

  // Ends whatever the stream sent: its mix, its bridge, prompts and music.
  void detach(Stream& s) {
    unmix(s);
    unbridge(s);
    end_prompts(s, false);
    stop_playing(s);
  }

  // ---- mixes ----
  Mix& new_mix() {
    auto mix = std::make_unique<Mix>();
    mix->index = mixes_.size();
    mixes_.push_back(std::move(mix));
    stat(&Stats::mixes, 1);
    start_clock();
    return *mixes_.back();
  }

  // The member joins `m` (which has room); it hears nobody until update_hearing.
  void add_member(Mix& m, Stream& s, Role role, StreamId whisper_to) {
    const std::optional<std::size_t> slot = m.mixer.add();
    if (!slot) return;
    m.members[*slot] = &s;
    m.roles[*slot] = role;
    m.whisper_to[*slot] = whisper_to;
    s.mix = &m;
    s.mix_slot = *slot;
    s.mixed_event = MixedEvent{};
    s.sender.restart();  // a new origin: the marker on its first mixed packet
  }

  // Whether the member in slot `listener` hears the one in `speaker`.
  static bool heard(const Mix& m, std::size_t listener, std::size_t speaker) {
    if (listener == speaker || m.members[listener] == nullptr || m.members[speaker] == nullptr)
      return false;
    switch (m.roles[speaker]) {
      case Role::kParty:
      case Role::kBarge: return true;
      case Role::kWhisper: return m.members[listener]->id == m.whisper_to[speaker];
      case Role::kMonitor: return false;
    }
    return false;
  }

  static void update_hearing(Mix& m) {
    for (std::size_t l = 0; l < Mixer::kMaxMembers; ++l)
      for (std::size_t s = 0; s < Mixer::kMaxMembers; ++s) m.mixer.set_hears(l, s, heard(m, l, s));
  }

  // The stream leaves its mix; what is left goes on, becomes a bridge or ends.
  void unmix(Stream& s) {
    Mix* m = s.mix;
    if (m == nullptr) return;
    m->mixer.remove(s.mix_slot);
    m->members[s.mix_slot] = nullptr;
    s.mix = nullptr;
    std::array<std::size_t, Mixer::kMaxMembers> left{};
    std::size_t n = 0;
    for (std::size_t slot = 0; slot < Mixer::kMaxMembers; ++slot)
      if (m->members[slot] != nullptr) left[n++] = slot;
    if (n == 2 && heard(*m, left[0], left[1]) && heard(*m, left[1], left[0])) {
      Stream* x = m->members[left[0]];
      Stream* y = m->members[left[1]];
      end_mix(*m);
      x->peer = y;
      y->peer = x;
      x->sender.restart();
      y->sender.restart();
      stat(&Stats::bridges, 1);
    } else if (n <= 1) {
      end_mix(*m);
    } else {
      update_hearing(*m);
    }
  }

  // Frees the mix; its members (if any) send nothing.
  void end_mix(Mix& m) {
    for (Stream* member : m.members)
      if (member != nullptr) member->mix = nullptr;
    const std::size_t index = m.index;
    mixes_[index] = std::move(mixes_.back());
    mixes_[index]->index = index;
    mixes_.pop_back();  // destroys m
    stat(&Stats::mixes, -1);
  }

  // One tick of a mix: every member that sends gets what it hears, in its codec.
  void send_mix(Mix& m, std::uint32_t samples, MediaClock::time_point now) {
    m.mixer.mix(mix_frames_);
    for (std::size_t slot = 0; slot < Mixer::kMaxMembers; ++slot) {
      Stream* s = m.members[slot];
      if (s == nullptr || !s->media.send) continue;
      const auto& pcm = mix_frames_[slot];
      if (s->recording) capture(s->recording->said, pcm);
      std::array<std::uint8_t, kFrameSamples> payload;
      encode(law_of(s->media.codec), pcm, payload);
      const RtpHeader header = s->sender.next_generated(s->media.payload_type, samples);
      send_rtp(*s, header, payload);
      maybe_send_report(*s, now);
    }
  }

  // A telephone-event of a mixed member, to a member who hears it: sent on the
  // listener's own sequence and timestamps (its audio is generated), one timestamp per
  // event.
  void relay_mixed_event(Stream& from, Stream& to, const RtpPacket& packet) {
    if (!to.media.send || to.media.telephone_event_payload_type < 0) return;
    RtpHeader header = to.sender.next_generated(
        static_cast<std::uint8_t>(to.media.telephone_event_payload_type), 0);
    MixedEvent& e = to.mixed_event;
    const bool fresh = !e.active || e.from != from.id || e.ssrc != packet.header.ssrc ||
                       e.in_timestamp != packet.header.timestamp;
    if (fresh)
      e = MixedEvent{true, from.id, packet.header.ssrc, packet.header.timestamp, header.timestamp};
    header.timestamp = e.out_timestamp;
    header.marker = fresh;
    stat(&Stats::packets_relayed, 1);
    send_rtp(to, header, packet.payload);
  }

  void start_playing(Stream& s) {
    if (s.playing_index != kNotPlaying) return;
    auto& phase = playing_[s.id % kPhases];
    s.playing_index = phase.size();
    phase.push_back(&s);
    stat(&Stats::playing, 1);
    start_clock();
  }

  void stop_playing(Stream& s) {
    if (s.playing_index == kNotPlaying) return;
    auto& phase = playing_[s.id % kPhases];
    Stream* last = phase.back();
    phase[s.playing_index] = last;
    last->playing_index = s.playing_index;
    phase.pop_back();
    s.playing_index = kNotPlaying;
    stat(&Stats::playing, -1);
  }

  [[nodiscard]] bool nothing_plays() const {
    for (const auto& phase : playing_)
      if (!phase.empty()) return false;
    return true;
  }

  // ---- the media clock ----
  void start_clock() {
    if (clock_running_) return;
    clock_running_ = true;
    // Ticks fall on a 5 ms grid from the engine's epoch: shared classes know their
    // position from the tick number even after the clock slept.
    const auto now = MediaClock::now();
    tick_ = (now - epoch_) / kTick + 1;
    arm_clock();
  }

  void tick_if_due() {
    if (clock_running_ && MediaClock::now() >= epoch_ + kTick * tick_) on_tick();
  }

  void arm_clock() {
    clock_.expires_at(epoch_ + kTick * tick_);
    // A wait cancelled by a re-arm (the tick ran early from the input loop) or by stop()
    // does nothing; a wait that completed just before such a re-arm finds its tick done
    // and the next one not due yet.
    clock_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick_if_due();
    });
  }

  void on_tick() {
    const auto now = MediaClock::now();
    const auto scheduled = epoch_ + kTick * tick_;
    if (now - scheduled > kLateTick) stat(&Stats::late_ticks, 1);
    // Far behind (the machine stalled): skip ahead rather than burst the missed frames.
    // The skipped frames still move every stream's RTP timestamp on (RFC 3550 5.1: it
    // follows the sampling clock), so receivers see a gap rather than a lasting delay.
    std::int64_t next = tick_ + 1;
    if (now - (epoch_ + kTick * next) > kFrame * 5) next = (now - epoch_) / kTick + 1;
    // Frames this phase's streams move on by: theirs, and those skipped after a stall.
    const auto frames = 1 + (next - tick_ - 1) / kPhases;
    const auto samples =
        static_cast<std::uint32_t>(frames * static_cast<std::int64_t>(kFrameSamples));
    auto& phase = playing_[static_cast<std::size_t>(tick_ % kPhases)];
    for (std::size_t i = 0; i < phase.size(); ++i) send_frame(*phase[i], samples);
    for (Stream* s : phase) maybe_send_report(*s, now);
    if (tick_ % kPhases == 0) {  // once per frame: mixes and recordings
      for (const auto& mix : mixes_) send_mix(*mix, samples, now);
      write_recordings();
    }
    if (uring_) uring_->flush();  // the frame's packets leave together
    if (nothing_plays() && recording_streams_.empty() && mixes_.empty()) {
      clock_running_ = false;
      return;
    }
    tick_ = next;
    arm_clock();
  }

  // The next 20 ms of what the stream plays: a prompt, its music, or silence.
  std::span<const std::uint8_t> next_frame(Stream& s, G711 law) {
    if (s.prompting) {
      while (s.clip_index < s.clips.size() &&
             (!s.clips[s.clip_index] || s.clip_frame >= s.clips[s.clip_index]->frames())) {
        ++s.clip_index;
        s.clip_frame = 0;
      }
      if (s.clip_index < s.clips.size()) return s.clips[s.clip_index]->frame(law, s.clip_frame++);
      end_prompts(s, true);  // then silence, until told otherwise
    }
    if (s.moh) {
      const std::size_t frame = s.moh->mode == MohMode::kShared
                                    ? static_cast<std::size_t>(tick_ / kPhases)
                                    : s.moh_frame++;
      return s.moh->audio->frame(law, frame);
    }
    return law == G711::kUlaw ? std::span<const std::uint8_t>(kUlawSilenceFrame)
                              : std::span<const std::uint8_t>(kAlawSilenceFrame);
  }

  // `samples`: how far this frame moves the stream's timestamp on (its own 160, plus the
  // frames the clock skips after it).
  void send_frame(Stream& s, std::uint32_t samples) {
    if (!s.media.send) return;
    const auto payload = next_frame(s, law_of(s.media.codec));
    if (s.recording) capture(s.recording->said, s.media.codec, payload);
    const RtpHeader header = s.sender.next_generated(s.media.payload_type, samples);
    send_rtp(s, header, payload);
  }

  void send_rtp(Stream& s, const RtpHeader& header, std::span<const std::uint8_t> payload) {
    std::array<std::uint8_t, kMaxRtpDatagram> packet;
    const std::size_t size = write_rtp(header, payload, packet);
    if (size == 0) return;
    const UdpEndpoint& to = s.latch.destination();
    if (to.port() == 0) return;
    // Queued on the ring (its failures are counted when they complete), or sent at once.
    if (!uring_ || !uring_->send(s.rtp_fd, std::span<const std::uint8_t>(packet.data(), size),
                                 to.data(), static_cast<socklen_t>(to.size()))) {
      const ssize_t sent = ::sendto(s.rtp_fd, packet.data(), size, MSG_DONTWAIT, to.data(),
                                    static_cast<socklen_t>(to.size()));
      if (sent < 0) {
        stat(&Stats::send_failures, 1);
        return;
      }
    }
    s.octets_sent += static_cast<std::uint32_t>(payload.size());
    stat(&Stats::packets_sent, 1);
  }

  void maybe_send_report(Stream& s, MediaClock::time_point now) {
    if (s.rtcp_fd < 0 || now < s.next_report) return;
    s.next_report = now + options_.rtcp_interval;
    SenderInfo info;
    info.ssrc = s.sender.ssrc();
    info.ntp_time = ntp_now();
    info.rtp_timestamp = s.sender.last_timestamp();
    info.packets = s.sender.packets();
    info.octets = s.octets_sent;
    std::array<std::uint8_t, 256> packet;
    const std::size_t size =
        write_sender_report(info, s.reception.next_report(), "acd@media", packet);
    UdpEndpoint to = s.latch.destination();
    if (size == 0 || to.port() == 0) return;
    to.port(static_cast<std::uint16_t>(to.port() + 1));
    if (::sendto(s.rtcp_fd, packet.data(), size, MSG_DONTWAIT, to.data(),
                 static_cast<socklen_t>(to.size())) >= 0)
      stat(&Stats::rtcp_sent, 1);
  }

  // ---- input ----
  void watch_sockets() {
    sockets_ready_.async_wait(asio::posix::stream_descriptor::wait_read,
                              [this](const boost::system::error_code& ec) {
                                if (ec) return;
                                read_ready_sockets();
                                watch_sockets();
                              });
  }

  // Reads one datagram from every ready socket, round after round, until none is ready.
  // After kMaxRoundsPerWakeup rounds the io_context runs timers and commands first, and
  // this goes on after them.
  void read_ready_sockets() {
    std::array<epoll_event, kMaxEvents> events;
    for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
      const int n = ::epoll_wait(sockets_ready_.native_handle(), events.data(), kMaxEvents, 0);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        // The media clock goes first: a tick that falls due while a burst of input is
        // read is sent now, not after the burst (the packet spacing of every stream that
        // plays depends on it).
        if ((i & 31) == 0) tick_if_due();
        const std::uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
        Stream* s = find(key >> 1);
        if (s == nullptr) continue;  // closed by an earlier event of this round
        const int fd = (key & 1U) != 0 ? s->rtcp_fd : s->rtp_fd;
        sockaddr_storage from{};
        socklen_t from_length = sizeof from;
        const ssize_t size = ::recvfrom(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT,
                                        reinterpret_cast<sockaddr*>(&from), &from_length);
        if (size < 0) continue;  // EAGAIN, or an ICMP error reported on the socket
        const auto length = static_cast<std::size_t>(size);
        on_input(key, std::span<const std::uint8_t>(buffer_.data(), length), length,
                 reinterpret_cast<const sockaddr*>(&from), from_length);
      }
    }
    asio::post(io_, [this] { read_ready_sockets(); });
  }

  void watch_ring() {
    ring_ready_.async_wait(asio::posix::stream_descriptor::wait_read,
                           [this](const boost::system::error_code& ec) {
                             if (ec) return;
                             read_ring();
                             watch_ring();
                           });
  }

  // The io_uring path: each round submits the sends queued so far (relays of the last
  // round), collects what completed and handles every datagram, until a round brings none.
  void read_ring() {
    for (int round = 0; round < kMaxRoundsPerWakeup; ++round) {
      uring_->flush();
      std::size_t i = 0;
      const std::size_t datagrams =
          uring_->drain([this, &i](std::uint64_t key, std::span<const std::uint8_t> payload,
                                   std::size_t size, const sockaddr* from, socklen_t from_length) {
            if ((i++ & 31) == 0) tick_if_due();  // as in read_ready_sockets
            on_input(key, payload, size, from, from_length);
          });
      if (const std::uint64_t failed = uring_->take_send_failures(); failed != 0) {
        stat(&Stats::send_failures, static_cast<std::int64_t>(failed));
        stat(&Stats::packets_sent, -static_cast<std::int64_t>(failed));
      }
      if (const std::uint64_t abandoned = uring_->take_abandoned_watches(); abandoned != 0)
        warn("media: " + std::to_string(abandoned) +
             " socket(s) kept failing and are no longer read (their streams hear nothing)");
      if (datagrams == 0) {
        if (uring_->pending()) uring_->flush();  // receives re-armed by this last round
        return;
      }
    }
    uring_->flush();
    asio::post(io_, [this] { read_ring(); });
  }

  // One datagram that arrived on a stream's RTP or RTCP socket (`key`: input_key()).
  void on_input(std::uint64_t key, std::span<const std::uint8_t> data, std::size_t size,
                const sockaddr* from_address, socklen_t from_length) {
    Stream* s = find(key >> 1);
    if (s == nullptr) return;  // closed since
    if ((key & 1U) != 0) {
      if (is_rtcp(data)) stat(&Stats::rtcp_received, 1);
      return;
    }
    UdpEndpoint from;
    if (from_length <= from.capacity()) {
      std::memcpy(from.data(), from_address, from_length);
      from.resize(from_length);
    }
    on_datagram(*s, from, data, size);
  }

  // `size`: the datagram's real length (`data` may hold less of an oversized one).
  void on_datagram(Stream& s, const UdpEndpoint& from, std::span<const std::uint8_t> data,
                   std::size_t size) {
    if (size > kMaxRtpDatagram || data.size() < size) {
      drop(DropReason::kTooLong);
      return;
    }
    RtpError error{};
    auto packet = parse_rtp(data, &error);
    if (!packet) {
      drop(drop_reason_of(error));
      return;
    }
    const std::uint8_t pt = packet->header.payload_type;
    const bool is_audio = pt == s.media.payload_type;
    const bool is_event =
        s.media.telephone_event_payload_type >= 0 && pt == s.media.telephone_event_payload_type;
    if (!is_audio && !is_event) {
      drop(DropReason::kWrongPayloadType);
      return;
    }
    const auto now = MediaClock::now();
    const std::uint64_t latches_before = s.latch.latches();
    switch (s.latch.on_packet(from, packet->header.sequence, now)) {
      case SourceLatch::Verdict::kAccept: break;
      case SourceLatch::Verdict::kLearning: drop(DropReason::kLearning); return;
      case SourceLatch::Verdict::kUnexpectedSource: drop(DropReason::kUnexpectedSource); return;
    }
    if (s.latch.latches() != latches_before) stat(&Stats::latches, 1);
    stat(&Stats::packets_received, 1);
    const auto arrival = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(now - epoch_).count() / 125);
    s.reception.on_packet(packet->header.ssrc, packet->header.sequence, packet->header.timestamp,
                          arrival);
    if (is_event && s.dtmf) {
      s.rfc4733_seen = true;
      s.inband.reset();  // the peer signals keys out of band: its audio is not searched
      if (auto key = s.dtmf->on_packet(*packet)) report_key(s, *key);
    }
    if (is_audio && (s.inband || s.recording || s.mix != nullptr)) {
      std::array<std::int16_t, kMaxRtpDatagram> pcm;
      const std::size_t n = std::min(packet->payload.size(), pcm.size());
      decode(law_of(s.media.codec), packet->payload.first(n),
             std::span<std::int16_t>(pcm.data(), n));
      const std::span<const std::int16_t> audio(pcm.data(), n);
      if (s.inband) dtmf_rx(s.inband.get(), pcm.data(), static_cast<int>(n));
      if (s.recording) capture(s.recording->heard, audio);
      if (s.mix != nullptr) s.mix->mixer.push(s.mix_slot, audio);
    }
    if (s.peer != nullptr) relay(s, *s.peer, *packet, is_event, now);
    if (is_event && s.mix != nullptr) {
      Mix& m = *s.mix;
      for (std::size_t slot = 0; slot < Mixer::kMaxMembers; ++slot)
        if (m.mixer.hears(slot, s.mix_slot)) relay_mixed_event(s, *m.members[slot], *packet);
    }
  }

  void relay(Stream& from, Stream& to, const RtpPacket& packet, bool is_event,
             MediaClock::time_point now) {
    if (!to.media.send) return;
    if (is_event && to.media.telephone_event_payload_type < 0) return;
    stat(&Stats::packets_relayed, 1);  // before the send: a test seeing the packet sees the count
    if (is_event) {
      const RtpHeader header = to.sender.next_relayed(
          packet.header, static_cast<std::uint8_t>(to.media.telephone_event_payload_type), 0);
      send_rtp(to, header, packet.payload);
    } else {
      const RtpHeader header = to.sender.next_relayed(
          packet.header, to.media.payload_type, static_cast<std::uint32_t>(packet.payload.size()));
      if (to.recording) capture(to.recording->said, from.media.codec, packet.payload);
      if (from.media.codec == to.media.codec) {
        send_rtp(to, header, packet.payload);
      } else {
        const auto& table = from.media.codec == Codec::kPcmu ? transcode_tables().ulaw_to_alaw
                                                             : transcode_tables().alaw_to_ulaw;
        std::array<std::uint8_t, kMaxRtpDatagram> converted;
        const std::size_t n = std::min(packet.payload.size(), converted.size());
        for (std::size_t i = 0; i < n; ++i) converted[i] = table[packet.payload[i]];
        send_rtp(to, header, std::span<const std::uint8_t>(converted.data(), n));
      }
    }
    if (to.playing_index == kNotPlaying) maybe_send_report(to, now);
  }

  AsioMediaOptions options_;
  MediaEvents events_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::steady_timer clock_;
  bool clock_running_ = false;
  const MediaClock::time_point epoch_ = MediaClock::now();
  std::int64_t tick_ = 0;
  std::unordered_map<StreamId, std::shared_ptr<Stream>> streams_;
  std::array<std::vector<Stream*>, kPhases> playing_;  // streams the clock feeds, by phase
  std::vector<std::shared_ptr<const MohClass>> classes_;
  std::mt19937 random_{std::random_device{}()};
  std::array<std::uint8_t, 2048> buffer_{};       // one read at a time: the thread's only buffer
  asio::posix::stream_descriptor sockets_ready_;  // the epoll set of every stream's sockets
  asio::posix::stream_descriptor ring_ready_;     // or: the io_uring carrying all their I/O
  std::unique_ptr<UringSocketIo> uring_;          // (then sockets_ready_ stays closed)
  std::vector<Stream*> recording_streams_;
  std::vector<std::unique_ptr<Mix>> mixes_;
  Mixer::Frames mix_frames_{};  // one mix's output at a time
  Recorder recorder_;           // its thread finishes the files still open when the engine goes
  Stats stats_;
};

AsioMediaEngine::AsioMediaEngine(AsioMediaOptions options, MediaEvents events)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(events))) {}

AsioMediaEngine::~AsioMediaEngine() {
  stop();
}

void AsioMediaEngine::start() {
  impl_->start();
}
void AsioMediaEngine::stop() {
  impl_->stop();
}

void AsioMediaEngine::open_stream(StreamId id, StreamSockets sockets, StreamMedia media) {
  impl_->post([impl = impl_.get(), id, sockets, media = std::move(media)] {
    impl->open(id, sockets, media);
  });
}
void AsioMediaEngine::update_stream(StreamId id, StreamMedia media) {
  impl_->post([impl = impl_.get(), id, media = std::move(media)] { impl->update(id, media); });
}
void AsioMediaEngine::play_moh(StreamId id, const std::string& moh_class) {
  impl_->post([impl = impl_.get(), id, moh_class] { impl->play(id, moh_class); });
}
void AsioMediaEngine::play_prompts(StreamId id, std::vector<Clip> clips, std::uint64_t token) {
  impl_->post([impl = impl_.get(), id, clips = std::move(clips), token]() mutable {
    impl->prompts(id, std::move(clips), token);
  });
}
void AsioMediaEngine::detect_inband_dtmf(StreamId id, bool on) {
  impl_->post([impl = impl_.get(), id, on] { impl->inband(id, on); });
}
void AsioMediaEngine::start_recording(StreamId id, std::string path, RecordingMode mode,
                                      std::uint64_t token) {
  impl_->post([impl = impl_.get(), id, path = std::move(path), mode, token]() mutable {
    impl->record(id, std::move(path), mode, token);
  });
}
void AsioMediaEngine::pause_recording(StreamId id, bool paused) {
  impl_->post([impl = impl_.get(), id, paused] { impl->pause_record(id, paused); });
}
void AsioMediaEngine::stop_recording(StreamId id) {
  impl_->post([impl = impl_.get(), id] { impl->stop_record(id); });
}
void AsioMediaEngine::bridge(StreamId a, StreamId b) {
  impl_->post([impl = impl_.get(), a, b] { impl->join(a, b); });
}
void AsioMediaEngine::listen_in(StreamId supervisor, StreamId caller, StreamId agent,
                                ListenMode mode) {
  impl_->post([impl = impl_.get(), supervisor, caller, agent, mode] {
    impl->listen(supervisor, caller, agent, mode);
  });
}
void AsioMediaEngine::conference(std::vector<StreamId> members) {
  impl_->post([impl = impl_.get(), members = std::move(members)] { impl->confer(members); });
}
void AsioMediaEngine::leave_mix(StreamId id) {
  impl_->post([impl = impl_.get(), id] { impl->leave(id); });
}
void AsioMediaEngine::silence(StreamId id) {
  impl_->post([impl = impl_.get(), id] { impl->quiet(id); });
}
void AsioMediaEngine::close_stream(StreamId id) {
  impl_->post([impl = impl_.get(), id] { impl->close(id); });
}
const char* AsioMediaEngine::io_backend() const {
  return impl_->io_backend();
}
void AsioMediaEngine::set_moh_classes(std::vector<MohClass> classes) {
  impl_->post([impl = impl_.get(), classes = std::move(classes)]() mutable {
    impl->set_classes(std::move(classes));
  });
}
MediaStats AsioMediaEngine::stats() const {
  return impl_->snapshot();
}

}  // namespace acd::media
