#include "engine/sip/sdp.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>

using namespace acd::sip;
using namespace std::string_literals;

namespace {

// Test SDP is written with '\n'; real peers use CRLF, which crlf() adds where missing.
std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' && !out.ends_with('\r')) out += '\r';
    out += c;
  }
  return out;
}

SdpOffer parse_ok(std::string_view body) {
  std::string error;
  std::optional<SdpOffer> offer = parse_sdp(crlf(body), &error);
  INFO(error);
  REQUIRE(offer);
  return *offer;
}

Negotiated negotiate_ok(std::string_view body) {
  std::optional<Negotiated> negotiated = negotiate(parse_ok(body));
  REQUIRE(negotiated);
  return *negotiated;
}

constexpr std::string_view kSippOffer =
    "v=0\n"
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1\n"
    "s=-\n"
    "c=IN IP4 127.0.0.1\n"
    "t=0 0\n"
    "m=audio 6000 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n";

// Linphone-like: opus, speex, G.711, several telephone-event rates, and a video stream.
constexpr std::string_view kLinphoneOffer =
    "v=0\n"
    "o=alice 1234 5678 IN IP4 192.168.1.10\n"
    "s=Talk\n"
    "c=IN IP4 192.168.1.10\n"
    "t=0 0\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\n"
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\n"
    "a=rtpmap:96 opus/48000/2\n"
    "a=fmtp:96 useinbandfec=1\n"
    "a=rtpmap:97 speex/16000\n"
    "a=fmtp:97 vbr=on\n"
    "a=rtpmap:98 speex/8000\n"
    "a=fmtp:98 vbr=on\n"
    "a=fmtp:18 annexb=yes\n"
    "a=rtpmap:101 telephone-event/48000\n"
    "a=rtpmap:99 telephone-event/16000\n"
    "a=rtpmap:100 telephone-event/8000\n"
    "a=rtcp-fb:* trr-int 1000\n"
    "m=video 9078 RTP/AVP 96 97\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtpmap:97 H264/90000\n"
    "a=fmtp:97 profile-level-id=42801F\n";

// Zoiper-like: GSM and speex preferred, PCMA before PCMU.
constexpr std::string_view kZoiperOffer =
    "v=0\n"
    "o=Z 0 0 IN IP4 10.0.0.5\n"
    "s=Z\n"
    "c=IN IP4 10.0.0.5\n"
    "t=0 0\n"
    "m=audio 8000 RTP/AVP 3 110 8 0 98 101\n"
    "a=rtpmap:110 speex/8000\n"
    "a=rtpmap:98 iLBC/8000\n"
    "a=fmtp:98 mode=20\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-16\n"
    "a=sendrecv\n";

// kSippOffer's audio with `attributes` (and `connection`) changed.
std::string offer_with(std::string_view attributes, std::string_view connection = "127.0.0.1") {
  return "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 " + std::string(connection) +
         "\nt=0 0\nm=audio 6000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n" +
         std::string(attributes);
}

}  // namespace

TEST_CASE("sdp: a SIPp offer", "[sdp]") {
  const SdpOffer offer = parse_ok(kSippOffer);
  CHECK(offer.connection_address == "127.0.0.1");
  CHECK(offer.audio_port == 6000);
  REQUIRE(offer.codecs.size() == 1);
  CHECK(offer.codecs[0].payload_type == 0);
  CHECK(offer.codecs[0].name == "PCMU");
  CHECK(offer.codecs[0].clock_rate == 8000);
  CHECK(offer.direction == MediaDirection::kSendRecv);
  CHECK(offer.ptime == 0);
  CHECK(offer.origin_session_id == 53655765);
  CHECK(offer.origin_version == 2353687637);

  const Negotiated negotiated = negotiate_ok(kSippOffer);
  CHECK(negotiated.codec.payload_type == 0);
  CHECK(negotiated.codec.name == "PCMU");
  CHECK_FALSE(negotiated.telephone_event);
  CHECK(negotiated.local_direction == MediaDirection::kSendRecv);
  CHECK(negotiated.remote_address == "127.0.0.1");
  CHECK(negotiated.remote_port == 6000);
  CHECK(negotiated.ptime == 20);
}

