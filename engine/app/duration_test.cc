#include "engine/app/duration.h"

#include <catch2/catch.hpp>

namespace acd::app {
namespace {

using namespace std::chrono_literals;

core::Duration parsed(std::string_view text) {
  auto result = parse_duration(text);
  INFO(text << ": " << (result.ok() ? "" : result.error()));
  REQUIRE(result.ok());
  return result.value();
}

std::string error_of(std::string_view text) {
  auto result = parse_duration(text);
  REQUIRE_FALSE(result.ok());
  return result.error();
}

TEST_CASE("durations: units", "[duration]") {
  CHECK(parsed("500ms") == 500ms);
  CHECK(parsed("20s") == 20s);
  CHECK(parsed("5m") == 5min);
  CHECK(parsed("1h") == 1h);
  CHECK(parsed("0s") == 0s);
  CHECK(parsed("0") == 0s);
}

TEST_CASE("durations: a bare number is seconds", "[duration]") {
  CHECK(parsed("20") == 20s);
  CHECK(parsed("0.25") == 250ms);
  CHECK(parsed("+3") == 3s);
}

TEST_CASE("durations: decimals and compounds", "[duration]") {
  CHECK(parsed("1.5s") == 1500ms);
  CHECK(parsed("0.5m") == 30s);
  CHECK(parsed("1m30s") == 90s);
  CHECK(parsed("1h2m3s4ms") == 1h + 2min + 3s + 4ms);
}

TEST_CASE("durations: malformed input is an error that says why", "[duration]") {
  CHECK_THAT(error_of(""), Catch::Contains("empty duration"));
  CHECK_THAT(error_of("-5s"), Catch::Contains("negative duration \"-5s\""));
  CHECK_THAT(error_of("5min"),
             Catch::Contains("unknown unit \"min\" in \"5min\"; expected ms, s, m or h"));
  CHECK_THAT(error_of("15sec"), Catch::Contains("unknown unit \"sec\""));
  CHECK_THAT(error_of("s"), Catch::Contains("malformed duration"));
  CHECK_THAT(error_of("20 s"), Catch::Contains("malformed duration"));
  CHECK_THAT(error_of("1m30"), Catch::Contains("needs a unit"));
  CHECK_THAT(error_of("1.2.3s"), Catch::Contains("malformed duration"));
  CHECK_THAT(error_of("9999999h"), Catch::Contains("too long"));
}

TEST_CASE("durations: format_duration round-trips", "[duration]") {
  for (core::Duration d :
       {core::Duration(0s), core::Duration(500ms), core::Duration(20s), core::Duration(90s),
        core::Duration(1h), core::Duration(1500ms), core::Duration(1h + 1s)}) {
    const std::string text = format_duration(d);
    INFO(text);
    CHECK(parsed(text) == d);
  }
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(1500ms) == "1.5s");
}

}  // namespace
}  // namespace acd::app
