// media_bench: the media plane (engine/media AsioMediaEngine) under load over loopback
// UDP, in one process: the engine on its media thread, a load generator on a thread of
// its own playing every caller and agent.
//
//   1. Music on hold: N streams, each with its own engine-side RTP/RTCP socket pair on
//      127.0.0.1, all playing one shared class (a synthesised tone). With --callers-send
//      (the default; real callers talk while they wait) the generator also sends each
//      stream 50 packets/s. N steps upward; the figure is the largest N whose jitter p99
//      stays under the limit (2 ms).
//   2. Bridged calls: M bridged pairs (2M streams, PCMU both ways). The generator sends
//      50 packets/s on every leg on an absolute 20 ms schedule, each packet carrying its
//      send time in the payload (the relay copies PCMU -> PCMU payloads unchanged), and
//      receives what the engine relays: jitter as above plus relay latency. The jitter of
//      a relayed stream includes the generator's own send timing (shown as "gen lat").
// The generator's legs send in 10 phases 2 ms apart (as real callers' packets come at
// random phases), not all at one instant; the engine's music, by design, goes out in
// one burst per 20 ms tick.
//
// How it measures. Every engine stream signals the generator's one UDP socket as its peer
// (so the engine latches to it at once and sends all streams there); the generator reads
// it with recvmmsg and takes each datagram's kernel timestamp (SO_TIMESTAMPNS; on
// loopback the kernel stamps the packet as the sender hands it to the stack), so the
// generator's own scheduling does not distort what it sees. Streams are told apart by
// their engine-side source port (SSRCs are random and may collide). Per stream:
//   jitter  = |arrival interval - 20 ms x sequence step| over every pair of successive
//             packets (a step of 1 unless packets were lost), after a warm-up;
//   loss    = sequence gaps / (received + gaps);
//   latency = arrival - the send time in the payload (bridge only; the send time is
//             taken once per sendmmsg batch of kSendBatch = 16 packets, so it includes
//             up to one batch's send time).
// CPU: the media thread's own run time and run-queue wait (/proc/self/task/<tid>/
// schedstat), the generator thread's likewise, and the whole process (getrusage
// RUSAGE_SELF, which includes the generator) over the measurement window. The media thread
// and the generator each run on a CPU of their own (--pin off leaves them to the scheduler),
// and each step starts with a fresh engine, generator and sockets.
//
// Run in Release, on an otherwise idle machine for real numbers (on a busy one,
// --rt-priority / --gen-rt-priority keep the scheduler's delays out of the figures;
// "eng rq" shows how long the media thread waited for a CPU):
//   build/release/bench/media_bench [--seconds 10] [--only moh|bridge] ...
// --quick is the ctest smoke test: one small step of each part. See usage() for options.
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/percentiles.h"
#include "engine/media/asio_media_engine.h"
#include "engine/media/audio.h"
#include "engine/media/rtp_packet.h"

