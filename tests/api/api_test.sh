#!/usr/bin/env bash
# Black-box tests of the gRPC API and acdctl, run by ctest:
#
#   api_test.sh ACDD ACDCTL CASE
#
# Each case starts a real acdd (SIP and the API on loopback ports the kernel picks, its
# embedded PostgreSQL in a temporary directory, tests/sip/sip_test.yaml) and drives it
# with SIPp callers and phones and with acdctl. The API users are sip_test.yaml's: alice
# (an agent's desktop), sue (a supervisor's console) and root (acme's admin).
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
root_token=root-admin-token-000001

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

# scrape_metrics PORT: one GET /metrics (over bash's /dev/tcp), the answer on stdout.
scrape_metrics() {
  local answer=""
  exec 3<>"/dev/tcp/127.0.0.1/$1" || fail "cannot connect to the metrics endpoint"
  printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&3
  answer="$(timeout 30 cat <&3 || true)"
  exec 3<&-
  printf '%s\n' "$answer" | tr -d '\r'
}

# wait_mixes N WHY: waits (30 s at most) until the media plane's acd_media_mixes gauge
# reads N on the daemon's metrics endpoint; fails with WHY.
wait_mixes() {
  local port deadline=$((SECONDS + 30))
  port="$(grep -E 'event=metrics.listening ' "$log" | head -n 1 | sed -E 's/.* port=([0-9]+).*/\1/')"
  [[ "$port" =~ ^[1-9][0-9]*$ ]] || fail "the metrics endpoint did not start"
  until scrape_metrics "$port" | grep -qE "^acd_media_mixes $1\$"; do
    ((SECONDS < deadline)) || fail "$2"
    sleep 0.2
  done
}

# alice_and_bob ALICE_CALLS BOB_CALLS: acdd (no wrap-up; registering logs an agent in
# NotReady), sue's watch of alice and bob in $dir/agents.json, and alice's and bob's phones
# (SIPp answering that many calls each; $alice_phone, $bob_phone on $alice_port, $bob_port).
alice_and_bob() {
  WRAP_UP=0s REGISTER_LOGIN=not-ready start_sip_acdd
  api="$(api_port)"
  [[ -n "$api" ]] || fail "the API did not start"
  as "$sue_token" --json agents watch alice bob >"$dir/agents.json" 2>"$dir/agents.err" &
  pids+=($!)
  wait_in "$dir/agents.json" '"snapshot":true'
  alice_port="$(free_port)"
  register_agent alice alice-secret "$alice_port"
  start_agent agent_answer.xml "$alice_port" "$1"
  alice_phone=$last_pid
  bob_port="$(free_port)"
  register_agent bob bob-secret "$bob_port"
  start_agent agent_answer.xml "$bob_port" "$2"
  bob_phone=$last_pid
}

# make_pki: a test CA, a server certificate it signed for 127.0.0.1 (and the name
# api.acd.test), a client certificate it signed for sue, and a client certificate of
# another CA, under $pki (fresh for every test; P-256 keys, quick to make).
make_pki() {
  pki="$dir/pki"
  mkdir -p "$pki"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  {
    for ca in ca other-ca; do
      openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=acd test $ca" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -keyout "$pki/$ca.key" -out "$pki/$ca.pem"
    done
    # issue NAME CN CA EXTENSIONS: NAME.key and NAME.pem, signed by CA.
    issue() {
      openssl req "${ec[@]}" -subj "/CN=$2" -keyout "$pki/$1.key" -out "$pki/$1.csr"
      openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.pem" -CAkey "$pki/$3.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 2 -out "$pki/$1.pem" \
        -extfile <(printf '%s\n' "$4")
    }
    issue server 127.0.0.1 ca "subjectAltName=IP:127.0.0.1,DNS:api.acd.test
extendedKeyUsage=serverAuth"
    issue client sue ca "extendedKeyUsage=clientAuth"
    issue stranger sue other-ca "extendedKeyUsage=clientAuth"
  } >"$pki/openssl.log" 2>&1 || fail "openssl could not make the test certificates: $(cat "$pki/openssl.log")"
}

# refused PATTERN acdctl-arguments...: acdctl (as sue, against this daemon) exits 1 with
# PATTERN on stderr.
refused() {
  local pattern="$1" rc=0
  shift
  "$acdctl" --server "127.0.0.1:$api" --token "$sue_token" "$@" queue list \
    >"$dir/out" 2>"$dir/err" || rc=$?
  ((rc == 1)) || fail "acdctl $* queue list exited $rc (expected 1): $(cat "$dir/out" "$dir/err")"
  grep -qE -- "$pattern" "$dir/err" ||
    fail "acdctl $* queue list: expected '$pattern', got: $(cat "$dir/err")"
}

# expect_error PATTERN TOKEN acdctl-arguments...: acdctl (as TOKEN's user, against this
# daemon) exits 1 with PATTERN on stderr.
expect_error() {
  local pattern="$1" rc=0
  shift
  as "$@" >"$dir/out" 2>"$dir/err" || rc=$?
  ((rc == 1)) || fail "acdctl $* exited $rc (expected 1): $(cat "$dir/err")"
  grep -qE -- "$pattern" "$dir/err" || fail "acdctl $*: expected '$pattern', got: $(cat "$dir/err")"
}

