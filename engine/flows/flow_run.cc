// FlowRun: one sandboxed run of a call-flow script, as a coroutine in its own lua_State.
//
// Lua is a C library: its errors are longjmps. So the C functions the script calls (the
// `call` API and the library wrappers below) keep no C++ object with a destructor alive
// across a Lua API call that may raise, and catch any C++ exception before it could reach
// Lua's frames. Every Lua call the host makes outside a protected call is one that cannot
// raise (pushing a light C function or pointer, lua_pcall, lua_resume, lua_checkstack,
// lua_xmove, reading a value's type, lua_close): the state's panic handler never runs.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <lua.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/flows/flow.h"

namespace acd::flows {

struct FlowRun::Impl {
  Impl(const FlowScript& script, FlowCall c, FlowConfig cfg)
      : name(script.name()), bytecode(script.bytecode()), call(std::move(c)), config(cfg) {}
  ~Impl() { close(); }

  void close() {
    if (L != nullptr) lua_close(L);
    L = nullptr;
    co = nullptr;
  }

  std::string name;
  std::string bytecode;
  FlowCall call;
  FlowConfig config;

  lua_State* L = nullptr;   // the run's state (main thread), used only by the host
  lua_State* co = nullptr;  // the coroutine running the script
  std::string setup_error;  // why the state could not be prepared, if it could not

  // Memory accounting by the allocator (see limited_alloc).
  std::size_t memory_used = 0;
  bool memory_refused = false;

  // Instruction accounting by the count hook (see count_hook).
  std::uint64_t slice = kInstructionSlice;
  std::uint64_t instructions_used = 0;
  bool instructions_exceeded = false;
  std::string limit_error;

  bool started = false;
  std::optional<FlowRequest> pending;
  std::optional<FlowDecision> decision;  // set by call.queue and the other endings
  std::optional<FlowOutcome> outcome;    // set once the run ended

  std::map<std::string, std::string> attributes;
  std::optional<int> priority;
  std::map<std::string, int> skills;  // call.set_skill
  std::vector<std::string> log;
};

namespace {

using Impl = FlowRun::Impl;

// Arguments a script hands the host are bounded here, outside the memory limit.
constexpr std::size_t kMaxNameBytes = 64;     // queue, voicemail box, attribute key
constexpr std::size_t kMaxPromptBytes = 128;  // prompt names
constexpr std::size_t kMaxNumberBytes = 32;   // phone numbers
constexpr std::size_t kMaxTextBytes = 1024;   // attribute values, log lines
constexpr lua_Integer kMaxDigits = 32;
constexpr double kMaxCollectTimeoutS = 60.0;
constexpr double kDefaultCollectTimeoutS = 5.0;
constexpr lua_Integer kMaxPriority = 1'000'000;  // as RoutingCore accepts
// Lua's pattern matcher backtracks in C, where the instruction hook never runs: a pattern
// like ".-.-.-.-b" on a long subject would take hours. Bounding the subject and the number
// of repetition items bounds the work (n^(k+1) steps: 256^3, well under a millisecond).
constexpr std::size_t kMaxPatternSubject = 256;
constexpr int kMaxPatternRepetitions = 2;

// ---- Memory limit -----------------------------------------------------------------------

// The state's allocator: counts the bytes the state holds and refuses any growth beyond
// the run's limit. Lua then collects garbage and retries once, and if that fails raises a
// memory error in the script; the host is never affected. Shrinking and freeing always
// succeed, as Lua requires.
void* limited_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* impl = static_cast<Impl*>(ud);
  const std::size_t old = ptr != nullptr ? osize : 0;  // without ptr, osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    impl->memory_used -= old;
    return nullptr;
  }
  if (nsize > old && nsize - old > impl->config.memory_limit - impl->memory_used) {
    impl->memory_refused = true;
    return nullptr;
  }
  void* grown = std::realloc(ptr, nsize);
  if (grown == nullptr) return nullptr;
  impl->memory_used = impl->memory_used - old + nsize;
  return grown;
}

Impl* impl_of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<Impl*>(ud);
}

// ---- Instruction limit ------------------------------------------------------------------

// Called every `slice` VM instructions of the script. Past the budget it raises an error,
// and from then on it runs before every instruction and raises again: a script that
// catches the error with pcall cannot execute another instruction, so the error climbs
// through every pcall to the top and the run ends.
void count_hook(lua_State* L, lua_Debug* ar) {
  Impl* impl = impl_of(L);
  if (!impl->instructions_exceeded) {
    impl->instructions_used += impl->slice;
    if (impl->instructions_used < impl->config.instruction_limit) return;
    impl->instructions_exceeded = true;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    lua_getinfo(L, "Sl", ar);
    try {
      impl->limit_error = std::string(ar->short_src) + ":" + std::to_string(ar->currentline) +
                          ": instruction limit of " +
                          std::to_string(impl->config.instruction_limit) + " exceeded";
    } catch (...) {
      impl->limit_error = "instruction limit exceeded";
    }
  }
  lua_pushstring(L, impl->limit_error.c_str());
  lua_error(L);
}