namespace {

using namespace acd::media;

constexpr std::int64_t kFrameNs = 20'000'000;  // one packet every 20 ms per stream
constexpr std::size_t kPacketSize = kRtpHeaderSize + kFrameSamples;  // PCMU, 20 ms
constexpr std::size_t kSendBatch = 16;  // datagrams per sendmmsg (and per send timestamp)
// The generator's legs send in kSlices phases spread over the 20 ms (as real callers' packets
// arrive at random phases), not all at one instant.
constexpr std::int64_t kSlices = 10;
constexpr std::size_t kReceiveBatch = 256;   // datagrams per recvmmsg
constexpr std::size_t kFdsReserved = 64;     // descriptors kept for everything but streams
constexpr std::uint16_t kFirstPort = 10000;  // engine and generator ports are taken from here up
constexpr const char* kMohClass = "bench";

// ---------------------------------------------------------------------------------------
// Options

enum class Part { kMoh, kBridge };

struct Options {
  double seconds = 10;          // measurement window per step
  double warmup = 2;            // before each window: streams open, latch and settle
  std::size_t max_streams = 0;  // 0: as many as RLIMIT_NOFILE allows
  bool run_moh = true;
  bool run_bridge = true;
  bool callers_send = true;  // music on hold: callers send 50 packets/s each too
  bool quick = false;
  bool all_steps = false;  // keep stepping after a step misses the limit
  double p99_limit_ms = 2.0;
  int rcvbuf_mib = 16;
  int rt_priority = 0;               // > 0: the media thread under SCHED_FIFO (AsioMediaOptions)
  int gen_rt_priority = 0;           // > 0: the generator thread under SCHED_FIFO
  bool pin = true;                   // the media thread and the generator on CPUs of their own
  std::vector<bool> io_uring{true};  // the engine's socket I/O, one pass per entry
  std::vector<std::size_t> moh_steps{500, 1000, 2000, 3000, 4000, 5000, 6000, 8000};
  std::vector<std::size_t> bridge_steps{250, 500, 1000, 1500, 2000, 2500, 3000, 4000};
};

void usage() {
  std::printf(
      "usage: media_bench [options]\n"
      "  --seconds S          measurement window per step (default 10)\n"
      "  --warmup S           settling time before each window (default 2)\n"
      "  --max-streams N      cap on engine streams per step (default: what RLIMIT_NOFILE "
      "allows)\n"
      "  --only moh|bridge    run one part\n"
      "  --callers-send on|off  music on hold: callers also send 50 packets/s (default on)\n"
      "  --moh-steps a,b,...  stream counts (default 500,1000,2000,3000,4000,5000,6000,8000)\n"
      "  --bridge-steps a,b,...  bridged pairs (default 250,500,1000,1500,2000,2500,3000,4000)\n"
      "  --all-steps          keep going after a step misses the jitter limit\n"
      "  --p99-limit-ms X     the jitter p99 a step must stay under (default 2)\n"
      "  --rcvbuf-mib X       the generator's receive buffer (default 16)\n"
      "  --rt-priority P      run the media thread under SCHED_FIFO at P\n"
      "  --gen-rt-priority P  run the generator thread under SCHED_FIFO at P\n"
      "  --pin on|off         media thread and generator each on a CPU of its own (default on)\n"
      "  --io io_uring|epoll|both  the engine's socket I/O (default io_uring; both: each part "
      "twice, epoll as the reference)\n"
      "  --quick              smoke run: 100 streams / 50 pairs, 2 s windows\n");
}

std::vector<std::size_t> parse_steps(const std::string& text) {
  std::vector<std::size_t> steps;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const unsigned long long value = std::stoull(item);
    if (value == 0) throw std::invalid_argument("a step of 0");
    steps.push_back(static_cast<std::size_t>(value));
  }
  if (steps.empty()) throw std::invalid_argument("no steps");
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  bool seconds_given = false;
  bool warmup_given = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--seconds") {
        o.seconds = std::stod(value());
        seconds_given = true;
      } else if (arg == "--warmup") {
        o.warmup = std::stod(value());
        warmup_given = true;
      } else if (arg == "--max-streams") {
        o.max_streams = static_cast<std::size_t>(std::stoull(value()));
      } else if (arg == "--only") {
        const std::string part = value();
        if (part != "moh" && part != "bridge") throw std::invalid_argument("--only moh|bridge");
        o.run_moh = part == "moh";
        o.run_bridge = part == "bridge";
      } else if (arg == "--callers-send") {
        const std::string on = value();
        if (on != "on" && on != "off") throw std::invalid_argument("--callers-send on|off");
        o.callers_send = on == "on";
      } else if (arg == "--moh-steps") {
        o.moh_steps = parse_steps(value());
      } else if (arg == "--bridge-steps") {
        o.bridge_steps = parse_steps(value());
      } else if (arg == "--all-steps") {
        o.all_steps = true;
      } else if (arg == "--p99-limit-ms") {
        o.p99_limit_ms = std::stod(value());
      } else if (arg == "--rcvbuf-mib") {
        o.rcvbuf_mib = std::stoi(value());
      } else if (arg == "--rt-priority") {
        o.rt_priority = std::stoi(value());
      } else if (arg == "--gen-rt-priority") {
        o.gen_rt_priority = std::stoi(value());
      } else if (arg == "--pin") {
        const std::string on = value();
        if (on != "on" && on != "off") throw std::invalid_argument("--pin on|off");
        o.pin = on == "on";
      } else if (arg == "--io") {
        const std::string io = value();
        if (io == "io_uring")
          o.io_uring = {true};
        else if (io == "epoll")
          o.io_uring = {false};
        else if (io == "both")
          o.io_uring = {false, true};
        else
          throw std::invalid_argument("--io io_uring|epoll|both");
      } else if (arg == "--quick") {
        o.quick = true;
      } else if (arg == "--help" || arg == "-h") {
        usage();
        std::exit(0);
      } else {
        throw std::invalid_argument("unknown option " + arg);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "media_bench: %s\n", e.what());
    usage();
    return std::nullopt;
  }
  if (o.quick) {
    o.moh_steps = {100};
    o.bridge_steps = {50};
    if (!seconds_given) o.seconds = 2;
    if (!warmup_given) o.warmup = 0.5;
  }
  if (o.seconds <= 0 || o.warmup < 0 || o.rcvbuf_mib <= 0 || o.rcvbuf_mib > 1024) {
    std::fprintf(stderr, "media_bench: --seconds > 0, --warmup >= 0, --rcvbuf-mib 1..1024\n");
    return std::nullopt;
  }
  return o;
}

// ---------------------------------------------------------------------------------------
// Clocks, threads, CPU

std::int64_t clock_ns(clockid_t clock) {
  timespec t{};
  ::clock_gettime(clock, &t);
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}
// SO_TIMESTAMPNS stamps datagrams with CLOCK_REALTIME; the generator paces on MONOTONIC.
std::int64_t realtime_ns() {
  return clock_ns(CLOCK_REALTIME);
}
std::int64_t monotonic_ns() {
  return clock_ns(CLOCK_MONOTONIC);
}

std::vector<pid_t> thread_ids() {
  std::vector<pid_t> ids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ids.push_back(static_cast<pid_t>(std::stol(entry.path().filename().string())));
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Time a thread ran on a CPU and waited runnable for one (ns), from its schedstat.
struct ThreadTimes {
  std::int64_t run_ns = 0;
  std::int64_t wait_ns = 0;
};
ThreadTimes thread_times(pid_t tid) {
  ThreadTimes t;
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  in >> t.run_ns >> t.wait_ns;
  return t;
}

// Where the media thread and the generator run when pinned: the last two CPUs this process
// may use (apart, as the engine and its remote callers would be; left to the scheduler, the
// generator's wake-ups pull the media thread onto its CPU). Nullopt: fewer than two CPUs.
struct Cpus {
  int media = -1;
  int generator = -1;
};
std::optional<Cpus> pick_cpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) return std::nullopt;
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  if (cpus.size() < 2) return std::nullopt;
  return Cpus{cpus[cpus.size() - 1], cpus[cpus.size() - 2]};
}

