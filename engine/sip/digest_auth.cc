#include "engine/sip/digest_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "engine/sip/ascii.h"

namespace acd::sip {
namespace {

constexpr std::size_t kMaxHeaderValue = 8192;
constexpr std::size_t kTimestampDigits = 16;  // the issue time, 64 bits in hex
constexpr std::size_t kMacDigits = 64;        // HMAC-SHA256 in hex

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kHex[data[i] >> 4];
    hex += kHex[data[i] & 0xf];
  }
  return hex;
}

// Lower-case hex MD5 of the parts joined with ':'. Empty if libcrypto refuses MD5 (a
// FIPS-only configuration), which makes every response wrong rather than throwing.
std::string md5_joined(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (const std::string_view& part : parts) {
    if (&part != parts.begin()) text += ':';
    text.append(part);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_md5(), nullptr) != 1)
    return {};
  return to_hex(digest.data(), size);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 3261 25.1 token characters.
bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

// A cursor over the header value; every read fails softly at the end of the input.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  [[nodiscard]] bool at_end() const { return pos_ == text_.size(); }
  [[nodiscard]] char peek() const { return text_[pos_]; }  // only when !at_end()
  bool skip_space() {
    const std::size_t start = pos_;
    while (!at_end() && is_space(peek())) ++pos_;
    return pos_ != start;
  }
  bool consume(char c) {
    if (at_end() || peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string_view token() {
    const std::size_t start = pos_;
    while (!at_end() && is_token_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // A quoted-string after its opening quote, unescaped; nullopt if unterminated or if it
  // holds a line break or a NUL.
  std::optional<std::string> quoted_rest() {
    std::string value;
    while (!at_end()) {
      char c = text_[pos_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (at_end()) return std::nullopt;
        c = text_[pos_++];
      }
      if (c == '\r' || c == '\n' || c == '\0') return std::nullopt;
      value += c;
    }
    return std::nullopt;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

constexpr std::pair<std::string_view, std::string DigestResponse::*> kFields[] = {
    {"username", &DigestResponse::username}, {"realm", &DigestResponse::realm},
    {"nonce", &DigestResponse::nonce},       {"uri", &DigestResponse::uri},
    {"response", &DigestResponse::response}, {"algorithm", &DigestResponse::algorithm},
    {"qop", &DigestResponse::qop},           {"nc", &DigestResponse::nc},
    {"cnonce", &DigestResponse::cnonce},     {"opaque", &DigestResponse::opaque},
};
constexpr std::size_t kFieldCount = std::size(kFields);

// The index in kFields of a parameter name, kFieldCount for one we do not use.
std::size_t field_index(std::string_view name) {
  std::size_t i = 0;
  while (i < kFieldCount && !iequals(name, kFields[i].first)) ++i;
  return i;
}

// Appends `text` as a quoted-string, dropping control characters.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::optional<DigestResponse> parse_digest_response(std::string_view header_value) {
  if (header_value.size() > kMaxHeaderValue) return std::nullopt;
  Scanner in(header_value);
  in.skip_space();
  if (!iequals(in.token(), "Digest") || !in.skip_space()) return std::nullopt;
  DigestResponse response;
  std::array<bool, kFieldCount> seen{};
  while (true) {
    in.skip_space();
    if (in.at_end()) break;
    if (in.consume(',')) continue;  // empty list elements are allowed
    const std::string_view name = in.token();
    in.skip_space();
    if (name.empty() || !in.consume('=')) return std::nullopt;
    in.skip_space();
    std::string value;
    if (in.consume('"')) {
      std::optional<std::string> quoted = in.quoted_rest();
      if (!quoted) return std::nullopt;
      value = std::move(*quoted);
    } else {
      value = in.token();
      if (value.empty()) return std::nullopt;
    }
    const std::size_t index = field_index(name);
    if (index < kFieldCount) {
      if (seen[index]) return std::nullopt;  // a repeated parameter is ambiguous
      seen[index] = true;
      response.*kFields[index].second = std::move(value);
    }
    in.skip_space();
    if (!in.at_end() && !in.consume(',')) return std::nullopt;
  }
  if (response.username.empty() || response.realm.empty() || response.nonce.empty() ||
      response.uri.empty() || response.response.empty())
    return std::nullopt;
  return response;
}

std::string digest_ha1(std::string_view username, std::string_view realm,
                       std::string_view password) {
  return md5_joined({username, realm, password});
}

std::string digest_response(std::string_view ha1, std::string_view method, std::string_view uri,
                            std::string_view nonce, std::string_view nc, std::string_view cnonce,
                            std::string_view qop) {
  const std::string ha2 = md5_joined({method, uri});
  if (qop.empty()) return md5_joined({ha1, nonce, ha2});
  return md5_joined({ha1, nonce, nc, cnonce, qop, ha2});
}

DigestAuthenticator::DigestAuthenticator(std::string secret, core::Duration nonce_lifetime)
    : secret_(std::move(secret)), nonce_lifetime_(nonce_lifetime) {
  if (secret_.empty()) throw std::invalid_argument("DigestAuthenticator: empty secret");
}

std::string DigestAuthenticator::nonce_mac(std::string_view timestamp) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(timestamp.data()), timestamp.size(), mac.data(),
           &size) == nullptr)
    return {};
  return to_hex(mac.data(), size);
}

std::string DigestAuthenticator::challenge(std::string_view realm, core::TimePoint now,
                                           bool stale) const {
  const auto ticks = static_cast<std::uint64_t>(now.time_since_epoch().count());
  std::array<unsigned char, 8> big_endian{};
  for (std::size_t i = 0; i < big_endian.size(); ++i)
    big_endian[i] = static_cast<unsigned char>(ticks >> (56 - 8 * i));
  const std::string timestamp = to_hex(big_endian.data(), big_endian.size());

  std::string header = "Digest realm=";
  append_quoted(header, realm);
  header.append(", nonce=\"").append(timestamp).append(nonce_mac(timestamp));
  header.append("\", algorithm=MD5, qop=\"auth\"");
  if (stale) header.append(", stale=true");
  return header;
}

DigestAuthenticator::Verdict DigestAuthenticator::verify(const DigestResponse& response,
                                                         std::string_view method,
                                                         std::string_view ha1,
                                                         core::TimePoint now) const {
  const std::string_view nonce = response.nonce;
  if (nonce.size() != kTimestampDigits + kMacDigits) return Verdict::kWrongNonce;
  const std::string_view timestamp = nonce.substr(0, kTimestampDigits);
  const std::string expected_mac = nonce_mac(timestamp);
  if (expected_mac.empty() || !equal_constant_time(nonce.substr(kTimestampDigits), expected_mac))
    return Verdict::kWrongNonce;
  std::uint64_t ticks = 0;
  std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ticks, 16);

  const bool md5 = response.algorithm.empty() || iequals(response.algorithm, "MD5");
  const bool auth = iequals(response.qop, "auth") &&  //
                    !response.nc.empty() && !response.cnonce.empty();
  if (!md5 || !(response.qop.empty() || auth)) return Verdict::kWrongResponse;
  const std::string expected =
      digest_response(ha1, method, response.uri, nonce, response.nc, response.cnonce, response.qop);
  std::string received = response.response;
  std::transform(received.begin(), received.end(), received.begin(), ascii_lower);
  if (expected.empty() || !equal_constant_time(received, expected)) return Verdict::kWrongResponse;

  const core::TimePoint issued{core::Duration(static_cast<std::int64_t>(ticks))};
  if (now > issued && now - issued > nonce_lifetime_) return Verdict::kStale;
  return Verdict::kOk;
}

}  // namespace acd::sip