// ---- Argument checks for the `call` API ---------------------------------------------------
// Each raises "call.<fn>: argument <n> (<name>) ..." at the script's line.

enum class Charset {
  kName,    // letters, digits, '_', '.', '-'
  kPrompt,  // a name plus '/' (not leading, no "..")
  kNumber,  // digits, '*', '#', and '+' first
  kText,    // anything but control characters
};

bool fits(const char* s, std::size_t len, Charset charset) {
  for (std::size_t i = 0; i < len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    switch (charset) {
      case Charset::kName:
        if (!alnum && c != '_' && c != '.' && c != '-') return false;
        break;
      case Charset::kPrompt:
        if (!alnum && c != '_' && c != '.' && c != '-' && !(c == '/' && i > 0)) return false;
        if (c == '.' && i + 1 < len && s[i + 1] == '.') return false;
        break;
      case Charset::kNumber:
        if (!(c >= '0' && c <= '9') && c != '*' && c != '#' && !(c == '+' && i == 0)) {
          return false;
        }
        break;
      case Charset::kText:
        if (c < 0x20 || c == 0x7f) return false;
        break;
    }
  }
  return true;
}

const char* charset_rule(Charset charset) {
  switch (charset) {
    case Charset::kName: return "may hold only letters, digits, '_', '.' and '-'";
    case Charset::kPrompt:
      return "may hold only letters, digits, '_', '.', '-' and '/' (not first, no '..')";
    case Charset::kNumber: return "may hold only digits, '*', '#' and a leading '+'";
    case Charset::kText: return "may not hold control characters";
  }
  return "";
}

void check_arg_count(lua_State* L, const char* fn, int most) {
  const int given = lua_gettop(L);
  if (given > most) {
    luaL_error(L, "call.%s: takes at most %d argument(s), got %d", fn, most, given);
  }
}

const char* check_string(lua_State* L, const char* fn, int arg, const char* what,
                         std::size_t min_len, std::size_t max_len, Charset charset,
                         std::size_t* len) {
  if (lua_type(L, arg) != LUA_TSTRING) {
    luaL_error(L, "call.%s: argument %d (%s) must be a string, got %s", fn, arg, what,
               luaL_typename(L, arg));
  }
  const char* s = lua_tolstring(L, arg, len);
  if (*len < min_len || *len > max_len) {
    luaL_error(L, "call.%s: argument %d (%s) must be %d to %d bytes long, got %d", fn, arg, what,
               static_cast<int>(min_len), static_cast<int>(max_len), static_cast<int>(*len));
  }
  if (!fits(s, *len, charset)) {
    luaL_error(L, "call.%s: argument %d (%s) %s", fn, arg, what, charset_rule(charset));
  }
  return s;
}

lua_Integer check_integer(lua_State* L, const char* fn, int arg, const char* what, lua_Integer lo,
                          lua_Integer hi) {
  int is_integer = 0;
  const lua_Integer value =
      lua_type(L, arg) == LUA_TNUMBER ? lua_tointegerx(L, arg, &is_integer) : 0;
  if (!is_integer) {
    luaL_error(L, "call.%s: argument %d (%s) must be a whole number, got %s", fn, arg, what,
               lua_type(L, arg) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, arg));
  }
  if (value < lo || value > hi) {
    luaL_error(L, "call.%s: argument %d (%s) must be %d to %d, got %I", fn, arg, what,
               static_cast<int>(lo), static_cast<int>(hi), static_cast<LUAI_UACINT>(value));
  }
  return value;
}

// Runs `store` (C++ work that may throw) and reports whether it succeeded, so that the
// caller raises the Lua error only once every C++ object is gone.
template <class F>
bool host_store(F&& store) noexcept {
  try {
    store();
    return true;
  } catch (...) {
    return false;
  }
}

int host_out_of_memory(lua_State* L, const char* fn) {
  return luaL_error(L, "call.%s: the host is out of memory", fn);
}

// Waiting and deciding both yield the coroutine; Lua cannot yield out of a C library
// callback (table.sort's comparator, string.gsub's replacement function).
void check_yieldable(lua_State* L, const char* fn) {
  if (!lua_isyieldable(L)) {
    luaL_error(L, "call.%s: cannot be called here (inside a callback of a library function)", fn);
  }
}