// Pins thread `tid` (0: the calling thread) to one CPU; false if refused.
bool pin_thread(pid_t tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::sched_setaffinity(tid, sizeof set, &set) == 0;
}

std::int64_t process_cpu_ns() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& t) {
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_usec * 1000;
  };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// ---------------------------------------------------------------------------------------
// Sockets

int bind_udp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
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

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// Datagrams the kernel dropped because the socket's receive buffer was full.
std::uint64_t socket_drops(int fd) {
  std::uint32_t info[SK_MEMINFO_VARS]{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &length) != 0) return 0;
  return info[SK_MEMINFO_DROPS];
}

// RTP/RTCP socket pairs on adjacent loopback ports (RTP even), as a SIP layer's port
// allocator hands them out; ports in use by anyone else are skipped.
class PortPairs {
 public:
  struct Pair {
    int rtp = -1;
    int rtcp = -1;
    std::uint16_t port = 0;
  };
  std::optional<Pair> next() {
    while (next_ + 1 <= 65535) {
      const auto port = static_cast<std::uint16_t>(next_);
      next_ += 2;
      const int rtp = bind_udp(port);
      if (rtp < 0) continue;
      const int rtcp = bind_udp(static_cast<std::uint16_t>(port + 1));
      if (rtcp < 0) {
        ::close(rtp);
        continue;
      }
      return Pair{rtp, rtcp, port};
    }
    return std::nullopt;
  }

 private:
  std::uint32_t next_ = kFirstPort;
};

// ---------------------------------------------------------------------------------------
// The load generator: every caller and agent, on one thread and one socket pair.

struct GeneratorFigures {
  std::vector<std::int64_t> jitter_ns;     // per received interval, in the window
  std::vector<std::int64_t> latency_ns;    // bridge: send -> relayed arrival
  std::vector<std::int64_t> send_late_ns;  // how late each send slice started
  std::uint64_t received = 0;              // RTP datagrams that arrived in the window
  std::uint64_t lost = 0;                  // sequence gaps in the window
  std::uint64_t out_of_order = 0;          // late or duplicated packets
  std::uint64_t malformed = 0;             // not RTP, or cut short
  std::uint64_t foreign = 0;               // from a port that is no engine stream
  std::uint64_t send_errors = 0;           // datagrams the kernel refused to send
  std::uint64_t skipped_slices = 0;        // send slices dropped after the generator fell behind
  std::uint64_t no_timestamp = 0;          // datagrams without a kernel timestamp (none expected)
  std::size_t streams_heard = 0;           // streams with at least one packet in the window
};

