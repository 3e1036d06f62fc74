// MediaEngine: the engine's RTP media plane. The SIP layer negotiates a stream per call
// leg (SDP) and hands its bound RTP/RTCP sockets over; from then on the media engine
// owns them: it plays music on hold into a stream, relays audio between two bridged
// streams (transcoding PCMU <-> PCMA when the legs differ), mixes the audio of three-way
// calls and of supervisors listening in (monitor, whisper, barge), passes RFC 4733 DTMF
// through and reports the keys it hears, and drops bad input, counting why.
//
// This is an interface so that an external media relay could take the plane over
// later; AsioMediaEngine (asio_media_engine.h) is the built-in one.
//
// Thread-safety: every member may be called from any thread. Commands are applied in the
// order they were called (from one thread); events are delivered on the media thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/media/audio.h"
#include "engine/media/recorder.h"

namespace acd::media {

using StreamId = std::uint64_t;

enum class Codec : std::uint8_t { kPcmu, kPcma };

// What offer/answer agreed for a stream.
struct StreamMedia {
  std::string remote_address;  // literal IPv4/IPv6 from SDP c=
  std::uint16_t remote_port = 0;
  Codec codec = Codec::kPcmu;
  std::uint8_t payload_type = 0;          // the codec's payload type on this stream
  int telephone_event_payload_type = -1;  // -1: the peer takes no RFC 4733 events
  bool send = true;                       // we may send (our direction is sendrecv or sendonly)
  bool receive = true;                    // the peer sends (its direction is sendrecv or sendonly)
};

// Sockets bound by the SIP layer's port allocator; the engine closes them.
struct StreamSockets {
  int rtp_fd = -1;
  int rtcp_fd = -1;
};

// Why an incoming datagram was dropped (metrics label: to_string).
enum class DropReason : std::uint8_t {
  kTooShort,
  kTooLong,
  kBadVersion,
  kBadPadding,
  kRtcpOnRtpPort,
  kWrongPayloadType,
  kUnexpectedSource,
  kLearning,  // from a source not latched yet (SourceLatch)
  kNoStream,  // arrived after its stream was closed
  kCount
};
const char* to_string(DropReason reason);

// How a supervisor takes part in an agent's call (listen_in).
enum class ListenMode : std::uint8_t {
  kMonitor,  // hears the caller and the agent; heard by nobody (silent monitoring)
  kWhisper,  // hears both; the agent hears the supervisor, the caller does not (coaching)
  kBarge     // a three-way call: everybody hears everybody
};
const char* to_string(ListenMode mode);  // "monitor", "whisper", "barge"

struct MediaStats {
  std::uint64_t streams = 0;  // open now
  std::uint64_t playing = 0;  // streams fed by the media clock now
  std::uint64_t bridges = 0;  // bridged pairs now
  std::uint64_t packets_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_relayed = 0;
  std::uint64_t send_failures = 0;  // the socket refused (buffer full, unreachable)
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtcp_sent = 0;
  std::uint64_t dtmf_keys = 0;
  std::uint64_t latches = 0;
  std::uint64_t late_ticks = 0;  // media clock ticks that ran > 5 ms behind
  std::uint64_t recordings = 0;  // being recorded now
  std::uint64_t mixes = 0;       // conferences and listen-ins now
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount)> dropped{};
};

struct MediaEvents {
  // A DTMF key the peer of `stream` sent: an RFC 4733 event, or a tone in its audio when
  // in-band detection is on for the stream.
  std::function<void(StreamId stream, char key)> on_dtmf;
  // The prompts of play_prompts(stream, ..., token) have all been sent (or were replaced
  // by another command: then `completed` is false).
  std::function<void(StreamId stream, std::uint64_t token, bool completed)> on_prompts_done;
  // A recording ended (stop_recording, or its stream closed) and its file is complete; on
  // the recorder's thread.
  std::function<void(const RecordingResult& result)> on_recording_done;
};

using Clip = std::shared_ptr<const EncodedAudio>;

