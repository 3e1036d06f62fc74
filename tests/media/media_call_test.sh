#!/usr/bin/env bash
# Black-box media tests (issue: media plane), run by ctest:
#
#   media_call_test.sh ACDD RTP_PROBE CASE
#
# A real acdd with SIP and its media plane on loopback; SIPp does the signalling of the
# caller and the agent's phone, whose SDP names an rtp_probe each (tests/media/rtp_probe.cc):
# the probes send tones (caller 400 Hz, agent 1000 Hz) and log every packet they hear,
# classified by tone, so the test can check who heard what, when. The music on hold is a
# 600 Hz tone.
set -euo pipefail

acdd="$1"
rtp_probe="$2"
case_name="$3"
media_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
here="$media_dir/../sip"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=../sip/lib_sip.sh
source "$here/lib_sip.sh"

# start_probe NAME TONE [options...]: an rtp_probe on a free port logging to $dir/NAME.rtp;
# sets $probe_port and $probe_pid.
# A port taken between the check and the probe's bind (tests run in parallel) makes the
# probe exit at start: it is started again on another pair.
start_probe() {
  local name="$1" tone="$2" attempt
  shift 2
  for attempt in 1 2 3 4 5; do
    probe_port="$(free_even_port_pair)"
    "$rtp_probe" --port "$probe_port" --out "$dir/$name.rtp" --tone "$tone" \
      --listen-for 400,600,1000 "$@" 2>>"$dir/$name.err" &
    probe_pid=$!
    local deadline=$((SECONDS + 30))
    until udp_bound "$probe_port" || ! kill -0 "$probe_pid" 2>/dev/null; do
      ((SECONDS < deadline)) || fail "rtp_probe $name did not bind port $probe_port within 30 s"
      sleep 0.05
    done
    if udp_bound "$probe_port" && kill -0 "$probe_pid" 2>/dev/null; then
      pids+=("$probe_pid")
      return 0
    fi
    wait "$probe_pid" 2>/dev/null || true
  done
  fail "rtp_probe $name could not bind a port pair (see $dir/$name.err)"
}

# An even UDP port whose odd neighbour is free too (RTP and RTCP).
free_even_port_pair() {
  perl -MIO::Socket::INET -e '
    for (1 .. 200) {
      my $probe = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:0") or next;
      my $p = $probe->sockport & ~1;
      close $probe;
      my $a = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:$p") or next;
      my $b = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:" . ($p + 1)) or next;
      print "$p\n";
      exit 0;
    }
    exit 1;'
}