class Generator {
 public:
  // rt_priority > 0: SCHED_FIFO; cpu >= 0: the thread runs on that CPU only.
  Generator(PortPairs& ports, int rcvbuf_bytes, int rt_priority = 0, int cpu = -1)
      : rt_priority_(rt_priority), cpu_(cpu) {
    auto pair = ports.next();
    if (!pair) throw std::runtime_error("no free loopback port pair for the generator");
    rtp_ = pair->rtp;
    rtcp_ = pair->rtcp;
    port_ = pair->port;
    // Root may exceed net.core.rmem_max; anyone else gets what rmem_max allows.
    rcvbuf_forced_ =
        ::setsockopt(rtp_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof rcvbuf_bytes) == 0;
    if (!rcvbuf_forced_)
      ::setsockopt(rtp_, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    socklen_t length = sizeof rcvbuf_effective_;
    ::getsockopt(rtp_, SOL_SOCKET, SO_RCVBUF, &rcvbuf_effective_, &length);
    const int on = 1;
    if (::setsockopt(rtp_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
      throw std::runtime_error(std::string("SO_TIMESTAMPNS: ") + std::strerror(errno));
  }
  ~Generator() {
    stop();
    ::close(rtp_);
    ::close(rtcp_);
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int rcvbuf_bytes() const { return rcvbuf_effective_; }
  [[nodiscard]] bool rcvbuf_forced() const { return rcvbuf_forced_; }
  [[nodiscard]] std::uint64_t drops() const { return socket_drops(rtp_); }
  // The generator thread's id (valid once start() returned).
  [[nodiscard]] pid_t tid() const { return tid_.load(); }
  // After stop().
  [[nodiscard]] GeneratorFigures& figures() { return figures_; }

  // An engine stream: the generator takes what arrives from `engine_port` as that
  // stream's output and, when `send` is set, sends it a packet every 20 ms.
  void add_stream(std::uint16_t engine_port, bool send) {
    stream_of_port_[engine_port] = static_cast<std::int32_t>(tracks_.size());
    tracks_.emplace_back();
    if (send) {
      Leg leg;
      leg.to = loopback(engine_port);
      leg.ssrc = static_cast<std::uint32_t>(legs_.size() + 1);
      legs_.push_back(leg);
    }
  }
  // Figures count what arrives (and is sent) in [start, end) on CLOCK_REALTIME.
  void set_window(std::int64_t start_ns, std::int64_t end_ns) {
    window_start_ = start_ns;
    window_end_ = end_ns;
  }
  // Whether relayed packets carry the generator's send time (bridge).
  void set_measure_latency(bool on) { measure_latency_ = on; }

  void start() {
    const std::size_t expected_packets =
        static_cast<std::size_t>(static_cast<double>(tracks_.size()) * 50.0 *
                                 static_cast<double>(window_end_ - window_start_) / 1e9 * 1.05);
    figures_.jitter_ns.reserve(expected_packets);
    if (measure_latency_) figures_.latency_ns.reserve(expected_packets);
    prepare_sends();
    thread_ = std::thread([this] { run(); });
    while (tid_.load() == 0) std::this_thread::yield();
  }

  void stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
    for (const Track& t : tracks_) figures_.streams_heard += t.heard_in_window ? 1 : 0;
  }

 private:
  struct Leg {  // a caller or agent talking to one engine stream
    sockaddr_in to{};
    std::uint32_t ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
  };
  struct Track {
    std::int64_t last_arrival_ns = 0;
    std::uint16_t last_sequence = 0;
    bool heard = false;
    bool heard_in_window = false;
  };
  // One received datagram's room: the payload, the sender, the control messages.
  struct Slot {
    std::array<std::uint8_t, 512> data;
    sockaddr_in from;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec)) + 64> control;
    iovec iov;
  };

  [[nodiscard]] bool in_window(std::int64_t realtime) const {
    return realtime >= window_start_ && realtime < window_end_;
  }

  void prepare_sends() {
    packets_.assign(legs_.size(), {});
    send_iov_.resize(legs_.size());
    send_msgs_.resize(legs_.size());
    for (std::size_t i = 0; i < legs_.size(); ++i) {
      send_iov_[i] = iovec{packets_[i].data(), kPacketSize};
      msghdr& m = send_msgs_[i].msg_hdr;
      m = msghdr{};
      m.msg_name = &legs_[i].to;
      m.msg_namelen = sizeof(sockaddr_in);
      m.msg_iov = &send_iov_[i];
      m.msg_iovlen = 1;
    }
    slots_.resize(kReceiveBatch);
    receive_msgs_.resize(kReceiveBatch);
  }

  void run() {
    if (rt_priority_ > 0) {
      sched_param param{};
      param.sched_priority = rt_priority_;
      if (const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param); rc != 0)
        std::fprintf(stderr, "media_bench: generator: SCHED_FIFO refused (%s)\n",
                     std::strerror(rc));
    }
    if (cpu_ >= 0 && !pin_thread(0, cpu_))
      std::fprintf(stderr, "media_bench: generator: CPU %d refused (%s)\n", cpu_,
                   std::strerror(errno));
    tid_.store(::gettid());
    pollfd fds[2] = {{rtp_, POLLIN, 0}, {rtcp_, POLLIN, 0}};
    const bool sending = !legs_.empty();
    // Slice k of every 20 ms round sends legs [k L / kSlices, (k + 1) L / kSlices) at
    // k x 20 ms / kSlices into the round: each leg on an absolute 20 ms schedule.
    constexpr std::int64_t kSliceNs = kFrameNs / kSlices;
    std::int64_t next_slice_at = monotonic_ns();
    std::int64_t slice = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      std::int64_t now = monotonic_ns();
      if (sending && now >= next_slice_at) {
        const std::int64_t wall = realtime_ns();
        const bool counted = in_window(wall);
        if (counted) figures_.send_late_ns.push_back(now - next_slice_at);
        const auto k = static_cast<std::size_t>(slice % kSlices);
        const std::size_t slices = static_cast<std::size_t>(kSlices);
        send_legs(k * legs_.size() / slices, (k + 1) * legs_.size() / slices, counted);
        ++slice;
        next_slice_at += kSliceNs;
        // Far behind (the machine stalled): skip whole rounds rather than burst them, as
        // the engine's clock does; the gap shows as a jump in the arrival interval.
        now = monotonic_ns();
        if (now - next_slice_at > 5 * kFrameNs) {
          const std::int64_t rounds = (now - next_slice_at) / kFrameNs;
          figures_.skipped_slices += static_cast<std::uint64_t>(rounds * kSlices);
          next_slice_at += rounds * kFrameNs;
        }
      }
      const std::int64_t wait_ns =
          sending ? std::max<std::int64_t>(0, next_slice_at - now) : 10'000'000;
      const timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                             static_cast<long>(wait_ns % 1'000'000'000)};
      if (::ppoll(fds, 2, &timeout, nullptr) < 0 && errno != EINTR) break;
      // Drain, but leave off at the next send slice: arrival times come from the kernel,
      // so reading a little later costs no accuracy (only buffer room).
      while (receive_batch() == kReceiveBatch && (!sending || monotonic_ns() < next_slice_at)) {
      }
      drain_rtcp();
    }
  }

  // One packet to each leg in [first, last): PCMU silence, the send time in its first bytes.
  void send_legs(std::size_t first, std::size_t last, bool count) {
    std::array<std::uint8_t, kFrameSamples> silence;
    silence.fill(kUlawSilence);
    for (std::size_t i = first; i < last; ++i) {
      Leg& leg = legs_[i];
      RtpHeader h;
      h.payload_type = 0;  // PCMU
      h.sequence = leg.sequence++;
      h.timestamp = leg.timestamp;
      leg.timestamp += kFrameSamples;
      h.ssrc = leg.ssrc;
      h.marker = h.sequence == 0;
      write_rtp(h, silence, packets_[i]);
    }
    for (std::size_t begin = first; begin < last; begin += kSendBatch) {
      const std::size_t end = std::min(last, begin + kSendBatch);
      const std::int64_t sent_at = realtime_ns();
      for (std::size_t i = begin; i < end; ++i)
        std::memcpy(packets_[i].data() + kRtpHeaderSize, &sent_at, sizeof sent_at);
      std::size_t i = begin;
      while (i < end) {
        const int n =
            ::sendmmsg(rtp_, &send_msgs_[i], static_cast<unsigned>(end - i), MSG_DONTWAIT);
        if (n > 0) {
          i += static_cast<std::size_t>(n);
        } else {
          if (count) ++figures_.send_errors;
          ++i;  // the kernel refused the message at i: leave it out
        }
      }
    }
  }