TEST_CASE("sdp: static payload types need no rtpmap, LF-only line ends are accepted", "[sdp]") {
  std::string error;
  const auto offer = parse_sdp(
      "v=0\no=- 1 2 IN IP4 10.1.1.1\ns=-\nc=IN IP4 10.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 8 0 18\n",
      &error);
  REQUIRE(offer);
  REQUIRE(offer->codecs.size() == 3);
  CHECK(offer->codecs[0].name == "PCMA");
  CHECK(offer->codecs[1].name == "PCMU");
  CHECK(offer->codecs[2].name == "G729");
}

TEST_CASE("sdp: a Linphone-like offer with many codecs and a video stream", "[sdp]") {
  const SdpOffer offer = parse_ok(kLinphoneOffer);
  REQUIRE(offer.codecs.size() == 9);
  CHECK(offer.codecs[0].name == "opus");
  CHECK(offer.codecs[0].clock_rate == 48000);
  CHECK(offer.codecs[0].channels == 2);
  CHECK(offer.codecs[0].fmtp == "useinbandfec=1");
  CHECK(offer.codecs[5].name == "G729");
  CHECK(offer.codecs[5].fmtp == "annexb=yes");
  REQUIRE(offer.media.size() == 2);
  CHECK(offer.audio_index == 0);
  CHECK(offer.media[1].media == "video");

  const Negotiated negotiated = negotiate_ok(kLinphoneOffer);
  CHECK(negotiated.codec.payload_type == 0);
  CHECK(negotiated.codec.name == "PCMU");
  REQUIRE(negotiated.telephone_event);
  CHECK(negotiated.telephone_event->payload_type == 100);  // the 8000 Hz one

  const std::string answer = write_answer(negotiated, {"192.0.2.5", 20000, 42, 1});
  CHECK(answer.find("m=audio 20000 RTP/AVP 0 100\r\n") != std::string::npos);
  CHECK(answer.find("a=rtpmap:100 telephone-event/8000\r\na=fmtp:100 0-16\r\n") !=
        std::string::npos);
  // The video stream is declined with port 0, after the audio, as offered.
  CHECK(answer.find("\r\nm=video 0 RTP/AVP 96 97\r\n") > answer.find("m=audio"));
  CHECK(answer.ends_with("m=video 0 RTP/AVP 96 97\r\n"));
}

TEST_CASE("sdp: a Zoiper-like offer gets the first G.711 codec in its order", "[sdp]") {
  const Negotiated negotiated = negotiate_ok(kZoiperOffer);
  CHECK(negotiated.codec.payload_type == 8);
  CHECK(negotiated.codec.name == "PCMA");
  REQUIRE(negotiated.telephone_event);
  CHECK(negotiated.telephone_event->payload_type == 101);
}

TEST_CASE("sdp: PCMA only, without telephone-event", "[sdp]") {
  const Negotiated negotiated = negotiate_ok(
      "v=0\no=- 7 7 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\nm=audio 4000 RTP/AVP 8\n");
  CHECK(negotiated.codec.name == "PCMA");
  CHECK_FALSE(negotiated.telephone_event);
  const std::string answer = write_answer(negotiated, {"10.0.0.1", 30000, 9, 3});
  CHECK(answer ==
        "v=0\r\n"
        "o=acd 9 3 IN IP4 10.0.0.1\r\n"
        "s=acd\r\n"
        "c=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 30000 RTP/AVP 8\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n");
}

TEST_CASE("sdp: a dynamic payload type mapped to PCMU is answered with that type", "[sdp]") {
  const Negotiated negotiated = negotiate_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\nm=audio 4000 RTP/AVP 96\n"
      "a=rtpmap:96 pcmu/8000\n");
  CHECK(negotiated.codec.payload_type == 96);
  CHECK(negotiated.codec.name == "PCMU");
}

