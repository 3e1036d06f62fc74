#include "engine/app/sip_wiring.h"

#include <catch2/catch.hpp>

namespace acd::app {
namespace {

TEST_CASE("SIP log values from the wire are cut to a bounded length") {
  CHECK(cap_log_value("alice") == "alice");
  const std::string exact(kMaxSipLogValue, 'x');
  CHECK(cap_log_value(exact) == exact);

  const std::string huge(100000, 'y');
  const std::string cut = cap_log_value(huge);
  CHECK(cut == std::string(kMaxSipLogValue, 'y') + "...(100000 bytes)");
}

TEST_CASE("cutting a log value never splits a UTF-8 sequence") {
  // 199 ASCII bytes, then a 3-byte character straddling the limit of 200.
  std::string value(kMaxSipLogValue - 1, 'a');
  value += "\xE4\xB8\xAD";  // U+4E2D
  value += std::string(50, 'b');
  const std::string cut = cap_log_value(value);
  CHECK(cut.rfind(std::string(kMaxSipLogValue - 1, 'a') + "...(", 0) == 0);
}

}  // namespace
}  // namespace acd::app
