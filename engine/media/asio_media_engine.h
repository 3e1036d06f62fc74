// AsioMediaEngine: the built-in media plane (media_engine.h) on one thread of its own
// running a Boost.Asio io_context.
//
//  - Input: each stream's RTP socket is watched for readability and drained with
//    non-blocking reads; every datagram is parsed (rtp_packet.h), checked against the
//    negotiated payload types and the stream's SourceLatch, then reported (DTMF) and/or
//    relayed to the bridged partner at once. Bad datagrams are dropped and counted.
//  - Output: one media clock, a single timer ticking every 20 ms on an absolute
//    schedule, sends the next frame of every stream that plays something. No timer per
//    call; the clock sleeps while nothing plays. Shared music-on-hold classes take their
//    position from the clock, so every listener hears the same frame.
//  - Mixes (conferences, supervisors listening in): each member's audio is decoded to
//    linear PCM as it arrives and queued per member (mixer.h: bounded, trimmed when it only
//    adds delay); on each tick of the same clock every member is sent the saturating sum
//    of the members it hears (a "who hears whom" matrix set from the members' roles),
//    encoded in its own codec on its own RTP timeline.
//  - RTCP: sender reports (with a reception report block) every 5 s per stream that
//    sends; incoming RTCP is read and counted.
// Thread-safety: see MediaEngine; start()/stop() from one controlling thread.
#pragma once

#include <chrono>
#include <memory>

#include "engine/media/media_engine.h"

namespace acd::media {

struct AsioMediaOptions {
  // How long a latched source must be silent before another may take its place.
  std::chrono::milliseconds relearn_after{5000};
  // How often each stream that sends gets an RTCP sender report (RFC 3550: 5 s).
  std::chrono::milliseconds rtcp_interval{5000};
  // > 0: run the media thread under SCHED_FIFO at this priority (needs CAP_SYS_NICE;
  // a warning is logged and normal scheduling kept otherwise).
  int realtime_priority = 0;
  // Socket I/O through io_uring (Linux >= 6.0) when the kernel allows it, else (or when
  // false) through epoll with one system call per packet.
  bool io_uring = true;
  // Called (on any thread) with warnings such as a failed real-time request.
  std::function<void(const std::string&)> warn;
};

class AsioMediaEngine final : public MediaEngine {
 public:
  AsioMediaEngine(AsioMediaOptions options, MediaEvents events);
  ~AsioMediaEngine() override;  // stop()
  AsioMediaEngine(const AsioMediaEngine&) = delete;
  AsioMediaEngine& operator=(const AsioMediaEngine&) = delete;

  void start();
  // Closes every stream and joins the thread.
  void stop();

  void open_stream(StreamId id, StreamSockets sockets, StreamMedia media) override;
  void update_stream(StreamId id, StreamMedia media) override;
  void play_moh(StreamId id, const std::string& moh_class) override;
  void play_prompts(StreamId id, std::vector<Clip> clips, std::uint64_t token) override;
  void detect_inband_dtmf(StreamId id, bool on) override;
  void start_recording(StreamId id, std::string path, RecordingMode mode,
                       std::uint64_t token) override;
  void pause_recording(StreamId id, bool paused) override;
  void stop_recording(StreamId id) override;
  void bridge(StreamId a, StreamId b) override;
  void listen_in(StreamId supervisor, StreamId caller, StreamId agent, ListenMode mode) override;
  void conference(std::vector<StreamId> members) override;
  void leave_mix(StreamId id) override;
  void silence(StreamId id) override;
  void close_stream(StreamId id) override;
  void set_moh_classes(std::vector<MohClass> classes) override;
  [[nodiscard]] MediaStats stats() const override;
  // "io_uring" or "epoll": how socket I/O is done (fixed at construction).
  [[nodiscard]] const char* io_backend() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace acd::media
