// SDP (RFC 4566) offer/answer (RFC 3264) for the audio of a call: what a peer's SDP says
// about its audio stream, choosing a codec, and writing our answer or offer. We speak
// G.711 (PCMU/8000 as PT 0, PCMA/8000 as PT 8) over RTP/AVP, with RFC 4733
// telephone-event/8000 for DTMF. Other streams of an offer (video, T.38, ...) are declined
// in the answer with port 0, as RFC 3264 6 requires. Parsing never throws and is bounded
// (64 KiB of SDP, 64 formats per m= line, 32 m= lines). Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acd::sip {

enum class MediaDirection : std::uint8_t { kSendRecv, kSendOnly, kRecvOnly, kInactive };
const char* to_string(MediaDirection direction);  // "sendrecv", "sendonly", ...

struct SdpCodec {
  int payload_type = 0;
  std::string name;  // as written in a=rtpmap (or the RFC 3551 name of a static PT); may be empty
  int clock_rate = 8000;
  std::string fmtp;  // the a=fmtp parameters, "" if none
  int channels = 1;
};

// A declined stream: the answer repeats it with port 0.
struct SdpMediaLine {
  std::string media;    // "video"
  std::string proto;    // "RTP/AVP"
  std::string formats;  // "96 97", as offered
};

// What a peer's SDP says about its first audio stream (the first RTP/AVP audio stream with
// a port, else the first audio stream).
struct SdpOffer {
  std::string connection_address;  // c= (media level wins over session level)
  std::uint16_t audio_port = 0;    // 0: audio stream rejected/disabled
  std::vector<SdpCodec> codecs;  // in the peer's preference order (static PTs known without rtpmap)
  // Media-level attribute wins over session-level. c=0.0.0.0 (RFC 2543 hold) means "do not
  // send to me": sendrecv counts as sendonly, recvonly as inactive.
  MediaDirection direction = MediaDirection::kSendRecv;
  int ptime = 0;  // 0: not given (or not a number from 1 to 1000)
  std::uint64_t origin_session_id = 0, origin_version = 0;
  std::string audio_proto = "RTP/AVP";  // the transport of the audio stream
  std::vector<SdpMediaLine> media;      // every m= line, in order
  std::size_t audio_index = 0;          // the audio stream's position in `media`
};

// nullopt + *error ("line 3: expected 'm=<media> <port> <proto> <fmt>...'") for malformed
// SDP or SDP without an audio m= line. Unknown line types and attributes are ignored.
std::optional<SdpOffer> parse_sdp(std::string_view body, std::string* error);

struct LocalMedia {
  std::string address;  // IPv4 or IPv6 (written as "IN IP6")
  std::uint16_t port = 0;
  std::uint64_t session_id = 0;
  std::uint64_t version = 0;
};

struct Negotiated {
  SdpCodec codec;
  std::optional<SdpCodec> telephone_event;  // with the peer's payload type
  MediaDirection local_direction = MediaDirection::kSendRecv;
  std::string remote_address;
  std::uint16_t remote_port = 0;
  int ptime = 20;                   // the packet time we send and ask for
  std::vector<SdpMediaLine> media;  // the offer's streams, to decline all but audio
  std::size_t audio_index = 0;
};

// Chooses the first codec in the offer's order that we support and the offer's
// telephone-event/8000 if any; our direction mirrors the offer's (sendonly -> recvonly,
// recvonly -> sendonly). nullopt when the audio stream is disabled, not RTP/AVP, or has
// no codec of ours (the caller answers 488).
std::optional<Negotiated> negotiate(const SdpOffer& offer);

// v=0, o=acd <id> <ver> IN IP4|IP6 addr, s=acd, c=, t=0 0, m=audio port RTP/AVP <pt> [<te>],
// a=rtpmap..., a=fmtp:<te> 0-16, a=ptime, a=<direction>; CRLF line ends.
std::string write_answer(const Negotiated& negotiated, const LocalMedia& local);
// Offers PCMU, PCMA and telephone-event/8000 as PT 101 (a=fmtp:101 0-16).
std::string write_offer(const LocalMedia& local, MediaDirection direction);
// The peer's answer to our offer: the codec it chose among ours (nullopt if none of ours).
std::optional<Negotiated> accept_answer(const SdpOffer& answer);

}  // namespace acd::sip