class MediaEngine {
 public:
  virtual ~MediaEngine() = default;

  virtual void open_stream(StreamId id, StreamSockets sockets, StreamMedia media) = 0;
  // A new offer/answer on the stream (re-INVITE): new address, codec or direction.
  virtual void update_stream(StreamId id, StreamMedia media) = 0;
  // Plays the class into the stream until another command changes what it hears;
  // ends a bridge the stream was in (its partner hears silence). An unknown class
  // plays the first class configured.
  virtual void play_moh(StreamId id, const std::string& moh_class) = 0;
  // Plays the clips one after the other, then silence (RTP keeps flowing) and
  // on_prompts_done(id, token, true). Ends a bridge or music the stream was in.
  virtual void play_prompts(StreamId id, std::vector<Clip> clips, std::uint64_t token) = 0;
  // Listens for DTMF tones in the peer's audio (spandsp), for peers that do not send
  // RFC 4733 events. Turned off for a stream by its first RFC 4733 event.
  virtual void detect_inband_dtmf(StreamId id, bool on) = 0;
  // Records what the stream's peer sends (left channel) and what the engine sends it
  // (right: the bridged party, music on hold, prompts) into a WAV file at `path`, aligned
  // on the media clock, until stop_recording or close_stream. While paused nothing is
  // written (e.g. while a card number is read out). One recording per stream.
  virtual void start_recording(StreamId id, std::string path, RecordingMode mode,
                               std::uint64_t token) = 0;
  virtual void pause_recording(StreamId id, bool paused) = 0;
  virtual void stop_recording(StreamId id) = 0;
  // Relays audio both ways between a and b; ends what either played or was bridged to,
  // and takes them out of a mix (conference, listen-in).
  virtual void bridge(StreamId a, StreamId b) = 0;

  // Mixes (conference, listen_in): the engine decodes what every member sends and, each
  // 20 ms, sends every member the sum of the members it hears, in the member's own codec.
  // Up to 8 streams per mix. RFC 4733 events a member sends go, like its audio, to the
  // members who hear it (and are reported as always). A recording of a member records
  // what the member sends and what it hears of the mix. A member takes no part in a
  // bridge, music or prompts: play_moh, play_prompts, silence, bridge and close_stream
  // on a member first take it out of its mix, like leave_mix.
  //
  // A supervisor's stream joins the call between `caller` and `agent` (bridged, or
  // mixed together, e.g. in a conference): in kMonitor the supervisor hears both and is
  // heard by nobody; kWhisper: the agent also hears the supervisor, the caller does not;
  // kBarge: everybody hears everybody. Calling it again changes the mode (another
  // supervisor may listen in as well). Ends what the supervisor's stream played or was
  // bridged to. Ignored when caller and agent are not bridged or mixed together, or their
  // mix is full.
  virtual void listen_in(StreamId supervisor, StreamId caller, StreamId agent, ListenMode mode) = 0;
  // Everybody hears everybody (an agent's three-way call, up to 8 streams: unknown or
  // repeated ids are skipped, those past the 8th left out); ends the members' bridges,
  // music and prompts. When the members are the parties of one mix already, the mix grows
  // in place and supervisors listening in stay. Two members are simply bridged; fewer:
  // nothing happens.
  virtual void conference(std::vector<StreamId> members) = 0;
  // The stream leaves its conference or listen-in and then sends nothing (like a bridge
  // partner left alone). The others go on; when two are left who hear each other, they
  // are a plain bridge again, and one left alone sends nothing.
  virtual void leave_mix(StreamId id) = 0;

  // Sends nothing (the stream stays open, its input is still read and counted).
  virtual void silence(StreamId id) = 0;
  virtual void close_stream(StreamId id) = 0;
  // Replaces the music-on-hold classes (a configuration reload); streams playing a
  // class that is gone move to the first class.
  virtual void set_moh_classes(std::vector<MohClass> classes) = 0;

  [[nodiscard]] virtual MediaStats stats() const = 0;
};

}  // namespace acd::media
