#include "engine/app/logging.h"

#include <catch2/catch.hpp>

namespace acd::app {
namespace {

TEST_CASE("logging: text lines are key=value pairs, quoted when needed", "[logging]") {
  const std::string who = "alice";
  const LogField fields[] = {
      {"agent", who},         {"from", "Ready"},     {"call", std::uint64_t{17}},
      {"delta", -3},          {"sl", 0.8571428},     {"count", 2.0},
      {"ok", true},           {"note", "two words"}, {"empty", ""},
      {"quote", "say \"hi\""}};
  CHECK(format_log_fields(LogFormat::kText, "agent.state", fields) ==
        "event=agent.state agent=alice from=Ready call=17 delta=-3 sl=0.857 count=2 ok=true "
        "note=\"two words\" empty=\"\" quote=\"say \\\"hi\\\"\"");
}

TEST_CASE("logging: json lines are object members", "[logging]") {
  const LogField fields[] = {{"agent", "alice"}, {"call", 17}, {"ok", false}, {"msg", "a\nb"}};
  CHECK(format_log_fields(LogFormat::kJson, "agent.state", fields) ==
        R"("event":"agent.state","agent":"alice","call":17,"ok":false,"msg":"a\nb")");
}

TEST_CASE("json_string quotes and escapes") {
  CHECK(json_string("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
  CHECK(json_string("") == "\"\"");
}

}  // namespace
}  // namespace acd::app