  // Reads up to kReceiveBatch datagrams; returns how many.
  std::size_t receive_batch() {
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
      Slot& s = slots_[i];
      s.iov = iovec{s.data.data(), s.data.size()};
      msghdr& m = receive_msgs_[i].msg_hdr;
      m = msghdr{};
      m.msg_name = &s.from;
      m.msg_namelen = sizeof s.from;
      m.msg_iov = &s.iov;
      m.msg_iovlen = 1;
      m.msg_control = s.control.data();
      m.msg_controllen = s.control.size();
    }
    const int n = ::recvmmsg(rtp_, receive_msgs_.data(), kReceiveBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    for (int i = 0; i < n; ++i) {
      const msghdr& m = receive_msgs_[static_cast<std::size_t>(i)].msg_hdr;
      std::int64_t arrival = -1;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr;
           c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec t{};
          std::memcpy(&t, CMSG_DATA(c), sizeof t);
          arrival = std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
        }
      }
      if (arrival < 0) {
        ++figures_.no_timestamp;
        arrival = realtime_ns();
      }
      const Slot& s = slots_[static_cast<std::size_t>(i)];
      const std::size_t size = receive_msgs_[static_cast<std::size_t>(i)].msg_len;
      if ((m.msg_flags & MSG_TRUNC) != 0) {
        ++figures_.malformed;
        continue;
      }
      on_datagram(ntohs(s.from.sin_port), arrival,
                  std::span<const std::uint8_t>(s.data.data(), size));
    }
    return static_cast<std::size_t>(n);
  }

  void on_datagram(std::uint16_t from_port, std::int64_t arrival,
                   std::span<const std::uint8_t> datagram) {
    const bool counted = in_window(arrival);
    const std::int32_t stream = stream_of_port_[from_port];
    if (stream < 0) {
      if (counted) ++figures_.foreign;
      return;
    }
    const auto packet = parse_rtp(datagram);
    if (!packet) {
      if (counted) ++figures_.malformed;
      return;
    }
    Track& t = tracks_[static_cast<std::size_t>(stream)];
    if (t.heard) {
      const int step = sequence_delta(t.last_sequence, packet->header.sequence);
      if (step <= 0) {  // late or duplicated: no interval to measure
        if (counted) ++figures_.out_of_order;
        return;
      }
      if (counted) {
        figures_.lost += static_cast<std::uint64_t>(step - 1);
        figures_.jitter_ns.push_back(std::llabs(arrival - t.last_arrival_ns - step * kFrameNs));
      }
    }
    t.heard = true;
    t.last_sequence = packet->header.sequence;
    t.last_arrival_ns = arrival;
    if (!counted) return;
    t.heard_in_window = true;
    ++figures_.received;
    if (measure_latency_ && packet->payload.size() >= sizeof(std::int64_t)) {
      std::int64_t sent_at = 0;
      std::memcpy(&sent_at, packet->payload.data(), sizeof sent_at);
      figures_.latency_ns.push_back(arrival - sent_at);
    }
  }

  // The engine's RTCP sender reports: read and dropped (they are not measured).
  void drain_rtcp() {
    std::array<std::uint8_t, 512> buffer;
    while (::recv(rtcp_, buffer.data(), buffer.size(), MSG_DONTWAIT) >= 0) {
    }
  }

  int rt_priority_ = 0;
  int cpu_ = -1;
  int rtp_ = -1;
  int rtcp_ = -1;
  std::uint16_t port_ = 0;
  int rcvbuf_effective_ = 0;
  bool rcvbuf_forced_ = false;
  std::int64_t window_start_ = 0;
  std::int64_t window_end_ = 0;
  bool measure_latency_ = false;
  std::vector<std::int32_t> stream_of_port_ = std::vector<std::int32_t>(65536, -1);
  std::vector<Track> tracks_;
  std::vector<Leg> legs_;
  std::vector<std::array<std::uint8_t, kPacketSize>> packets_;
  std::vector<iovec> send_iov_;
  std::vector<mmsghdr> send_msgs_;
  std::vector<Slot> slots_;
  std::vector<mmsghdr> receive_msgs_;
  GeneratorFigures figures_;
  std::atomic<bool> stop_{false};
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------
// One step: a fresh engine and generator, `streams` engine streams, one window.

MohClass tone_class() {
  // Four seconds of a two-tone chord with a slow swell: every frame differs.
  std::vector<std::int16_t> pcm(static_cast<std::size_t>(kSampleRate) * 4);
  constexpr double kPi = 3.14159265358979323846;
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    const double t = static_cast<double>(i) / kSampleRate;
    const double swell = 0.6 + 0.4 * std::sin(2 * kPi * 0.5 * t);
    const double v =
        swell * (0.35 * std::sin(2 * kPi * 440 * t) + 0.25 * std::sin(2 * kPi * 660 * t));
    pcm[i] = static_cast<std::int16_t>(std::lround(v * 32767));
  }
  MohClass c;
  c.name = kMohClass;
  c.mode = MohMode::kShared;
  c.audio = std::make_shared<const EncodedAudio>(pcm);
  return c;
}

struct Sample {            // what the main thread reads at the window's edges
  std::int64_t at_ns = 0;  // CLOCK_MONOTONIC: rates use the time between the two samples
  MediaStats engine;
  ThreadTimes media_thread;
  ThreadTimes generator_thread;
  std::int64_t process_cpu_ns = 0;
  std::uint64_t generator_drops = 0;
  std::uint64_t engine_drops = 0;  // summed over the engine streams' RTP sockets
};