# listed acdctl-arguments...: acdctl (as sue) lists the queues.
listed() {
  "$acdctl" --server "127.0.0.1:$api" --token "$sue_token" "$@" queue list \
    >"$dir/out" 2>"$dir/err" || fail "acdctl $* queue list failed: $(cat "$dir/err")"
  grep -qE '^sales +0 ' "$dir/out" || fail "acdctl $* queue list: $(cat "$dir/out")"
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

  tasks)
    # Omnichannel tasks against a real acdd: the supervisor creates a chat for a customer on
    # record; alice's desktop gets the offer with the screen pop and accepts it. While she
    # holds the chat, a caller waits (voice is exclusive); when she completes it, the call
    # is offered to her phone at once. A second chat, declined, waits (avoiding her) until
    # the supervisor cancels it. Refusals, /metrics and the `tasks` history rows.
    WRAP_UP=0s REGISTER_LOGIN=none start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    sql "INSERT INTO customers (tenant_id, phone_number, name, account, tier, fields)
         SELECT id, '+1 555 0001', 'Jane Roe', 'AC-1001', 'gold', '{}'
         FROM tenants WHERE name = 'acme'"
    as "$alice_token" --json agent events >"$dir/events.json" 2>"$dir/events.err" &
    pids+=($!)
    as "$sue_token" --json queue watch sales >"$dir/queues.json" 2>"$dir/queues.err" &
    pids+=($!)
    wait_in "$dir/events.json" '"state":"AGENT_STATE_LOGGED_OUT"'
    wait_in "$dir/queues.json" '"snapshot":true'
    port="$(free_port)"
    register_agent alice alice-secret "$port"
    start_agent agent_answer.xml "$port" 1
    phone=$last_pid
    as "$alice_token" agent login >/dev/null || fail "acdctl agent login failed"
    as "$alice_token" agent ready >/dev/null || fail "acdctl agent ready failed"

    # An agent may not create tasks; a bad channel names the field.
    if as "$alice_token" task create --channel chat --queue sales 2>"$dir/err"; then
      fail "an agent created a task"
    fi
    grep -q "PERMISSION_DENIED" "$dir/err" || fail "agent create: $(cat "$dir/err")"
    if as "$sue_token" task create --channel fax --queue sales 2>"$dir/err"; then
      fail "a task of channel fax was created"
    fi
    grep -q "channel" "$dir/err" || fail "bad channel: $(cat "$dir/err")"

    as "$sue_token" --json task create --channel chat --queue sales \
      --subject "Where is my order?" --customer "+15550001" --attr order=A-77 \
      >"$dir/created.json" || fail "acdctl task create failed: $(cat "$dir/created.json")"
    chat="$(grep -oE '"id": *"?[0-9]+' "$dir/created.json" | grep -oE '[0-9]+$' | head -n 1)"
    [[ "$chat" =~ ^[0-9]+$ ]] || fail "no task id in: $(cat "$dir/created.json")"
    wait_in "$dir/events.json" '"task_offer":'
    offer="$(grep '"task_offer":' "$dir/events.json" | head -n 1)"
    for expected in '"subject":"Where is my order\?"' '"customer":"\+15550001"' \
                    '"queue":"sales"' '"order":"A-77"' '"channel":"CHANNEL_CHAT"'; do
      grep -qE "$expected" <<<"$offer" || fail "the task offer lacks $expected: $offer"
    done
    grep -qE '"name":"Jane Roe"' <(grep -E '"task_offer":|"screen_pop":' "$dir/events.json") ||
      fail "no screen pop with the customer's record: $(cat "$dir/events.json")"
    as "$alice_token" --json task accept "$chat" >"$dir/accepted.json" ||
      fail "acdctl task accept failed"
    grep -q '"TASK_PHASE_ACCEPTED"' "$dir/accepted.json" || fail "accept: $(cat "$dir/accepted.json")"
    wait_in "$dir/events.json" '"task_accepted":'
    wait_in "$dir/queues.json" '"tasks_accepted":1'

    # Holding a chat, alice is offered no call: the caller waits.
    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/queues.json" '"waiting":1'
    if grep -q '"offer":{' "$dir/events.json"; then fail "a call was offered to alice on a chat"; fi
    as "$alice_token" --json task complete "$chat" >"$dir/completed.json" ||
      fail "acdctl task complete failed"
    grep -q '"TASK_FINAL_STATE_COMPLETED"' "$dir/completed.json" ||
      fail "complete: $(cat "$dir/completed.json")"
    wait_in "$dir/events.json" '"task_ended":'
    # Nothing in hand: the waiting call comes to her phone at once.
    wait_in "$dir/events.json" '"connected":'
    as "$alice_token" agent hangup >/dev/null || fail "acdctl agent hangup failed"
    wait_pid "$caller" "caller"
    wait_pid "$phone" "alice's phone"

    # A second chat: declined, it waits (the only agent is avoided for a while) and is
    # listed so; the supervisor cancels it.
    second="$(as "$sue_token" --json task create --channel chat --queue sales --subject again |
      grep -oE '"id": *"?[0-9]+' | grep -oE '[0-9]+$' | head -n 1)"
    [[ "$second" =~ ^[0-9]+$ ]] || fail "the second task was not created"
    wait_in "$dir/events.json" '"task_offer":' 2
    as "$alice_token" task decline "$second" >/dev/null || fail "acdctl task decline failed"
    wait_in "$dir/events.json" '"task_offer_ended":.*"reason":"declined"'
    as "$sue_token" --json task list --phase waiting >"$dir/waiting.json" ||
      fail "acdctl task list failed"
    grep -q "\"$second\"" "$dir/waiting.json" || fail "task list: $(cat "$dir/waiting.json")"
    if as "$alice_token" task accept "$second" 2>"$dir/err"; then fail "accepted a declined task"; fi
    grep -qE "FAILED_PRECONDITION|NOT_FOUND" "$dir/err" || fail "accept after decline: $(cat "$dir/err")"
    as "$sue_token" --json task cancel "$second" >"$dir/cancelled.json" ||
      fail "acdctl task cancel failed"
    grep -q '"TASK_FINAL_STATE_ABANDONED"' "$dir/cancelled.json" ||
      fail "cancel: $(cat "$dir/cancelled.json")"
    if as "$sue_token" task show 999999 2>"$dir/err"; then fail "an unknown task was shown"; fi
    grep -q "NOT_FOUND" "$dir/err" || fail "unknown task: $(cat "$dir/err")"

    # /metrics reads the core's published snapshot (coalesced): wait for the figures.
    metrics_port="$(grep -E 'event=metrics.listening ' "$log" | head -n 1 | sed -E 's/.* port=([0-9]+).*/\1/')"
    deadline=$((SECONDS + 30))
    until figures="$(scrape_metrics "$metrics_port")" &&
      grep -qE '^acd_queue_tasks_completed_total\{tenant="acme",queue="sales"\} 1$' <<<"$figures" &&
      grep -qE '^acd_queue_tasks_abandoned_total\{tenant="acme",queue="sales"\} 1$' <<<"$figures" &&
      grep -qE '^acd_tasks_in_system 0$' <<<"$figures"; do
      ((SECONDS < deadline)) || fail "metrics: $(grep -E 'acd_queue_tasks|acd_tasks' <<<"$figures")"
      sleep 0.2
    done
    # The history: one row per finished task, shipped asynchronously.
    deadline=$((SECONDS + 60))
    until [[ "$(sql "SELECT count(*) FROM tasks")" == 2 ]]; do
      ((SECONDS < deadline)) || fail "the tasks rows did not arrive: $(sql "SELECT * FROM tasks")"
      sleep 0.2
    done
    rows="$(sql "SELECT task_id, channel, final_state, coalesce(agent, '-'), customer FROM tasks ORDER BY task_id")"
    grep -qx "$chat|chat|completed|alice|+15550001" <<<"$rows" || fail "task rows: $rows"
    grep -qE "^$second\|chat\|abandoned\|" <<<"$rows" || fail "task rows: $rows"
    stop_acdd
    ;;

  call_control)
    # Call control from the desktop and the console: alice holds and retrieves her caller,
    # pauses the recording, sue rings bob's phone in to whisper then barge and releases the
    # call; alice's next call: a transfer outside is refused (not allowed), she hangs up
    # from the desktop; sue intercepts the third on bob's phone; alice transfers the fourth
    # back to the queue.
    WRAP_UP=0s REGISTER_LOGIN=none start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    as "$sue_token" --json agents watch alice >"$dir/agents.json" 2>"$dir/agents.err" &
    pids+=($!)
    as "$sue_token" --json queue watch sales >"$dir/queues.json" 2>"$dir/queues.err" &
    pids+=($!)
    wait_in "$dir/agents.json" '"snapshot":true'
    wait_in "$dir/queues.json" '"snapshot":true'
    alice_port="$(free_port)"
    register_agent alice alice-secret "$alice_port"
    start_agent agent_answer.xml "$alice_port" 4
    alice_phone=$last_pid
    bob_port="$(free_port)"
    register_agent bob bob-secret "$bob_port"
    start_agent agent_answer.xml "$bob_port" 1
    bob_phone=$last_pid
    # Nothing to control yet.
    if as "$alice_token" agent hold 2>"$dir/err"; then fail "hold without a call succeeded"; fi
    grep -q "FAILED_PRECONDITION.*on no connected call" "$dir/err" || fail "hold: $(cat "$dir/err")"
    as "$alice_token" agent login --ready >/dev/null || fail "acdctl agent login failed"

    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_TALKING"'
    wait_log "event=sip.recording "
    as "$alice_token" agent hold >"$dir/out" || fail "acdctl agent hold failed"
    grep -q "ok: on hold" "$dir/out" || fail "hold answered: $(cat "$dir/out")"
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_HELD".*"cause":"CHANGE_CAUSE_AGENT"'
    if as "$alice_token" agent hold 2>"$dir/err"; then fail "a second hold succeeded"; fi
    grep -q "FAILED_PRECONDITION.*on hold already" "$dir/err" || fail "hold again: $(cat "$dir/err")"
    as "$alice_token" agent retrieve >/dev/null || fail "acdctl agent retrieve failed"
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_TALKING"' 2
    as "$alice_token" agent recording pause >/dev/null || fail "acdctl agent recording pause failed"
    wait_log "event=sip.recording_paused .*by=alice"
    if as "$alice_token" agent recording pause 2>"$dir/err"; then fail "paused twice"; fi
    grep -q "FAILED_PRECONDITION.*paused already" "$dir/err" || fail "pause again: $(cat "$dir/err")"
    as "$alice_token" agent recording resume >/dev/null || fail "acdctl agent recording resume failed"
    wait_log "event=sip.recording_resumed .*by=alice"

    # sue has no agent of her own: she names the phone to ring (bob's extension).
    if as "$sue_token" agents listen alice 2>"$dir/err"; then fail "listen without a phone succeeded"; fi
    grep -q "INVALID_ARGUMENT.*phone: " "$dir/err" || fail "listen without phone: $(cat "$dir/err")"
    if as "$sue_token" agents listen alice --phone 1999 2>"$dir/err"; then fail "listen on an unknown phone succeeded"; fi
    grep -q "INVALID_ARGUMENT.*phone: no phone \"1999\"" "$dir/err" || fail "unknown phone: $(cat "$dir/err")"
    as "$sue_token" agents listen alice --phone 1002 --mode whisper >"$dir/out" ||
      fail "acdctl agents listen failed"
    wait_log "event=sip.listening .*phone=bob mode=whisper by=sue"
    grep -q "event=api.privileged .*rpc=SupervisorService.ListenIn .*user=sue agent=alice phone=1002" "$log" ||
      fail "the listen-in was not audited"
    wait_mixes 1 "the media plane never mixed the supervisor in"
    as "$sue_token" agents listen alice --phone 1002 --mode barge >/dev/null ||
      fail "acdctl agents listen --mode barge failed"
    wait_log "event=sip.listen_mode .*phone=bob mode=barge by=sue"
    as "$sue_token" agents force-release alice >/dev/null || fail "acdctl agents force-release failed"
    wait_pid "$caller" "the caller of the released call"
    wait_pid "$bob_phone" "bob's phone (listening)"
    expect_end_reason 1 supervisor-release
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_READY"' 2

    # Call 2: no transfers outside in this tenant; alice hangs up from the desktop.
    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_TALKING"' 3
    if as "$alice_token" agent transfer --number 5551234 2>"$dir/err"; then fail "an outside transfer succeeded"; fi
    grep -q "PERMISSION_DENIED.*not allowed" "$dir/err" || fail "outside transfer: $(cat "$dir/err")"
    if as "$alice_token" agent transfer --queue nowhere 2>"$dir/err"; then fail "a transfer to no queue succeeded"; fi
    grep -q "INVALID_ARGUMENT.*queue: unknown queue" "$dir/err" || fail "bad queue: $(cat "$dir/err")"
    as "$alice_token" agent hangup >/dev/null || fail "acdctl agent hangup failed"
    wait_pid "$caller" "the caller alice hung up on"
    expect_end_reason 2 agent-release
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_READY"' 3

    # Call 3: sue intercepts it on bob's phone, which takes the caller over (alice is
    # released) and hangs up a second later.
    start_agent agent_answer_hangup.xml "$bob_port" 1
    bob_phone=$last_pid
    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_TALKING"' 4
    as "$sue_token" agents intercept alice --phone bob >/dev/null || fail "acdctl agents intercept failed"
    wait_log "event=sip.intercepted .*phone=bob by=sue"
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_READY"' 4
    wait_pid "$bob_phone" "bob's phone (intercepting)"
    wait_pid "$caller" "the intercepted caller"
    expect_end_reason 3 transfer

    # Call 4: back to the queue; alice works in manual mode (NotReady after the call) and
    # nobody else is ready, so the caller waits again (music).
    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/agents.json" '"state":"AGENT_STATE_TALKING"' 5
    as "$alice_token" agent work-mode manual >/dev/null || fail "acdctl agent work-mode failed"
    as "$alice_token" agent transfer --queue sales >/dev/null || fail "acdctl agent transfer failed"
    wait_log "event=sip.transfer .*kind=queue by=alice target=sales"
    wait_pid "$alice_phone" "alice's phone (four calls)"
    wait_in "$dir/queues.json" '"queue":"sales".*"waiting":1'
    if as "$alice_token" agent hangup 2>"$dir/err"; then fail "hang up without a call succeeded"; fi
    grep -q "FAILED_PRECONDITION" "$dir/err" || fail "hangup without call: $(cat "$dir/err")"
    stop_acdd
    wait_pid "$caller" "the transferred caller (hung up at shutdown)"
    ;;

  consult)
    # Consultations from alice's desktop: she consults bob (his phone rings, he answers),
    # brings the three into conference, then hands the caller to him (attended transfer)
    # and sue releases the call; on the next call she consults bob again and cancels.
    alice_and_bob 2 2
    if as "$alice_token" agent consult --agent bob 2>"$dir/err"; then fail "consult without a call succeeded"; fi
    grep -q "FAILED_PRECONDITION" "$dir/err" || fail "consult without a call: $(cat "$dir/err")"
    as "$alice_token" agent ready >/dev/null || fail "acdctl agent ready failed"

    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/agents.json" '"agent":"alice".*"state":"AGENT_STATE_TALKING"'
    if as "$alice_token" agent complete-transfer 2>"$dir/err"; then fail "complete without a consultation succeeded"; fi
    grep -q "FAILED_PRECONDITION.*no consultation" "$dir/err" || fail "complete: $(cat "$dir/err")"
    if as "$alice_token" agent consult --agent zed 2>"$dir/err"; then fail "consulting nobody succeeded"; fi
    grep -q "INVALID_ARGUMENT.*agent: no agent \"zed\"" "$dir/err" || fail "consult zed: $(cat "$dir/err")"
    as "$alice_token" agent consult --agent 1002 >"$dir/out" || fail "acdctl agent consult failed"
    grep -q "ok: ringing 1002" "$dir/out" || fail "consult answered: $(cat "$dir/out")"
    wait_in "$dir/agents.json" '"agent":"alice".*"state":"AGENT_STATE_HELD"'
    wait_log "event=sip.call_answered .*by=bob"
    if as "$alice_token" agent consult --agent bob 2>"$dir/err"; then fail "a second consultation succeeded"; fi
    grep -q "FAILED_PRECONDITION.*in progress already" "$dir/err" || fail "second consult: $(cat "$dir/err")"
    if as "$alice_token" agent retrieve 2>"$dir/err"; then fail "retrieve during a consultation succeeded"; fi
    grep -q "FAILED_PRECONDITION.*consultation is in progress" "$dir/err" || fail "retrieve: $(cat "$dir/err")"
    as "$alice_token" agent conference >/dev/null || fail "acdctl agent conference failed"
    wait_log "event=sip.conference .*with=bob"
    wait_in "$dir/agents.json" '"agent":"alice".*"state":"AGENT_STATE_TALKING"' 2
    wait_mixes 1 "the media plane never mixed the three-way call"
    as "$alice_token" agent complete-transfer >/dev/null || fail "acdctl agent complete-transfer failed"
    wait_log "event=sip.transferred .*to=bob"
    # alice is released (wrap-up, then Ready); bob talks to the caller on the caller's call.
    wait_in "$dir/agents.json" '"agent":"alice".*"state":"AGENT_STATE_READY"' 2
    as "$sue_token" agents force-release bob >/dev/null || fail "releasing bob's call failed"
    wait_pid "$caller" "the transferred caller"
    expect_end_reason 1 supervisor-release

    # Call 2: consult bob, then cancel; alice has the caller back and hangs up.
    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_in "$dir/agents.json" '"agent":"alice".*"state":"AGENT_STATE_TALKING"' 3
    as "$alice_token" agent consult --agent bob >/dev/null || fail "the second consult failed"
    wait_log "event=sip.call_answered .*by=bob" 2
    as "$alice_token" agent cancel-consult >/dev/null || fail "acdctl agent cancel-consult failed"
    wait_log "event=sip.consult_ended "
    wait_pid "$bob_phone" "bob's phone (two consultations)"
    wait_in "$dir/agents.json" '"agent":"alice".*"state":"AGENT_STATE_TALKING"' 4
    as "$alice_token" agent hangup >/dev/null || fail "acdctl agent hangup failed"
    wait_pid "$caller" "the second caller"
    wait_pid "$alice_phone" "alice's phone"
    expect_end_reason 2 agent-release
    ;;

  dial)
    # Click-to-dial: alice's desktop dials bob; the engine rings her own phone first (asking
    # it to answer at once), then bob's, and bridges them; she hangs up from the desktop.
    # Then an outside number through the trunk (a SIPp carrier), which hangs up itself.
    alice_and_bob 2 1
    wait_in "$dir/agents.json" '"agent":"bob".*"state":"AGENT_STATE_NOT_READY"'
    if as "$alice_token" agent dial --agent zed 2>"$dir/err"; then fail "dialling nobody succeeded"; fi
    grep -q "INVALID_ARGUMENT.*agent: no agent \"zed\"" "$dir/err" || fail "dial zed: $(cat "$dir/err")"
    if as "$alice_token" agent dial --number 12ab 2>"$dir/err"; then fail "dialling letters succeeded"; fi
    grep -q "INVALID_ARGUMENT.*number: " "$dir/err" || fail "dial 12ab: $(cat "$dir/err")"
    as "$alice_token" agent dial --agent bob >"$dir/out" || fail "acdctl agent dial failed"
    grep -q "ok: ringing your phone, then bob" "$dir/out" || fail "dial answered: $(cat "$dir/out")"
    wait_log "event=sip.own_phone_answered .*target=bob"
    wait_log "event=sip.call_answered .*by=bob"
    grep -q "answer-after=0" "$dir/agent-$alice_port.msg" ||
      fail "the INVITE to alice's own phone did not ask it to answer at once"
    wait_in "$dir/agents.json" '"agent":"bob".*"state":"AGENT_STATE_TALKING"'
    if as "$alice_token" agent dial --agent bob 2>"$dir/err"; then fail "a second dial succeeded"; fi
    grep -q "FAILED_PRECONDITION.*is on a call" "$dir/err" || fail "second dial: $(cat "$dir/err")"
    as "$alice_token" agent hangup >/dev/null || fail "acdctl agent hangup failed"
    wait_pid "$bob_phone" "bob's phone"
    wait_log 'event=call.finished .*state=completed'
    wait_in "$dir/agents.json" '"agent":"bob".*"state":"AGENT_STATE_NOT_READY"' 2

    start_agent agent_answer_hangup.xml "$out_port"
    carrier=$last_pid
    as "$alice_token" agent dial --number +15551234 >/dev/null || fail "dialling a number failed"
    wait_pid "$carrier" "the carrier"
    wait_pid "$alice_phone" "alice's phone (two calls)"
    wait_log 'event=call.finished .*state=completed' 2
    grep -qE "^INVITE sip:\\+15551234@127.0.0.1" "$dir/agent-$out_port.msg" ||
      fail "the carrier got no INVITE for +15551234"
    grep -qE "^From: <sip:\\+4930111222@" "$dir/agent-$out_port.msg" ||
      fail "the call to +15551234 did not carry the trunk's caller id"
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
    expect_error "UNAUTHENTICATED: unknown token" wrong-token-000000000000 agent status
    expect_error "PERMISSION_DENIED" "$sue_token" agent login
    expect_error "INVALID_ARGUMENT: agent: unknown agent \"zed\" of tenant acme" \
      "$sue_token" agents force-ready zed
    expect_error "INVALID_ARGUMENT: skills\[0\].level: proficiency 11 out of range" \
      "$sue_token" agents set-skills bob english=11
    expect_error "FAILED_PRECONDITION" "$alice_token" agent ready
    rc=0
    as "$sue_token" agents frobnicate 2>/dev/null || rc=$?
    ((rc == 2)) || fail "a usage error exited $rc"
    as "$sue_token" agents set-skills bob english=7 french=3 >"$dir/out" ||
      fail "set-skills failed: $(cat "$dir/err")"
    as "$sue_token" --json agents list >"$dir/out" || fail "agents list failed"
    grep -q '"agent":"carol"' "$dir/out" || fail "agents list: $(cat "$dir/out")"
    as "$sue_token" queue list >"$dir/out" || fail "queue list failed"
    grep -qE '^sales +0 ' "$dir/out" || fail "queue list: $(cat "$dir/out")"
    # A message from alice's desktop reaches the supervisor's message watch.
    as "$sue_token" messages watch --count 1 >"$dir/messages.out" 2>&1 &
    watcher=$!
    pids+=("$watcher")
    deadline=$((SECONDS + 60))
    until as "$alice_token" agent message --supervisors "angry caller" | grep -q "delivered to 1 "; do
      ((SECONDS < deadline)) || fail "the supervisor's message watch never got alice's message"
      sleep 0.2
    done
    wait "$watcher" || fail "messages watch exited $?: $(cat "$dir/messages.out")"
    grep -qE "message +from alice to the supervisors: angry caller" "$dir/messages.out" ||
      fail "messages watch printed: $(cat "$dir/messages.out")"
    ;;

  tls)
    # api.tls with a server certificate (no client certificates): acdctl trusting the
    # test CA gets answers; plain TCP, and TLS trusting only the system's CAs, do not.
    # The bearer token is still needed. A bad PEM file stops the daemon at start.
    make_pki
    API_TLS="tls: {certificate: $pki/server.pem, private_key: $pki/server.key}" start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    grep -qE "event=api.listening .*tls=true client_certificates=none" "$log" ||
      fail "api.listening does not say tls=true: $(grep api.listening "$log")"
    ! grep -q "event=api.insecure" "$log" || fail "a TLS API was called insecure"
    listed --ca-file "$pki/ca.pem"
    ACD_CA_FILE="$pki/ca.pem" listed
    # The certificate names api.acd.test too: --server-name checks that name instead.
    listed --ca-file "$pki/ca.pem" --server-name api.acd.test
    refused "UNAVAILABLE: .*other.acd.test is not in peer certificate" \
      --ca-file "$pki/ca.pem" --server-name other.acd.test
    # Plain TCP to a TLS port; the test CA is not a system CA, nor is it other-ca.
    refused "UNAVAILABLE: .*\(plain TCP: if the API uses TLS, add --ca-file or --tls\)"
    refused "UNAVAILABLE: .*certificate verify failed" --tls
    refused "UNAVAILABLE: .*certificate verify failed" --ca-file "$pki/other-ca.pem"
    grep -q "Handshake failed" "$dir/err" && fail "gRPC's own log lines reach acdctl's stderr"
    # A client certificate is accepted (not requested, so not needed); a token still is.
    listed --ca-file "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key"
    rc=0
    "$acdctl" --server "127.0.0.1:$api" --ca-file "$pki/ca.pem" queue list 2>"$dir/err" || rc=$?
    ((rc == 1)) && grep -q UNAUTHENTICATED "$dir/err" ||
      fail "no token over TLS: exit $rc, $(cat "$dir/err")"
    # acdctl's own TLS file errors: exit 2, naming the file.
    rc=0
    "$acdctl" --server "127.0.0.1:$api" --ca-file "$dir/nope.pem" queue list 2>"$dir/err" || rc=$?
    ((rc == 2)) && grep -q "cannot read the CA file $dir/nope.pem" "$dir/err" ||
      fail "a missing CA file: exit $rc, $(cat "$dir/err")"
    rc=0
    "$acdctl" --server "127.0.0.1:$api" --ca-file "$dir/acdd.yaml" queue list 2>"$dir/err" || rc=$?
    ((rc == 2)) && grep -q "is not PEM" "$dir/err" ||
      fail "a CA file that is not PEM: exit $rc, $(cat "$dir/err")"
    stop_acdd

    # A certificate file that is not PEM: event=api.failed names it, the daemon exits 3.
    echo "not a certificate" >"$pki/garbage.pem"
    sed -e "s|certificate: $pki/server.pem|certificate: $pki/garbage.pem|" "$dir/acdd.yaml" \
      >"$dir/garbage.yaml"
    rc=0
    timeout 120 "$acdd" --config "$dir/garbage.yaml" >"$dir/garbage.log" 2>&1 || rc=$?
    ((rc == 3)) || fail "acdd with a non-PEM certificate exited $rc: $(tail -n 5 "$dir/garbage.log")"
    grep -qE "event=api.failed file=$pki/garbage.pem error=.*no PEM certificate" "$dir/garbage.log" ||
      fail "api.failed does not name the file: $(grep api.failed "$dir/garbage.log")"
    # A key of another certificate: the same, naming the key.
    sed -e "s|private_key: $pki/server.key|private_key: $pki/client.key|" "$dir/acdd.yaml" \
      >"$dir/mismatch.yaml"
    rc=0
    timeout 120 "$acdd" --config "$dir/mismatch.yaml" >"$dir/mismatch.log" 2>&1 || rc=$?
    ((rc == 3)) || fail "acdd with another certificate's key exited $rc"
    grep -qE "event=api.failed file=$pki/client.key error=.*does not belong" "$dir/mismatch.log" ||
      fail "api.failed does not name the key: $(grep api.failed "$dir/mismatch.log")"
    # A file that does not exist is a configuration error, located.
    sed -e "s|certificate: $pki/server.pem|certificate: $pki/missing.pem|" "$dir/acdd.yaml" \
      >"$dir/missing.yaml"
    rc=0
    "$acdd" --check --config "$dir/missing.yaml" >"$dir/missing.log" 2>&1 || rc=$?
    ((rc != 0)) || fail "acdd --check accepted a missing certificate file"
    grep -qE "missing.yaml:[0-9]+:[0-9]+: api.tls.certificate: cannot read \"$pki/missing.pem\"" \
      "$dir/missing.log" || fail "acdd --check: $(cat "$dir/missing.log")"
    ;;

  tls_client_cert)
    # require_client_certificate: a client without a certificate signed by client_ca fails
    # the handshake; with one (and a token) it gets answers.
    make_pki
    API_TLS="tls: {certificate: $pki/server.pem, private_key: $pki/server.key, client_ca: $pki/ca.pem, require_client_certificate: true}" \
      start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    grep -qE "event=api.listening .*tls=true client_certificates=required" "$log" ||
      fail "api.listening: $(grep api.listening "$log")"
    listed --ca-file "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key"
    refused UNAVAILABLE --ca-file "$pki/ca.pem"
    refused UNAVAILABLE --ca-file "$pki/ca.pem" --cert "$pki/stranger.pem" --key "$pki/stranger.key"
    refused UNAVAILABLE
    # The certificate does not replace the token.
    rc=0
    "$acdctl" --server "127.0.0.1:$api" --ca-file "$pki/ca.pem" --cert "$pki/client.pem" \
      --key "$pki/client.key" queue list 2>"$dir/err" || rc=$?
    ((rc == 1)) && grep -q UNAUTHENTICATED "$dir/err" ||
      fail "a certificate without a token: exit $rc, $(cat "$dir/err")"
    # --cert needs --key.
    rc=0
    "$acdctl" --server "127.0.0.1:$api" --ca-file "$pki/ca.pem" --cert "$pki/client.pem" \
      queue list 2>"$dir/err" || rc=$?
    ((rc == 2)) || fail "--cert without --key exited $rc"
    ;;

  reports)
    # Two callers wait in the queue and hang up (nobody is logged in): two abandons, whose
    # records reach PostgreSQL asynchronously. The supervisor finds them by the caller's
    # number (written another way), pages through them one at a time (newest first, each
    # once), filters them, and runs the reports over them.
    start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    for n in 1 2; do
      start_caller caller.xml 100 -d 1000
      wait_pid "$last_pid" "caller $n"
    done
    first="$(call_id_of 1)"
    second="$(call_id_of 2)"
    [[ -n "$first" && -n "$second" ]] || fail "the two calls did not arrive"
    deadline=$((SECONDS + 60))
    until [[ "$(sql "SELECT count(*) FROM calls")" == 2 ]]; do
      ((SECONDS < deadline)) || fail "the call records did not reach the database"
      sleep 0.2
    done
    as "$sue_token" call search --caller "+1 (555) 0001" >"$dir/search.out" 2>"$dir/search.err" ||
      fail "call search failed: $(cat "$dir/search.err")"
    grep -qE '^CALL +ARRIVED \(UTC\) +DIR +CALLER' "$dir/search.out" ||
      fail "call search printed: $(cat "$dir/search.out")"
    for id in "$first" "$second"; do
      grep -qE "^$id +[0-9-]+ [0-9:]+ +in +\+15550001 +sales +- +abandoned " "$dir/search.out" ||
        fail "call search lacks call $id: $(cat "$dir/search.out")"
    done
    ! grep -q "next page" "$dir/search.out" || fail "one page had a next page: $(cat "$dir/search.out")"

    # --limit 1: a page each, newest first, then no token. A token continues only its own
    # search, so both pages name the same range.
    range=(--from "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" --to "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)")
    as "$sue_token" --json call search "${range[@]}" --caller +15550001 --limit 1 \
      >"$dir/page1.json" || fail "page 1 failed"
    token="$(grep -oE '"next_page_token":"[^"]+"' "$dir/page1.json" | cut -d'"' -f4)"
    [[ -n "$token" ]] || fail "page 1 has no next page token: $(cat "$dir/page1.json")"
    grep -q "\"call_id\":\"$second\"" "$dir/page1.json" || fail "page 1: $(cat "$dir/page1.json")"
    as "$sue_token" --json call search "${range[@]}" --caller +15550001 --limit 1 \
      --page-token "$token" >"$dir/page2.json" || fail "page 2 failed"
    grep -q "\"call_id\":\"$first\"" "$dir/page2.json" || fail "page 2: $(cat "$dir/page2.json")"
    grep -q '"next_page_token":""' "$dir/page2.json" || fail "page 2 is not the last: $(cat "$dir/page2.json")"
    # --all walks the pages itself.
    as "$sue_token" --json call search --caller +15550001 --limit 1 --all >"$dir/all.json" ||
      fail "--all failed"
    ids="$(grep -oE '"call_id":"[0-9]+"' "$dir/all.json" | cut -d'"' -f4 | tr '\n' ' ')"
    [[ "$ids" == "$second $first " ]] || fail "--all walked: $ids"
    # A page for people says how to ask for the next one.
    as "$sue_token" call search --limit 1 >"$dir/human.out" || fail "a human page failed"
    next="$(sed -nE 's/^next page: (--from [^ ]+ --to [^ ]+ --page-token [A-Za-z0-9_-]+)$/\1/p' "$dir/human.out")"
    [[ -n "$next" ]] || fail "no next page line: $(cat "$dir/human.out")"
    read -r -a next_args <<<"$next"
    as "$sue_token" call search --limit 1 "${next_args[@]}" >"$dir/human2.out" ||
      fail "the next page failed: $(cat "$dir/human2.out")"
    grep -qE "^$first " "$dir/human2.out" && ! grep -q "next page" "$dir/human2.out" ||
      fail "the next page: $(cat "$dir/human2.out")"

    # Filters.
    count_calls() {
      as "$sue_token" --json call search "$@" | grep -oE '"call_id":"[0-9]+"' | wc -l
    }
    [[ "$(count_calls --state abandoned --queue sales)" == 2 ]] || fail "--state abandoned --queue sales"
    [[ "$(count_calls --state completed)" == 0 ]] || fail "--state completed found calls"
    [[ "$(count_calls --agent alice)" == 0 ]] || fail "--agent alice found calls"
    [[ "$(count_calls --caller +15550002)" == 0 ]] || fail "another number found calls"
    [[ "$(count_calls --from -3d --to -2d)" == 0 ]] || fail "a range before the calls found them"

    # Refusals: a token of another search, an unknown agent, an agent's token, a bad time.
    expect_error "INVALID_ARGUMENT: page_token: made for another search" \
      "$sue_token" call search "${range[@]}" --caller +15550001 --state abandoned --limit 1 \
      --page-token "$token"
    expect_error "INVALID_ARGUMENT: agent: unknown agent \"zed\" of tenant acme" \
      "$sue_token" call search --agent zed
    expect_error "PERMISSION_DENIED" "$alice_token" call search
    expect_error "INVALID_ARGUMENT: time_zone: time zone \"Mars/Olympus\" not recognized" \
      "$sue_token" report queue --tz Mars/Olympus
    rc=0
    as "$sue_token" call search --from yesterday 2>/dev/null || rc=$?
    ((rc == 2)) || fail "a bad --from exited $rc"

    # The reports over the same calls.
    as "$sue_token" --json report queue --interval month >"$dir/queue.json" ||
      fail "report queue failed"
    grep -qE '"queue":"sales".*"offered":"2".*"abandoned":"2"' "$dir/queue.json" ||
      fail "report queue: $(cat "$dir/queue.json")"
    as "$sue_token" report queue --interval month --tz Europe/Berlin --queue sales >"$dir/queue.out" ||
      fail "report queue (table) failed"
    grep -qE '^sales +[0-9]{4}-[0-9]{2}-01 00:00 +2 +0 +2 +0 +- +[0-9.]+% +100\.0% ' "$dir/queue.out" ||
      fail "report queue table: $(cat "$dir/queue.out")"
    for report in agent state-time monthly; do
      as "$sue_token" report "$report" >"$dir/$report.out" 2>"$dir/$report.err" ||
        fail "report $report failed: $(cat "$dir/$report.err")"
      grep -qE '^AGENT ' "$dir/$report.out" || fail "report $report: $(cat "$dir/$report.out")"
    done
    ;;

  admin)
    # AdminService through acdctl config, as root (acme's admin): the export applies back
    # unchanged; a queue's ring_timeout changed with apply reaches the running daemon (its
    # ConfigWatcher reloads) and the next export; a bad file is refused with its located
    # error (exit 1); entities are put, listed, got and deleted; other roles and another
    # tenant are refused.
    start_sip_acdd
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    as "$root_token" config export -o "$dir/export.yaml" || fail "acdctl config export failed"
    grep -q "name: acme" "$dir/export.yaml" || fail "export: $(cat "$dir/export.yaml")"
    grep -q "ring_timeout: 3s" "$dir/export.yaml" || fail "export lacks sales' ring_timeout"
    as "$root_token" config diff "$dir/export.yaml" >"$dir/out" || fail "config diff failed"
    grep -qx "no differences" "$dir/out" || fail "the export differs: $(cat "$dir/out")"

    sed -e 's/ring_timeout: 3s/ring_timeout: 4s/' "$dir/export.yaml" >"$dir/changed.yaml"
    as "$root_token" config apply --dry-run "$dir/changed.yaml" >"$dir/out" ||
      fail "config apply --dry-run failed"
    grep -qx "~ queue acme/sales: ring_timeout 3s -> 4s" "$dir/out" &&
      grep -qx "dry run: 1 changes, nothing written" "$dir/out" || fail "dry run: $(cat "$dir/out")"
    reloads="$(grep -c "event=config.reloaded " "$log" || true)"
    as "$root_token" config apply "$dir/changed.yaml" >"$dir/out" || fail "config apply failed"
    grep -qx "~ queue acme/sales: ring_timeout 3s -> 4s" "$dir/out" &&
      grep -qx "applied: 1 changes, 1 rows written" "$dir/out" || fail "apply: $(cat "$dir/out")"
    wait_log "event=config.reloaded .*source=database" $((reloads + 1))
    grep -qE "event=api.privileged rpc=AdminService.ApplyConfig tenant=acme user=root .*changed=.*ring_timeout 3s -> 4s" \
      "$log" || fail "no audit line: $(grep api.privileged "$log")"
    as "$root_token" config export >"$dir/export2.yaml" || fail "the second export failed"
    grep -q "ring_timeout: 4s" "$dir/export2.yaml" || fail "export after apply: $(cat "$dir/export2.yaml")"

    # A bad file: exit 1 with the located error; nothing written.
    sed -e 's/strategy: top-down/strategy: sideways/' "$dir/changed.yaml" >"$dir/bad.yaml"
    line="$(grep -n "strategy: sideways" "$dir/bad.yaml" | cut -d: -f1)"
    rc=0
    as "$root_token" config apply "$dir/bad.yaml" >"$dir/out" 2>"$dir/err" || rc=$?
    ((rc == 1)) || fail "a bad file exited $rc: $(cat "$dir/err")"
    grep -qE "INVALID_ARGUMENT: line $line, column [0-9]+: tenants\[0\]\.queues\[[0-9]+\]\.strategy: unknown strategy \"sideways\"" \
      "$dir/err" || fail "a bad file: $(cat "$dir/err")"
    rc=0
    as "$root_token" config apply "$dir/missing.yaml" 2>"$dir/err" || rc=$?
    ((rc == 2)) && grep -q "cannot read $dir/missing.yaml" "$dir/err" ||
      fail "a missing file: exit $rc, $(cat "$dir/err")"

    # Entities one by one.
    printf 'name: dave\nextension: "1004"\nskills: {english: 3}\n' >"$dir/dave.yaml"
    as "$root_token" config put agent "$dir/dave.yaml" >"$dir/out" || fail "config put failed"
    grep -qx "+ agent acme/dave" "$dir/out" || fail "put: $(cat "$dir/out")"
    as "$root_token" config list agents >"$dir/out" || fail "config list failed"
    grep -qx dave "$dir/out" && grep -qx alice "$dir/out" || fail "list: $(cat "$dir/out")"
    as "$root_token" config get queue sales >"$dir/out" || fail "config get failed"
    grep -q "ring_timeout: 4s" "$dir/out" || fail "get: $(cat "$dir/out")"
    printf 'name: dave\nextension: "1004"\nskills: {english: 11}\n' >"$dir/bad-dave.yaml"
    rc=0
    as "$root_token" config put agent "$dir/bad-dave.yaml" 2>"$dir/err" || rc=$?
    ((rc == 1)) && grep -qE "INVALID_ARGUMENT: line 3, column [0-9]+: skills.english: " "$dir/err" ||
      fail "a bad agent: exit $rc, $(cat "$dir/err")"
    rc=0
    as "$root_token" config delete agent alice 2>"$dir/err" || rc=$?
    ((rc == 1)) && grep -q "FAILED_PRECONDITION: agent alice is still in use" "$dir/err" ||
      fail "deleting a member: exit $rc, $(cat "$dir/err")"
    as "$root_token" config delete agent dave >"$dir/out" || fail "config delete failed"
    grep -qx -- "- agent acme/dave" "$dir/out" || fail "delete: $(cat "$dir/out")"
    wait_log "event=api.privileged rpc=AdminService.DeleteEntity tenant=acme user=root "

    # Refusals: another role, another tenant.
    rc=0
    as "$sue_token" config export 2>"$dir/err" || rc=$?
    ((rc == 1)) && grep -q "PERMISSION_DENIED: AdminService.ExportConfig needs the role admin" "$dir/err" ||
      fail "a supervisor's export: exit $rc, $(cat "$dir/err")"
    sed -e 's/- name: acme$/- name: globex/' "$dir/changed.yaml" >"$dir/globex.yaml"
    rc=0
    as "$root_token" config apply "$dir/globex.yaml" 2>"$dir/err" || rc=$?
    ((rc == 1)) && grep -qE "PERMISSION_DENIED: line [0-9]+, column [0-9]+: tenants\[0\]\.name: tenant \"globex\" is not yours" "$dir/err" ||
      fail "another tenant: exit $rc, $(cat "$dir/err")"

    # Reload on request.
    reloads="$(grep -c "event=config.reloaded " "$log" || true)"
    as "$root_token" config reload >"$dir/out" || fail "config reload failed"
    grep -q "^reload requested; tenant acme in the database: 3 agents" "$dir/out" ||
      fail "reload: $(cat "$dir/out")"
    wait_log "event=config.reloaded " $((reloads + 1))
    ;;

  route_explain)
    # Routing's dry run (acdctl route explain) against a queue that routes by rules
    # (tests/api/route_explain.yaml): alice, bob and dan log in, carol does not. A Spanish
    # speaker's call goes to alice (billing 8, es) at step 1; bob (en) and dan (billing 3)
    # are refused by the false term; after 30 s bob and dan follow alice by billing.
    sed "s|@DIR@|$dir|g" "$here/../api/route_explain.yaml" >"$dir/acdd.yaml"
    start_acdd "$dir/acdd.yaml"
    wait_log 'event=started'
    api="$(api_port)"
    [[ -n "$api" ]] || fail "the API did not start"
    rita_token=rita-board-token-000001
    for token in "$alice_token" bob-desktop-token-00001 dan-desktop-token-00001; do
      as "$token" agent login --ready >/dev/null || fail "acdctl agent login failed"
    done
    # explained FILE acdctl-arguments...: route explain (as sue) into FILE.
    explained() {
      local file="$1"
      shift
      as "$sue_token" route explain "$@" >"$file" 2>"$dir/err" ||
        fail "acdctl route explain $* failed: $(cat "$dir/err")"
    }
    # has FILE PATTERN...: FILE holds a line matching each (extended regex) PATTERN.
    has() {
      local file="$1" pattern
      shift
      for pattern in "$@"; do
        grep -qE -- "$pattern" "$file" || fail "expected '$pattern' in: $(cat "$file")"
      done
    }
    explained "$dir/now.txt" --queue billing --language es --caller +15550100
    has "$dir/now.txt" '^queue: +billing$' '^strategy: +longest-idle, by rules$' \
      '^order by: +agent.skill.billing DESC$' \
      '^\* step 1 +after 0s +agent.skill.billing >= 5 AND agent.languages HAS task.language$' \
      '^  step 2 +after 30s +agent.skill.billing >= 2$' \
      '^RANK +AGENT +STATE +TIER +PENALTY +STEP 1 +STEP 2 +ORDER BY +REASON$' \
      '^1 +alice +READY +1 +0 +yes +yes +8 +-$' \
      '^- +bob +READY +1 +0 +no +yes +6 +step 1: agent.languages HAS task.language is false$' \
      '^- +carol +LOGGED_OUT +1 +0 +yes +yes +9 +is LoggedOut$' \
      '^- +dan +READY +1 +0 +no +yes +3 +step 1: agent.skill.billing >= 5 is false$' \
      '^would offer to: alice$'
    # After 45 s: step 2 admits everyone with billing 2+, best billing first.
    explained "$dir/later.txt" --queue billing --language es --waited 45s
    has "$dir/later.txt" '^  step 1 ' '^\* step 2 +after 30s ' \
      '^1 +alice ' '^2 +bob +READY +1 +0 +no +yes +6 +-$' '^3 +dan ' \
      '^- +carol .* is LoggedOut$' '^would offer to: alice \(then bob, dan\)$'
    # The same as JSON (the flag before or after the command), as the read-only user.
    as "$rita_token" --json route explain --queue billing --language es >"$dir/now.json" ||
      fail "acdctl --json route explain failed"
    as "$rita_token" route explain --queue billing --language es --waited 45s --json \
      >"$dir/later.json" || fail "acdctl route explain --json failed"
    has "$dir/now.json" '"by_rules":true' '"current_step":1' '"chosen":\["alice"\]' \
      '"strategy":"QUEUE_STRATEGY_LONGEST_IDLE"' \
      '"agent":"bob","state":"AGENT_STATE_READY",.*"admitted":\[false,true\],"refused_by":\["agent.languages HAS task.language is false",""\],"order_keys":\[6\],"rank":0,"not_now":"not admitted at step 1"' \
      '"agent":"carol","state":"AGENT_STATE_LOGGED_OUT",.*"rank":0,"not_now":"is LoggedOut"'
    has "$dir/later.json" '"current_step":2' '"agent":"alice",.*"rank":1,' \
      '"agent":"bob",.*"rank":2,' '"agent":"dan",.*"rank":3,'
    # A language nobody free speaks, and the IVR and attributes pass through.
    explained "$dir/fr.txt" --queue billing --language fr --ivr main=1 --attr segment=gold
    has "$dir/fr.txt" '^- +alice +READY .* step 1: agent.languages HAS task.language is false$' \
      '^no agent can take it now: alice \(step 1: agent.languages HAS task.language is false\), bob '
    # A queue that routes by skills, for a chat: skill gaps and tiers.
    explained "$dir/support.txt" --queue support --channel chat
    has "$dir/support.txt" '^strategy: +top-down, by skills$' '^order by: +-$' \
      '^\* step 1 +after 0s +required skills, tiers 1..1$' \
      '^- +dan +READY +2 +0 +no +step 1: skill billing at 3, needs 5; tier 2 \(tiers 1..1 take calls at this step\)$' \
      '^would offer to: alice \(then bob\)$'
    # Nothing changed: no call entered a queue, nobody was offered anything.
    as "$sue_token" --json queue list >"$dir/queues.json" || fail "queue list failed"
    has "$dir/queues.json" '"queue":"billing","waiting":0,"offering":0'
    grep -q '"entered":"[1-9]' "$dir/queues.json" && fail "the dry run entered a queue: $(cat "$dir/queues.json")"
    # Refusals: an agent; another tenant's or no queue; bad fields; usage errors.
    expect_error "PERMISSION_DENIED" "$alice_token" route explain --queue billing
    expect_error 'NOT_FOUND: queue: no queue "sales" in tenant acme' \
      "$sue_token" route explain --queue sales
    expect_error "INVALID_ARGUMENT: vip_level: 11 out of range" \
      "$sue_token" route explain --queue billing --vip 11
    for usage in "--waited -5s" "--channel fax" "--attr novalue" "--waited 5parsecs"; do
      rc=0
      # shellcheck disable=SC2086
      as "$sue_token" route explain --queue billing $usage >/dev/null 2>&1 || rc=$?
      ((rc == 2)) || fail "acdctl route explain $usage exited $rc (expected 2)"
    done
    grep -q "event=api.denied .*rpc=SupervisorService.ExplainRoute" "$log" ||
      fail "the agent's refusal was not audited"
    stop_acdd
    ;;

  *)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS $case_name"
