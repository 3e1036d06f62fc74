#include "engine/app/name_registry.h"

#include <catch2/catch.hpp>

namespace acd::app {
namespace {

TEST_CASE("name registry: ids in first-seen order, stable across lookups", "[registry]") {
  NameRegistry registry;
  const auto acme = registry.tenant("acme");
  const auto globex = registry.tenant("globex");
  CHECK(acme.value == 0);
  CHECK(globex.value == 1);
  CHECK(registry.tenant("acme") == acme);

  const auto alice = registry.agent(acme, "alice");
  const auto bob = registry.agent(acme, "bob");
  CHECK(alice.value == 0);
  CHECK(bob.value == 1);
  CHECK(registry.agent(acme, "alice") == alice);
}

TEST_CASE("name registry: names are per tenant, ids are global", "[registry]") {
  NameRegistry registry;
  const auto acme = registry.tenant("acme");
  const auto globex = registry.tenant("globex");
  const auto acme_sales = registry.queue(acme, "sales");
  const auto globex_sales = registry.queue(globex, "sales");
  CHECK(acme_sales != globex_sales);
  CHECK(registry.find_queue(acme, "sales") == acme_sales);
  CHECK(registry.find_queue(globex, "sales") == globex_sales);
  CHECK_FALSE(registry.find_queue(acme, "support").has_value());
  CHECK_FALSE(registry.find_agent(globex, "alice").has_value());
}

TEST_CASE("name registry: the table names every id ever given", "[registry]") {
  NameRegistry registry;
  const auto acme = registry.tenant("acme");
  const auto alice = registry.agent(acme, "alice");
  const auto team = registry.team(acme, "front-line");
  const auto skill = registry.skill(acme, "english");
  const auto table = registry.table();
  CHECK(table->tenant(acme) == "acme");
  CHECK(table->agent(alice) == "alice");
  CHECK(table->team(team) == "front-line");
  CHECK(table->skill(skill) == "english");
  CHECK(table->agent(core::AgentId(42)) == "#42");
  CHECK(table->agent(core::AgentId()) == "-");
}

}  // namespace
}  // namespace acd::app