struct StepResult {
  bool ran = false;
  double jitter_p99_ms = 0;
  std::uint64_t received = 0;
  std::size_t streams_heard = 0;
  std::size_t streams = 0;
  std::string io_backend;  // what the engine used
};

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

StepResult run_step(Part part, std::size_t count, const Options& o, bool io_uring,
                    const std::optional<Cpus>& cpus) {
  const bool bridge = part == Part::kBridge;
  const std::size_t streams = bridge ? 2 * count : count;
  StepResult result;
  result.streams = streams;

  PortPairs ports;
  Generator generator(ports, o.rcvbuf_mib * 1024 * 1024, o.gen_rt_priority,
                      cpus ? cpus->generator : -1);
  generator.set_measure_latency(bridge);

  AsioMediaOptions engine_options;
  engine_options.realtime_priority = o.rt_priority;
  engine_options.io_uring = io_uring;
  engine_options.warn = [](const std::string& message) {
    std::fprintf(stderr, "media_bench: engine: %s\n", message.c_str());
  };
  AsioMediaEngine engine(engine_options, MediaEvents{});
  result.io_backend = engine.io_backend();
  const std::vector<pid_t> before = thread_ids();
  engine.start();
  const std::vector<pid_t> after = thread_ids();
  std::vector<pid_t> started;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(started));
  const pid_t media_tid = started.size() == 1 ? started.front() : 0;
  if (cpus && media_tid != 0 && !pin_thread(media_tid, cpus->media))
    std::fprintf(stderr, "media_bench: media thread: CPU %d refused (%s)\n", cpus->media,
                 std::strerror(errno));
  if (!bridge) engine.set_moh_classes({tone_class()});

  std::vector<int> engine_rtp_fds;  // the engine owns them; read here only for drop counts
  engine_rtp_fds.reserve(streams);
  for (std::size_t i = 0; i < streams; ++i) {
    auto pair = ports.next();
    if (!pair) {
      std::fprintf(stderr, "media_bench: ran out of loopback ports at stream %zu\n", i);
      return result;
    }
    StreamMedia media;
    media.remote_address = "127.0.0.1";
    media.remote_port = generator.port();  // the signalled peer: the engine latches at once
    media.codec = Codec::kPcmu;
    media.payload_type = 0;
    engine.open_stream(i, StreamSockets{pair->rtp, pair->rtcp}, media);
    engine_rtp_fds.push_back(pair->rtp);
    generator.add_stream(pair->port, bridge || o.callers_send);
  }
  for (std::size_t i = 0; i < streams; ++i) {
    if (!bridge) {
      engine.play_moh(i, kMohClass);
    } else if (i % 2 == 1) {
      engine.bridge(i - 1, i);  // stream 2k is the caller's leg, 2k + 1 the agent's
    }
  }

  const auto warmup = std::chrono::nanoseconds(static_cast<std::int64_t>(o.warmup * 1e9));
  const auto window = std::chrono::nanoseconds(static_cast<std::int64_t>(o.seconds * 1e9));
  const auto start_steady = std::chrono::steady_clock::now() + warmup;
  const std::int64_t start_wall = realtime_ns() + warmup.count();
  generator.set_window(start_wall, start_wall + window.count());
  generator.start();

  auto sample = [&] {
    Sample s;
    s.at_ns = monotonic_ns();
    s.engine = engine.stats();
    if (media_tid != 0) s.media_thread = thread_times(media_tid);
    s.generator_thread = thread_times(generator.tid());
    s.process_cpu_ns = process_cpu_ns();
    s.generator_drops = generator.drops();
    for (int fd : engine_rtp_fds) s.engine_drops += socket_drops(fd);
    return s;
  };
  std::this_thread::sleep_until(start_steady);
  const Sample first = sample();
  std::this_thread::sleep_until(start_steady + window);
  const Sample last = sample();
  // Let the window's last packets arrive (their kernel stamps decide whether they count).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  generator.stop();
  engine.stop();

  GeneratorFigures& f = generator.figures();
  // Counters and CPU times per second of the time between the samples (the main thread
  // may wake a little late); jitter, latency and loss cover exactly the window.
  const double seconds = static_cast<double>(last.at_ns - first.at_ns) / 1e9;
  const auto jitter = acd::bench::summarize(f.jitter_ns);
  const auto latency = acd::bench::summarize(f.latency_ns);
  const auto send_late = acd::bench::summarize(f.send_late_ns);
  const double stream_seconds = static_cast<double>(streams) * seconds;
  auto delta = [](std::uint64_t a, std::uint64_t b) { return static_cast<double>(b - a); };
  const double media_run = ms(last.media_thread.run_ns - first.media_thread.run_ns);
  const double media_wait = ms(last.media_thread.wait_ns - first.media_thread.wait_ns);
  const double gen_run = ms(last.generator_thread.run_ns - first.generator_thread.run_ns);
  const double process = ms(last.process_cpu_ns - first.process_cpu_ns);
  const double loss = f.received + f.lost == 0 ? 0
                                               : 100.0 * static_cast<double>(f.lost) /
                                                     static_cast<double>(f.received + f.lost);
  const double engine_out = bridge
                                ? delta(first.engine.packets_relayed, last.engine.packets_relayed)
                                : delta(first.engine.packets_sent, last.engine.packets_sent);

  std::printf("%6zu %7zu %9.0f %7.3f %7.3f %7.3f %7.2f", count, streams, engine_out / seconds,
              ms(jitter.p50_ns), ms(jitter.p99_ns), ms(jitter.p999_ns), ms(jitter.max_ns));
  if (bridge) std::printf(" %7.3f %7.3f", ms(latency.p50_ns), ms(latency.p99_ns));
  std::printf(" %7.3f %8.4f %8.4f %6.1f %7.1f %6.1f %7.2f %6.0f %6.0f %6.0f/%-6.0f\n", loss,
              media_run / stream_seconds, process / stream_seconds,
              100.0 * media_run / (seconds * 1000), media_wait / seconds,
              100.0 * gen_run / (seconds * 1000), ms(send_late.p99_ns),
              delta(first.engine.late_ticks, last.engine.late_ticks),
              delta(first.engine.send_failures, last.engine.send_failures),
              delta(first.generator_drops, last.generator_drops),
              delta(first.engine_drops, last.engine_drops));
  // Anything unexpected, on its own line under the row.
  if (f.streams_heard < streams)
    std::printf("       ^ only %zu of %zu streams were heard in the window\n", f.streams_heard,
                streams);
  if (f.out_of_order + f.malformed + f.foreign + f.send_errors + f.skipped_slices + f.no_timestamp >
      0)
    std::printf(
        "       ^ out of order %llu, malformed %llu, from unknown ports %llu, generator send "
        "errors %llu, generator send slices skipped %llu, without kernel timestamp %llu\n",
        static_cast<unsigned long long>(f.out_of_order),
        static_cast<unsigned long long>(f.malformed), static_cast<unsigned long long>(f.foreign),
        static_cast<unsigned long long>(f.send_errors),
        static_cast<unsigned long long>(f.skipped_slices),
        static_cast<unsigned long long>(f.no_timestamp));
  if (media_tid == 0) std::printf("       ^ the media thread was not found: its CPU reads 0\n");
  std::fflush(stdout);

  result.ran = true;
  result.jitter_p99_ms = ms(jitter.p99_ns);
  result.received = f.received;
  result.streams_heard = f.streams_heard;
  return result;
}