TEST_CASE("sdp: no common codec", "[sdp]") {
  for (std::string_view formats : {"18 9", "96", "3 4 13"}) {
    INFO(formats);
    const SdpOffer offer = parse_ok(
        "v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\n"
        "m=audio 4000 RTP/AVP " +
        std::string(formats) + "\na=rtpmap:96 opus/48000/2\n");
    CHECK_FALSE(negotiate(offer));
  }
  // PCMU at another clock rate or in stereo is not our PCMU.
  CHECK_FALSE(negotiate(parse_ok(
      "v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 96 97\n"
      "a=rtpmap:96 PCMU/16000\na=rtpmap:97 PCMA/8000/2\n")));
  // Only telephone-event is not enough.
  CHECK_FALSE(negotiate(parse_ok(
      "v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 101\n"
      "a=rtpmap:101 telephone-event/8000\n")));
}

TEST_CASE("sdp: hold offers and the mirrored local direction", "[sdp]") {
  struct Case {
    std::string offer;
    MediaDirection offered;
    MediaDirection local;
  };
  const Case cases[] = {
      {offer_with("a=sendonly\n"), MediaDirection::kSendOnly, MediaDirection::kRecvOnly},
      {offer_with("a=recvonly\n"), MediaDirection::kRecvOnly, MediaDirection::kSendOnly},
      {offer_with("a=inactive\n"), MediaDirection::kInactive, MediaDirection::kInactive},
      {offer_with("a=sendrecv\n"), MediaDirection::kSendRecv, MediaDirection::kSendRecv},
      // RFC 2543 hold.
      {offer_with("", "0.0.0.0"), MediaDirection::kSendOnly, MediaDirection::kRecvOnly},
      {offer_with("a=recvonly\n", "0.0.0.0"), MediaDirection::kInactive, MediaDirection::kInactive},
  };
  for (const Case& c : cases) {
    INFO(c.offer);
    const SdpOffer offer = parse_ok(c.offer);
    CHECK(offer.direction == c.offered);
    const Negotiated negotiated = negotiate_ok(c.offer);
    CHECK(negotiated.local_direction == c.local);
    CHECK(write_answer(negotiated, {"10.0.0.1", 4000, 1, 1})
              .ends_with(std::string("a=") + to_string(c.local) + "\r\n"));
  }
}

TEST_CASE("sdp: media-level attributes win over session-level ones", "[sdp]") {
  const SdpOffer offer = parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\na=sendonly\na=ptime:30\n"
      "m=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\na=sendrecv\na=ptime:40\n");
  CHECK(offer.connection_address == "10.0.0.2");
  CHECK(offer.direction == MediaDirection::kSendRecv);
  CHECK(offer.ptime == 40);

  const SdpOffer session_only = parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\na=inactive\na=ptime:30\n"
      "m=audio 4000 RTP/AVP 0\n");
  CHECK(session_only.connection_address == "10.0.0.1");
  CHECK(session_only.direction == MediaDirection::kInactive);
  CHECK(session_only.ptime == 30);
}

TEST_CASE("sdp: odd ptime values count as not given", "[sdp]") {
  for (std::string_view ptime : {"a=ptime:0\n", "a=ptime:abc\n", "a=ptime:99999\n", "a=ptime:\n",
                                 "a=ptime:-20\n", "a=ptime\n"}) {
    INFO(ptime);
    CHECK(parse_ok(offer_with(ptime)).ptime == 0);
  }
  CHECK(parse_ok(offer_with("a=ptime:30\n")).ptime == 30);
}

TEST_CASE("sdp: the chosen audio stream", "[sdp]") {
  // A disabled first audio stream: the second one is used.
  const SdpOffer second = parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 0 RTP/AVP 0\n"
      "m=audio 5000 RTP/AVP 8\n");
  CHECK(second.audio_index == 1);
  CHECK(second.audio_port == 5000);
  const std::string answer = write_answer(*negotiate(second), {"10.0.0.2", 6000, 1, 1});
  CHECK(answer.find("m=audio 0 RTP/AVP 0\r\nm=audio 6000 RTP/AVP 8\r\n") != std::string::npos);

  // Best-effort SRTP (RTP/SAVP first, RTP/AVP second): the plain stream is used.
  const SdpOffer plain = parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n"
      "m=audio 5000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\n"
      "m=audio 5002 RTP/AVP 0\n");
  CHECK(plain.audio_index == 1);
  CHECK(plain.audio_port == 5002);

  // SRTP only, WebRTC, or audio disabled: nothing we can answer.
  for (std::string_view m :
       {"m=audio 5000 RTP/SAVP 0\n", "m=audio 9 UDP/TLS/RTP/SAVPF 0\n", "m=audio 0 RTP/AVP 0\n"}) {
    INFO(m);
    const SdpOffer offer =
        parse_ok("v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n" + std::string(m));
    CHECK_FALSE(negotiate(offer));
  }
}

