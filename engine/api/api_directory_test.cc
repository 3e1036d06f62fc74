#include "engine/api/api_directory.h"

#include <catch2/catch.hpp>

#include "engine/common/digest.h"

namespace acd::api {
namespace {

using namespace std::chrono_literals;

ApiDirectory one_user(std::optional<ApiDirectory::WallTime> expires = std::nullopt) {
  ApiDirectory d;
  d.tenants.push_back({core::TenantId(0), "acme", {}});
  d.users.push_back(
      {core::TenantId(0), "acme", "ann", Roles{Role::kAgent}, core::AgentId(3), "ann"});
  d.tokens.emplace(sha256_hex("ann-token-0123456789"), ApiDirectory::Token{0, "desk", expires});
  return d;
}

AuthFailure failure_of(const std::variant<Principal, AuthFailure>& result) {
  REQUIRE(std::holds_alternative<AuthFailure>(result));
  return std::get<AuthFailure>(result);
}

TEST_CASE("a bearer token names its user", "[api][auth]") {
  const ApiDirectory d = one_user();
  const auto now = std::chrono::system_clock::now();
  auto result = authenticate(d, "Bearer ann-token-0123456789", now);
  REQUIRE(std::holds_alternative<Principal>(result));
  CHECK(std::get<Principal>(result).user->name == "ann");
  CHECK(std::get<Principal>(result).token_name == "desk");
  // The scheme's case does not matter (RFC 7235); the token's does.
  CHECK(std::holds_alternative<Principal>(authenticate(d, "bearer ann-token-0123456789", now)));
  CHECK(failure_of(authenticate(d, "Bearer ANN-token-0123456789", now)) == AuthFailure::kUnknown);
}

TEST_CASE("missing, malformed, unknown and expired tokens are refused", "[api][auth]") {
  const auto now = std::chrono::system_clock::now();
  const ApiDirectory d = one_user(now - 1s);
  CHECK(failure_of(authenticate(d, std::nullopt, now)) == AuthFailure::kMissing);
  for (std::string_view bad : {"", "Bearer", "Bearer ", "Basic YW5uOnNlY3JldA==",
                               "Bearer two tokens", "ann-token-0123456789"})
    CHECK(failure_of(authenticate(d, bad, now)) == AuthFailure::kMalformed);
  CHECK(failure_of(authenticate(d, "Bearer nobody", now)) == AuthFailure::kUnknown);
  CHECK(failure_of(authenticate(d, "Bearer ann-token-0123456789", now)) == AuthFailure::kExpired);
  const ApiDirectory later = one_user(now + 1h);
  CHECK(std::holds_alternative<Principal>(authenticate(later, "Bearer ann-token-0123456789", now)));
  CHECK(std::string(to_string(AuthFailure::kExpired)) == "the token has expired");
}

TEST_CASE("roles combine and print in a fixed order", "[api][auth]") {
  Roles roles{Role::kReadOnly, Role::kAdmin};
  CHECK(roles.has(Role::kAdmin));
  CHECK_FALSE(roles.has(Role::kAgent));
  CHECK(roles.intersects(Roles{Role::kAgent, Role::kReadOnly}));
  CHECK_FALSE(roles.intersects(Roles{Role::kAgent, Role::kSupervisor}));
  CHECK(roles.to_string() == "admin,read-only");
  CHECK(Roles{}.to_string().empty());
}

}  // namespace
}  // namespace acd::api
