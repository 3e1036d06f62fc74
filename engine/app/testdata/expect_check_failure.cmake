# Runs `acdd --check --config CONFIG` and expects exit code 1 with every error located
# (file:line:column) on stderr. Usage: cmake -DACDD=... -DCONFIG=... -P this-file
execute_process(COMMAND ${ACDD} --check --config ${CONFIG}
                RESULT_VARIABLE result
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message(STATUS "acdd --check exited with ${result}\n${err}")
if(NOT result EQUAL 1)
  message(FATAL_ERROR "expected exit code 1 for an invalid configuration, got ${result}")
endif()
# The errors planted in broken.yaml, each with its exact location and key path.
foreach(expected
    "broken.yaml:9:9: tenants[0].skills[2]: duplicate skill \"english\" (first defined at line 7)"
    "broken.yaml:15:20: tenants[0].agents[0].skills.english: value 11 is out of range; expected an integer from 1 to 10"
    "broken.yaml:20:9: tenants[0].queues[0].stratgy: unknown key \"stratgy\" (did you mean \"strategy\"?)"
    "broken.yaml:21:23: tenants[0].queues[0].ring_timeout: unknown unit \"sec\" in \"15sec\"; expected ms, s, m or h"
    "broken.yaml:23:20: tenants[0].queues[0].members[0].agent: agent \"bob\" belongs to tenant \"globex\", not to tenant \"acme\""
    "broken.yaml: 5 errors")
  string(FIND "${err}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "missing from acdd's errors: ${expected}")
  endif()
endforeach()