TEST_CASE("sdp: non-RTP streams keep their formats", "[sdp]") {
  const SdpOffer offer = parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n"
      "m=image 5004 udptl t38\na=T38FaxVersion:0\nm=audio 5000 RTP/AVP 0\n");
  CHECK(offer.audio_index == 1);
  const std::string answer = write_answer(*negotiate(offer), {"10.0.0.2", 6000, 1, 1});
  CHECK(answer.find("t=0 0\r\nm=image 0 udptl t38\r\nm=audio 6000 RTP/AVP 0\r\n") !=
        std::string::npos);
}

TEST_CASE("sdp: IPv6 connection addresses", "[sdp]") {
  const SdpOffer offer = parse_ok(
      "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\nm=audio 4000 RTP/AVP "
      "0\n");
  CHECK(offer.connection_address == "2001:db8::1");
  const std::string answer = write_answer(*negotiate(offer), {"2001:db8::2", 5000, 1, 1});
  CHECK(answer.find("o=acd 1 1 IN IP6 2001:db8::2\r\n") != std::string::npos);
  CHECK(answer.find("c=IN IP6 2001:db8::2\r\n") != std::string::npos);
}

TEST_CASE("sdp: round trip of an answer through the parser", "[sdp]") {
  Negotiated negotiated = negotiate_ok(kZoiperOffer);
  negotiated.local_direction = MediaDirection::kSendOnly;
  const std::string answer =
      write_answer(negotiated, {"203.0.113.7", 40000, 18446744073709551615ull, 12});
  REQUIRE(answer.find('\n') == answer.find("\r\n") + 1);
  const SdpOffer parsed = parse_ok(answer);
  CHECK(parsed.connection_address == "203.0.113.7");
  CHECK(parsed.audio_port == 40000);
  CHECK(parsed.direction == MediaDirection::kSendOnly);
  CHECK(parsed.ptime == 20);
  CHECK(parsed.origin_session_id == 18446744073709551615ull);
  CHECK(parsed.origin_version == 12);
  REQUIRE(parsed.codecs.size() == 2);
  CHECK(parsed.codecs[0].payload_type == 8);
  CHECK(parsed.codecs[0].name == "PCMA");
  CHECK(parsed.codecs[1].payload_type == 101);
  CHECK(parsed.codecs[1].name == "telephone-event");
  CHECK(parsed.codecs[1].fmtp == "0-16");
  // The peer, reading our answer, settles on the same codec.
  const auto accepted = accept_answer(parsed);
  REQUIRE(accepted);
  CHECK(accepted->codec.payload_type == 8);
  CHECK(accepted->local_direction == MediaDirection::kRecvOnly);
}