Impl* api_impl(lua_State* L) {
  return static_cast<Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// ---- The `call` API: functions that return at once ----------------------------------------

int api_caller(lua_State* L) {
  check_arg_count(L, "caller", 0);
  const Impl* impl = api_impl(L);
  lua_pushlstring(L, impl->call.caller.data(), impl->call.caller.size());
  return 1;
}

int api_dialled(lua_State* L) {
  check_arg_count(L, "dialled", 0);
  const Impl* impl = api_impl(L);
  lua_pushlstring(L, impl->call.dialled.data(), impl->call.dialled.size());
  return 1;
}

// call.get(key): an attribute of the call (as set by the script, else as the call came
// in), or nil.
int api_get(lua_State* L) {
  check_arg_count(L, "get", 1);
  std::size_t len = 0;
  const char* key = check_string(L, "get", 1, "key", 1, kMaxNameBytes, Charset::kName, &len);
  const Impl* impl = api_impl(L);
  const std::string* found = nullptr;
  const bool ok = host_store([&] {
    const std::string k(key, len);
    if (auto it = impl->attributes.find(k); it != impl->attributes.end()) {
      found = &it->second;
    } else if (auto in = impl->call.attributes.find(k); in != impl->call.attributes.end()) {
      found = &in->second;
    }
  });
  if (!ok) return host_out_of_memory(L, "get");
  if (found == nullptr) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, found->data(), found->size());
  }
  return 1;
}

// call.queue_status(queue): a table of the queue's figures now (waiting, ready,
// logged_in, estimated_wait and longest_wait in seconds), or nil when there is no such
// queue.
int api_queue_status(lua_State* L) {
  check_arg_count(L, "queue_status", 1);
  std::size_t len = 0;
  const char* queue =
      check_string(L, "queue_status", 1, "queue", 1, kMaxNameBytes, Charset::kName, &len);
  const Impl* impl = api_impl(L);
  std::optional<FlowQueueStatus> status;  // trivially destructible: safe across Lua errors
  const bool ok = host_store([&] {
    if (impl->config.host) status = impl->config.host->queue_status(std::string_view(queue, len));
  });
  if (!ok) return luaL_error(L, "call.queue_status: the host could not answer");
  if (!status) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 5);
  const std::pair<const char*, lua_Integer> fields[] = {
      {"waiting", status->waiting},
      {"ready", status->agents_ready},
      {"logged_in", status->agents_logged_in},
      {"estimated_wait", static_cast<lua_Integer>(status->estimated_wait_s)},
      {"longest_wait", static_cast<lua_Integer>(status->longest_wait_s)}};
  for (const auto& [name, value] : fields) {
    lua_pushinteger(L, value);
    lua_setfield(L, -2, name);
  }
  return 1;
}

// call.open(calendar) / call.holiday(calendar): the tenant's business-hours calendar now.
// An unknown calendar is an error (a misspelt name must not read as "closed").
int calendar_state(lua_State* L, const char* fn, bool holiday) {
  check_arg_count(L, fn, 1);
  std::size_t len = 0;
  const char* name = check_string(L, fn, 1, "calendar", 1, kMaxNameBytes, Charset::kName, &len);
  const Impl* impl = api_impl(L);
  std::optional<FlowCalendarState> state;  // trivially destructible: safe across Lua errors
  const bool ok = host_store([&] {
    if (impl->config.host) state = impl->config.host->calendar(std::string_view(name, len));
  });
  if (!ok) return luaL_error(L, "call.%s: the host could not answer", fn);
  if (!state) {  // Lua strings end in a NUL, so `name` prints as given
    return luaL_error(L, "call.%s: argument 1 (calendar): no calendar '%s'", fn, name);
  }
  lua_pushboolean(L, holiday ? state->holiday : state->open);
  return 1;
}

int api_open(lua_State* L) {
  return calendar_state(L, "open", false);
}

int api_holiday(lua_State* L) {
  return calendar_state(L, "holiday", true);
}

// Sets `key` in `map` to make_value() (a new key only while the map has fewer than
// `limit`), for call.set and call.set_skill; raises the Lua error naming `function` and
// `what` when the host is out of memory or the map is full. Everything is allocated
// inside host_store, and nothing with a destructor is alive when luaL_error jumps.
template <typename Map, typename MakeValue>
int store_bounded(lua_State* L, Map& map, std::string_view key, const MakeValue& make_value,
                  std::size_t limit, const char* function, const char* what) {
  bool too_many = false;
  const bool ok = host_store([&] {
    std::string owned_key(key);
    auto it = map.find(owned_key);
    if (it != map.end()) {
      it->second = make_value();
    } else if (map.size() >= limit) {
      too_many = true;
    } else {
      map.emplace(std::move(owned_key), make_value());
    }
  });
  if (!ok) return host_out_of_memory(L, function);
  if (too_many)
    return luaL_error(L, "call.%s: too many %s (at most %d)", function, what,
                      static_cast<int>(limit));
  return 0;
}

