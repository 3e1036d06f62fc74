// FlowScript::compile: parse a script's text once and keep the bytecode Lua makes of it.
#include <cctype>
#include <lua.hpp>
#include <memory>
#include <string>
#include <utility>

#include "engine/flows/flow.h"

namespace acd::flows {
namespace {

struct StateCloser {
  void operator()(lua_State* state) const { lua_close(state); }
};

// lua_dump's writer: appends each piece to a std::string. Returns non-zero (stop) if the
// string cannot grow, as no C++ exception may cross Lua's C frames.
int append_chunk(lua_State*, const void* data, std::size_t size, void* out) {
  try {
    static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
    return 0;
  } catch (...) {
    return 1;
  }
}

// The line in a Lua message "name:12: text", or 0.
int line_of(const std::string& message, const std::string& name) {
  if (message.compare(0, name.size(), name) != 0 || message.size() <= name.size() + 1 ||
      message[name.size()] != ':') {
    return 0;
  }
  int line = 0;
  for (std::size_t i = name.size() + 1; i < message.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(message[i]);
    if (c == ':') return line;
    if (!std::isdigit(c) || line > 10'000'000) return 0;
    line = line * 10 + (c - '0');
  }
  return 0;
}

}  // namespace

std::variant<FlowScript, FlowCompileError> FlowScript::compile(std::string_view name,
                                                               std::string_view source) {
  std::string chunk_name(name);
  if (chunk_name.empty()) chunk_name = "flow";
  if (source.size() > kMaxSourceBytes) {
    return FlowCompileError{0, chunk_name + ": script is " + std::to_string(source.size()) +
                                   " bytes, more than the " + std::to_string(kMaxSourceBytes) +
                                   " allowed"};
  }
  std::unique_ptr<lua_State, StateCloser> state(luaL_newstate());
  if (!state) return FlowCompileError{0, chunk_name + ": cannot create a Lua state"};
  lua_State* L = state.get();

  // "=name" makes Lua print the name as given in messages: "flow.lua:12: ...". Mode "t":
  // text only, so a precompiled (binary) chunk, which could be crafted to break the VM,
  // is refused.
  const std::string lua_name = "=" + chunk_name;
  if (luaL_loadbufferx(L, source.data(), source.size(), lua_name.c_str(), "t") != LUA_OK) {
    const char* text = lua_tostring(L, -1);
    std::string message = text ? text : "unknown compile error";
    const int line = line_of(message, chunk_name);
    return FlowCompileError{line, std::move(message)};
  }
  std::string bytecode;
  // strip = 0 keeps the line information, so runtime errors name script lines.
  if (lua_dump(L, append_chunk, &bytecode, 0) != 0) {
    return FlowCompileError{0, chunk_name + ": out of memory while keeping the compiled script"};
  }
  return FlowScript(std::move(chunk_name), std::move(bytecode));
}

}  // namespace acd::flows
