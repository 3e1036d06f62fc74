#include "engine/app/api_wiring.h"

#include <catch2/catch.hpp>

#include "engine/app/config.h"
#include "engine/common/digest.h"

namespace acd::app {
namespace {

DaemonConfig load(std::string_view text) {
  NameRegistry registry;
  auto result = load_config_text(text, "test.yaml", registry);
  if (!result.ok()) FAIL(result.error().front().to_string());
  return std::move(result.value());
}

TEST_CASE("the API directory has every user, role, token and agent of the config",
          "[api][config]") {
  const DaemonConfig config = load(R"(api: {listen: "127.0.0.1:0"}
tenants:
  - name: acme
    not_ready_reasons: [lunch]
    agents: [{name: ann, extension: "10"}]
    users:
      - {name: ann, roles: [agent], agent: ann,
         tokens: [{name: desk, token: "ann-desk-token-0123456789"}]}
      - {name: boss, roles: [supervisor, read-only],
         tokens: [{name: old, token: "boss-old-token-0123456789", expires_at: "2020-01-01"}]}
  - name: globex
    users: [{name: admin, roles: [admin]}]
)");
  CHECK(config.api.listen == "127.0.0.1:0");
  const auto d = make_api_directory(config);
  REQUIRE(d->tenants.size() == 2);
  CHECK(d->tenants[0].not_ready_reasons == std::vector<std::string>{"lunch"});
  REQUIRE(d->users.size() == 3);
  CHECK(d->users[0].agent_name == "ann");
  CHECK(d->users[0].agent.valid());
  CHECK(d->users[1].roles.to_string() == "supervisor,read-only");
  CHECK_FALSE(d->users[1].agent.valid());
  CHECK(d->users[2].tenant_name == "globex");
  const auto now = std::chrono::system_clock::now();
  const auto ann = api::authenticate(*d, "Bearer ann-desk-token-0123456789", now);
  REQUIRE(std::holds_alternative<api::Principal>(ann));
  CHECK(std::get<api::Principal>(ann).user->name == "ann");
  CHECK(std::get<api::AuthFailure>(api::authenticate(*d, "Bearer boss-old-token-0123456789",
                                                     now)) == api::AuthFailure::kExpired);
}

TEST_CASE("api.listen must be host:port", "[api][config]") {
  for (const char* bad : {"50051", "localhost", ":50051", "127.0.0.1:", "127.0.0.1:99999",
                          "::1:50051", "[::1:50051", "127.0.0.1:5x"}) {
    INFO(bad);
    NameRegistry registry;
    auto result = load_config_text(std::string("api: {listen: \"") + bad + "\"}\ntenants: []\n",
                                   "test.yaml", registry);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().front().to_string(),
               Catch::Contains("api.listen: expected host:port"));
  }
  for (const char* good : {"127.0.0.1:0", "[::1]:50051", "localhost:50051"}) {
    INFO(good);
    NameRegistry registry;
    CHECK(load_config_text(std::string("api: {listen: \"") + good + "\"}\ntenants: []\n",
                           "test.yaml", registry)
              .ok());
  }
}

}  // namespace
}  // namespace acd::app
