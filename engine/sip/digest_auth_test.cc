#include "engine/sip/digest_auth.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

using namespace acd::sip;
using namespace std::chrono_literals;
using acd::core::TimePoint;
using Verdict = DigestAuthenticator::Verdict;

namespace {

constexpr TimePoint kT0{std::chrono::seconds(1'700'000'000)};

// The nonce="..." of a challenge.
std::string nonce_of(const std::string& challenge) {
  const std::size_t start = challenge.find("nonce=\"") + 7;
  return challenge.substr(start, challenge.find('"', start) - start);
}

// What SIPp sends for [authentication username=alice password=secret]: qop=auth, nc and
// cnonce, no spaces after the commas.
std::string sipp_authorization(const std::string& nonce, const std::string& method,
                               const std::string& password = "secret") {
  const std::string uri = "sip:acd.example.com:5060";
  const std::string response = digest_response(digest_ha1("alice", "acd.example.com", password),
                                               method, uri, nonce, "00000001", "6b8b4567", "auth");
  return "Digest username=\"alice\",realm=\"acd.example.com\",cnonce=\"6b8b4567\",nc=00000001,"
         "qop=auth,uri=\"" +
         uri + "\",nonce=\"" + nonce + "\",response=\"" + response + "\",algorithm=MD5";
}

DigestResponse parse_ok(std::string_view header) {
  std::optional<DigestResponse> response = parse_digest_response(header);
  REQUIRE(response);
  return *response;
}

}  // namespace

TEST_CASE("digest: the RFC 2617 example", "[digest]") {
  const std::string ha1 = digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
  CHECK(ha1 == "939e7578ed9e3c518a452acee763bce9");
  CHECK(digest_response(ha1, "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                        "00000001", "0a4f113b", "auth") == "6629fae49393a05397450978507c4ef1");

  const DigestResponse parsed = parse_ok(
      "Digest username=\"Mufasa\",\r\n"
      "        realm=\"testrealm@host.com\",\r\n"
      "        nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
      "        uri=\"/dir/index.html\",\r\n"
      "        qop=auth,\r\n"
      "        nc=00000001,\r\n"
      "        cnonce=\"0a4f113b\",\r\n"
      "        response=\"6629fae49393a05397450978507c4ef1\",\r\n"
      "        opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  CHECK(parsed.username == "Mufasa");
  CHECK(parsed.realm == "testrealm@host.com");
  CHECK(parsed.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  CHECK(parsed.uri == "/dir/index.html");
  CHECK(parsed.qop == "auth");
  CHECK(parsed.nc == "00000001");
  CHECK(parsed.cnonce == "0a4f113b");
  CHECK(parsed.response == "6629fae49393a05397450978507c4ef1");
  CHECK(parsed.opaque == "5ccc069c403ebaf9f0171e9517f40e41");
  CHECK(parsed.algorithm.empty());
}

TEST_CASE("digest: the RFC 2069 example (no qop)", "[digest]") {
  CHECK(digest_response(digest_ha1("Mufasa", "testrealm@host.com", "CircleOfLife"), "GET",
                        "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "",
                        "") == "1949323746fe6a43ef61f9606e7febea");
}

TEST_CASE("digest: parameters in any order and case, quoted or not", "[digest]") {
  const DigestResponse parsed = parse_ok(
      "  digest  RESPONSE=abc , Uri=\"sip:x\",nonce=n1,\tRealm = \"r \\\"q\\\" \\\\\" ,"
      " UserName=\"bob, jr\",,x-unknown=\"ignored\",algorithm=md5,");
  CHECK(parsed.username == "bob, jr");
  CHECK(parsed.realm == "r \"q\" \\");
  CHECK(parsed.nonce == "n1");
  CHECK(parsed.uri == "sip:x");
  CHECK(parsed.response == "abc");
  CHECK(parsed.algorithm == "md5");
}

TEST_CASE("digest: hostile or incomplete Authorization values are refused", "[digest]") {
  const std::string complete =
      "username=\"a\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"0\"";
  const std::string rejected[] = {
      "",
      "Digest",
      "Digest ",
      "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
      "Digestusername=\"a\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"0\"",
      "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"sip:x\"",     // no response
      "Digest realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"0\"",     // no username
      "Digest username=\"a\", nonce=\"n\", uri=\"sip:x\", response=\"0\"",  // no realm
      "Digest username=\"a\", realm=\"r\", uri=\"sip:x\", response=\"0\"",  // no nonce
      "Digest username=\"a\", realm=\"r\", nonce=\"n\", response=\"0\"",    // no uri
      "Digest username=\"\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"0\"",  // empty
      "Digest " + complete + ", username=\"b\"",                                        // repeated
      "Digest " + complete + ", cnonce=\"unterminated",
      "Digest " + complete + ", cnonce=\"ends in a backslash\\",
      "Digest " + complete + ", cnonce",
      "Digest " + complete + ", cnonce=",
      "Digest " + complete + ", =x",
      "Digest " + complete + " junk",
      "Digest " + complete + ", nc=00000001 00000002",
      "Digest " + complete + ", uri2=sip:x",  // ':' is not a token character
      "Digest " + complete + ", cnonce=\"a\r\nVia: injected\"",
      "Digest " + complete + ", cnonce=\"a" + std::string(1, '\0') + "b\"",
      "Digest " + complete + ", opaque=\"" + std::string(9000, 'x') + "\"",
  };
  for (const std::string& header : rejected) {
    INFO(header.substr(0, 200));
    CHECK_FALSE(parse_digest_response(header));
  }
  CHECK(parse_digest_response("Digest " + complete));
}

TEST_CASE("digest: a challenge", "[digest]") {
  const DigestAuthenticator auth("0123456789abcdef", 5min);
  const std::string challenge = auth.challenge("acd.example.com", kT0);
  CHECK_THAT(challenge, Catch::StartsWith("Digest realm=\"acd.example.com\", nonce=\""));
  CHECK_THAT(challenge, Catch::EndsWith("\", algorithm=MD5, qop=\"auth\""));
  const std::string nonce = nonce_of(challenge);
  CHECK(nonce.size() == 80);
  CHECK(nonce.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(nonce_of(auth.challenge("acd.example.com", kT0 + 1ns)) != nonce);
  CHECK_THAT(auth.challenge("acd.example.com", kT0, true), Catch::EndsWith(", stale=true"));
  // A realm cannot break out of its quoted string.
  CHECK_THAT(auth.challenge("a\"b\\c\r\nX: y", kT0),
             Catch::StartsWith("Digest realm=\"a\\\"b\\\\cX: y\", nonce="));
}

TEST_CASE("digest: SIPp-style responses are accepted", "[digest]") {
  const DigestAuthenticator auth("0123456789abcdef", 5min);
  const std::string nonce = nonce_of(auth.challenge("acd.example.com", kT0));
  const std::string ha1 = digest_ha1("alice", "acd.example.com", "secret");

  const DigestResponse response = parse_ok(sipp_authorization(nonce, "REGISTER"));
  CHECK(auth.verify(response, "REGISTER", ha1, kT0 + 2s) == Verdict::kOk);
  CHECK(auth.verify(response, "REGISTER", ha1, kT0 + 5min) == Verdict::kOk);

  SECTION("without qop (RFC 2069 clients)") {
    DigestResponse old = response;
    old.qop = old.nc = old.cnonce = "";
    old.algorithm = "";
    old.response = digest_response(ha1, "INVITE", old.uri, nonce, "", "", "");
    CHECK(auth.verify(old, "INVITE", ha1, kT0) == Verdict::kOk);
  }
  SECTION("upper-case hex in the response") {
    DigestResponse upper = response;
    for (char& c : upper.response) c = static_cast<char>(std::toupper(c));
    CHECK(auth.verify(upper, "REGISTER", ha1, kT0) == Verdict::kOk);
  }
}

TEST_CASE("digest: an expired nonce with the right password is stale", "[digest]") {
  const DigestAuthenticator auth("0123456789abcdef", 30s);
  const std::string nonce = nonce_of(auth.challenge("acd.example.com", kT0));
  const std::string ha1 = digest_ha1("alice", "acd.example.com", "secret");
  const DigestResponse right = parse_ok(sipp_authorization(nonce, "INVITE"));
  CHECK(auth.verify(right, "INVITE", ha1, kT0 + 30s) == Verdict::kOk);
  CHECK(auth.verify(right, "INVITE", ha1, kT0 + 30s + 1ns) == Verdict::kStale);
  CHECK(auth.verify(right, "INVITE", ha1, kT0 + 24h) == Verdict::kStale);
  // Stale is only said of right credentials: the client may retry without asking the user.
  const DigestResponse wrong = parse_ok(sipp_authorization(nonce, "INVITE", "guess"));
  CHECK(auth.verify(wrong, "INVITE", ha1, kT0 + 24h) == Verdict::kWrongResponse);
}

TEST_CASE("digest: nonces that are not ours", "[digest]") {
  const DigestAuthenticator auth("0123456789abcdef", 5min);
  const std::string ha1 = digest_ha1("alice", "acd.example.com", "secret");
  const std::string nonce = nonce_of(auth.challenge("acd.example.com", kT0));

  std::string later_timestamp = nonce;  // an attacker extending the nonce's life
  later_timestamp[15] = later_timestamp[15] == 'f' ? 'e' : 'f';
  std::string bad_mac = nonce;
  bad_mac[40] = bad_mac[40] == '0' ? '1' : '0';
  const std::string other_secret =
      nonce_of(DigestAuthenticator("another secret", 5min).challenge("acd.example.com", kT0));
  std::string upper = nonce;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));

  for (const std::string& forged :
       {later_timestamp, bad_mac, other_secret, nonce.substr(0, 79), nonce + "0",
        std::string(80, 'z'), std::string("dcd98b7102dd2f0e8b11d0f600bfb0c093"), upper}) {
    INFO(forged);
    // Even with a response computed correctly over the forged nonce.
    const DigestResponse response = parse_ok(sipp_authorization(forged, "REGISTER"));
    CHECK(auth.verify(response, "REGISTER", ha1, kT0) == Verdict::kWrongNonce);
  }
}

TEST_CASE("digest: wrong responses", "[digest]") {
  const DigestAuthenticator auth("0123456789abcdef", 5min);
  const std::string ha1 = digest_ha1("alice", "acd.example.com", "secret");
  const std::string nonce = nonce_of(auth.challenge("acd.example.com", kT0));
  const DigestResponse right = parse_ok(sipp_authorization(nonce, "REGISTER"));
  REQUIRE(auth.verify(right, "REGISTER", ha1, kT0) == Verdict::kOk);

  CHECK(auth.verify(parse_ok(sipp_authorization(nonce, "REGISTER", "Secret")), "REGISTER", ha1,
                    kT0) == Verdict::kWrongResponse);
  CHECK(auth.verify(right, "INVITE", ha1, kT0) == Verdict::kWrongResponse);
  CHECK(auth.verify(right, "REGISTER", digest_ha1("alice", "other", "secret"), kT0) ==
        Verdict::kWrongResponse);

  const auto changed = [&](auto change) {
    DigestResponse r = right;
    change(r);
    return auth.verify(r, "REGISTER", ha1, kT0);
  };
  CHECK(changed([](DigestResponse& r) { r.uri = "sip:other"; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.nc = "00000002"; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.cnonce = "x"; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.response.pop_back(); }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.response = ""; }) == Verdict::kWrongResponse);
  // Algorithms and qop values we never offer.
  CHECK(changed([](DigestResponse& r) { r.algorithm = "SHA-256"; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.algorithm = "MD5-sess"; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.qop = "auth-int"; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.cnonce = ""; }) == Verdict::kWrongResponse);
  // Dropping qop turns it into a different (RFC 2069) digest.
  CHECK(changed([](DigestResponse& r) { r.qop = ""; }) == Verdict::kWrongResponse);
  CHECK(changed([](DigestResponse& r) { r.algorithm = "md5"; }) == Verdict::kOk);
}

TEST_CASE("digest: an empty secret is a start-up error", "[digest]") {
  CHECK_THROWS_AS(DigestAuthenticator("", 5min), std::invalid_argument);
}

TEST_CASE("digest: mutated Authorization values never throw", "[digest]") {
  const DigestAuthenticator auth("0123456789abcdef", 5min);
  const std::string seed = sipp_authorization(nonce_of(auth.challenge("r", kT0)), "REGISTER");
  const char alphabet[] = "\"\\,= \tDdigest\r\n0a";
  std::mt19937_64 next(2617);  // fixed seed: every run tries the same inputs
  for (int round = 0; round < 20000; ++round) {
    std::string header = seed;
    for (int e = 0; e < 1 + static_cast<int>(next() % 6) && !header.empty(); ++e) {
      const std::size_t at = next() % header.size();
      if (next() % 2) {
        header[at] = alphabet[next() % (sizeof alphabet - 1)];
      } else {
        header.erase(at, 1 + next() % 8);
      }
    }
    std::optional<DigestResponse> response;
    REQUIRE_NOTHROW(response = parse_digest_response(header));
    if (response) CHECK_NOTHROW(auth.verify(*response, "REGISTER", "00", kT0));
  }
}
