#include "engine/sip/sdp.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>

#include "engine/sip/ascii.h"

namespace acd::sip {
namespace {

constexpr std::size_t kMaxBody = 64 * 1024;
constexpr std::size_t kMaxFormats = 64;
constexpr std::size_t kMaxMedia = 32;
constexpr int kTelephoneEventPt = 101;  // in our offers

constexpr std::string_view kOriginSyntax =
    "expected 'o=<username> <sess-id> <sess-version> IN IP4|IP6 <address>'";
constexpr std::string_view kConnectionSyntax = "expected 'c=IN IP4|IP6 <address>'";
constexpr std::string_view kMediaSyntax = "expected 'm=<media> <port> <proto> <fmt>...'";
constexpr std::string_view kRtpmapSyntax =
    "expected 'a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]'";
constexpr std::string_view kFmtpSyntax = "expected 'a=fmtp:<payload type> <parameters>'";

struct StaticPayload {
  int payload_type;
  std::string_view name;
  int clock_rate;
  int channels;
};
// RFC 3551 table 4: the audio payload types with a static meaning.
constexpr StaticPayload kStaticPayloads[] = {
    {0, "PCMU", 8000, 1},  {3, "GSM", 8000, 1},    {4, "G723", 8000, 1},   {5, "DVI4", 8000, 1},
    {6, "DVI4", 16000, 1}, {7, "LPC", 8000, 1},    {8, "PCMA", 8000, 1},   {9, "G722", 8000, 1},
    {10, "L16", 44100, 2}, {11, "L16", 44100, 1},  {12, "QCELP", 8000, 1}, {13, "CN", 8000, 1},
    {15, "G728", 8000, 1}, {16, "DVI4", 11025, 1}, {17, "DVI4", 22050, 1}, {18, "G729", 8000, 1},
};

// The whole of `text` as a decimal number in [0, max]; nullopt otherwise (signs, spaces,
// overflow).
template <typename T>
std::optional<T> number(std::string_view text, T max = std::numeric_limits<T>::max()) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text[0] < '0' || text[0] > '9' || ec != std::errc() || ptr != end ||
      value > max)
    return std::nullopt;
  return value;
}

std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = text.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    pos = std::min(text.find_first_of(" \t", start), text.size());
    out.push_back(text.substr(start, pos - start));
  }
  return out;
}

std::optional<MediaDirection> direction_attribute(std::string_view name) {
  for (auto d : {MediaDirection::kSendRecv, MediaDirection::kSendOnly, MediaDirection::kRecvOnly,
                 MediaDirection::kInactive}) {
    if (name == to_string(d)) return d;
  }
  return std::nullopt;
}

MediaDirection mirrored(MediaDirection direction) {
  switch (direction) {
    case MediaDirection::kSendOnly: return MediaDirection::kRecvOnly;
    case MediaDirection::kRecvOnly: return MediaDirection::kSendOnly;
    default: return direction;
  }
}

// The attributes that may appear at session level and be overridden per stream.
struct Level {
  std::optional<std::string> connection;
  std::optional<MediaDirection> direction;
  int ptime = 0;
};

struct MediaSection {
  SdpMediaLine line;
  std::size_t line_number = 0;
  std::uint16_t port = 0;
  bool rtp = false;
  std::vector<SdpCodec> codecs;
  Level level;
};

class Parser {
 public:
  explicit Parser(std::string* error) : error_(error) {}

  std::optional<SdpOffer> parse(std::string_view body) {
    if (body.size() > kMaxBody) {
      return fail("an SDP body of " + std::to_string(body.size()) + " bytes (expected at most " +
                  std::to_string(kMaxBody) + ")");
    }
    bool versioned = false;
    while (!body.empty()) {
      const std::size_t end = std::min(body.find('\n'), body.size());
      std::string_view line = body.substr(0, end);
      body.remove_prefix(std::min(end + 1, body.size()));
      ++line_number_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      if (!versioned) {
        if (line != "v=0") {
          reject("expected 'v=0' as the first line");
          return std::nullopt;
        }
        versioned = true;
        continue;
      }
      if (!parse_line(line)) return std::nullopt;
    }
    if (!versioned) return fail("an empty SDP body (expected 'v=0' as the first line)");
    return finish();
  }

 private:
  std::nullopt_t fail(const std::string& message) {
    if (error_) *error_ = message;
    return std::nullopt;
  }
  // Reports `message` about the current line; always false.
  bool reject(std::string_view message) {
    fail("line " + std::to_string(line_number_) + ": " + std::string(message));
    return false;
  }

