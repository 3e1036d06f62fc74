// Helpers shared by the rules tests: a schema, compiling with a readable failure, and
// evaluating a condition against a ReferenceWorld.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "engine/rules/compiler.h"
#include "engine/rules/reference_interpreter.h"

namespace acd::rules::testing {

inline Schema test_schema() {
  Schema schema;
  schema.skills = {"billing", "sales", "support"};
  schema.queues = {"sales", "support", "backup"};
  schema.calendars = {"business-hours", "national"};
  schema.task_attributes = {"segment", "account", "order"};
  schema.ivr_keys = {"menu", "reason"};
  schema.agent_attributes = {"site", "tier"};
  return schema;
}

inline CompiledExpression compile_or_fail(const std::string& text, const Schema& schema) {
  Result<CompiledExpression> compiled = compile_expression(text, schema);
  INFO("expression: " << text);
  if (!compiled) FAIL("compile error: " << compiled.error().to_string());
  return compiled.value();
}

// Evaluates a condition both compiled and with the reference interpreter, requiring that
// they agree, and returns the result.
inline bool evaluate(const std::string& text, const ReferenceWorld& world) {
  const Schema schema = test_schema();
  const CompiledExpression compiled = compile_or_fail(text, schema);
  REQUIRE(compiled.type() == Type::kBoolean);
  const WorldContext context(world, schema);
  const bool result = compiled.evaluate_bool(context.context());
  Result<SyntaxTree> syntax = parse_expression(text);
  REQUIRE(syntax);
  INFO("expression: " << text);
  REQUIRE(interpret(*syntax.value(), world).boolean == result);
  return result;
}

inline bool evaluate(const std::string& text) {
  return evaluate(text, ReferenceWorld{});
}

// The "line:column: message" of compiling `text` as a condition, or "" when it compiles.
inline std::string error_of(const std::string& text) {
  const Result<CompiledExpression> compiled = compile(text, test_schema());
  return compiled ? std::string() : compiled.error().to_string();
}

}  // namespace acd::rules::testing