int api_set(lua_State* L) {
  check_arg_count(L, "set", 2);
  std::size_t key_len = 0;
  std::size_t value_len = 0;
  const char* key = check_string(L, "set", 1, "key", 1, kMaxNameBytes, Charset::kName, &key_len);
  const char* value =
      check_string(L, "set", 2, "value", 0, kMaxTextBytes, Charset::kText, &value_len);
  return store_bounded(
      L, api_impl(L)->attributes, std::string_view(key, key_len),
      [&] { return std::string(value, value_len); }, kMaxAttributes, "set", "attributes");
}

int api_set_priority(lua_State* L) {
  check_arg_count(L, "set_priority", 1);
  const lua_Integer value =
      check_integer(L, "set_priority", 1, "priority", -kMaxPriority, kMaxPriority);
  api_impl(L)->priority = static_cast<int>(value);
  return 0;
}

// call.set_skill(name, min_level): the agent who takes the call must have skill `name` at
// `min_level` or more (1..10), on top of the queue's own requirements; a second call for
// the same skill replaces the level.
int api_set_skill(lua_State* L) {
  check_arg_count(L, "set_skill", 2);
  std::size_t len = 0;
  const char* name =
      check_string(L, "set_skill", 1, "skill", 1, kMaxNameBytes, Charset::kName, &len);
  const lua_Integer level =
      check_integer(L, "set_skill", 2, "min_level", kMinSkillLevel, kMaxSkillLevel);
  return store_bounded(
      L, api_impl(L)->skills, std::string_view(name, len),
      [level] { return static_cast<int>(level); }, kMaxSkills, "set_skill", "skills");
}

// call.log(text): a line for the call's log. Past kMaxLogLines, lines are dropped and the
// last kept line says so.
int api_log(lua_State* L) {
  check_arg_count(L, "log", 1);
  std::size_t len = 0;
  const char* text = check_string(L, "log", 1, "text", 0, kMaxTextBytes, Charset::kText, &len);
  Impl* impl = api_impl(L);
  const bool ok = host_store([&] {
    if (impl->log.size() + 1 < kMaxLogLines) {
      impl->log.emplace_back(text, len);
    } else if (impl->log.size() + 1 == kMaxLogLines) {
      impl->log.emplace_back("(further log lines dropped)");
    }
  });
  if (!ok) return host_out_of_memory(L, "log");
  return 0;
}

// ---- The `call` API: functions that wait for the host -------------------------------------

int api_play(lua_State* L) {
  check_arg_count(L, "play", 1);
  std::size_t len = 0;
  const char* prompt =
      check_string(L, "play", 1, "prompt", 1, kMaxPromptBytes, Charset::kPrompt, &len);
  check_yieldable(L, "play");
  Impl* impl = api_impl(L);
  if (!host_store([&] { impl->pending = PlayRequest{std::string(prompt, len)}; })) {
    return host_out_of_memory(L, "play");
  }
  return lua_yield(L, 0);
}

// call.collect(prompt or nil, max_digits [, timeout_s = 5]) -> digits ("" on timeout)
int api_collect(lua_State* L) {
  check_arg_count(L, "collect", 3);
  const char* prompt = nullptr;
  std::size_t len = 0;
  if (!lua_isnil(L, 1)) {
    prompt = check_string(L, "collect", 1, "prompt", 1, kMaxPromptBytes, Charset::kPrompt, &len);
  }
  const lua_Integer max_digits = check_integer(L, "collect", 2, "max_digits", 1, kMaxDigits);
  double timeout_s = kDefaultCollectTimeoutS;
  if (!lua_isnoneornil(L, 3)) {
    if (lua_type(L, 3) != LUA_TNUMBER) {
      return luaL_error(L, "call.collect: argument 3 (timeout_s) must be a number, got %s",
                        luaL_typename(L, 3));
    }
    timeout_s = lua_tonumber(L, 3);
    if (!(timeout_s > 0 && timeout_s <= kMaxCollectTimeoutS)) {
      return luaL_error(L, "call.collect: argument 3 (timeout_s) must be above 0 and at most %d",
                        static_cast<int>(kMaxCollectTimeoutS));
    }
  }
  check_yieldable(L, "collect");
  Impl* impl = api_impl(L);
  if (!host_store([&] {
        CollectRequest request;
        if (prompt != nullptr) request.prompt = std::string(prompt, len);
        request.max_digits = static_cast<int>(max_digits);
        request.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000.0));
        impl->pending = std::move(request);
      })) {
    return host_out_of_memory(L, "collect");
  }
  return lua_yield(L, 0);
}

int api_lookup(lua_State* L) {
  check_arg_count(L, "lookup", 1);
  std::size_t len = 0;
  const char* number =
      check_string(L, "lookup", 1, "number", 1, kMaxNumberBytes, Charset::kNumber, &len);
  check_yieldable(L, "lookup");
  Impl* impl = api_impl(L);
  if (!host_store([&] { impl->pending = LookupRequest{std::string(number, len)}; })) {
    return host_out_of_memory(L, "lookup");
  }
  return lua_yield(L, 0);
}

