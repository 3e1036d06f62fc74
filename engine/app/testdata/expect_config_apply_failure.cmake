# Runs `acdd config apply CONFIG --config DAEMON --yes` on an invalid CONFIG and expects
# exit code 2 with every error located (file:line:column) on stderr, before any database
# is opened. Usage: cmake -DACDD=... -DCONFIG=... -DDAEMON=... -P this-file
execute_process(COMMAND ${ACDD} config apply ${CONFIG} --config ${DAEMON} --yes
                RESULT_VARIABLE result
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message(STATUS "acdd config apply exited with ${result}\n${err}")
if(NOT result EQUAL 2)
  message(FATAL_ERROR "expected exit code 2 for an invalid configuration, got ${result}")
endif()
foreach(expected
    "broken_config.yaml:9:27: tenants[0].trunks[0].allowed_sources[0]: invalid network \"10.0.0.1/8\""
    "broken_config.yaml:11:44: tenants[0].trunks[0].dids[0].queue: unknown queue \"sails\" in tenant \"acme\" (did you mean \"sales\"?)"
    "broken_config.yaml:14:17: tenants[0].users[0].roles[0]: unknown role \"root\"; expected one of admin, supervisor, agent, read-only"
    "broken_config.yaml: 3 errors"
    "the database was not touched")
  string(FIND "${err}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "missing from acdd's errors: ${expected}")
  endif()
endforeach()
