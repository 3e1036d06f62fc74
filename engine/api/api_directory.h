// ApiDirectory: who may use the gRPC API, as the configuration says (users, their roles,
// the agent each works as, and the SHA-256 of their bearer tokens), and the
// authentication of one request against it.
//
// A request carries `authorization: Bearer <token>`; the token's SHA-256 names one token
// of one user of one tenant (tokens are stored only as hashes). Everything the request
// may do follows from that user: its roles, its tenant (it never sees another's data),
// and, for the agent role, the one agent whose session it acts on.
//
// Thread-safety: an ApiDirectory is immutable once built; the daemon swaps in a new one
// on reload (a shared pointer), so in-flight requests keep the one they started with.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/core/ids.h"

namespace acd::api {

enum class Role : std::uint8_t { kAdmin, kSupervisor, kAgent, kReadOnly };
const char* to_string(Role role);  // "admin", "supervisor", "agent", "read-only"

// A set of roles.
class Roles {
 public:
  Roles() = default;
  Roles(std::initializer_list<Role> roles) {
    for (Role r : roles) add(r);
  }
  void add(Role r) { bits_ |= bit(r); }
  [[nodiscard]] bool has(Role r) const { return (bits_ & bit(r)) != 0; }
  [[nodiscard]] bool intersects(Roles other) const { return (bits_ & other.bits_) != 0; }
  [[nodiscard]] std::string to_string() const;  // "admin,agent"; "" when empty

 private:
  static std::uint8_t bit(Role r) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(r));
  }
  std::uint8_t bits_ = 0;
};

struct ApiUser {
  core::TenantId tenant;
  std::string tenant_name;
  std::string name;
  Roles roles;
  core::AgentId agent;     // the agent the user works as; invalid: none
  std::string agent_name;  // its name; empty: none
};

struct ApiTenant {
  core::TenantId id;
  std::string name;
  // The reason codes its agents may give for NotReady; empty: any non-empty code.
  std::vector<std::string> not_ready_reasons;
  // Its configured agents, queues and skills by name (requests name them; the core
  // knows them by id).
  std::unordered_map<std::string, core::AgentId> agents;
  std::unordered_map<std::string, core::QueueId> queues;
  std::unordered_map<std::string, core::SkillId> skills;

  [[nodiscard]] std::optional<core::AgentId> agent(std::string_view wanted) const;
  [[nodiscard]] std::optional<core::QueueId> queue(std::string_view wanted) const;
  [[nodiscard]] std::optional<core::SkillId> skill(std::string_view wanted) const;
};

struct ApiDirectory {
  using WallTime = std::chrono::system_clock::time_point;
  std::vector<ApiTenant> tenants;
  struct Token {
    std::size_t user = 0;             // index into users
    std::string name;                 // the token's name (for audit lines)
    std::optional<WallTime> expires;  // nullopt: never
  };
  std::vector<ApiUser> users;
  std::unordered_map<std::string, Token> tokens;  // lower-case hex SHA-256 -> token

  [[nodiscard]] const ApiTenant* tenant(core::TenantId id) const;
};

// Who a request is: the user and the token it came with.
struct Principal {
  const ApiUser* user = nullptr;
  std::string token_name;
};

enum class AuthFailure : std::uint8_t {
  kMissing,    // no authorization metadata
  kMalformed,  // not "Bearer <token>"
  kUnknown,    // no such token
  kExpired     // the token's expiry has passed
};
const char* to_string(AuthFailure failure);

// `authorization`: the request's authorization metadata value; nullopt when absent.
std::variant<Principal, AuthFailure> authenticate(const ApiDirectory& directory,
                                                  std::optional<std::string_view> authorization,
                                                  ApiDirectory::WallTime now);

}  // namespace acd::api