TEST_CASE("sdp: our offer, and accepting the peer's answer", "[sdp]") {
  const std::string offer = write_offer({"10.0.0.1", 7000, 5, 6}, MediaDirection::kSendRecv);
  CHECK(offer ==
        "v=0\r\n"
        "o=acd 5 6 IN IP4 10.0.0.1\r\n"
        "s=acd\r\n"
        "c=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\n"
        "m=audio 7000 RTP/AVP 0 8 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-16\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n");
  const auto self = negotiate(parse_ok(offer));
  REQUIRE(self);
  CHECK(self->codec.name == "PCMU");
  CHECK(self->telephone_event->payload_type == 101);

  const auto pcma = accept_answer(parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\nm=audio 6000 RTP/AVP 8 101\n"
      "a=rtpmap:101 telephone-event/8000\na=recvonly\n"));
  REQUIRE(pcma);
  CHECK(pcma->codec.name == "PCMA");
  CHECK(pcma->telephone_event->payload_type == 101);
  CHECK(pcma->remote_address == "10.0.0.9");
  CHECK(pcma->remote_port == 6000);
  CHECK(pcma->local_direction == MediaDirection::kSendOnly);

  CHECK_FALSE(accept_answer(parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\nm=audio 6000 RTP/AVP 18\n")));
  CHECK_FALSE(accept_answer(parse_ok(
      "v=0\no=- 1 1 IN IP4 10.0.0.9\ns=-\nc=IN IP4 10.0.0.9\nt=0 0\nm=audio 0 RTP/AVP 0\n")));
}

TEST_CASE("sdp: malformed input is an error naming the line and what was expected", "[sdp]") {
  const std::string head = "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n";
  std::string many_formats = head + "m=audio 4000 RTP/AVP";
  for (int pt = 0; pt < 65; ++pt) many_formats += " " + std::to_string(pt);
  std::string many_streams = head;
  for (int i = 0; i < 33; ++i) many_streams += "m=audio 4000 RTP/AVP 0\n";
  struct Case {
    std::string body;
    std::string error;
  };
  const Case cases[] = {
      {"", "an empty SDP body (expected 'v=0' as the first line)"},
      {"\r\n\r\n", "an empty SDP body"},
      {"v=1\n", "line 1: expected 'v=0' as the first line"},
      {"o=- 1 1 IN IP4 1.1.1.1\nv=0\n", "line 1: expected 'v=0'"},
      {head + "garbage\n", "line 6: expected '<type>=<value>'"},
      {head + "M=audio 4000 RTP/AVP 0\n", "line 6: expected '<type>=<value>'"},
      {head + "=x\n", "line 6: expected '<type>=<value>'"},
      {"v=0\nv=0\n", "line 2: unexpected second 'v=' line"},
      {"v=0\no=alice 1 2 IN IP4\n",
       "line 2: expected 'o=<username> <sess-id> <sess-version> IN "
       "IP4|IP6 <address>'"},
      {"v=0\no=alice x 2 IN IP4 1.1.1.1\n", "line 2: expected 'o="},
      {"v=0\no=alice 18446744073709551616 2 IN IP4 1.1.1.1\n", "line 2: expected 'o="},
      {"v=0\no=alice -1 2 IN IP4 1.1.1.1\n", "line 2: expected 'o="},
      {head + "o=- 2 2 IN IP4 10.0.0.1\n", "line 6: unexpected 'o=' line"},
      {"v=0\ns=-\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 0\n", "no 'o=' line"},
      {head + "m=audio 4000 RTP/AVP\n", "line 6: expected 'm=<media> <port> <proto> <fmt>...'"},
      {head + "m=audio\n", "line 6: expected 'm=<media> <port> <proto> <fmt>...'"},
      {head + "m=audio abc RTP/AVP 0\n", "line 6: expected a port from 0 to 65535"},
      {head + "m=audio 65536 RTP/AVP 0\n", "line 6: expected a port from 0 to 65535"},
      {head + "m=audio 99999999999999999999 RTP/AVP 0\n", "line 6: expected a port"},
      {head + "m=audio -1 RTP/AVP 0\n", "line 6: expected a port"},
      {head + "m=audio +5 RTP/AVP 0\n", "line 6: expected a port"},
      {head + "m=audio 4000 RTP/AVP 0 x\n",
       "line 6: expected payload types from 0 to 127 after 'RTP/AVP'"},
      {head + "m=audio 4000 RTP/AVP 128\n", "line 6: expected payload types from 0 to 127"},
      {many_formats, "line 6: more than 64 formats in an 'm=' line"},
      {many_streams, "line 38: more than 32 'm=' lines"},
      {"v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
       "line 5: the audio stream has no connection address (expected 'c=IN IP4|IP6 <address>' "
       "at session or media level)"},
      {"v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nm=video 4 RTP/AVP 0\nc=IN IP4 1.1.1.1\n"
       "m=audio 4000 RTP/AVP 0\n",
       "line 6: the audio stream has no connection address"},
      {"v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4\n", "line 3: expected 'c=IN IP4|IP6 <address>'"},
      {"v=0\no=- 1 1 IN IP4 1.1.1.1\nc=XX IP4 1.1.1.1\n", "line 3: expected 'c=IN IP4|IP6"},
      {"v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP9 1.1.1.1\n", "line 3: expected 'c=IN IP4|IP6"},
      {"v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 /127\n", "line 3: expected 'c=IN IP4|IP6"},
      {head + "m=video 4000 RTP/AVP 96\n",
       "no audio stream (expected an 'm=audio <port> "
       "RTP/AVP <payload types>' line)"},
      {head, "no audio stream"},
      {head + "m=audio 4000 RTP/AVP 0\na=rtpmap:0\n",
       "line 7: expected 'a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]'"},
      {head + "m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU\n", "line 7: expected 'a=rtpmap:"},
      {head + "m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/abc\n", "line 7: expected 'a=rtpmap:"},
      {head + "m=audio 4000 RTP/AVP 0\na=rtpmap:0 /8000\n", "line 7: expected 'a=rtpmap:"},
      {head + "m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/0\n", "line 7: expected 'a=rtpmap:"},
      {head + "m=audio 4000 RTP/AVP 0\na=rtpmap:x PCMU/8000\n", "line 7: expected 'a=rtpmap:"},
      {head + "m=audio 4000 RTP/AVP 0\na=fmtp:\n",
       "line 7: expected 'a=fmtp:<payload type> <parameters>'"},
      {head + "m=audio 4000 RTP/AVP 0\na=fmtp:abc 0-16\n", "line 7: expected 'a=fmtp:"},
      {head + "m=audio 4000 RTP/AVP 0\na=sendonly\0junk\n"s,
       "line 7: unexpected control "
       "character 0x00"},
      {head + "s=a\rb\n", "line 6: unexpected control character 0x0d"},
      {std::string(70000, 'a'), "an SDP body of 70000 bytes (expected at most 65536)"},
  };
  for (const Case& c : cases) {
    INFO(c.body.substr(0, 300));
    std::string error;
    CHECK_FALSE(parse_sdp(c.body, &error));
    CHECK_THAT(error, Catch::StartsWith(c.error));
    CHECK_FALSE(parse_sdp(c.body, nullptr));  // no error out-parameter is fine too
  }
}

TEST_CASE("sdp: a huge attribute line within the size limit is harmless", "[sdp]") {
  const SdpOffer offer = parse_ok(offer_with("a=x-junk:" + std::string(60000, 'z') + "\n"));
  CHECK(offer.audio_port == 6000);
  std::string error;
  CHECK_FALSE(parse_sdp(offer_with("a=x-junk:" + std::string(1 << 20, 'z') + "\n"), &error));
  CHECK_THAT(error, Catch::Contains("expected at most 65536"));
}

TEST_CASE("sdp: mutated offers never throw or crash", "[sdp]") {
  const std::string seeds[] = {std::string(kSippOffer), std::string(kLinphoneOffer),
                               crlf(kZoiperOffer)};
  const char alphabet[] = "=0123456789 /:\r\n\0avmocx-";
  std::mt19937_64 next(20240601);  // fixed seed: every run tries the same inputs
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string body = seeds[round % 3];
    const int edits = 1 + static_cast<int>(next() % 8);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const std::size_t at = next() % body.size();
      switch (next() % 4) {
        case 0: body[at] = alphabet[next() % (sizeof alphabet - 1)]; break;
        case 1: body.erase(at, 1 + next() % 16); break;
        case 2: body.insert(at, body.substr(next() % body.size(), next() % 64)); break;
        default: body.resize(at); break;
      }
    }
    std::string error;
    std::optional<SdpOffer> offer;
    REQUIRE_NOTHROW(offer = parse_sdp(body, &error));
    if (!offer) {
      CHECK_FALSE(error.empty());
      continue;
    }
    ++parsed;
    if (const auto negotiated = negotiate(*offer)) {
      CHECK_NOTHROW(parse_sdp(write_answer(*negotiated, {"10.0.0.1", 4000, 1, 1}), nullptr));
    }
  }
  CHECK(parsed > 100);  // the mutations reach past the first lines
}

TEST_CASE("sdp: direction names", "[sdp]") {
  CHECK(std::string(to_string(MediaDirection::kSendRecv)) == "sendrecv");
  CHECK(std::string(to_string(MediaDirection::kSendOnly)) == "sendonly");
  CHECK(std::string(to_string(MediaDirection::kRecvOnly)) == "recvonly");
  CHECK(std::string(to_string(MediaDirection::kInactive)) == "inactive");
}
