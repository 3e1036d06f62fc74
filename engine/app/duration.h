// Durations as written in the configuration file: "500ms", "20s", "5m", "1h", compounds
// such as "1m30s", decimals such as "1.5s", or a bare number of seconds ("20", "0.25").
// Negative durations are rejected. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "engine/app/result.h"
#include "engine/core/time.h"

namespace acd::app {

// Longest duration accepted (a year); anything longer is certainly a typo.
inline constexpr core::Duration kMaxConfigDuration = std::chrono::hours(24 * 366);

// The error names what was wrong, e.g. `unknown unit "min" in "5min"; expected ms, s, m or h`.
Result<core::Duration, std::string> parse_duration(std::string_view text);

// The shortest exact spelling parse_duration reads back: "0s", "500ms", "1m30s", "2h".
std::string format_duration(core::Duration d);

}  // namespace acd::app
