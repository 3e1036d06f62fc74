// SIP digest authentication (RFC 2617 / RFC 8760, MD5 with qop=auth or without qop) for
// the registrar and for calls from agents' phones, with stateless nonces: a nonce is the
// time it was issued and an HMAC-SHA256 of that time under the daemon's secret, so any
// thread can verify it without shared state. The price of statelessness: a captured
// request can be replayed while its nonce lives (nc is not tracked). The caller checks
// that the response's realm is the one it expects and that its uri matches the request.
// OpenSSL's libcrypto does the hashing. Thread-safety: parse_digest_response and the free
// functions are pure; a DigestAuthenticator is immutable, its methods are const.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/time.h"

namespace acd::sip {

struct DigestResponse {
  std::string username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque;
};

// Parses an Authorization / Proxy-Authorization header value ("Digest username=\"alice\",
// realm=..."): quoted or token values, any order, case-insensitive names, unknown
// parameters ignored. nullopt when the scheme is not Digest, a parameter is malformed or
// repeated, the value exceeds 8 KiB, or username, realm, nonce, uri or response is missing.
std::optional<DigestResponse> parse_digest_response(std::string_view header_value);

// Lower-case hex MD5(username:realm:password): the HA1 a registrar stores.
std::string digest_ha1(std::string_view username, std::string_view realm,
                       std::string_view password);
// The request-digest for the given HA1: with qop "auth" MD5(HA1:nonce:nc:cnonce:auth:HA2),
// with an empty qop MD5(HA1:nonce:HA2) (RFC 2069); HA2 = MD5(method:uri). Lower-case hex.
std::string digest_response(std::string_view ha1, std::string_view method, std::string_view uri,
                            std::string_view nonce, std::string_view nc, std::string_view cnonce,
                            std::string_view qop);

class DigestAuthenticator {
 public:
  // secret: random bytes the daemon generates at start; nonces are valid for
  // nonce_lifetime after challenge() issued them. An empty secret is a start-up error
  // (std::invalid_argument).
  DigestAuthenticator(std::string secret, core::Duration nonce_lifetime);

  // The value of a WWW-Authenticate / Proxy-Authenticate header:
  // Digest realm="..", nonce="..", algorithm=MD5, qop="auth"[, stale=true]
  [[nodiscard]] std::string challenge(std::string_view realm, core::TimePoint now,
                                      bool stale = false) const;

  enum class Verdict : std::uint8_t {
    kOk,
    kStale,          // right credentials, expired nonce: challenge again with stale=true
    kWrongNonce,     // not a nonce of ours (malformed, forged, or from another secret)
    kWrongResponse,  // wrong password, or an algorithm / qop we do not offer
  };
  // ha1: lower-case hex md5(username:realm:password). Checks, in this order, that the
  // nonce is ours, that the response is right (compared in constant time) and that the
  // nonce has not expired.
  [[nodiscard]] Verdict verify(const DigestResponse& response, std::string_view method,
                               std::string_view ha1, core::TimePoint now) const;

 private:
  [[nodiscard]] std::string nonce_mac(std::string_view timestamp) const;

  std::string secret_;
  core::Duration nonce_lifetime_;
};

}  // namespace acd::sip
