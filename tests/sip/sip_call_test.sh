#!/usr/bin/env bash
# Black-box SIP tests (issue: SIP trunks, agents' phones, bridged calls), run by ctest:
#
#   sip_call_test.sh ACDD CASE
#
# Each case starts a real acdd (SIP on loopback ports the kernel picks, its embedded
# PostgreSQL in a temporary directory) and drives it with SIPp: callers are UAC scenarios
# from the trunk's address 127.0.0.1; agents' phones first REGISTER with digest
# authentication (which logs the agent in, Ready) and then run a UAS scenario on the
# registered port. The daemon's log is the event stream the test waits on and checks.
set -euo pipefail

acdd="$1"
case_name="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_sip.sh
source "$here/lib_sip.sh"

# ready_agent NAME: registers NAME's phone on a fresh port and waits until NAME is Ready;
# sets $port.
ready_agent() {
  port="$(free_port)"
  register_agent "$1" "$1-secret" "$port"
  wait_log "event=agent.state tenant=acme agent=$1 from=[A-Za-z]+ to=Ready"
}

# refused DID STATUS [CODECS] [SOURCE]: a call that must get STATUS as its final response.
refused() {
  local did="$1" status="$2" codecs="${3:-0 8 101}" source="${4:-127.0.0.1}"
  sed -e "s|@STATUS@|$status|g" -e "s|@CODECS@|$codecs|g" \
    "$scenarios/caller_refused.xml" >"$dir/refused-$status.xml"
  run_uac "$dir/refused-$status.out" -sf "$dir/refused-$status.xml" -s "$did" -i "$source" \
    -error_file "$dir/refused-$status.err" 127.0.0.1:"$udp_port" ||
    fail "call to $did from $source did not get $status (see $dir/refused-$status.err)"
}

# alice_fails_bob_answers SCENARIO REASON: Alice's phone runs SCENARIO and her offer must
# end with REASON; Bob, next in the queue, answers and hangs up.
alice_fails_bob_answers() {
  start_sip_acdd
  ready_agent alice
  start_agent "$1" "$port"
  local alice=$last_pid
  ready_agent bob
  start_agent agent_answer_hangup.xml "$port"
  local bob=$last_pid
  start_caller caller_wait_bye.xml 100
  wait_pid "$last_pid" "caller"
  wait_pid "$alice" "alice's phone"
  wait_pid "$bob" "bob's phone"
  local call
  call="$(call_id_of 1)"
  grep -E "event=call.offer_ended tenant=acme call=$call agent=alice reason=$2" "$log" >/dev/null ||
    fail "alice's offer did not end as $2"
  expect_finished 1 completed bob
}

# expect_carrier_call NUMBER: the SIPp "carrier" at the outbound trunk got an INVITE for
# NUMBER, with the trunk's caller id.
expect_carrier_call() {
  grep -E "^INVITE sip:\\$1@127.0.0.1" "$dir/agent-$out_port.msg" >/dev/null ||
    fail "the carrier did not get an INVITE for $1"
  grep -E '^From: <sip:\+4930111222@' "$dir/agent-$out_port.msg" >/dev/null ||
    fail "the call to $1 did not carry the trunk's caller id"
}

# blind_transfer TARGET DID: a call to DID answered by Alice, who transfers it (REFER) to
# TARGET; Bob's phone answers what comes to it and hangs up.
blind_transfer() {
  start_sip_acdd
  ready_agent alice
  start_agent agent_refer.xml "$port" 1 -d 500 -set target "$1" -set replaces ""
  local alice=$last_pid
  ready_agent bob
  start_agent agent_answer_hangup.xml "$port"
  local bob=$last_pid
  start_caller caller_wait_bye.xml "$2"
  wait_pid "$last_pid" "caller"
  wait_pid "$alice" "alice's phone"
  wait_pid "$bob" "bob's phone"
}