// ---- The `call` API: endings -------------------------------------------------------------
// Each records the decision and yields; the host sees the decision and ends the run, so
// nothing after the call in the script runs (not even inside a pcall).

template <class Decision>
int decide_with(lua_State* L, const char* fn, const char* what, std::size_t max_len,
                Charset charset) {
  check_arg_count(L, fn, 1);
  std::size_t len = 0;
  const char* text = check_string(L, fn, 1, what, 1, max_len, charset, &len);
  check_yieldable(L, fn);
  Impl* impl = api_impl(L);
  if (!host_store([&] { impl->decision = Decision{std::string(text, len)}; })) {
    return host_out_of_memory(L, fn);
  }
  return lua_yield(L, 0);
}

int api_queue(lua_State* L) {
  return decide_with<QueueDecision>(L, "queue", "queue", kMaxNameBytes, Charset::kName);
}
int api_voicemail(lua_State* L) {
  return decide_with<VoicemailDecision>(L, "voicemail", "box", kMaxNameBytes, Charset::kName);
}
int api_transfer(lua_State* L) {
  return decide_with<TransferDecision>(L, "transfer", "number", kMaxNumberBytes, Charset::kNumber);
}
// call.callback(number [, queue]): a callback on `number`, by `queue` (default: the one
// the flow falls back to).
int api_callback(lua_State* L) {
  check_arg_count(L, "callback", 2);
  std::size_t number_len = 0;
  const char* number =
      check_string(L, "callback", 1, "number", 1, kMaxNumberBytes, Charset::kNumber, &number_len);
  const char* queue = "";
  std::size_t queue_len = 0;
  if (!lua_isnoneornil(L, 2))
    queue = check_string(L, "callback", 2, "queue", 1, kMaxNameBytes, Charset::kName, &queue_len);
  check_yieldable(L, "callback");
  Impl* impl = api_impl(L);
  if (!host_store([&] {
        impl->decision =
            CallbackDecision{std::string(number, number_len), std::string(queue, queue_len)};
      })) {
    return host_out_of_memory(L, "callback");
  }
  return lua_yield(L, 0);
}
int api_hangup(lua_State* L) {
  check_arg_count(L, "hangup", 0);
  check_yieldable(L, "hangup");
  api_impl(L)->decision = HangupDecision{};
  return lua_yield(L, 0);
}

int api_read_only(lua_State* L) {
  return luaL_error(L, "call: the host API table is read-only");
}

// ---- Library wrappers closing C-level loops the instruction hook cannot see ---------------

// Repetition items ('*', '+', '-', '?') of a Lua pattern, outside escapes and sets.
int pattern_repetitions(const char* p, std::size_t len) {
  int count = 0;
  for (std::size_t i = 0; i < len; ++i) {
    if (p[i] == '%') {
      ++i;
    } else if (p[i] == '[') {
      ++i;
      if (i < len && p[i] == '^') ++i;
      if (i < len && p[i] == ']') ++i;  // a leading ']' is a member of the set
      while (i < len && p[i] != ']') {
        if (p[i] == '%') ++i;
        ++i;
      }
    } else if (p[i] == '*' || p[i] == '+' || p[i] == '-' || p[i] == '?') {
      ++count;
    }
  }
  return count;
}