  Level& level() { return media_.empty() ? session_ : media_.back().level; }

  bool parse_line(std::string_view line) {
    for (char c : line) {
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
        std::array<char, 8> hex{};
        std::snprintf(hex.data(), hex.size(), "0x%02x", byte);
        return reject(std::string("unexpected control character ") + hex.data());
      }
    }
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
      return reject("expected '<type>=<value>'");
    const std::string_view value = line.substr(2);
    switch (line[0]) {
      case 'v': return reject("unexpected second 'v=' line");
      case 'o': return parse_origin(value);
      case 'c': return parse_connection(value);
      case 'm': return parse_media(value);
      case 'a': return parse_attribute(value);
      default: return true;  // s=, t=, b=, ... say nothing about the audio we need
    }
  }

  bool parse_origin(std::string_view value) {
    if (!media_.empty() || origin_seen_)
      return reject("unexpected 'o=' line (expected one, before the first 'm=')");
    const auto f = fields(value);
    if (f.size() != 6) return reject(kOriginSyntax);
    const auto id = number<std::uint64_t>(f[1]);
    const auto version = number<std::uint64_t>(f[2]);
    if (!id || !version || f[3] != "IN") return reject(kOriginSyntax);
    offer_.origin_session_id = *id;
    offer_.origin_version = *version;
    origin_seen_ = true;
    return true;
  }

  bool parse_connection(std::string_view value) {
    const auto f = fields(value);
    if (f.size() != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6"))
      return reject(kConnectionSyntax);
    const std::string_view address = f[2].substr(0, f[2].find('/'));  // drop a multicast TTL
    if (address.empty()) return reject(kConnectionSyntax);
    level().connection = std::string(address);
    return true;
  }

  bool parse_media(std::string_view value) {
    if (media_.size() == kMaxMedia)
      return reject("more than " + std::to_string(kMaxMedia) + " 'm=' lines");
    const auto f = fields(value);
    if (f.size() < 4) return reject(kMediaSyntax);
    if (f.size() - 3 > kMaxFormats)
      return reject("more than " + std::to_string(kMaxFormats) + " formats in an 'm=' line");
    const auto port = number<std::uint16_t>(f[1].substr(0, f[1].find('/')));
    if (!port) return reject("expected a port from 0 to 65535 in 'm=<media> <port> ...'");

    MediaSection section;
    section.line = {std::string(f[0]), std::string(f[2]), {}};
    section.line_number = line_number_;
    section.port = *port;
    const std::string_view proto = f[2];
    section.rtp = proto.starts_with("RTP/") || proto.starts_with("UDP/TLS/RTP/");
    for (std::size_t i = 3; i < f.size(); ++i) {
      if (i > 3) section.line.formats += ' ';
      section.line.formats.append(f[i]);
      if (!section.rtp) continue;
      const auto pt = number<int>(f[i], 127);
      if (!pt)
        return reject("expected payload types from 0 to 127 after '" + std::string(proto) + "'");
      if (find_codec(section, *pt) != nullptr) continue;
      SdpCodec& codec = section.codecs.emplace_back();
      codec.payload_type = *pt;
      for (const StaticPayload& known : kStaticPayloads) {
        if (known.payload_type != *pt) continue;
        codec.name = known.name;
        codec.clock_rate = known.clock_rate;
        codec.channels = known.channels;
      }
    }
    media_.push_back(std::move(section));
    return true;
  }

  static SdpCodec* find_codec(MediaSection& section, int payload_type) {
    const auto it = std::find_if(section.codecs.begin(), section.codecs.end(),
                                 [&](const SdpCodec& c) { return c.payload_type == payload_type; });
    return it == section.codecs.end() ? nullptr : &*it;
  }

  bool parse_attribute(std::string_view value) {
    const std::size_t colon = value.find(':');
    const std::string_view name = value.substr(0, colon);
    const std::string_view argument =
        colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
    if (const auto direction = direction_attribute(name)) {
      level().direction = direction;
    } else if (name == "ptime") {
      const auto f = fields(argument);
      level().ptime = f.size() == 1 ? number<int>(f[0], 1000).value_or(0) : 0;
    } else if (name == "rtpmap" || name == "fmtp") {
      if (media_.empty() || !media_.back().rtp) return true;  // no payload types to describe
      return name == "rtpmap" ? parse_rtpmap(argument) : parse_fmtp(argument);
    }
    return true;
  }

  bool parse_rtpmap(std::string_view argument) {
    const auto f = fields(argument);
    if (f.size() != 2) return reject(kRtpmapSyntax);
    const auto pt = number<int>(f[0], 127);
    const std::string_view encoding = f[1];
    const std::size_t slash = encoding.find('/');
    if (!pt || slash == 0 || slash == std::string_view::npos) return reject(kRtpmapSyntax);
    const std::string_view rest = encoding.substr(slash + 1);
    const std::size_t slash2 = rest.find('/');
    const auto rate = number<int>(rest.substr(0, slash2));
    const auto channels = slash2 == std::string_view::npos ? std::optional<int>(1)
                                                           : number<int>(rest.substr(slash2 + 1));
    if (!rate || *rate == 0 || !channels || *channels == 0) return reject(kRtpmapSyntax);
    if (SdpCodec* codec = find_codec(media_.back(), *pt)) {
      codec->name = std::string(encoding.substr(0, slash));
      codec->clock_rate = *rate;
      codec->channels = *channels;
    }
    return true;
  }

  bool parse_fmtp(std::string_view argument) {
    const std::size_t start = argument.find_first_not_of(" \t");
    const std::size_t space = argument.find_first_of(" \t", start);
    if (start == std::string_view::npos) return reject(kFmtpSyntax);
    const auto pt = number<int>(argument.substr(start, space - start), 127);
    if (!pt) return reject(kFmtpSyntax);
    if (SdpCodec* codec = find_codec(media_.back(), *pt)) {
      const std::size_t params = argument.find_first_not_of(" \t", space);
      codec->fmtp = params == std::string_view::npos ? "" : std::string(argument.substr(params));
    }
    return true;
  }

  std::optional<SdpOffer> finish() {
    if (!origin_seen_)
      return fail(std::string("no 'o=' line (") + std::string(kOriginSyntax) + ")");
    const auto is_audio = [](const MediaSection& m) { return iequals(m.line.media, "audio"); };
    auto audio = std::find_if(media_.begin(), media_.end(), [&](const MediaSection& m) {
      return is_audio(m) && m.port != 0 && iequals(m.line.proto, "RTP/AVP");
    });
    if (audio == media_.end()) audio = std::find_if(media_.begin(), media_.end(), is_audio);
    if (audio == media_.end())
      return fail("no audio stream (expected an 'm=audio <port> RTP/AVP <payload types>' line)");
    const Level& media_level = audio->level;
    const auto connection = media_level.connection ? media_level.connection : session_.connection;
    if (!connection) {
      return fail("line " + std::to_string(audio->line_number) +
                  ": the audio stream has no connection address (" +
                  std::string(kConnectionSyntax) + " at session or media level)");
    }
    offer_.connection_address = *connection;
    offer_.audio_port = audio->port;
    offer_.audio_proto = audio->line.proto;
    offer_.codecs = std::move(audio->codecs);
    offer_.direction =
        media_level.direction.value_or(session_.direction.value_or(MediaDirection::kSendRecv));
    if (offer_.connection_address == "0.0.0.0") {  // RFC 2543 hold: "do not send to me"
      if (offer_.direction == MediaDirection::kSendRecv)
        offer_.direction = MediaDirection::kSendOnly;
      if (offer_.direction == MediaDirection::kRecvOnly)
        offer_.direction = MediaDirection::kInactive;
    }
    offer_.ptime = media_level.ptime != 0 ? media_level.ptime : session_.ptime;
    offer_.audio_index = static_cast<std::size_t>(audio - media_.begin());
    for (MediaSection& m : media_) offer_.media.push_back(std::move(m.line));
    return std::move(offer_);
  }

  std::string* error_;
  std::size_t line_number_ = 0;
  bool origin_seen_ = false;
  Level session_;
  std::vector<MediaSection> media_;
  SdpOffer offer_;
};