case "$case_name" in
  caller_hangs_up)
    # A ready agent answers; the caller hangs up; both legs end, the call is completed.
    # (DID 102 answers the caller only when the agent has answered, so the caller's talk
    # time starts then.)
    start_sip_acdd
    ready_agent alice
    start_agent agent_answer.xml "$port"
    agent=$last_pid
    start_caller caller.xml 102 -d 1000
    wait_pid "$last_pid" "caller"
    wait_pid "$agent" "alice's phone"
    expect_finished 1 completed alice
    ;;

  agent_hangs_up)
    # The agent hangs up; the engine sends BYE to the caller.
    start_sip_acdd
    ready_agent alice
    start_agent agent_answer_hangup.xml "$port"
    agent=$last_pid
    start_caller caller_wait_bye.xml 100
    wait_pid "$last_pid" "caller"
    wait_pid "$agent" "alice's phone"
    expect_finished 1 completed alice
    grep -E 'event=sip.hangup .*cause=agent-bye' "$log" >/dev/null || fail "the hang-up was not the agent's"
    expect_end_reason 1 agent-bye
    ;;

  abandon_bye)
    # Nobody is logged in: the caller waits in the queue, then hangs up: an abandon.
    start_sip_acdd
    start_caller caller.xml 100 -d 1500
    wait_pid "$last_pid" "caller"
    expect_finished 1 abandoned
    expect_end_reason 1 caller-bye
    ;;

  abandon_cancel)
    # DID 102 is answered only when an agent answers: the caller hears ringing (180) and
    # gives up with CANCEL (487): an abandon, the only INVITE answer being the 487.
    start_sip_acdd
    start_caller caller_cancel.xml 102 -d 1500
    wait_pid "$last_pid" "caller"
    expect_finished 1 abandoned
    grep -E 'event=sip.caller_cancelled' "$log" >/dev/null || fail "no CANCEL seen"
    expect_end_reason 1 caller-cancel
    ;;

  answer_on_connect)
    # DID 102: the caller rings (180) while the agent's phone rings and is answered (200)
    # only when the agent answers.
    start_sip_acdd
    ready_agent alice
    start_agent agent_answer_hangup.xml "$port"
    agent=$last_pid
    start_caller caller_wait_bye.xml 102
    wait_pid "$last_pid" "caller"
    wait_pid "$agent" "alice's phone"
    expect_finished 1 completed alice
    ;;

  no_answer_next_agent)
    # Alice lets it ring to the ring timeout (3 s): CANCEL, she goes NotReady(no-answer),
    # and Bob, next in the queue, gets the call.
    alice_fails_bob_answers agent_no_answer.xml no-answer
    wait_log "event=agent.state tenant=acme agent=alice from=Ringing to=NotReady reason=no-answer"
    ;;

  agent_busy)
    # Alice's phone answers 486 Busy Here: the offer ends busy and Bob gets the call.
    alice_fails_bob_answers agent_busy.xml busy
    ;;

  all_busy_then_ready)
    # One agent, two callers: the second waits while Alice talks and is routed to her the
    # moment the first call ends (wrap-up 0: she is Ready at once).
    start_sip_acdd
    ready_agent alice
    start_agent agent_answer_hangup.xml "$port" 2 -d 1500
    alice=$last_pid
    start_caller caller_wait_bye.xml 100
    first=$last_pid
    wait_log 'event=call.connected' 1
    start_caller caller_wait_bye.xml 100
    second=$last_pid
    wait_log 'event=call.queued' 2
    wait_pid "$first" "first caller"
    wait_pid "$second" "second caller"
    wait_pid "$alice" "alice's phone"
    expect_finished 1 completed alice
    expect_finished 2 completed alice
    # Routed on the first call's end: offered after the first finished.
    first_end="$(grep -n -E "event=call.finished tenant=acme call=$(call_id_of 1) " "$log" | cut -d: -f1)"
    second_offer="$(grep -n -E "event=call.offered tenant=acme call=$(call_id_of 2) " "$log" | head -n 1 | cut -d: -f1)"
    ((second_offer > first_end)) || fail "the second call was offered before the first ended"
    ;;

  priority_overtakes)
    # Nobody is logged in; a normal call (DID 100) and then a priority call (DID 101,
    # priority 50) wait; when Alice logs in (registers) the priority call gets her first.
    start_sip_acdd
    start_caller caller_wait_bye.xml 100
    normal=$last_pid
    wait_log 'event=call.queued' 1
    start_caller caller_wait_bye.xml 101
    vip=$last_pid
    wait_log 'event=call.queued' 2
    port="$(free_port)"
    start_agent agent_answer_hangup.xml "$port" 2 -d 300
    alice=$last_pid
    register_agent alice alice-secret "$port"
    wait_pid "$vip" "priority caller"
    wait_pid "$normal" "normal caller"
    wait_pid "$alice" "alice's phone"
    normal_call="$(call_id_of 1)"
    vip_call="$(call_id_of 2)"
    connected_order="$(grep -E 'event=call.connected' "$log" | sed -E 's/.* call=([0-9]+).*/\1/' | tr '\n' ' ')"
    [[ "$connected_order" == "$vip_call $normal_call " ]] ||
      fail "connected in the order $connected_order; expected $vip_call $normal_call"
    ;;

  no_skilled_agent)
    # Queue "french" needs a skill no agent has: the call is never offered to anyone.
    start_sip_acdd
    ready_agent alice
    ready_agent bob
    start_caller caller.xml 200 -d 3000
    wait_pid "$last_pid" "caller"
    expect_finished 1 abandoned
    ! grep -E 'event=(call.offered|sip.agent_invite)' "$log" >/dev/null ||
      fail "the call was offered to an agent without the skill"
    ;;

  agent_100rel)
    # Alice's phone rings reliably (180 with Require: 100rel): the engine PRACKs it, the
    # phone answers, the call is bridged; Alice hangs up.
    start_sip_acdd
    ready_agent alice
    start_agent agent_100rel.xml "$port"
    agent=$last_pid
    start_caller caller_wait_bye.xml 100
    wait_pid "$last_pid" "caller"
    wait_pid "$agent" "alice's phone"
    grep -E '^PRACK ' "$dir/agent-$port.msg" >/dev/null || fail "no PRACK reached alice's phone"
    wait_log "event=agent.state tenant=acme agent=alice from=Ringing to=Talking"
    expect_finished 1 completed alice
    ;;

  hold_resume)
    # The agent holds the caller from the phone and resumes: the core counts hold time.
    start_sip_acdd
    ready_agent alice
    start_agent agent_hold.xml "$port" 1 -d 500
    agent=$last_pid
    start_caller caller_wait_bye.xml 100
    wait_pid "$last_pid" "caller"
    wait_pid "$agent" "alice's phone"
    wait_log 'event=sip.hold '
    wait_log 'event=sip.resume '
    expect_finished 1 completed alice
    call="$(call_id_of 1)"
    hold_ms="$(grep -E "event=call.finished tenant=acme call=$call " "$log" | sed -E 's/.* hold_ms=([0-9]+).*/\1/')"
    ((hold_ms >= 500)) || fail "hold time $hold_ms ms; the agent held for about 700 ms"
    ;;

  session_timers)
    # RFC 4028 and request glare (about 62 s). The caller asks the engine to refresh
    # (refresher=uas): at 45 s the engine's re-INVITE meets the caller's own re-INVITE,
    # which gets 491, and the caller's 491, after which the engine retries within 2 s and
    # succeeds. Alice's phone says it refreshes itself and never does: the engine ends its
    # session with a BYE at 60 s, which ends the call.
    start_sip_acdd
    ready_agent alice
    start_agent agent_session_watch.xml "$port" 1 -timeout 150s
    agent=$last_pid
    start_caller caller_session_glare.xml 100 -timeout 150s
    caller=$last_pid
    wait_pid "$agent" "alice's phone"
    wait_pid "$caller" "caller"
    call="$(call_id_of 1)"
    grep -E "event=sip.glare call=$call answered=491" "$log" >/dev/null ||
      fail "the engine did not answer the caller's re-INVITE with 491 while its own was pending"
    retry_ms="$(grep -E "event=sip.glare call=$call got=491" "$log" | sed -E 's/.* retry_ms=([0-9]+).*/\1/')"
    [[ -n "$retry_ms" ]] || fail "the engine did not log the caller's 491"
    ((retry_ms <= 2000)) || fail "retry after $retry_ms ms; the caller owns the Call-ID: 0-2 s"
    grep -E "event=sip.session_expired call=$call leg=alice" "$log" >/dev/null ||
      fail "alice's session was not given up"
    expect_finished 1 completed alice
    expect_end_reason 1 session-expired
    ;;

  internal_call)
    # Alice dials Bob's extension from her phone: Bob's phone rings and answers, then
    # hangs up; the engine ends Alice's side.
    start_sip_acdd
    ready_agent alice
    ready_agent bob
    start_agent agent_answer_hangup.xml "$port"
    bob=$last_pid
    start_phone_call alice 1002
    wait_pid "$last_pid" "alice's phone"
    wait_pid "$bob" "bob's phone"
    wait_log 'event=sip.call_placed .*agent=alice kind=internal dialled=1002'
    wait_log 'event=call.finished .*state=completed'
    wait_log 'event=agent.state tenant=acme agent=bob from=Ringing to=Talking'
    ;;

  outbound_call)
    # Alice dials an outside number: the engine sends it to the tenant's outbound trunk
    # (a SIPp "carrier" at the trunk's outbound URI) with the trunk's caller id.
    start_sip_acdd
    ready_agent alice
    start_agent agent_answer_hangup.xml "$out_port"
    carrier=$last_pid
    start_phone_call alice +15551234
    wait_pid "$last_pid" "alice's phone"
    wait_pid "$carrier" "the carrier"
    expect_carrier_call +15551234
    wait_log 'event=call.finished .*state=completed'
    ;;

  external_transfer)
    # The tenant allows transfers outside: Alice transfers the caller (REFER) to an outside
    # number; the engine calls it over the outbound trunk (a SIPp "carrier") with the
    # trunk's caller id and bridges the caller to it; the carrier hangs up, which ends
    # the caller's leg. The call is recorded as transferred by Alice.
    ALLOW_EXTERNAL=true start_sip_acdd
    ready_agent alice
    start_agent agent_refer.xml "$port" 1 -d 500 -set target +15559876 -set replaces ""
    alice=$last_pid
    start_agent agent_answer_hangup.xml "$out_port"
    carrier=$last_pid
    start_caller caller_wait_bye.xml 100
    wait_pid "$last_pid" "caller"
    wait_pid "$alice" "alice's phone"
    wait_pid "$carrier" "the carrier"
    expect_carrier_call +15559876
    wait_log "event=sip.transfer call=$(call_id_of 1) kind=external by=alice target=\+15559876"
    expect_finished 1 transferred alice
    expect_end_reason 1 transfer
    ;;

  external_transfer_refused)
    # The toll-fraud guard: the tenant does not allow transfers outside, so Alice's REFER
    # to an outside number gets 202 and a NOTIFY with 403; nothing is dialled, the caller
    # stays with Alice until the caller hangs up.
    start_sip_acdd
    ready_agent alice
    start_agent agent_refer.xml "$port" 1 -d 500 -set target +15559876 -set replaces ""
    alice=$last_pid
    start_caller caller.xml 100 -d 2500
    wait_pid "$last_pid" "caller"
    wait_pid "$alice" "alice's phone"
    grep -E '^SIP/2.0 403' "$dir/agent-$port.msg" >/dev/null ||
      fail "the NOTIFY to alice's phone did not carry 403"
    wait_log "event=sip.transfer_refused call=$(call_id_of 1) by=alice target=\+15559876"
    ! grep -E 'event=sip.agent_invite .*15559876' "$log" >/dev/null ||
      fail "the outside number was dialled although the tenant forbids it"
    expect_finished 1 completed alice
    ;;

  flow_skill)
    # A call flow requires a skill of the agent (call.set_skill): french, which no agent
    # has, keeps the call from Alice; english 5 lets her take the next one.
    start_sip_acdd
    ready_agent alice
    start_caller caller.xml 315 -d 3000
    wait_pid "$last_pid" "caller"
    first="$(call_id_of 1)"
    wait_log "event=flow.decided call=$first .*flow=skilled decision=queue target=sales .*skills=\"?french>=1"
    expect_finished 1 abandoned
    ! grep -E "event=(call.offered|sip.agent_invite) .*call=$first " "$log" >/dev/null ||
      fail "the call was offered to an agent without the skill the flow asked for"
    start_agent agent_answer.xml "$port"
    agent=$last_pid
    start_caller caller.xml 316 -d 1000
    wait_pid "$last_pid" "caller"
    wait_pid "$agent" "alice's phone"
    wait_log "event=flow.decided call=$(call_id_of 2) .*flow=skilled .*skills=\"?english>=5"
    expect_finished 2 completed alice
    ;;

  flow_transfer)
    # A call flow transfers the caller to an outside number (call.transfer): the engine
    # calls it over the outbound trunk with the trunk's caller id and bridges the caller to
    # it; the carrier hangs up, which ends the caller's leg. No agent is involved. The
    # caller ACKs the engine's 200 only after 300 ms, so the carrier's 180 arrives while
    # the caller's INVITE transaction is still open: the caller must get no 180 after
    # its 200 (SIPp would take it as unexpected and hang up).
    ALLOW_EXTERNAL=true start_sip_acdd
    start_agent agent_answer_hangup.xml "$out_port"
    carrier=$last_pid
    start_caller caller_wait_bye.xml 314 -d 300
    wait_pid "$last_pid" "caller"
    wait_pid "$carrier" "the carrier"
    expect_carrier_call +15559876
    call="$(call_id_of 1)"
    wait_log "event=sip.transfer call=$call kind=external by=\"flow outside\" target=\\+15559876"
    wait_log "event=sip.transfer_answered call=$call target=\\+15559876"
    wait_log "event=sip.hangup call=$call cause=outside-bye"
    expect_ended_before_queue 1 transferred transfer
    ;;

  flow_transfer_refused)
    # The same flow in a tenant that allows no transfer outside: nothing is dialled, the
    # refusal is logged and the engine hangs up. The caller ACKs the 200 only after
    # 300 ms: the engine's BYE waits for that ACK (RFC 3261 15), or SIPp would take it
    # as unexpected.
    start_sip_acdd
    start_caller caller_wait_bye.xml 314 -d 300
    wait_pid "$last_pid" "caller"
    call="$(call_id_of 1)"
    wait_log "event=sip.bye_awaits_ack call=$call"
    wait_log "event=sip.bye_after_ack call=$call after=ack sent=true"
    wait_log "event=sip.transfer_refused call=$call by=\"flow outside\" target=\\+15559876 reason=\"transfers to outside numbers are not allowed\""
    ! grep -E 'event=sip.agent_invite .*15559876' "$log" >/dev/null ||
      fail "the outside number was dialled although the tenant forbids it"
    expect_ended_before_queue 1 hung-up ivr
    ;;

  bye_before_ack)
    # The engine hangs up a flow's caller (a refused transfer) at once, before the caller's
    # ACK: its BYE waits for that ACK. The caller hangs up first and never ACKs: the engine
    # answers the caller's BYE and sends none of its own.
    start_sip_acdd
    start_caller caller_bye_before_ack.xml 314
    wait_pid "$last_pid" "caller"
    call="$(call_id_of 1)"
    wait_log "event=sip.bye_awaits_ack call=$call"
    wait_log "event=sip.bye_after_ack call=$call after=caller-bye sent=false"
    expect_ended_before_queue 1 hung-up ivr
    ;;

  ivr_abandon)
    # The caller hangs up in the menu, before choosing: the call never reached a queue,
    # and still has its record, abandoned by the caller's BYE.
    start_sip_acdd
    start_caller caller.xml 300 -d 1000
    wait_pid "$last_pid" "caller"
    wait_log "event=sip.menu call=$(call_id_of 1) menu=main"
    expect_ended_before_queue 1 abandoned caller-bye
    ! grep -E 'event=call.(queued|finished) ' "$log" >/dev/null ||
      fail "a call that never left the menu was queued or finished in a queue"
    ;;

  blind_transfer_agent)
    # Alice answers and transfers the caller to Bob's extension (REFER): 202, NOTIFY 200,
    # the engine hangs up Alice's phone, Bob's phone rings and answers; Bob hangs up.
    blind_transfer 1002 100
    wait_log "event=call.transferred tenant=acme call=$(call_id_of 1) "
    wait_log "event=call.finished tenant=acme call=$(call_id_of 1) .*state=completed end_reason=[a-z-]+ agent=bob"
    ;;

  blind_transfer_queue)
    # Alice transfers the caller to the queue "backoffice", where Bob answers.
    blind_transfer backoffice 102
    wait_log "event=call.queued tenant=acme call=$(call_id_of 1) queue=backoffice"
    wait_log "event=call.finished tenant=acme call=$(call_id_of 1) queue=backoffice state=completed end_reason=[a-z-]+ agent=bob"
    ;;

  attended_transfer)
    # Alice answers, calls Bob from her phone (a consultation call), then transfers the
    # caller to that call (REFER with Replaces): the caller ends up talking to Bob and
    # both of Alice's dialogs are hung up by the engine.
    start_sip_acdd
    ready_agent alice
    consult_id="consult-$$@127.0.0.1"
    start_agent agent_refer.xml "$port" 1 -d 3000 -set target 1002 \
      -set replaces "?Replaces=${consult_id//@/%40}"
    alice=$last_pid
    ready_agent bob
    start_agent agent_answer_hangup.xml "$port" 1 -d 6000
    bob=$last_pid
    start_caller caller_wait_bye.xml 100
    caller=$last_pid
    wait_log 'event=call.connected .*agent=alice'
    start_phone_call alice 1002 -cid_str "$consult_id"
    consult=$last_pid
    wait_pid "$caller" "caller"
    wait_pid "$alice" "alice's phone (inbound call)"
    wait_pid "$consult" "alice's phone (consultation call)"
    wait_pid "$bob" "bob's phone"
    call="$(call_id_of 1)"
    wait_log "event=sip.transferred call=$call to=bob"
    wait_log "event=call.finished tenant=acme call=$call .*state=completed end_reason=[a-z-]+ agent=bob"
    ;;

  tls)
    # The TLS listener presents the configured certificate (verified against it) and
    # answers SIP over TLS. (Debian's SIPp is built without TLS, so openssl s_client
    # carries an OPTIONS request.)
    start_sip_acdd
    [[ -n "$tls_port" ]] || fail "no TLS listener"
    first_line="$(printf '%s\r\n' "OPTIONS sip:127.0.0.1:$tls_port;transport=tls SIP/2.0" \
      "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-probe" \
      "From: <sip:probe@127.0.0.1>;tag=probe" "To: <sip:127.0.0.1>" \
      "Call-ID: tls-probe@127.0.0.1" "CSeq: 1 OPTIONS" "Max-Forwards: 70" \
      "Content-Length: 0" "" |
      timeout 30 openssl s_client -quiet -ign_eof -verify_return_error \
        -CAfile "$dir/tls/cert.pem" -connect 127.0.0.1:"$tls_port" 2>/dev/null |
      head -n 1 | tr -d '\r' || true)"
    [[ "$first_line" == "SIP/2.0 200 OK" ]] || fail "OPTIONS over TLS got '$first_line'"
    ;;

  refusals)
    # An unknown source gets 403, an unknown number 404, an offer without PCMU/PCMA 488.
    start_sip_acdd
    refused 100 403 "0 8 101" 127.0.0.2
    refused 999 404
    refused 100 488 "18 4"
    grep -E 'event=sip.invite_refused status=403 reason="unknown source"' "$log" >/dev/null ||
      fail "no log line for the 403"
    # The gRPC API runs beside SIP (api.listen with port 0).
    grep -E 'event=api.listening address=127.0.0.1:0 port=[1-9][0-9]*' "$log" >/dev/null ||
      fail "the API did not start"
    # So does the Prometheus endpoint (metrics.listen with port 0): one scrape over bash's
    # /dev/tcp, with the queues in it.
    metrics_port="$(grep -E 'event=metrics.listening ' "$log" | head -n 1 |
      sed -E 's/.* port=([0-9]+).*/\1/' || true)"
    [[ "$metrics_port" =~ ^[1-9][0-9]*$ ]] || fail "the metrics endpoint did not start"
    exec 3<>"/dev/tcp/127.0.0.1/$metrics_port" || fail "cannot connect to the metrics endpoint"
    printf 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&3
    scrape="$(timeout 30 cat <&3 || true)"
    exec 3<&-
    [[ "$scrape" == "HTTP/1.1 200 OK"* ]] || fail "GET /metrics answered: ${scrape:0:200}"
    grep -E '^acd_queue_waiting\{tenant="acme",queue="sales"\} [0-9]+' <<<"$scrape" >/dev/null ||
      fail "no acd_queue_waiting for acme/sales in the scrape"
    ! grep -E 'event=call.queued' "$log" >/dev/null || fail "a refused call was queued"
    ;;

  *)
    fail "unknown case $case_name"
    ;;
esac

stop_acdd
echo "PASS: $case_name"