stop_probe() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# wav_levels FILE: "<seconds> <left mean |sample|> <right mean |sample|>" of a 16-bit WAV
# (right is 0 for a mono file).
wav_levels() {
  perl -e '
    open(my $f, "<:raw", $ARGV[0]) or die "$ARGV[0]: $!";
    local $/; my $d = <$f>;
    my ($channels, $rate) = unpack("vV", substr($d, 22, 6));
    my $at = 12; my ($data, $size);
    while ($at + 8 <= length $d) {
      my ($id, $len) = unpack("A4V", substr($d, $at, 8));
      if ($id eq "data") { $data = $at + 8; $size = $len; last; }
      $at += 8 + $len;
    }
    die "no data chunk" unless defined $data;
    my @s = unpack("s<*", substr($d, $data, $size));
    my @sum = (0, 0);
    for my $i (0 .. $#s) { $sum[$i % $channels] += abs($s[$i]); }
    my $frames = @s / $channels;
    printf "%.2f %d %d\n", $frames / $rate, $sum[0] / $frames, $channels > 1 ? $sum[1] / $frames : 0;' "$1"
}

# count FILE CLASS [EXACT]: packets of a class in a probe log (EXACT=1: byte-exact ones).
count() {
  awk -v c="$2" -v e="${3:-}" '$1 !~ /^#/ && $5 == c && (e == "" || $6 == e) { n++ } END { print n + 0 }' "$1"
}

# expect_recording_row CALL KIND PATH SECONDS: CALL's call_recordings row of KIND reaches
# the database (the record store ships asynchronously: waits up to 60 s), names PATH, says
# ok and a duration within 200 ms of SECONDS (the file's, as wav_levels measured it).
expect_recording_row() {
  local call="$1" kind="$2" path="$3" seconds="$4" got="" deadline=$((SECONDS + 60))
  local row_path duration_ms ok
  while :; do
    got="$(sql "SELECT path, duration_ms, ok FROM call_recordings WHERE call_id = $call AND kind = '$kind'" 2>/dev/null || true)"
    [[ -n "$got" ]] && break
    ((SECONDS < deadline)) || fail "call $call has no $kind row in call_recordings after 60 s"
    sleep 0.2
  done
  [[ "$got" != *$'\n'* ]] || fail "call $call has more than one $kind row in call_recordings: $got"
  IFS='|' read -r row_path duration_ms ok <<<"$got"
  echo "call_recordings: $kind $row_path $duration_ms ms ok=$ok"
  [[ "$row_path" == "$path" ]] || fail "the $kind row of call $call names $row_path, not $path"
  [[ "$ok" == t ]] || fail "the $kind row of call $call says ok=$ok"
  awk -v d="$duration_ms" -v s="$seconds" 'BEGIN { x = d - s * 1000; exit !(x >= -200 && x <= 200) }' ||
    fail "the $kind row of call $call says $duration_ms ms; the file lasts $seconds s"
}

# expect_voicemail CALL MAILBOX: CALL left a message in MAILBOX, cut at the maximum
# length (3 s) and not silent, and its call_recordings row says so.
expect_voicemail() {
  local call="$1" mailbox="$2" message seconds level
  wait_log "event=sip.voicemail_end call=$call mailbox=$mailbox why=\"maximum length\""
  wait_log "event=voicemail.recorded call=$call .*ok=true"
  message="$dir/voicemail/acme/$mailbox/$call.wav"
  [[ -f "$message" ]] || fail "no voicemail file at $message"
  read -r seconds level _ < <(wav_levels "$message")
  echo "voicemail: $seconds s, level $level"
  awk -v s="$seconds" 'BEGIN { exit !(s >= 2.5 && s <= 3.5) }' || fail "the message lasts $seconds s (3 s expected)"
  ((level > 2000)) || fail "the message is silent ($level)"
  expect_recording_row "$call" voicemail "$message" "$seconds"
  [[ "$(sql "SELECT mode || ' ' || mailbox FROM call_recordings WHERE call_id = $call AND kind = 'voicemail'")" == "mono $mailbox" ]] ||
    fail "the voicemail row of call $call does not say mode mono, mailbox $mailbox"
}

case "$case_name" in
  moh_then_bridge)
    # A queued caller hears music at 50 packets/s from the answer until the agent
    # answers; then the caller's 400 Hz reaches the agent and the agent's 1000 Hz the
    # caller, byte for byte; a key the caller presses while waiting is heard.
    start_sip_acdd
    start_probe agent 1000
    agent_probe=$probe_pid agent_rtp=$probe_port
    port="$(free_port)"
    register_agent alice alice-secret "$port"
    wait_log "event=agent.state tenant=acme agent=alice from=[A-Za-z]+ to=Ready"
    start_probe caller 400 --dtmf 5@600
    caller_probe=$probe_pid caller_rtp=$probe_port
    # Alice is the only agent: but the queue rings her only once the caller is queued.
    start_agent agent_media.xml "$port" 1 -set rtp_port "$agent_rtp"
    alice=$last_pid
    start_caller caller_media.xml 100 -d 6000 -set rtp_port "$caller_rtp"
    wait_pid "$last_pid" "caller"
    wait_pid "$alice" "alice's phone"
    stop_probe "$caller_probe"
    stop_probe "$agent_probe"
    wait_log "event=sip.dtmf .*leg=caller key=5"

    caller_log="$dir/caller.rtp" agent_log="$dir/agent.rtp"
    moh=$(count "$caller_log" tone600)
    ((moh >= 75)) || fail "the caller heard $moh packets of music on hold (>= 75 expected in 2 s of ringing)"
    # The rate and the longest gap while the music played.
    read -r rate gap < <(awk '$5 == "tone600" { if (n++ == 0) first = $1; else if ($1 - last > g) g = $1 - last; last = $1 }
      END { printf "%.1f %d\n", (n - 1) * 1000 / (last - first), g }' "$caller_log")
    echo "music on hold: $moh packets, $rate packets/s, longest gap $gap ms"
    awk -v r="$rate" 'BEGIN { exit !(r >= 45 && r <= 55) }' || fail "music on hold came at $rate packets/s (50 expected)"
    ((gap <= 100)) || fail "music on hold had a gap of $gap ms"
    # Music stops when the agent answers: no music after the agent's audio began.
    first_agent=$(awk '$5 == "tone1000" { print $1; exit }' "$caller_log")
    [[ -n "$first_agent" ]] || fail "the caller never heard the agent"
    late_moh=$(awk -v t="$first_agent" '$5 == "tone600" && $1 > t { n++ } END { print n + 0 }' "$caller_log")
    ((late_moh == 0)) || fail "the caller heard $late_moh packets of music after the agent's audio began"
    to_caller=$(count "$caller_log" tone1000 1)
    to_agent=$(count "$agent_log" tone400 1)
    echo "bridged: agent->caller $to_caller exact packets, caller->agent $to_agent exact packets"
    ((to_caller >= 100)) || fail "only $to_caller packets of the agent's audio reached the caller intact"
    ((to_agent >= 100)) || fail "only $to_agent packets of the caller's audio reached the agent intact"
    ((agent_music = $(count "$agent_log" tone600), agent_music == 0)) || fail "the agent heard the hold music"
    # The call was recorded from the bridge on: caller left, agent right, both audible.
    call="$(call_id_of 1)"
    wait_log "event=call.recorded call=$call .*ok=true"
    recording="$(grep -E "event=call.recorded call=$call " "$log" | sed -E 's/.* path=([^ ]+).*/\1/')"
    [[ -f "$recording" ]] || fail "no recording file at $recording"
    read -r seconds left right < <(wav_levels "$recording")
    echo "recording: $seconds s, caller level $left, agent level $right"
    awk -v s="$seconds" 'BEGIN { exit !(s >= 3.0 && s <= 5.0) }' || fail "the recording lasts $seconds s (about 4 s of talk expected)"
    ((left > 2000)) || fail "the caller's channel of the recording is silent ($left)"
    ((right > 2000)) || fail "the agent's channel of the recording is silent ($right)"
    expect_recording_row "$call" call "$recording" "$seconds"
    ;;
  ivr_rfc4733 | ivr_inband | ivr_timeout)
    # The caller dials the menu's number and chooses with a key, sent as an RFC 4733
    # event or as tones in the audio; the call lands in the chosen queue. ivr_timeout:
    # the caller presses nothing: the menu plays again (after "invalid"), then hangs up.
    start_sip_acdd
    case "$case_name" in
      ivr_rfc4733) key_option=(--dtmf 2@1500) queue=backoffice ;;
      ivr_inband) key_option=(--inband 1@1500) queue=sales ;;
      ivr_timeout) key_option=() queue= ;;
    esac
    start_probe caller 400 --listen-for 300,500,600 "${key_option[@]}"
    caller_probe=$probe_pid caller_rtp=$probe_port
    if [[ -n "$queue" ]]; then
      start_caller caller_media.xml 300 -d 5000 -set rtp_port "$caller_rtp"
      caller=$last_pid
    else
      start_caller caller_media_wait_bye.xml 300 -set rtp_port "$caller_rtp"
      caller=$last_pid
    fi
    case "$case_name" in
      ivr_rfc4733) wait_log "event=sip.menu_choice .*menu=main key=2" ;;
      ivr_inband) wait_log "event=sip.menu_choice .*menu=main key=1" ;;
      ivr_timeout)
        wait_log "event=sip.menu_retry .*why=timeout attempt=1"
        wait_log "event=sip.menu_hangup .*reason=\"no choice\""
        ;;
    esac
    if [[ -n "$queue" ]]; then
      wait_log "event=call.queued tenant=acme call=[0-9]+ queue=$queue"
    fi
    wait_pid "$caller" "caller"
    stop_probe "$caller_probe"
    heard=$(count "$dir/caller.rtp" tone300)
    ((heard >= 40)) || fail "the caller heard $heard packets of the menu prompt (1 s expected)"
    if [[ "$case_name" == ivr_timeout ]]; then
      invalid=$(count "$dir/caller.rtp" tone500)
      ((invalid >= 10)) || fail "the caller did not hear the invalid prompt ($invalid packets)"
      expect_ended_before_queue 1 hung-up ivr
    else
      # The caller hung up in the queue the menu chose: an abandon there, nothing else.
      expect_finished 1 abandoned
      ! grep -E 'event=call.ended_before_queue' "$log" >/dev/null ||
        fail "a call the menu queued was recorded as ended before any queue"
    fi
    ;;
  flow_digit | flow_fallback | flow_reload)
    # A call flow (docs/FLOWS.md; tests/sip/sip_test.yaml): "route" plays "main", collects
    # a key and queues by it with the key as an attribute; "broken" fails on its line 3
    # and goes to its fallback queue, the error logged with the line. flow_reload: a script
    # that does not compile, written into the database, is refused and the running one
    # stays; a good one is taken.
    start_sip_acdd
    number=310 queue=backoffice key_option=(--dtmf 2@1500)
    [[ "$case_name" == flow_fallback ]] && number=311 key_option=()
    if [[ "$case_name" == flow_reload ]]; then
      sql "UPDATE flows SET source = 'call.queue(' WHERE name = 'route'" >/dev/null
      wait_log 'event=config.invalid .*does not compile: route\.lua:1: unexpected symbol near'
      wait_log 'event=config.database_invalid'
    fi
    start_probe caller 400 --listen-for 300,600 "${key_option[@]}"
    caller_probe=$probe_pid
    start_caller caller_media.xml "$number" -d 4000 -set rtp_port "$probe_port"
    caller=$last_pid
    if [[ "$case_name" == flow_fallback ]]; then
      wait_log 'event=flow.log .*flow=broken line="about to fail"'
      wait_log "event=flow.fallback .*flow=broken error=\"broken\.lua:3: attempt to index a nil value \(local 'customer'\)\""
      wait_log "event=flow.decided .*flow=broken decision=queue target=backoffice fallback=true"
    else
      wait_log 'event=sip.flow call=[0-9]+ flow=route'
      wait_log 'event=flow.log .*flow=route line="caller [^"]+"'
      wait_log 'event=sip.flow_digits .*flow=route digits=2'
      wait_log 'event=flow.decided .*flow=route decision=queue target=backoffice fallback=false priority=7 attributes="choice=2"'
    fi
    wait_log "event=call.queued tenant=acme call=[0-9]+ queue=$queue"
    wait_pid "$caller" "caller"
    stop_probe "$caller_probe"
    if [[ "$case_name" == flow_digit ]]; then
      heard=$(count "$dir/caller.rtp" tone300)
      ((heard >= 40)) || fail "the caller heard $heard packets of the flow's prompt (1 s expected)"
    fi
    if [[ "$case_name" == flow_reload ]]; then
      # A good script reaches the running daemon: the next call takes it.
      reloads="$(grep -c 'event=config.reloaded source=database' "$log" || true)"
      sql "UPDATE flows SET source = 'call.set(\"v\", \"2\") call.queue(\"sales\")' WHERE name = 'route'" >/dev/null
      wait_log 'event=config.reloaded source=database' $((reloads + 1))
      start_probe caller2 400 --listen-for 300,600
      caller_probe=$probe_pid
      start_caller caller_media.xml 310 -d 2000 -set rtp_port "$probe_port"
      caller=$last_pid
      wait_log 'event=flow.decided .*flow=route decision=queue target=sales fallback=false priority="" attributes="v=2"'
      wait_log "event=call.queued tenant=acme call=[0-9]+ queue=sales"
      wait_pid "$caller" "caller"
      stop_probe "$caller_probe"
    fi
    ;;
  flow_key_ad)
    # RFC 4733 also carries the keys A-D, which no script can be given: the "route" flow
    # (tests/sip/sip_test.yaml) ignores an A pressed during its collect, which then times
    # out with no digits, and the script (not its fallback) queues the call to sales.
    start_sip_acdd
    start_probe caller 400 --listen-for 300,600 --dtmf A@1500
    caller_probe=$probe_pid
    start_caller caller_media.xml 310 -d 8000 -set rtp_port "$probe_port"
    caller=$last_pid
    wait_log 'event=sip.dtmf call=[0-9]+ leg=caller key=A'
    wait_log 'event=sip.flow_digits .*flow=route digits=("")? why=timeout'
    wait_log 'event=flow.decided .*flow=route decision=queue target=sales fallback=false'
    wait_log "event=call.queued tenant=acme call=[0-9]+ queue=sales"
    wait_pid "$caller" "caller"
    stop_probe "$caller_probe"
    ! grep -E 'event=flow.fallback' "$log" || fail "key A pushed the flow into its fallback"
    ;;
  flow_reinvite)
    # A re-INVITE while a flow plays its prompt (a session refresh, a phone confirming its
    # media) changes nothing the caller hears: the prompt plays on, no music on hold starts
    # until the flow has queued the call.
    start_sip_acdd
    start_probe caller 400 --listen-for 300,600 --dtmf 2@1500
    caller_probe=$probe_pid
    start_caller caller_media_reinvite.xml 310 -d 4000 -set rtp_port "$probe_port"
    caller=$last_pid
    wait_log 'event=sip.flow_digits .*flow=route digits=2'
    wait_log "event=call.queued tenant=acme call=[0-9]+ queue=backoffice"
    wait_pid "$caller" "caller"
    stop_probe "$caller_probe"
    grep -qE 'sip.reinvite|CSeq: 2 INVITE|event=sip.(re)?offer' "$log" || true
    caller_log="$dir/caller.rtp"
    prompt=$(count "$caller_log" tone300)
    ((prompt >= 40)) || fail "the caller heard $prompt packets of the flow's prompt (1 s expected)"
    last_prompt=$(awk '$5 == "tone300" { t = $1 } END { print t + 0 }' "$caller_log")
    early_moh=$(awk -v t="$last_prompt" '$5 == "tone600" && $1 <= t { n++ } END { print n + 0 }' "$caller_log")
    moh=$(count "$caller_log" tone600)
    echo "prompt: $prompt packets, music before the prompt ended: $early_moh, music in all: $moh"
    ((early_moh == 0)) || fail "music on hold played over the flow's prompt ($early_moh packets)"
    ((moh >= 25)) || fail "no music on hold once the call was queued ($moh packets)"
    ;;
  flow_callback)
    # The "offer" flow: key 1 asks for a callback by helpdesk. The call is recorded as
    # entering helpdesk and leaving it for a callback, never offered; the caller hears the
    # tenant's "callback" prompt (1200 Hz) and the engine hangs up; the request, with the
    # caller's number and the queue, is in the database.
    start_sip_acdd
    start_probe caller 400 --listen-for 600,1200 --dtmf 1@1000
    caller_probe=$probe_pid
    start_caller caller_media_wait_bye.xml 313 -set rtp_port "$probe_port"
    wait_pid "$last_pid" "caller"
    stop_probe "$caller_probe"
    call="$(call_id_of 1)"
    wait_log "event=flow.decided call=$call .*flow=offer decision=callback target=\\+15550001 fallback=false .*callback_queue=helpdesk"
    wait_log "event=sip.callback_requested call=$call number=\\+15550001"
    wait_log "event=call.finished tenant=acme call=$call .*state=callback"
    ! grep -E "event=call.offered .*call=$call " "$log" || fail "the callback's call was offered to an agent"
    closing=$(count "$dir/caller.rtp" tone1200)
    echo "callback confirmation: $closing packets"
    ((closing >= 20)) || fail "the caller heard $closing packets of the callback prompt (0.5 s)"
    deadline=$((SECONDS + 60))
    until [[ "$(sql "SELECT queue || ' ' || number || ' ' || status FROM callbacks WHERE call_id = $call" 2>/dev/null || true)" == "helpdesk +15550001 pending" ]]; do
      ((SECONDS < deadline)) || fail "no pending callback request by helpdesk for +15550001 in the database after 60 s"
      sleep 0.2
    done
    ;;
  flow_lookup_timeout)
    # The "lookup" flow asks for the caller's customer record while the customers table
    # is locked (a database that does not answer): after flow_lookup_timeout (500 ms here)
    # the script hears nil and goes on; the answer that comes later is dropped.
    FLOW_LOOKUP_TIMEOUT=500ms start_sip_acdd
    psql -X -q -v ON_ERROR_STOP=1 "host=$dir/pg dbname=acd user=acd" \
      -c "BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;" \
      >/dev/null 2>&1 &
    locker=$!
    pids+=("$locker")
    deadline=$((SECONDS + 30))
    until [[ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'customers' AND l.mode = 'AccessExclusiveLock' AND l.granted")" == 1 ]]; do
      ((SECONDS < deadline)) || fail "the customers table was not locked within 30 s"
      sleep 0.1
    done
    start_probe caller 400 --listen-for 300,600
    caller_probe=$probe_pid
    start_caller caller_media.xml 312 -d 3000 -set rtp_port "$probe_port"
    caller=$last_pid
    wait_log 'event=sip.flow_lookup_timeout call=[0-9]+ flow=lookup after_ms=500'
    wait_log 'event=flow.decided .*flow=lookup decision=queue target=sales fallback=false .*attributes="customer=unknown"'
    wait_log "event=call.queued tenant=acme call=[0-9]+ queue=sales"
    wait_pid "$caller" "caller"
    stop_probe "$caller_probe"
    wait "$locker" 2>/dev/null || true
    ;;
  voicemail)
    # Key 3 of the menu: the greeting (700 Hz), a beep (1000 Hz), then the caller's 400 Hz
    # is recorded until the maximum length (3 s), and the engine hangs up.
    start_sip_acdd
    start_probe caller 400 --listen-for 300,700,1000 --dtmf 3@1500
    caller_probe=$probe_pid
    start_caller caller_media_wait_bye.xml 300 -set rtp_port "$probe_port"
    wait_pid "$last_pid" "caller"
    stop_probe "$caller_probe"
    call="$(call_id_of 1)"
    expect_voicemail "$call" sales-box
    expect_ended_before_queue 1 voicemail ivr
    greeting=$(count "$dir/caller.rtp" tone700) beep=$(count "$dir/caller.rtp" tone1000)
    ((greeting >= 20)) || fail "the caller heard $greeting packets of the greeting"
    ((beep >= 10)) || fail "the caller heard $beep packets of the beep"
    ;;
  announcements)
    # Nobody answers: every 2 s the caller hears "position" and "1", then the music
    # again.
    ANNOUNCE=2s start_sip_acdd
    start_probe caller 400 --listen-for 600,800,900
    caller_probe=$probe_pid
    start_caller caller_media.xml 100 -d 5500 -set rtp_port "$probe_port"
    wait_pid "$last_pid" "caller"
    stop_probe "$caller_probe"
    wait_log "event=sip.announcement .*position=1" 2
    position=$(count "$dir/caller.rtp" tone800) one=$(count "$dir/caller.rtp" tone900)
    echo "announcements: $position packets of \"position\", $one of \"1\""
    ((position >= 30)) || fail "the caller heard $position packets of the position prompt (two announcements)"
    ((one >= 15)) || fail "the caller heard $one packets of the number"
    # The music resumed after the first announcement.
    last_one=$(awk '$5 == "tone900" { t = $1 } END { print t + 0 }' "$dir/caller.rtp")
    first_one=$(awk '$5 == "tone900" { print $1; exit }' "$dir/caller.rtp")
    resumed=$(awk -v a="$first_one" -v b="$last_one" '$5 == "tone600" && $1 > a && $1 < b { n++ } END { print n + 0 }' "$dir/caller.rtp")
    ((resumed >= 40)) || fail "the music did not resume between the announcements ($resumed packets)"
    ;;
  breakout_voicemail)
    # Nobody answers in helpdesk. After each position announcement the caller hears the
    # queue's breakout offer (1100 Hz); key 1 leaves the queue for voicemail: the
    # greeting (700 Hz), the beep (1000 Hz), then the message until the maximum length.
    ANNOUNCE=1s start_sip_acdd
    start_probe caller 400 --listen-for 600,700,1000,1100 --dtmf 1@2500
    caller_probe=$probe_pid
    start_caller caller_media_wait_bye.xml 400 -set rtp_port "$probe_port"
    wait_pid "$last_pid" "caller"
    stop_probe "$caller_probe"
    call="$(call_id_of 1)"
    wait_log "event=sip.breakout call=$call queue=helpdesk key=1 to=voicemail"
    wait_log "event=sip.queue_exit call=$call reason=[a-z-]+ to=voicemail target=helpdesk-box"
    wait_log "event=call.finished tenant=acme call=$call .*state=voicemail"
    expect_voicemail "$call" helpdesk-box
    offer=$(count "$dir/caller.rtp" tone1100) greeting=$(count "$dir/caller.rtp" tone700)
    echo "breakout offer: $offer packets; greeting: $greeting packets"
    ((offer >= 15)) || fail "the caller heard $offer packets of the breakout offer"
    ((greeting >= 20)) || fail "the caller heard $greeting packets of the greeting"
    [[ "$(sql "SELECT final_state FROM calls WHERE call_id = $call")" == voicemail ]] ||
      fail "call $call was not recorded as voicemail"
    ;;
  breakout_callback)
    # Key 2 asks for a callback: the caller hears the tenant's "callback" prompt (1200 Hz)
    # and the engine hangs up; the request is in the database.
    start_sip_acdd
    start_probe caller 400 --listen-for 600,1200 --dtmf 2@1500
    caller_probe=$probe_pid
    start_caller caller_media_wait_bye.xml 400 -set rtp_port "$probe_port"
    wait_pid "$last_pid" "caller"
    stop_probe "$caller_probe"
    call="$(call_id_of 1)"
    wait_log "event=sip.breakout call=$call queue=helpdesk key=2 to=callback"
    wait_log "event=call.finished tenant=acme call=$call .*state=callback"
    closing=$(count "$dir/caller.rtp" tone1200)
    echo "callback confirmation: $closing packets"
    ((closing >= 20)) || fail "the caller heard $closing packets of the callback prompt (0.5 s)"
    deadline=$((SECONDS + 60))
    until [[ "$(sql "SELECT count(*) FROM callbacks WHERE call_id = $call" 2>/dev/null || true)" == 1 ]]; do
      ((SECONDS < deadline)) || fail "no callback request for call $call in the database after 60 s"
      sleep 0.2
    done
    ;;
  timeout_goodbye)
    # nightline: after max_wait (2 s) the exit hangs up with the message "goodbye", a
    # prompt of the tenant's set (1300 Hz), said before the engine's BYE.
    start_sip_acdd
    start_probe caller 400 --listen-for 600,1300
    caller_probe=$probe_pid
    start_caller caller_media_wait_bye.xml 401 -set rtp_port "$probe_port"
    wait_pid "$last_pid" "caller"
    stop_probe "$caller_probe"
    call="$(call_id_of 1)"
    wait_log "event=sip.queue_exit call=$call reason=max-wait to=hangup target=goodbye"
    wait_log "event=call.finished tenant=acme call=$call .*state=hung-up"
    moh=$(count "$dir/caller.rtp" tone600) goodbye=$(count "$dir/caller.rtp" tone1300)
    echo "before the exit: $moh packets of music; goodbye: $goodbye packets"
    ((moh >= 50)) || fail "the caller heard $moh packets of music while waiting (2 s)"
    ((goodbye >= 20)) || fail "the caller heard $goodbye packets of the goodbye prompt (0.5 s)"
    ;;
  *) fail "unknown case $case_name" ;;
esac

stop_acdd
grep -E 'event=media.stopped' "$log" >/dev/null || fail "no media.stopped line at shutdown"
echo "PASS: $case_name"
