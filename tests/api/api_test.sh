#!/usr/bin/env bash
# Black-box tests of the gRPC API and acdctl, run by ctest:
#
#   api_test.sh ACDD ACDCTL CASE
#
# Each case starts a real acdd (SIP and the API on loopback ports the kernel picks, its
# embedded PostgreSQL in a temporary directory, tests/sip/sip_test.yaml) and drives it
# with SIPp callers and phones and with acdctl. The API users are sip_test.yaml's: alice
# (an agent's desktop) and sue (a supervisor's console).
set -euo pipefail

acdd="$1"
acdctl="$2"
case_name="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../sip" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=../sip/lib_sip.sh
source "$here/lib_sip.sh"

alice_token=alice-desktop-token-0001
sue_token=sue-console-token-00001

# The API's port, from its api.listening log line.
api_port() {
  grep -E "event=api.listening " "$log" | head -n 1 | sed -E 's/.* port=([0-9]+).*/\1/'
}

# as TOKEN acdctl-arguments...: acdctl against this daemon.
as() {
  local token="$1"
  shift
  "$acdctl" --server "127.0.0.1:$api" --token "$token" "$@"
}

# wait_in FILE PATTERN [COUNT]: waits until FILE holds COUNT lines matching PATTERN.
wait_in() {
  log="$1" wait_log "$2" "${3:-1}"
}

