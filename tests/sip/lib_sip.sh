# Shared by the SIP black-box tests (sourced after ../lib.sh): starts acdd with SIP on
# loopback ports the kernel chooses, and drives it with SIPp callers (UAC) and agents'
# phones (UAS that first register with digest authentication).
#   Expects: $here (this directory), $dir, $log. Provides: start_sip_acdd, sip_port,
#   free_port, register_agent, start_agent, run_caller, start_caller, wait_pid.
scenarios="$here/scenarios"
command -v sipp >/dev/null || fail "sipp (Debian package sip-tester) is not installed"

# Writes the test configuration with the given flood and overload limits and starts acdd;
# ALLOW_EXTERNAL=true lets the tenant's agents transfer calls to outside numbers;
# API_TLS="tls: {...}" adds api.tls.
start_sip_acdd() {
  local rate="${1:-1000}" burst="${2:-2000}" max_calls="${3:-100}"
  out_port="$(free_port)"  # where the trunk's outbound calls go (a SIPp "carrier")
  # A self-signed certificate for the TLS listener (sofia-sip reads agent.pem: key and
  # certificate), made fresh for every test.
  mkdir -p "$dir/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" >/dev/null 2>&1 ||
    fail "openssl could not make a test certificate"
  cat "$dir/tls/key.pem" "$dir/tls/cert.pem" >"$dir/tls/agent.pem"
  write_tone_wav "$dir/moh.wav" 600 16000 3
  mkdir -p "$dir/prompts"
  write_tone_wav "$dir/prompts/main.wav" 300 8000 1
  write_tone_wav "$dir/prompts/invalid.wav" 500 8000 0.3
  write_tone_wav "$dir/prompts/voicemail.wav" 700 8000 0.5
  write_tone_wav "$dir/prompts/position.wav" 800 8000 0.4
  write_tone_wav "$dir/prompts/breakout.wav" 1100 8000 0.4
  write_tone_wav "$dir/prompts/callback.wav" 1200 8000 0.5
  write_tone_wav "$dir/prompts/goodbye.wav" 1300 8000 0.5
  mkdir -p "$dir/prompts/digits"
  write_tone_wav "$dir/prompts/digits/1.wav" 900 8000 0.2
  sed -e "s|@DIR@|$dir|g" -e "s|@RATE@|$rate|g" -e "s|@BURST@|$burst|g" \
      -e "s|@OUT_PORT@|$out_port|g" -e "s|@ALLOW_EXTERNAL@|${ALLOW_EXTERNAL:-false}|g" \
      -e "s|@MAX_CALLS@|$max_calls|g" -e "s|@ANNOUNCE@|${ANNOUNCE:-0s}|g" \
      -e "s|@WRAP_UP@|${WRAP_UP:-0s}|g" -e "s|@LOGIN@|${REGISTER_LOGIN:-ready}|g" \
      -e "s|@API_TLS@|${API_TLS:-}|g" -e "s|@FLOW_LOOKUP_TIMEOUT@|${FLOW_LOOKUP_TIMEOUT:-3s}|g" \
      "$here/sip_test.yaml" >"$dir/acdd.yaml"
  start_acdd "$dir/acdd.yaml"
  wait_log 'event=started'
  udp_port="$(sip_port udp)"
  tcp_port="$(sip_port tcp)"
  tls_port="$(sip_port tls)"
}

# write_tone_wav FILE HZ RATE SECONDS: a mono 16-bit WAV of a sine at half scale.
write_tone_wav() {
  perl -e '
    my ($file, $hz, $rate, $seconds) = @ARGV;
    my $n = $rate * $seconds;
    my $data = pack("s<*", map { int(16383 * sin(2 * 3.14159265358979 * $hz * $_ / $rate)) } 0 .. $n - 1);
    open(my $f, ">:raw", $file) or die "$file: $!";
    print $f "RIFF", pack("V", 36 + length $data), "WAVE", "fmt ",
      pack("VvvVVvv", 16, 1, 1, $rate, $rate * 2, 2, 16), "data", pack("V", length $data), $data;
    close $f;' "$@" || fail "could not write $1"
}

# The port acdd bound for a transport, from its sip.listening log line.
sip_port() {
  grep -E "event=sip.listening transport=$1 " "$log" | head -n 1 | sed -E 's/.* port=([0-9]+).*/\1/'
}

# A port free for both UDP and TCP now (the kernel's choice; perl-base is always there).
free_port() {
  perl -MIO::Socket::INET -e '
    for (1 .. 50) {
      my $u = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:0") or next;
      my $p = $u->sockport;
      my $t = IO::Socket::INET->new(Proto => "tcp", LocalAddr => "127.0.0.1:$p", Listen => 1)
        or next;
      print "$p\n";
      exit 0;
    }
    exit 1;'
}

