#!/usr/bin/env bash
# Black-box SIP tests of a hostile network (issue: SIP; flood guard, overload, malformed
# input), run by ctest:
#
#   sip_hostile_test.sh ACDD CASE
#
# Each case starts a real acdd (SIP on loopback ports the kernel picks, its embedded
# PostgreSQL in a temporary directory) like sip_call_test.sh, attacks it with raw
# messages (sip_send.pl, perl-base only) or SIPp, and then shows that it still serves a
# normal call: a caller from the trunk's address 127.0.0.1 answered by a ready agent.
#   flood_ban     one source floods OPTIONS: it is banned and gets no more responses,
#                 while the trunk's calls go on
#   overload_503  sip.max_calls callers wait: the next gets 503 with Retry-After, and the
#                 waiting calls are answered afterwards
#   slow_tcp      half a message over TCP and then nothing: the connection is closed
#   malformed     every message of torture/ (broken or hostile, RFC 4475 kinds) over UDP
#                 and TCP: a 4xx/5xx or silence each, never a crash; prints a table
# Waits are on the daemon's log lines and on responses; the only timeouts are the ones
# that prove silence (no response within sip_send.pl's --wait).
set -euo pipefail

acdd="$1"
case_name="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_sip.sh
source "$here/lib_sip.sh"
command -v perl >/dev/null || fail "perl (perl-base) is not installed"