// The machine's floor: how late a thread with the media thread's scheduling wakes from an
// absolute-time sleep (1 ms period), with nothing else of ours running.
void print_wakeup_floor(const Options& o, const std::optional<Cpus>& cpus, double seconds) {
  std::vector<std::int64_t> late_ns;
  std::thread probe([&] {
    if (cpus) pin_thread(0, cpus->media);
    if (o.rt_priority > 0) {
      sched_param param{};
      param.sched_priority = o.rt_priority;
      ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);
    }
    const std::int64_t end = monotonic_ns() + static_cast<std::int64_t>(seconds * 1e9);
    std::int64_t next = monotonic_ns();
    while (next < end) {
      next += 1'000'000;
      const timespec at{static_cast<time_t>(next / 1'000'000'000),
                        static_cast<long>(next % 1'000'000'000)};
      while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
      late_ns.push_back(monotonic_ns() - next);
    }
  });
  probe.join();
  const auto late = acd::bench::summarize(late_ns);
  std::printf(
      "media_bench: machine floor: a %s thread wakes from a timed sleep late by p50 %.3f, "
      "p99 %.3f, p99.9 %.3f, max %.3f ms (%.1f s, %zu wake-ups)\n",
      o.rt_priority > 0 ? "SCHED_FIFO" : "SCHED_OTHER", ms(late.p50_ns), ms(late.p99_ns),
      ms(late.p999_ns), ms(late.max_ns), seconds, late.count);
}

// ---------------------------------------------------------------------------------------

void print_header(Part part) {
  const bool bridge = part == Part::kBridge;
  std::printf("%6s %7s %9s %7s %7s %7s %7s", bridge ? "M" : "N", "streams",
              bridge ? "relayed/s" : "sent/s", "jit p50", "p99", "p99.9", "max");
  if (bridge) std::printf(" %7s %7s", "lat p50", "p99");
  std::printf(" %7s %8s %8s %6s %7s %6s %7s %6s %6s %13s\n", "loss%", "eng cpu", "all cpu", "eng%",
              "eng rq", "gen%", "gen lat", "late", "sndfl", "drops gen/eng");
}

void print_legend() {
  std::printf(
      "columns: jitter, latency and gen lat (p99 of how late the generator's sends started; it "
      "sends in 10 phases per 20 ms) in ms;\n"
      "  eng cpu = media thread CPU ms per stream per second; all cpu = whole process "
      "(includes the generator) likewise;\n"
      "  eng%% / gen%% = media / generator thread busy (%% of one core); eng rq = ms/s the "
      "media thread waited runnable for a CPU;\n"
      "  late = engine clock ticks > 5 ms late; sndfl = engine send failures; drops = "
      "receive-buffer overflows (generator socket / engine sockets)\n");
}

// Runs the steps of one part; returns false when something is broken (not merely slow).
bool run_part(Part part, const Options& o, bool io_uring, std::size_t max_streams,
              const std::optional<Cpus>& cpus) {
  const bool bridge = part == Part::kBridge;
  const auto& steps = bridge ? o.bridge_steps : o.moh_steps;
  const char* io = io_uring ? "io_uring" : "epoll";
  if (bridge)
    std::printf(
        "\n== bridged calls, socket I/O %s: M pairs, the generator sends 50 packets/s on both "
        "legs of each (PCMU, send time in the payload) and receives the relayed streams\n",
        io);
  else
    std::printf("\n== music on hold, socket I/O %s: N streams playing one shared class%s\n", io,
                o.callers_send ? "; every caller also sends 50 packets/s to the engine"
                               : "; callers send nothing");
  print_header(part);
  std::optional<std::size_t> best;
  std::optional<std::pair<std::size_t, double>> first_miss;
  bool healthy = true;
  for (const std::size_t count : steps) {
    const std::size_t streams = bridge ? 2 * count : count;
    if (streams > max_streams) {
      std::printf("       (stopping before %zu: it needs %zu streams, the cap is %zu)\n", count,
                  streams, max_streams);
      break;
    }
    StepResult r;
    try {
      r = run_step(part, count, o, io_uring, cpus);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "media_bench: %s\n", e.what());
      return false;
    }
    if (!r.ran || r.received == 0 || r.streams_heard < r.streams) healthy = false;
    if (r.ran && r.io_backend != io)
      std::printf("       (the engine used %s: the kernel refused io_uring)\n",
                  r.io_backend.c_str());
    if (!r.ran) break;
    if (r.jitter_p99_ms < o.p99_limit_ms) {
      if (!first_miss) best = count;
    } else if (!first_miss) {
      first_miss = std::pair{count, r.jitter_p99_ms};
      if (!o.all_steps) break;
    }
  }
  const char* what = bridge ? "M (bridged pairs)" : "N (streams)";
  const char* name = bridge ? "bridge" : "moh";
  if (!best)
    std::printf("%s (%s): no step kept jitter p99 under %.1f ms\n", name, io, o.p99_limit_ms);
  else if (first_miss)
    std::printf("%s (%s): largest %s with jitter p99 < %.1f ms: %zu (at %zu it was %.3f ms)\n",
                name, io, what, o.p99_limit_ms, *best, first_miss->first, first_miss->second);
  else
    std::printf(
        "%s (%s): largest %s with jitter p99 < %.1f ms: at least %zu (every step run passed)\n",
        name, io, what, o.p99_limit_ms, *best);
  return healthy;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = parse_options(argc, argv);
  if (!parsed) return 2;
  const Options& o = *parsed;

  // Two descriptors per stream: take all the hard limit allows.
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  ::getrlimit(RLIMIT_NOFILE, &files);
  const std::size_t fd_streams =
      files.rlim_cur > kFdsReserved * 2 ? (files.rlim_cur - kFdsReserved) / 2 : 0;
  std::size_t max_streams = fd_streams;
  if (o.max_streams > 0) {
    if (o.max_streams > fd_streams) {
      std::fprintf(stderr,
                   "media_bench: --max-streams %zu needs %zu file descriptors but RLIMIT_NOFILE "
                   "allows %llu (raise the hard limit: ulimit -Hn, LimitNOFILE=)\n",
                   o.max_streams, o.max_streams * 2 + kFdsReserved,
                   static_cast<unsigned long long>(files.rlim_cur));
      return 1;
    }
    max_streams = o.max_streams;
  }
  const std::size_t smallest = std::min(o.run_moh ? o.moh_steps.front() : SIZE_MAX,
                                        o.run_bridge ? 2 * o.bridge_steps.front() : SIZE_MAX);
  if (smallest > max_streams) {
    std::fprintf(stderr,
                 "media_bench: RLIMIT_NOFILE %llu allows %zu streams (2 descriptors each), fewer "
                 "than the first step's %zu; raise the hard limit (ulimit -Hn, LimitNOFILE=) or "
                 "lower the steps\n",
                 static_cast<unsigned long long>(files.rlim_cur), max_streams, smallest);
    return 1;
  }

  const std::optional<Cpus> cpus = o.pin ? pick_cpus() : std::nullopt;
  std::string placement = "threads not pinned";
  if (cpus)
    placement = "media thread on CPU " + std::to_string(cpus->media) + ", generator on CPU " +
                std::to_string(cpus->generator);
  {
    PortPairs ports;
    Generator probe(ports, o.rcvbuf_mib * 1024 * 1024);
    std::printf(
        "media_bench: AsioMediaEngine over loopback UDP, %u CPUs, load average %s at start\n"
        "media_bench: %.1f s window per step after %.1f s warm-up; generator SO_RCVBUF %d MiB "
        "asked, %d bytes effective (%s); RLIMIT_NOFILE %llu -> at most %zu streams; %s%s%s\n",
        std::thread::hardware_concurrency(), load_average().c_str(), o.seconds, o.warmup,
        o.rcvbuf_mib, probe.rcvbuf_bytes(),
        probe.rcvbuf_forced() ? "SO_RCVBUFFORCE" : "SO_RCVBUF, capped by net.core.rmem_max",
        static_cast<unsigned long long>(files.rlim_cur), max_streams, placement.c_str(),
        o.rt_priority > 0 ? "; media thread SCHED_FIFO" : "",
        o.gen_rt_priority > 0 ? "; generator thread SCHED_FIFO" : "");
  }
  print_wakeup_floor(o, cpus, o.quick ? 0.5 : 3);
  print_legend();

  bool healthy = true;
  for (const bool io_uring : o.io_uring) {
    if (o.run_moh) healthy = run_part(Part::kMoh, o, io_uring, max_streams, cpus) && healthy;
    if (o.run_bridge) healthy = run_part(Part::kBridge, o, io_uring, max_streams, cpus) && healthy;
  }
  std::printf("media_bench: load average %s at the end\n", load_average().c_str());
  if (!healthy) {
    std::fprintf(stderr,
                 "media_bench: a step heard nothing from some streams (see the notes under "
                 "its row)\n");
    return 1;
  }
  return 0;
}