sipp_common=(-nostdin -timeout 60s -timeout_error -trace_err -max_retrans 10)

# SIPp options for TLS (-t l1) with the test's certificate.
sipp_tls() { echo -t l1 -tls_cert "$dir/tls/cert.pem" -tls_key "$dir/tls/key.pem"; }

# register_agent NAME PASSWORD PORT [EXPIRES [TRANSPORT]]: registers NAME's phone with
# the contact 127.0.0.1:PORT (where its UAS scenario listens, before or after), over
# TRANSPORT (udp, the default, or tls).
register_agent() {
  local name="$1" password="$2" port="$3" expires="${4:-3600}" transport="${5:-udp}"
  local target=127.0.0.1:"$udp_port" options=()
  if [[ "$transport" == tls ]]; then
    target=127.0.0.1:"$tls_port"
    read -r -a options <<<"$(sipp_tls)"
  fi
  run_uac "$dir/register-$name.out" "${options[@]}" -sf "$scenarios/register.xml" -s "$name" \
    -au "$name" -ap "$password" -i 127.0.0.1 -set expires "$expires" \
    -set contact_port "$port" -error_file "$dir/register-$name.err" "$target" ||
    fail "agent $name could not register (see $dir/register-$name.err)"
}

# run_uac OUT SIPP_OPTIONS...: one SIPp UAC call in the foreground on ports of its own
# (output in OUT), run again on other ports when one was taken by a test running in
# parallel; returns SIPp's exit status.
run_uac() {
  local out="$1" attempt rc=0
  shift
  for attempt in 1 2 3 4 5; do
    rc=0
    sipp "${sipp_common[@]}" "$@" -p "$(free_port)" -mp "$(free_port)" -m 1 >"$out" 2>&1 || rc=$?
    ((rc != 0)) && grep -q 'Unable to bind' "$out" || return "$rc"
  done
  return "$rc"
}

# udp_bound PORT: something has bound UDP 127.0.0.1:PORT (read from /proc/net/udp, so the
# check never holds the port itself).
udp_bound() {
  grep -qE "^ *[0-9]+: 0100007F:$(printf '%04X' "$1") " /proc/net/udp
}

# sipp_started PID OUT PORT [MEDIA_PORT]: waits until the SIPp started as PID (its output
# in OUT) has bound PORT and, with MEDIA_PORT, its audio and video echo sockets MEDIA_PORT
# and MEDIA_PORT+2. Returns 1 when it exited because one of them was taken (another test
# running in parallel got the same free port first), so the caller can retry with others.
sipp_started() {
  local pid="$1" out="$2" port="$3" media="${4:-}" deadline=$((SECONDS + 30))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      ! grep -q 'Unable to bind' "$out" 2>/dev/null || return 1
      return 0  # finished (or failed for another reason, which wait_pid reports)
    fi
    if udp_bound "$port" && { [[ -z "$media" ]] || { udp_bound "$media" && udp_bound $((media + 2)); }; }; then
      return 0
    fi
    ((SECONDS < deadline)) || fail "SIPp (pid $pid) did not bind port $port within 30 s"
    sleep 0.05
  done
}