# send_raw [sip_send.pl options] FILE: sends a raw message to acdd's SIP port (UDP unless
# --transport tcp) and prints what came back (see sip_send.pl).
send_raw() {
  local transport=udp args=()
  while (($# > 1)); do
    [[ "$1" == --transport ]] && transport="$2"
    args+=("$1" "$2")
    shift 2
  done
  local port="$udp_port"
  [[ "$transport" == tcp ]] && port="$tcp_port"
  perl "$here/sip_send.pl" --port "$port" "${args[@]}" "$1"
}

# start_ready_phone NAME SCENARIO CALLS [sipp options...]: NAME's phone (a UAS running
# SCENARIO for CALLS calls) listens first and then registers (register_agent registers its
# port from another one), so a call that is already waiting can be offered the moment
# NAME is Ready; sets $last_pid.
start_ready_phone() {
  local name="$1" scenario="$2" calls="$3"
  shift 3
  local port phone hex deadline=$((SECONDS + 60))
  port="$(free_port)"
  start_agent "$scenario" "$port" "$calls" "$@"
  phone=$last_pid
  hex="$(printf '%04X' "$port")"
  until grep -q -E "^ *[0-9]+: 0100007F:$hex " /proc/net/udp; do
    ((SECONDS < deadline)) || fail "$name's phone did not bind UDP port $port"
    kill -0 "$phone" 2>/dev/null || fail "$name's phone exited (see $dir/agent-$port.err)"
    sleep 0.05
  done
  register_agent "$name" "$name-secret" "$port"
  wait_log "event=agent.state tenant=acme agent=$name from=[A-Za-z]+ to=Ready"
  last_pid=$phone
}

# normal_call: Alice answers the trunk's next call, which completes: the daemon still
# serves calls.
normal_call() {
  local n
  n=$(($(grep -c -E 'event=sip.call_arrived' "$log" || true) + 1))
  start_ready_phone alice agent_answer.xml 1
  local agent=$last_pid
  start_caller caller.xml 100 -d 500
  wait_pid "$last_pid" "the normal caller"
  wait_pid "$agent" "alice's phone"
  expect_finished "$n" completed alice
}

# Every line of the daemon's log is a structured one (hostile input must not make anything
# write raw text into it) and no sanitizer reported anything.
check_log_clean() {
  local raw
  raw="$(grep -v -E '^ts=[^ ]+ level=[a-z]+ event=' "$log" | head -n 5 || true)"
  [[ -z "$raw" ]] || fail "unstructured lines in the daemon's log: $raw"
}

# A well-formed OPTIONS (what a trunk sends to see whether we are up).
write_options() {
  cat >"$dir/options.sip" <<'EOF'
# A well-formed OPTIONS.
OPTIONS sip:acd@@RIP@:@RPORT@ SIP/2.0
Via: SIP/2.0/@TRANSPORT@ @IP@:@PORT@;branch=@BRANCH@;rport
From: <sip:probe@@IP@>;tag=@TAG@
To: <sip:acd@@RIP@>
Call-ID: @CALLID@
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

EOF
}

# A well-formed INVITE from the trunk to DID 100 with a PCMU offer.
write_invite() {
  cat >"$dir/invite.sip" <<'EOF'
# A well-formed INVITE to DID 100.
INVITE sip:100@@RIP@:@RPORT@ SIP/2.0
Via: SIP/2.0/@TRANSPORT@ @IP@:@PORT@;branch=@BRANCH@;rport
From: "Raw" <sip:+15550009@@IP@:@PORT@>;tag=@TAG@
To: <sip:100@@RIP@:@RPORT@>
Call-ID: @CALLID@
CSeq: 1 INVITE
Contact: <sip:raw@@IP@:@PORT@>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: @LEN@

v=0
o=raw 1 1 IN IP4 @IP@
s=-
c=IN IP4 @IP@
t=0 0
m=audio 40000 RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
EOF
}

status_of() { sed -n '1s/^SIP\/2\.0 \([0-9][0-9][0-9]\).*/\1/p' <<<"$1"; }

case "$case_name" in
  flood_ban)
    # Flood guard: 20 requests/s, burst 40, per source address. 127.0.0.3 (not a trunk)
    # floods OPTIONS; it is answered until its bucket is empty, then banned: no response
    # to anything any more. The trunk (127.0.0.1) is another source: its agents register
    # and its call completes.
    flooder=127.0.0.3
    start_sip_acdd 20 40 100
    write_options
    write_invite
    got="$(send_raw --bind "$flooder" "$dir/options.sip")"
    echo "before the flood: OPTIONS from $flooder -> $got"
    [[ "$(status_of "$got")" == 200 ]] || fail "OPTIONS from $flooder before the flood: $got"
    # Far above the limit: 200 OPTIONS at once, again until the ban is logged (one round
    # is enough unless datagrams are lost).
    round=0
    until grep -E "event=sip.source_banned source=$flooder " "$log" >/dev/null; do
      ((++round <= 10)) || fail "no ban of $flooder after $((round - 1)) floods of 200 OPTIONS"
      flood="$(send_raw --bind "$flooder" --flood 200 --wait 2 "$dir/options.sip")"
      echo "flood round $round from $flooder: $flood"
    done
    grep -E "event=sip.source_banned source=$flooder ban_s=60" "$log" >/dev/null ||
      fail "the ban line does not say 60 s: $(grep source_banned "$log")"
    replies="$(sed -E 's/.*replies=([0-9]+).*/\1/' <<<"$flood")"
    ((replies < 200)) || fail "all 200 flooded OPTIONS were answered: no flood guard"
    # Banned: neither OPTIONS nor INVITE (which would get 403) gets any response.
    for probe in options options invite; do
      got="$(send_raw --bind "$flooder" "$dir/$probe.sip")"
      echo "after the ban: ${probe^^} from $flooder -> $got"
      [[ "$got" == silence ]] || fail "the banned source got a response to ${probe^^}: $got"
    done
    # Not asserted: a request the parser rejects is answered (400) by sofia-sip's
    # transaction layer before acdd's flood guard sees it, so a banned source still gets
    # those answers.
    got="$(send_raw --bind "$flooder" "$here/torture/01-no-call-id.sip")"
    echo "after the ban: an OPTIONS without Call-ID from $flooder -> $got (not asserted)"
    (($(grep -c -E "event=sip.source_banned source=$flooder " "$log") == 1)) ||
      fail "the ban was logged more than once (requests while banned must not extend it)"
    # The trunk is unaffected: OPTIONS answered, an agent registers, a call completes.
    got="$(send_raw "$dir/options.sip")"
    echo "after the ban: OPTIONS from 127.0.0.1 -> $got"
    [[ "$(status_of "$got")" == 200 ]] || fail "OPTIONS from the trunk after the ban: $got"
    normal_call
    ! grep -E 'event=sip.source_banned source=127.0.0.1 ' "$log" >/dev/null ||
      fail "the trunk's address was banned"
    check_log_clean
    ;;

  overload_503)
    # sip.max_calls 3, nobody logged in: three callers wait in the queue; the fourth gets
    # 503 Service Unavailable with Retry-After 7 (sip.retry_after) and no call; the three
    # are unaffected: when Alice logs in she answers each, and after them a new call is
    # accepted again.
    start_sip_acdd 1000 2000 3
    write_invite
    waiting=()
    for i in 1 2 3; do
      start_caller caller_wait_bye.xml 100
      waiting+=("$last_pid")
      wait_log 'event=call.queued' "$i"
    done
    got="$(send_raw --header Retry-After "$dir/invite.sip")"
    echo "fourth caller (INVITE over UDP) -> $(tr '\n' ' ' <<<"$got")"
    [[ "$(status_of "$got")" == 503 ]] || fail "the fourth caller got: $got"
    grep -E '^Retry-After: 7( |;|$)' <<<"$got" >/dev/null ||
      fail "the 503 has no Retry-After: 7 (sip.retry_after is 7s): $got"
    got="$(send_raw --transport tcp --header Retry-After "$dir/invite.sip")"
    echo "fifth caller (INVITE over TCP) -> $(tr '\n' ' ' <<<"$got")"
    [[ "$(status_of "$got")" == 503 ]] || fail "the fifth caller got: $got"
    grep -E '^Retry-After: 7( |;|$)' <<<"$got" >/dev/null || fail "no Retry-After: 7: $got"
    wait_log 'event=sip.overload calls=3 ' 2
    ((($(grep -c -E 'event=sip.call_arrived' "$log")) == 3)) ||
      fail "a refused caller became a call: $(grep -c -E 'event=sip.call_arrived' "$log") arrived"
    ! grep -E 'event=call.finished' "$log" >/dev/null ||
      fail "a waiting call ended because of the overload: $(grep -E 'event=call.finished' "$log")"
    for i in 1 2 3; do
      kill -0 "${waiting[$((i - 1))]}" 2>/dev/null || fail "waiting caller $i is gone"
    done
    # The waiting calls: Alice answers each in turn and hangs up (caller_wait_bye: the
    # caller expects the engine's BYE), then one more call is accepted and completes.
    start_ready_phone alice agent_answer_hangup.xml 4 -d 300
    alice=$last_pid
    for i in 1 2 3; do
      wait_pid "${waiting[$((i - 1))]}" "waiting caller $i"
      expect_finished "$i" completed alice
    done
    start_caller caller_wait_bye.xml 100
    wait_pid "$last_pid" "the caller after the overload"
    wait_pid "$alice" "alice's phone"
    expect_finished 4 completed alice
    check_log_clean
    ;;

  malformed)
    # Every torture message (torture/*.sip), over each transport its "# transport:" line
    # names. The outcome (a status code, or silence, closed, pong, stun: see sip_send.pl)
    # must be one of its "# expect:" outcomes; one of its "# known:" outcomes is a known
    # gap of the daemon (reported in the table, not a failure). After each message acdd
    # must still be running. An INVITE that was accepted (2xx) is ended by sip_send.pl and
    # must be the only kind of message that made a call. Then OPTIONS and a normal call.
    start_sip_acdd
    row() { printf '%-30s %-4s %-18s %-46s %s\n' "$@"; }
    row MESSAGE VIA EXPECTED GOT RESULT
    bad=0
    count=0
    gaps=0
    accepted=0
    for file in "$here"/torture/*.sip; do
      name="$(basename "$file" .sip)"
      expect="$(sed -n 's/^# expect:[[:space:]]*//p' "$file")"
      known="$(sed -n 's/^# known:[[:space:]]*\([^(]*\).*/\1/p' "$file")"
      transports="$(sed -n 's/^# transport:[[:space:]]*//p' "$file")"
      [[ -n "$expect" && -n "$transports" ]] || fail "$file has no '# expect:' or '# transport:'"
      for transport in $transports; do
        got="$(send_raw --transport "$transport" "$file")"
        outcome="$(status_of "$got")"
        [[ -n "$outcome" ]] || outcome="${got%%:*}"
        if [[ " $expect " == *" $outcome "* ]]; then
          verdict=ok
        elif [[ " $known " == *" $outcome "* ]]; then
          verdict="KNOWN GAP"
          gaps=$((gaps + 1))
        else
          verdict=UNEXPECTED
          bad=$((bad + 1))
        fi
        if [[ "$outcome" == 2?? && "$(grep -m 1 -v '^#' "$file")" == "INVITE "* ]]; then
          accepted=$((accepted + 1))
        fi
        count=$((count + 1))
        row "$name" "$transport" "${expect// /|}" "${got:0:46}" "$verdict"
        kill -0 "$acdd_pid" 2>/dev/null || fail "acdd died after $name over $transport"
      done
    done
    echo "$count messages: $((count - bad - gaps)) as expected, $gaps known gaps, $bad unexpected"
    ((count >= 20)) || fail "only $count torture messages were sent"
    ((bad == 0)) || fail "$bad of $count torture messages got an unexpected result (table above)"
    arrived="$(grep -c -E 'event=sip.call_arrived' "$log" || true)"
    ((arrived == accepted)) ||
      fail "$arrived calls arrived, but only $accepted torture INVITEs were accepted"
    # The accepted ones were hung up at once by sip_send.pl: none may be left.
    wait_log 'event=sip.call_ended' "$accepted"
    # Still serving: OPTIONS over both transports, and a call.
    write_options
    for transport in udp tcp; do
      got="$(send_raw --transport "$transport" "$dir/options.sip")"
      [[ "$(status_of "$got")" == 200 ]] || fail "OPTIONS over $transport after the torture: $got"
    done
    normal_call
    check_log_clean
    ;;

  slow_tcp)
    # A slow-loris over TCP: half an INVITE, then nothing. The daemon gives the message up
    # and closes the connection (32 s without a byte; the wait here allows 120 s), and
    # still serves calls meanwhile and afterwards.
    start_sip_acdd
    perl -MIO::Socket::INET -MIO::Select -e '
      my ($port) = @ARGV;
      my $s = IO::Socket::INET->new(Proto => "tcp", PeerAddr => "127.0.0.1:$port")
        or die "connect: $!\n";
      my $me = $s->sockport;
      print $s "INVITE sip:100\@127.0.0.1:$port SIP/2.0\r\n"
             . "Via: SIP/2.0/TCP 127.0.0.1:$me;branch=z9hG4bKslow$$\r\n"
             . "From: <sip:slow\@127.0.0.1>;tag=s$$\r\n";
      $s->flush;
      my $sel = IO::Select->new($s);
      my $t0 = time;
      while (time - $t0 < 120) {
        next unless $sel->can_read(1);
        my $n = sysread($s, my $buf, 4096);
        if (!$n) { printf "closed after %d s\n", time - $t0; exit 0 }
      }
      print "still open after 120 s\n";
      exit 1;' "$tcp_port" >"$dir/slow.out" 2>&1 &
    slow=$!
    pids+=("$slow")
    normal_call  # served while the slow connection hangs
    rc=0
    wait "$slow" || rc=$?
    cat "$dir/slow.out"
    ((rc == 0)) || fail "the half-sent message kept its connection open: $(cat "$dir/slow.out")"
    normal_call
    check_log_clean
    ;;

  *)
    fail "unknown case $case_name"
    ;;
esac

stop_acdd
echo "PASS: $case_name"