bool is_codec(const SdpCodec& codec, std::string_view name) {
  return iequals(codec.name, name) && codec.clock_rate == 8000 && codec.channels == 1;
}

// Writes an SDP with one audio stream offering `codecs` (and telephone-event if given);
// the other streams of `declined` get port 0.
std::string write_sdp(const LocalMedia& local, const std::vector<SdpCodec>& codecs,
                      const std::optional<SdpCodec>& telephone_event, int ptime,
                      MediaDirection direction, const std::vector<SdpMediaLine>& declined,
                      std::size_t audio_index) {
  const bool v6 = local.address.find(':') != std::string::npos;
  const std::string address = std::string(v6 ? "IN IP6 " : "IN IP4 ") + local.address;
  std::string sdp;
  const auto line = [&sdp](std::string_view text) { sdp.append(text).append("\r\n"); };
  line("v=0");
  line("o=acd " + std::to_string(local.session_id) + " " + std::to_string(local.version) + " " +
       address);
  line("s=acd");
  line("c=" + address);
  line("t=0 0");
  const auto audio = [&] {
    std::string m = "m=audio " + std::to_string(local.port) + " RTP/AVP";
    for (const SdpCodec& codec : codecs) m += " " + std::to_string(codec.payload_type);
    if (telephone_event) m += " " + std::to_string(telephone_event->payload_type);
    line(m);
    for (const SdpCodec& codec : codecs) {
      line("a=rtpmap:" + std::to_string(codec.payload_type) + " " + codec.name + "/" +
           std::to_string(codec.clock_rate));
    }
    if (telephone_event) {
      const std::string pt = std::to_string(telephone_event->payload_type);
      line("a=rtpmap:" + pt + " telephone-event/8000");
      line("a=fmtp:" + pt + " 0-16");
    }
    line("a=ptime:" + std::to_string(ptime));
    line(std::string("a=") + to_string(direction));
  };
  if (audio_index >= declined.size()) audio();  // no other streams to decline
  for (std::size_t i = 0; i < declined.size(); ++i) {
    if (i == audio_index) {
      audio();
    } else {
      line("m=" + declined[i].media + " 0 " + declined[i].proto + " " + declined[i].formats);
    }
  }
  return sdp;
}

}  // namespace