# start_agent SCENARIO PORT [CALLS [sipp options...]]: the phone's UAS in the background
# (-d: how long an agent who hangs up talks, default 1 s); sets $last_pid. PORT is the
# registered contact and stays; a media port someone else took is replaced.
start_agent() {
  local scenario="$1" port="$2" calls="${3:-1}" media attempt
  shift 2
  (($# == 0)) || shift
  for attempt in 1 2 3 4 5; do
    media="$(free_port)"
    sipp "${sipp_common[@]}" -sf "$scenarios/$scenario" -i 127.0.0.1 -p "$port" \
      -mp "$media" -m "$calls" -d 1000 "$@" -error_file "$dir/agent-$port.err" \
      -trace_msg -message_file "$dir/agent-$port.msg" >"$dir/agent-$port.out" 2>&1 &
    last_pid=$!
    sipp_started "$last_pid" "$dir/agent-$port.out" "$port" "$media" && break
    ((attempt < 5)) || fail "the SIPp phone on port $port could not bind its ports (see $dir/agent-$port.out)"
  done
  pids+=("$last_pid")
  kill -0 "$last_pid" 2>/dev/null ||
    fail "the SIPp phone on port $port exited at start (see $dir/agent-$port.err)"
}

# wait_udp_bound PORT PID: waits until something (the process started as PID) has bound
# UDP 127.0.0.1:PORT, so a packet sent to it is not lost to an ICMP "port unreachable".
wait_udp_bound() {
  local port="$1" pid="$2" deadline=$((SECONDS + 30))
  until udp_bound "$port"; do
    kill -0 "$pid" 2>/dev/null || fail "the process on port $port exited at start (pid $pid)"
    ((SECONDS < deadline)) || fail "nothing bound port $port within 30 s"
    sleep 0.05
  done
}

# start_uac NAME TARGET SIPP_OPTIONS...: a SIPp UAC (caller or phone) in the background on
# ports of its own, retried on other ports when one was taken; its files are
# $dir/NAME-PORT.{err,msg,out}. Sets $last_pid.
start_uac() {
  local name="$1" target="$2" port media attempt
  shift 2
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    media="$(free_port)"
    sipp "${sipp_common[@]}" "$@" -i 127.0.0.1 -p "$port" -mp "$media" -m 1 \
      -error_file "$dir/$name-$port.err" -trace_msg -message_file "$dir/$name-$port.msg" \
      "$target" >"$dir/$name-$port.out" 2>&1 &
    last_pid=$!
    sipp_started "$last_pid" "$dir/$name-$port.out" "$port" "$media" && break
    ((attempt < 5)) || fail "SIPp ($name) could not bind its ports (see $dir/$name-$port.out)"
  done
  pids+=("$last_pid")
}

# start_phone_call AGENT DIALLED: AGENT's phone (authenticating) calls DIALLED and waits
# for the far end to hang up; sets $last_pid.
start_phone_call() {
  local user="$1" dialled="$2"
  shift 2
  start_uac phone 127.0.0.1:"$udp_port" -sf "$scenarios/phone_call.xml" -s "$dialled" \
    -set user "$user" -au "$user" -ap "$user-secret" "$@"
}

# start_caller SCENARIO DID [sipp options...]: one call in the background; sets $last_pid.
start_caller() {
  local scenario="$1" did="$2"
  shift 2
  start_uac caller 127.0.0.1:"$udp_port" -sf "$scenarios/$scenario" -s "$did" "$@"
}

# wait_pid PID WHAT: waits for a SIPp run and fails unless every call of it succeeded.
wait_pid() {
  local rc=0
  wait "$1" || rc=$?
  ((rc == 0)) || fail "$2: SIPp exited with $rc (files in $dir)"
}

# The call id acdd gave the n-th call that arrived (1-based).
call_id_of() {
  grep -E 'event=sip.call_arrived' "$log" | sed -n "${1}p" | sed -E 's/.* call=([0-9]+).*/\1/'
}

# wait_record N EXPR WANT: the N-th call's row of calls reaches the database (the record
# store ships asynchronously: waits up to 60 s) with EXPR (SQL over that row) = WANT.
wait_record() {
  local call got="" deadline=$((SECONDS + 60))
  call="$(call_id_of "$1")"
  [[ -n "$call" ]] || fail "no call number $1 arrived"
  while :; do
    got="$(sql "SELECT $2 FROM calls WHERE call_id = $call" 2>/dev/null || true)"
    [[ "$got" == "$3" ]] && return 0
    [[ -z "$got" ]] || fail "call $1 ($call) was recorded with $2 = \"$got\", not \"$3\""
    ((SECONDS < deadline)) || fail "call $1 ($call) has no record in the database after 60 s"
    sleep 0.2
  done
}

# expect_end_reason N REASON: the N-th call's record has end_reason REASON.
expect_end_reason() {
  wait_record "$1" "coalesce(end_reason, '(null)')" "$2"
}

# expect_ended_before_queue N STATE REASON: a menu or a flow ended the N-th call before
# any queue: the core says so, and its record (inbound, no queue, no agent) has final
# state STATE and end_reason REASON.
expect_ended_before_queue() {
  local call
  call="$(call_id_of "$1")"
  wait_log "event=call.ended_before_queue tenant=acme call=$call .*state=$2 end_reason=$3"
  wait_record "$1" "direction || ' ' || final_state || ' ' || coalesce(end_reason, '-') || ' ' ||
    coalesce(first_queue, '-') || ' ' || coalesce(agent, '-') || ' ' || queues" \
    "inbound $2 $3 - - 0"
}

# expect_finished N STATE [AGENT]: the N-th call that arrived finished in STATE (with AGENT).
expect_finished() {
  local call
  call="$(call_id_of "$1")"
  [[ -n "$call" ]] || fail "no call number $1 arrived"
  wait_log "event=call.finished tenant=acme call=$call .*state=$2"
  if [[ -n "${3:-}" ]]; then
    grep -E "event=call.finished tenant=acme call=$call .*agent=$3" "$log" >/dev/null ||
      fail "call $1 ($call) was not answered by $3: $(grep "call=$call" "$log" | grep finished)"
  fi
}