case "$case_name" in
  desktop_e2e)
    # Alice's phone registers without logging her in; her desktop logs her in and readies
    # her over gRPC. A caller on record as a customer enters the queue: her event stream
    # gets the offer with the screen pop, her phone answers, the call ends, she is in
    # wrap-up; the supervisor's watch streams see each change.
    WRAP_UP=30s REGISTER_LOGIN=none start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    sql "INSERT INTO customers (tenant_id, phone_number, name, account, tier, fields)
         SELECT id, '+1 555 0001', 'Jane Roe', 'AC-1001', 'gold', '{\"plan\": \"premium\"}'
         FROM tenants WHERE name = 'acme'"

    as "$sue_token" --json agents watch alice >"$dir/agents.json" 2>"$dir/agents.err" &
    watchers=($!)
    as "$sue_token" --json queue watch sales >"$dir/queues.json" 2>"$dir/queues.err" &
    watchers+=($!)
    as "$alice_token" --json agent events >"$dir/events.json" 2>"$dir/events.err" &
    watchers+=($!)
    pids+=("${watchers[@]}")
    wait_in "$dir/agents.json" '"snapshot":true'
    wait_in "$dir/queues.json" '"snapshot":true'
    wait_in "$dir/events.json" '"state":"AGENT_STATE_LOGGED_OUT"'

    port="$(free_port)"
    register_agent alice alice-secret "$port"
    start_agent agent_answer.xml "$port"
    phone=$last_pid
    as "$alice_token" agent login >"$dir/login.out" || fail "acdctl agent login failed"
    grep -q "alice  NOT_READY (login)" "$dir/login.out" || fail "login answered: $(cat "$dir/login.out")"
    as "$alice_token" agent ready >/dev/null || fail "acdctl agent ready failed"
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_READY".*"cause":"CHANGE_CAUSE_AGENT"'

    start_caller caller.xml 100 -d 1000
    caller=$last_pid
    wait_in "$dir/events.json" '"offer":'
    offer="$(grep '"offer":' "$dir/events.json" | head -n 1)"
    for expected in '"caller_number":"\+15550001"' '"queue":"sales"' '"dialed_number":"100"' \
                    '"name":"Jane Roe"' '"account":"AC-1001"' '"plan":"premium"'; do
      grep -qE "$expected" <<<"$offer" ||
        grep -qE "$expected" <(grep '"screen_pop":' "$dir/events.json") ||
        fail "the offer or its screen pop lacks $expected: $offer"
    done
    wait_in "$dir/events.json" '"connected":'
    wait_pid "$caller" "caller"
    wait_pid "$phone" "alice's phone"
    wait_in "$dir/events.json" '"call_ended":.*"outcome":"completed"'
    wait_in "$dir/events.json" '"state":"AGENT_STATE_WRAP_UP"'
    # The supervisor saw each of alice's states, in order.
    for state in READY RESERVED RINGING TALKING WRAP_UP; do
      wait_in "$dir/agents.json" "\"state\":\"AGENT_STATE_$state\""
    done
    order="$(grep -oE 'AGENT_STATE_[A-Z_]+' "$dir/agents.json" | uniq | tr '\n' ' ')"
    [[ "$order" == *"READY AGENT_STATE_RESERVED AGENT_STATE_RINGING AGENT_STATE_TALKING AGENT_STATE_WRAP_UP"* ]] ||
      fail "the supervisor's agent watch saw: $order"
    # ... and the queue's figures move: a caller waiting or being offered, then answered.
    wait_in "$dir/queues.json" '"answered":"1"'
    grep -qE '"offering":1' "$dir/queues.json" || fail "the queue watch never saw the offer"
    # alice ends her wrap-up from the desktop.
    as "$alice_token" agent end-wrap-up >/dev/null || fail "acdctl agent end-wrap-up failed"
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_READY"' 2
    # The agent may not watch the supervisor's streams: refused with the field of the role.
    if as "$alice_token" queue list 2>"$dir/refused.err"; then fail "alice listed the queues"; fi
    grep -q "PERMISSION_DENIED" "$dir/refused.err" || fail "refusal: $(cat "$dir/refused.err")"
    stop_acdd
    # The streams ended with the daemon, saying why (acdctl exits 1).
    for pid in "${watchers[@]}"; do
      rc=0
      wait "$pid" || rc=$?
      ((rc == 1)) || fail "a watching acdctl exited $rc when the daemon stopped"
    done
    for f in agents queues events; do
      grep -q "UNAVAILABLE" "$dir/$f.err" || fail "$f stream ended with: $(cat "$dir/$f.err")"
    done
    ;;

  top)
    # acdctl top in a terminal (tmux): the wallboard shows the queues and agents and its
    # numbers change as a call arrives and is answered.
    command -v tmux >/dev/null || fail "tmux is not installed"
    start_sip_acdd
    api="$(api_port)"
    session="acd-top-$$"
    tmux -L "$session" new-session -d -x 132 -y 40 -s top \
      "$acdctl --server 127.0.0.1:$api --token $sue_token top; sleep 60"
    cleanup_tmux() { tmux -L "$session" kill-server 2>/dev/null || true; }
    trap 'rc=$?; cleanup_tmux; (exit $rc); cleanup' EXIT
    screen() { tmux -L "$session" capture-pane -p -t top; }
    # wait_screen PATTERN: until the pane shows a line matching PATTERN.
    wait_screen() {
      local deadline=$((SECONDS + 60))
      until screen | grep -qE -- "$1"; do
        ((SECONDS < deadline)) || fail "the wallboard never showed '$1'; it shows:
$(screen)"
        sleep 0.2
      done
    }
    wait_screen '^QUEUE +WAITING +LONGEST'
    wait_screen '^sales +0 +0:00 +0 +0 +0 +0 +0 '
    wait_screen '^alice +LOGGED_OUT'
    ready_agent_port="$(free_port)"
    register_agent alice alice-secret "$ready_agent_port"
    wait_screen '^alice +READY'
    wait_screen '^sales +0 +0:00 +0 +1 +0 +1 +0 '
    start_agent agent_answer.xml "$ready_agent_port" 1 -d 4000
    phone=$last_pid
    start_caller caller.xml 100 -d 1000
    caller=$last_pid
    wait_screen '^alice +TALKING'
    wait_screen '^sales +0 +0:00 +0 +0 +1 +1 +1 '
    wait_screen 'AGENTS .*TALKING 1'
    wait_pid "$caller" "caller"
    wait_pid "$phone" "alice's phone"
    wait_screen '^alice +READY'
    # q quits and gives the terminal back.
    tmux -L "$session" send-keys -t top q
    wait_screen_gone() {
      local deadline=$((SECONDS + 30))
      while screen | grep -qE '^QUEUE +WAITING'; do
        ((SECONDS < deadline)) || fail "q did not quit the wallboard"
        sleep 0.2
      done
    }
    wait_screen_gone
    ;;

  acdctl_errors)
    # Refusals and bad requests come back as the server's code and message, exit status 1;
    # usage errors exit 2.
    start_sip_acdd
    api="$(api_port)"
    expect_error() {
      local pattern="$1" rc=0
      shift
      as "$@" >"$dir/out" 2>"$dir/err" || rc=$?
      ((rc == 1)) || fail "acdctl $* exited $rc (expected 1): $(cat "$dir/err")"
      grep -qE -- "$pattern" "$dir/err" || fail "acdctl $*: expected '$pattern', got: $(cat "$dir/err")"
    }
    expect_error "UNAUTHENTICATED: unknown token" wrong-token-000000000000 agent status
    expect_error "PERMISSION_DENIED" "$sue_token" agent login
    expect_error "INVALID_ARGUMENT: agent: unknown agent \"zed\" of tenant acme" \
      "$sue_token" agents force-ready zed
    expect_error "INVALID_ARGUMENT: skills\[0\].level: proficiency 11 out of range" \
      "$sue_token" agents set-skills bob english=11
    expect_error "FAILED_PRECONDITION" "$alice_token" agent ready
    rc=0
    as "$sue_token" agents frobnicate 2>/dev/null || rc=$?
    ((rc != 0 && rc != 1)) || fail "a usage error exited $rc"
    as "$sue_token" agents set-skills bob english=7 french=3 >"$dir/out" ||
      fail "set-skills failed: $(cat "$dir/err")"
    as "$sue_token" --json agents list >"$dir/out" || fail "agents list failed"
    grep -q '"agent":"carol"' "$dir/out" || fail "agents list: $(cat "$dir/out")"
    as "$sue_token" queue list >"$dir/out" || fail "queue list failed"
    grep -qE '^sales +0 ' "$dir/out" || fail "queue list: $(cat "$dir/out")"
    ;;

  *)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS $case_name"