// string.find / match / gmatch / gsub, with bounded subject and pattern (see
// kMaxPatternSubject). Upvalue 1: the library's function.
int bounded_pattern(lua_State* L) {
  std::size_t subject_len = 0;
  std::size_t pattern_len = 0;
  luaL_checklstring(L, 1, &subject_len);
  const char* pattern = luaL_checklstring(L, 2, &pattern_len);
  if (subject_len > kMaxPatternSubject) {
    return luaL_error(L, "string patterns take subjects of at most %d bytes in flows, got %d",
                      static_cast<int>(kMaxPatternSubject), static_cast<int>(subject_len));
  }
  if (pattern_repetitions(pattern, pattern_len) > kMaxPatternRepetitions) {
    return luaL_error(L,
                      "string patterns may hold at most %d repetitions ('*', '+', '-', '?') "
                      "in flows",
                      kMaxPatternRepetitions);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// string.rep: the library copies an empty string n times in a C loop, so
// string.rep("", 2^62) would spin for ever without allocating. A count above the memory
// limit could only fail or spin, so it is refused. Upvalue 1: the library's function.
int bounded_rep(lua_State* L) {
  luaL_checklstring(L, 1, nullptr);
  const lua_Integer count = luaL_checkinteger(L, 2);
  const Impl* impl = impl_of(L);
  if (count > 0 && static_cast<std::uint64_t>(count) > impl->config.memory_limit) {
    return luaL_error(L, "string.rep: count above the memory limit of %d bytes",
                      static_cast<int>(std::min<std::size_t>(impl->config.memory_limit, 1 << 30)));
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// table.move(a1, f, e, t [, a2]): the library moves element by element in a C loop over
// e - f + 1 positions, empty or not; more positions than the memory limit has bytes is
// refused. Upvalue 1: the library's function.
int bounded_move(lua_State* L) {
  const lua_Integer first = luaL_checkinteger(L, 2);
  const lua_Integer last = luaL_checkinteger(L, 3);
  const Impl* impl = impl_of(L);
  if (last >= first && ((first < 0 && last > LUA_MAXINTEGER + first) ||  // the span would overflow
                        static_cast<std::uint64_t>(last - first) >= impl->config.memory_limit)) {
    return luaL_error(L, "table.move: range larger than the memory limit allows");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// ---- Building the sandbox -----------------------------------------------------------------

// Base functions the script may use. Left out: print and warn (the host's stdout and
// stderr), load, loadstring, dofile, loadfile, require (code from outside the script, and
// binary chunks), collectgarbage (the collector belongs to the host), setmetatable and
// getmetatable (metatables would allow __gc finalizers, which Lua runs with hooks off and
// so outside the instruction limit, and __len or C functions as metamethods driving the C
// loops of the table library), rawset (nothing to bypass without metatables, and it is the
// only way around the read-only `call` table's guard), and _G.
constexpr const char* kSafeBase[] = {"assert", "error",    "ipairs",   "next",     "pairs",
                                     "pcall",  "select",   "tonumber", "tostring", "type",
                                     "xpcall", "rawequal", "rawlen",   "rawget",   "_VERSION"};

constexpr luaL_Reg kCallApi[] = {
    {"caller", api_caller},
    {"dialled", api_dialled},
    {"get", api_get},
    {"set", api_set},
    {"set_priority", api_set_priority},
    {"set_skill", api_set_skill},
    {"log", api_log},
    {"play", api_play},
    {"collect", api_collect},
    {"lookup", api_lookup},
    {"queue_status", api_queue_status},
    {"open", api_open},
    {"holiday", api_holiday},
    {"queue", api_queue},
    {"voicemail", api_voicemail},
    {"transfer", api_transfer},
    {"callback", api_callback},
    {"hangup", api_hangup},
};

void wrap(lua_State* L, int library, const char* name, lua_CFunction wrapper) {
  lua_getfield(L, library, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, library, name);
}

// Prepares the run's state; called through lua_pcall so any failure (the memory limit
// being too small, say) is an error value. Argument 1: the Impl.
int setup(lua_State* L) {
  auto* impl = static_cast<Impl*>(lua_touserdata(L, 1));
  lua_settop(L, 0);

  // Only the libraries kept are opened, into the registry (not into any environment the
  // script sees): base, string, table, math, utf8. No io, os, package, debug, coroutine.
  luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
  const int base = lua_gettop(L);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
  const int string = lua_gettop(L);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
  const int table = lua_gettop(L);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
  const int math = lua_gettop(L);
  luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
  const int utf8 = lua_gettop(L);

  // string.dump goes from the library table itself, not from a copy: that table is also
  // the __index of the string metatable, so ("").dump must not find it either.
  lua_pushnil(L);
  lua_setfield(L, string, "dump");
  for (const char* name : {"find", "match", "gmatch", "gsub"}) {
    wrap(L, string, name, bounded_pattern);
  }
  wrap(L, string, "rep", bounded_rep);
  wrap(L, table, "move", bounded_move);
  // The string metatable answers getmetatable with a placeholder, never itself.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushliteral(L, "protected");
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  // math.random's sequence comes from the host's seed, not from the clock.
  lua_getfield(L, math, "randomseed");
  lua_pushinteger(L, static_cast<lua_Integer>(impl->config.random_seed));
  lua_call(L, 1, 0);

  // The script's environment: a fresh table with only what is allowed.
  lua_createtable(L, 0, 24);
  const int env = lua_gettop(L);
  for (const char* name : kSafeBase) {
    lua_getfield(L, base, name);
    lua_setfield(L, env, name);
  }
  const std::pair<const char*, int> libraries[] = {
      {"string", string}, {"table", table}, {"math", math}, {"utf8", utf8}};
  for (const auto& [name, index] : libraries) {
    lua_pushvalue(L, index);
    lua_setfield(L, env, name);
  }

  // `call`: an empty proxy whose metatable reads from the API table and refuses writes.
  lua_createtable(L, 0, static_cast<int>(std::size(kCallApi)));
  const int api = lua_gettop(L);
  for (const luaL_Reg& entry : kCallApi) {
    lua_pushlightuserdata(L, impl);
    lua_pushcclosure(L, entry.func, 1);
    lua_setfield(L, api, entry.name);
  }
  lua_createtable(L, 0, 0);
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, api);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, api_read_only);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "protected");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setfield(L, env, "call");

  // The script: the host's own bytecode (mode "b" is safe here: FlowScript made it from
  // text), with the environment as its _ENV.
  if (luaL_loadbufferx(L, impl->bytecode.data(), impl->bytecode.size(), impl->name.c_str(), "b") !=
      LUA_OK) {
    return lua_error(L);
  }
  lua_pushvalue(L, env);
  lua_setupvalue(L, -2, 1);

  // The coroutine, anchored in the registry so it lives as long as the state.
  lua_State* co = lua_newthread(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, impl);
  lua_xmove(L, co, 1);
  impl->slice = std::max<std::uint64_t>(
      1, std::min<std::uint64_t>(kInstructionSlice, impl->config.instruction_limit));
  lua_sethook(co, count_hook, LUA_MASKCOUNT, static_cast<int>(impl->slice));
  impl->co = co;
  return 0;
}

// Pushes the values a request's result gives back to the script; through lua_pcall.
// Argument 1: the FlowResult.
int push_result(lua_State* L) {
  const auto* result = static_cast<const FlowResult*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  if (const auto* play = std::get_if<PlayResult>(result)) {
    lua_pushboolean(L, play->completed);
  } else if (const auto* collect = std::get_if<CollectResult>(result)) {
    lua_pushlstring(L, collect->digits.data(), collect->digits.size());
  } else if (const auto* lookup = std::get_if<LookupResult>(result)) {
    if (!lookup->customer) {
      lua_pushnil(L);
    } else {
      lua_createtable(L, 0, static_cast<int>(lookup->customer->size()));
      for (const auto& [key, value] : *lookup->customer) {
        lua_pushlstring(L, key.data(), key.size());
        lua_pushlstring(L, value.data(), value.size());
        lua_rawset(L, -3);
      }
    }
  }
  return lua_gettop(L);
}

const char* request_name(const FlowRequest& request) {
  switch (request.index()) {
    case 0: return "call.play";
    case 1: return "call.collect";
    default: return "call.lookup";
  }
}

bool result_matches(const FlowRequest& request, const FlowResult& result) {
  return request.index() == result.index();  // the two variants list kinds in one order
}

}  // namespace

// ---- FlowRun ------------------------------------------------------------------------------

namespace {

// Ends the run: the fallback with `error`, or the script's decision.
FlowOutcome& finish(Impl& impl, std::optional<FlowDecision> decision, std::string error) {
  impl.pending.reset();
  FlowOutcome outcome;
  if (decision) {
    outcome.decision = std::move(*decision);
  } else {
    outcome.decision = impl.config.fallback;
    outcome.fallback = true;
    outcome.error = std::move(error);
  }
  impl.outcome = std::move(outcome);
  impl.close();  // the memory goes back at once; the outcome and what was set stay
  return *impl.outcome;
}

// The location "name:line:" of the innermost script function on the dead coroutine's
// stack (Lua keeps it after an error for inspection), or "".
std::string script_location(Impl& impl) {
  lua_Debug ar;
  for (int level = 0; lua_getstack(impl.co, level, &ar) != 0; ++level) {
    if (lua_getinfo(impl.co, "Sl", &ar) != 0 && ar.currentline > 0) {
      return std::string(ar.short_src) + ":" + std::to_string(ar.currentline) + ":";
    }
  }
  return "";
}

std::string error_text(Impl& impl, int status) {
  if (impl.instructions_exceeded) return impl.limit_error;
  std::string message;
  if (status == LUA_ERRMEM) {
    message = impl.memory_refused ? "memory limit of " + std::to_string(impl.config.memory_limit) +
                                        " bytes exceeded"
                                  : "out of memory";
  } else if (lua_type(impl.co, -1) == LUA_TSTRING) {
    std::size_t len = 0;
    const char* text = lua_tolstring(impl.co, -1, &len);
    message.assign(text, len);
  } else if (lua_type(impl.co, -1) == LUA_TNUMBER) {
    message = "error " + std::to_string(lua_tonumber(impl.co, -1));
  } else {
    message = std::string("error object is a ") + luaL_typename(impl.co, -1) + " value";
  }
  // Errors raised with a string by the script or the API carry "name:line:" already;
  // others get the line the script was at.
  if (message.rfind(impl.name + ":", 0) != 0) {
    const std::string where = script_location(impl);
    if (!where.empty()) message = where + " " + message;
  }
  return message;
}

FlowStep drive(Impl& impl, int nargs) {
  int nresults = 0;
  const int status = lua_resume(impl.co, impl.L, nargs, &nresults);
  if (status == LUA_YIELD) {
    lua_pop(impl.co, nresults);
    if (impl.decision) return finish(impl, std::move(impl.decision), "");
    if (impl.pending) return *impl.pending;
    return finish(impl, std::nullopt, impl.name + ": the script yielded without a request");
  }
  if (status == LUA_OK) {
    return finish(impl, std::nullopt,
                  impl.name +
                      ": the script ended without a decision (call.queue, call.voicemail, "
                      "call.transfer, call.callback or call.hangup)");
  }
  return finish(impl, std::nullopt, error_text(impl, status));
}

}  // namespace

FlowRun::FlowRun(const FlowScript& script, FlowCall call, FlowConfig config)
    : impl_(std::make_unique<Impl>(script, std::move(call), std::move(config))) {
  Impl& impl = *impl_;
  impl.L = lua_newstate(limited_alloc, &impl);
  if (impl.L == nullptr) {
    impl.setup_error = impl.name + ": memory limit of " + std::to_string(impl.config.memory_limit) +
                       " bytes too small for a Lua state";
    return;
  }
  lua_pushcfunction(impl.L, setup);
  lua_pushlightuserdata(impl.L, &impl);
  const int status = lua_pcall(impl.L, 1, 0, 0);
  if (status != LUA_OK) {
    if (status == LUA_ERRMEM) {
      impl.setup_error = impl.name + ": memory limit of " +
                         std::to_string(impl.config.memory_limit) +
                         " bytes too small to load the script";
    } else {
      const char* text = lua_tostring(impl.L, -1);  // a string from lua_load or Lua itself
      impl.setup_error = impl.name + ": cannot load the script: " + (text ? text : "?");
    }
    impl.close();
  }
}

FlowRun::~FlowRun() = default;
FlowRun::FlowRun(FlowRun&&) noexcept = default;
FlowRun& FlowRun::operator=(FlowRun&&) noexcept = default;

FlowStep FlowRun::start() {
  Impl& impl = *impl_;
  if (impl.outcome) return *impl.outcome;
  if (!impl.setup_error.empty()) return finish(impl, std::nullopt, impl.setup_error);
  if (impl.started) {
    return finish(impl, std::nullopt, impl.name + ": host error: start() called twice");
  }
  impl.started = true;
  return drive(impl, 0);
}

FlowStep FlowRun::resume(const FlowResult& result) {
  Impl& impl = *impl_;
  if (impl.outcome) return *impl.outcome;
  if (!impl.pending) {
    return finish(impl, std::nullopt, impl.name + ": host error: resume() without a request");
  }
  if (!result_matches(*impl.pending, result)) {
    return finish(
        impl, std::nullopt,
        impl.name + ": host error: the result does not answer " + request_name(*impl.pending));
  }
  if (const auto* collect = std::get_if<CollectResult>(&result)) {
    const auto& request = std::get<CollectRequest>(*impl.pending);
    const bool dtmf = std::all_of(collect->digits.begin(), collect->digits.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '*' || c == '#';
    });
    if (!dtmf || collect->digits.size() > static_cast<std::size_t>(request.max_digits)) {
      return finish(impl, std::nullopt,
                    impl.name +
                        ": host error: call.collect answered with digits that are not "
                        "DTMF or more than max_digits");
    }
  }
  impl.pending.reset();
  // The values are made on the main thread in protected mode (they may hit the memory
  // limit), then moved to the coroutine's stack.
  lua_pushcfunction(impl.L, push_result);
  lua_pushlightuserdata(impl.L, const_cast<FlowResult*>(&result));
  if (lua_pcall(impl.L, 1, LUA_MULTRET, 0) != LUA_OK) {
    return finish(impl, std::nullopt,
                  impl.name + ": memory limit of " + std::to_string(impl.config.memory_limit) +
                      " bytes exceeded by the result of a request");
  }
  const int count = lua_gettop(impl.L);
  if (lua_checkstack(impl.co, count) == 0) {
    return finish(impl, std::nullopt, impl.name + ": no stack space for the result");
  }
  lua_xmove(impl.L, impl.co, count);
  return drive(impl, count);
}

FlowOutcome FlowRun::cancel() {
  Impl& impl = *impl_;
  if (impl.outcome) return *impl.outcome;
  std::string error = impl.name + ": cancelled by the host";
  if (impl.pending) error += std::string(" while waiting for ") + request_name(*impl.pending);
  return finish(impl, std::nullopt, std::move(error));
}

bool FlowRun::finished() const {
  return impl_->outcome.has_value();
}
const std::optional<FlowRequest>& FlowRun::pending() const {
  return impl_->pending;
}
const std::map<std::string, std::string>& FlowRun::attributes() const {
  return impl_->attributes;
}
const std::map<std::string, int>& FlowRun::skills() const {
  return impl_->skills;
}

std::optional<int> FlowRun::priority() const {
  return impl_->priority;
}
const std::vector<std::string>& FlowRun::log() const {
  return impl_->log;
}
std::uint64_t FlowRun::instructions_used() const {
  return impl_->instructions_used;
}
std::size_t FlowRun::memory_used() const {
  return impl_->memory_used;
}

}  // namespace acd::flows
