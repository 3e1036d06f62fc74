// Call-flow scripts: a Lua 5.4 script decides what happens to one call (play prompts,
// collect digits, look the customer up, set attributes and priority, then choose a queue,
// voicemail, a transfer, a callback or a hangup). See docs/FLOWS.md for the script API and
// the sandbox rules.
//
// A FlowScript is compiled once from its text. Each call gets its own FlowRun: a fresh,
// sandboxed lua_State with an instruction budget and a memory limit, running the script as
// a coroutine. The host drives the run: start() and resume() run the script until it
// either asks for something asynchronous (a FlowRequest the host carries out, then resumes
// the run with its FlowResult) or ends (a FlowOutcome). Nothing in here blocks, reads a
// clock, or does I/O.
//
// Thread-safety: a FlowScript is an immutable value and may be shared between threads;
// a FlowRun belongs to one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace acd::flows {

// ---- Compiling -------------------------------------------------------------------------

struct FlowCompileError {
  int line = 0;         // 1-based line of the error in the script, 0 if unknown
  std::string message;  // "flow.lua:3: 'end' expected near <eof>"
};

// A script compiled once (text only: binary chunks are refused) and kept as Lua bytecode
// produced by the host itself, so each run loads it without parsing the text again.
class FlowScript {
 public:
  // The largest script text accepted, in bytes.
  static constexpr std::size_t kMaxSourceBytes = 256 * 1024;

  // `name` is the chunk name used in error messages ("flow.lua" gives "flow.lua:12: ...").
  static std::variant<FlowScript, FlowCompileError> compile(std::string_view name,
                                                            std::string_view source);

  [[nodiscard]] const std::string& name() const { return name_; }
  // Host-made bytecode with debug information (line numbers); for FlowRun only.
  [[nodiscard]] const std::string& bytecode() const { return bytecode_; }

 private:
  FlowScript(std::string name, std::string bytecode)
      : name_(std::move(name)), bytecode_(std::move(bytecode)) {}
  std::string name_;
  std::string bytecode_;
};

// ---- What a script asks the host to do, and what the host answers ----------------------

// call.play(prompt): play a prompt to the caller. Answered with a PlayResult.
struct PlayRequest {
  std::string prompt;
};
// call.collect(prompt, max_digits, timeout_s): play the prompt (if any) and collect up to
// max_digits DTMF digits. Answered with a CollectResult.
struct CollectRequest {
  std::optional<std::string> prompt;
  int max_digits = 1;
  std::chrono::milliseconds timeout{0};
};
// call.lookup(number): the read-only customer query. Answered with a LookupResult.
struct LookupRequest {
  std::string number;
};
using FlowRequest = std::variant<PlayRequest, CollectRequest, LookupRequest>;

struct PlayResult {
  bool completed = true;  // false: the caller interrupted it or it could not be played
};
struct CollectResult {
  std::string digits;  // '0'-'9', '*', '#'; at most max_digits; empty on timeout
};
struct LookupResult {
  // nullopt: no such customer. Field names and values are strings.
  std::optional<std::map<std::string, std::string>> customer;
};
using FlowResult = std::variant<PlayResult, CollectResult, LookupResult>;

// ---- How a run ends ---------------------------------------------------------------------

struct QueueDecision {
  std::string queue;
  friend bool operator==(const QueueDecision&, const QueueDecision&) = default;
};
struct VoicemailDecision {
  std::string box;
  friend bool operator==(const VoicemailDecision&, const VoicemailDecision&) = default;
};
struct TransferDecision {
  std::string number;
  friend bool operator==(const TransferDecision&, const TransferDecision&) = default;
};
struct HangupDecision {
  friend bool operator==(const HangupDecision&, const HangupDecision&) = default;
};
struct CallbackDecision {
  std::string number;
  std::string queue;  // the queue that calls back; empty: the host's choice (the fallback's)
  friend bool operator==(const CallbackDecision&, const CallbackDecision&) = default;
};
using FlowDecision = std::variant<QueueDecision, VoicemailDecision, TransferDecision,
                                  HangupDecision, CallbackDecision>;

struct FlowOutcome {
  FlowDecision decision;
  // True when the script did not decide (it errored, hit a limit, returned without a
  // decision, or was cancelled) and `decision` is the host's configured fallback.
  bool fallback = false;
  // Why the fallback was taken, with the script line where known ("flow.lua:12: ...").
  std::string error;
};

// What start() and resume() return: the next request to carry out, or the end of the run.
using FlowStep = std::variant<FlowRequest, FlowOutcome>;

// ---- One run of a script for one call ---------------------------------------------------