const char* to_string(MediaDirection direction) {
  switch (direction) {
    case MediaDirection::kSendRecv: return "sendrecv";
    case MediaDirection::kSendOnly: return "sendonly";
    case MediaDirection::kRecvOnly: return "recvonly";
    case MediaDirection::kInactive: return "inactive";
  }
  return "sendrecv";
}

std::optional<SdpOffer> parse_sdp(std::string_view body, std::string* error) {
  return Parser(error).parse(body);
}

std::optional<Negotiated> negotiate(const SdpOffer& offer) {
  if (offer.audio_port == 0 || !iequals(offer.audio_proto, "RTP/AVP")) return std::nullopt;
  Negotiated result;
  const auto chosen = std::find_if(offer.codecs.begin(), offer.codecs.end(), [](const SdpCodec& c) {
    return is_codec(c, "PCMU") || is_codec(c, "PCMA");
  });
  if (chosen == offer.codecs.end()) return std::nullopt;
  result.codec = *chosen;
  result.codec.name = is_codec(*chosen, "PCMU") ? "PCMU" : "PCMA";
  const auto te = std::find_if(offer.codecs.begin(), offer.codecs.end(),
                               [](const SdpCodec& c) { return is_codec(c, "telephone-event"); });
  if (te != offer.codecs.end()) {
    result.telephone_event = *te;
    result.telephone_event->name = "telephone-event";
  }
  result.local_direction = mirrored(offer.direction);
  result.remote_address = offer.connection_address;
  result.remote_port = offer.audio_port;
  result.media = offer.media;
  result.audio_index = offer.audio_index;
  return result;
}

std::string write_answer(const Negotiated& negotiated, const LocalMedia& local) {
  return write_sdp(local, {negotiated.codec}, negotiated.telephone_event, negotiated.ptime,
                   negotiated.local_direction, negotiated.media, negotiated.audio_index);
}

std::string write_offer(const LocalMedia& local, MediaDirection direction) {
  const std::vector<SdpCodec> codecs = {{0, "PCMU", 8000, "", 1}, {8, "PCMA", 8000, "", 1}};
  const SdpCodec telephone_event{kTelephoneEventPt, "telephone-event", 8000, "0-16", 1};
  return write_sdp(local, codecs, telephone_event, 20, direction, {}, 0);
}

std::optional<Negotiated> accept_answer(const SdpOffer& answer) {
  // The answerer chose among our codecs, in its own order: the same rule as answering.
  std::optional<Negotiated> negotiated = negotiate(answer);
  if (negotiated) negotiated->media.clear();
  return negotiated;
}

}  // namespace acd::sip