// What the script can read about its call.
struct FlowCall {
  std::string caller;                             // call.caller()
  std::string dialled;                            // call.dialled()
  std::map<std::string, std::string> attributes;  // call.get(key)
};

// A queue of the call's tenant as the host last saw it (call.queue_status): at most a
// moment old (the daemon answers from the routing core's last published snapshot).
struct FlowQueueStatus {
  int waiting = 0;       // calls waiting in the queue
  int agents_ready = 0;  // members free for a call now
  int agents_logged_in = 0;
  std::int64_t estimated_wait_s = 0;  // what a new caller would wait, by the queue's figures
  std::int64_t longest_wait_s = 0;    // the longest wait of the calls in the queue
};

// A business-hours calendar of the call's tenant at this moment (call.open, call.holiday).
struct FlowCalendarState {
  bool open = false;
  bool holiday = false;
};

// What a script may read of the host at once, without waiting: answered from data the
// host already holds (published queue figures, the tenant's calendars and its clock).
// Called on the thread running the FlowRun, from inside the script; must not block or
// throw past its caller (an exception ends the script in its fallback).
class FlowHostInfo {
 public:
  virtual ~FlowHostInfo() = default;
  // nullopt: the tenant has no such queue.
  [[nodiscard]] virtual std::optional<FlowQueueStatus> queue_status(
      std::string_view queue) const = 0;
  // nullopt: the tenant has no such calendar.
  [[nodiscard]] virtual std::optional<FlowCalendarState> calendar(
      std::string_view calendar) const = 0;
};

struct FlowConfig {
  // Lua VM instructions the run may execute, over all its resumes together. Counted in
  // slices of up to kInstructionSlice, so a run may overrun by less than one slice.
  std::uint64_t instruction_limit = 1'000'000;
  // Bytes the run's lua_State may hold at once (the state itself, the script, its data).
  std::size_t memory_limit = 2 * 1024 * 1024;
  // The decision taken when the script does not make one.
  FlowDecision fallback = QueueDecision{"default"};
  // Seed of math.random for this run (never taken from the clock, so runs repeat).
  std::uint64_t random_seed = 0;
  // Queue figures and calendars for call.queue_status, call.open and call.holiday; null:
  // the host knows none (queue_status gives nil, open and holiday raise an error).
  std::shared_ptr<const FlowHostInfo> host;
};

// Bounds on what a script can hand to the host outside its own memory limit.
inline constexpr std::size_t kMaxAttributes = 64;
// Skills a script may require of the agent (call.set_skill), and their levels.
inline constexpr std::size_t kMaxSkills = 16;
inline constexpr int kMinSkillLevel = 1;
inline constexpr int kMaxSkillLevel = 10;
inline constexpr std::size_t kMaxLogLines = 100;
inline constexpr std::uint64_t kInstructionSlice = 1000;

class FlowRun {
 public:
  FlowRun(const FlowScript& script, FlowCall call, FlowConfig config);
  ~FlowRun();  // frees the run's whole lua_State, wherever the script was
  FlowRun(FlowRun&&) noexcept;
  FlowRun& operator=(FlowRun&&) noexcept;
  FlowRun(const FlowRun&) = delete;
  FlowRun& operator=(const FlowRun&) = delete;

  // Runs the script from its start. Call once.
  FlowStep start();
  // Answers the pending request and runs on. A result of the wrong kind for the pending
  // request, or a malformed one (digits that are not DTMF, too many of them), is a host
  // error: the run ends in the fallback saying so.
  FlowStep resume(const FlowResult& result);
  // Ends the run now (e.g. the caller hung up while a prompt played): the fallback
  // outcome with error "cancelled ...", and the lua_State freed at once.
  FlowOutcome cancel();

  [[nodiscard]] bool finished() const;
  // The request the script waits on, if any.
  [[nodiscard]] const std::optional<FlowRequest>& pending() const;

  // What the script set with call.set / call.set_priority, and wrote with call.log; kept
  // after the run ends, whatever its outcome.
  [[nodiscard]] const std::map<std::string, std::string>& attributes() const;
  [[nodiscard]] std::optional<int> priority() const;
  // What call.set_skill asked of the agent who takes the call: skill name -> minimum level.
  [[nodiscard]] const std::map<std::string, int>& skills() const;
  [[nodiscard]] const std::vector<std::string>& log() const;
  // Instructions executed so far (in slices of kInstructionSlice) and bytes held now.
  [[nodiscard]] std::uint64_t instructions_used() const;
  [[nodiscard]] std::size_t memory_used() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace acd::flows
