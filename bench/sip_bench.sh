#!/usr/bin/env bash
# SIP call-rate benchmark of the full path, against Kamailio as a reference:
#
#   bench/sip_bench.sh [ACDD]        (ACDD: the acdd binary; default $ACDD, else acdd on PATH)
#
# acd: a SIPp caller (UAC, from the trunk address 127.0.0.1) calls a DID of one queue; acdd
# answers it at once, queues it, INVITEs the longest-idle agent's phone, ACKs its 200 and
# bridges; the caller hangs up after SIP_BENCH_HOLD_MS and acdd sends BYE to the agent.
# The agents' phones are SIPp UAS processes (SIP_BENCH_UAS of them, on their own ports);
# every agent REGISTERs (digest) with the Contact of one of them, which logs it in Ready.
# Kamailio: the same caller and the same UAS processes, Kamailio in between as a plain
# stateful proxy (tm t_relay, record_route, dispatcher round-robin over the UAS ports).
#
# For each target the caller runs at increasing rates (SIP_BENCH_RATES, calls per second,
# SIP_BENCH_STEP_SECONDS of traffic per step) until a step has a failed call: a call fails
# when the caller's SIPp counts it failed (error response, timeout, retransmissions
# exhausted) or when no agent phone answered it (acd answers the caller itself, so an
# unbridged call would look fine to the caller). Per step it prints (legend at the end):
#   ans     caller INVITE sent -> 200 received at the caller (SIPp, gettimeofday), p50/p99;
#           acd answers at once, so this is its INVITE handling; through Kamailio it is
#           the agent phone's answer.
#   set     caller INVITE sent -> the agent's phone receives the ACK of its 200: the full
#           call setup (queue, agent INVITE, answer, ACK), p50/p99; the caller's send time
#           travels in the From user part, which acd passes on as the caller number.
#   retr, drops   the caller's retransmissions, datagrams dropped at the target's socket.
#   cpu, ms/call  the target's CPU (acdd; Kamailio's processes), with acdd's embedded
#           PostgreSQL, acdd's threads (named from their stacks with gdb), the SIPp
#           processes and the whole host beside it; acdd's RSS.
# Then the best rate with zero failed calls of each, CPU time per call there, their ratio
# (target: acd >= 0.5 x Kamailio) and acdd's peak RSS (VmHWM). Every agent takes one call
# at a time: rates above SIP_BENCH_AGENTS / (hold + 0.2 s) are not tried on acd.
#
# Environment (defaults in parentheses):
#   ACD_BENCH_SCALE=small  a smoke run: few agents and calls, one low rate (bench/sip_smoke)
#   SIP_BENCH_TARGETS      ("acd kamailio")
#   SIP_BENCH_RATES        ("50 100 200 300 400 500 600 800 1000 1200 1500 2000 2500 3000")
#   SIP_BENCH_STEP_SECONDS (8; at least SIP_BENCH_MIN_CALLS (200) calls per step)
#   SIP_BENCH_AGENTS       (1500)    SIP_BENCH_UAS (4)
#   SIP_BENCH_HOLD_MS      (1000)    SIP_BENCH_RING_MS (0: the phone answers at once)
#   SIP_BENCH_LOG_LEVEL    (warn; acdd's log level)
#   SIP_BENCH_KAMAILIO_CHILDREN (2; UDP worker processes)
#   SIP_BENCH_KEEP=1       keep the temporary directory (logs, configs, SIPp files)
#   SIP_BENCH_TRACE=1      the agent UAS also write every message (agent-PORT.msg)
# Exit status: 0 when every target got through its first step with no failed call, 1 if
# not, 2 on a setup error, 77 when sipp, kamailio or perl is missing (ctest: skipped).
# Only loopback addresses are used; only processes this script started are stopped (by pid).
set -euo pipefail

acdd="${1:-${ACDD:-$(command -v acdd || true)}}"
[[ -n "$acdd" && -x "$acdd" ]] || { echo "usage: $0 ACDD (the acdd binary)" >&2; exit 2; }
acdd="$(cd "$(dirname "$acdd")" && pwd)/$(basename "$acdd")"
for tool in sipp kamailio perl; do
  command -v "$tool" >/dev/null || { echo "sip_bench: $tool is not installed (skipped)" >&2; exit 77; }
done

if [[ "${ACD_BENCH_SCALE:-}" == small ]]; then
  : "${SIP_BENCH_RATES:=10}" "${SIP_BENCH_STEP_SECONDS:=1}" "${SIP_BENCH_MIN_CALLS:=10}"
  : "${SIP_BENCH_AGENTS:=8}" "${SIP_BENCH_UAS:=2}" "${SIP_BENCH_HOLD_MS:=300}"
  : "${SIP_BENCH_WARMUP_CALLS:=0}"
fi
targets="${SIP_BENCH_TARGETS:-acd kamailio}"
rates="${SIP_BENCH_RATES:-50 100 200 300 400 500 600 800 1000 1200 1500 2000 2500 3000}"
step_seconds="${SIP_BENCH_STEP_SECONDS:-8}"
min_calls="${SIP_BENCH_MIN_CALLS:-200}"
n_agents="${SIP_BENCH_AGENTS:-1500}"
n_uas="${SIP_BENCH_UAS:-4}"
hold_ms="${SIP_BENCH_HOLD_MS:-1000}"
ring_ms="${SIP_BENCH_RING_MS:-0}"
log_level="${SIP_BENCH_LOG_LEVEL:-warn}"
k_children="${SIP_BENCH_KAMAILIO_CHILDREN:-2}"
warmup_calls="${SIP_BENCH_WARMUP_CALLS:-50}"
trace="${SIP_BENCH_TRACE:-}"
hz="$(getconf CLK_TCK)"

dir="$(mktemp -d "${TMPDIR:-/tmp}/acd-sip-bench-XXXXXX")"
chmod 711 "$dir"  # the embedded cluster runs as postgres when we are root
pids=()           # everything started here, stopped by pid on exit
acdd_pid=
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

# Whether PID is still a process this script started (not waited for, not a reused pid).
is_child() {
  local f
  f="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  f="${f##*) }"
  local -a a
  read -r -a a <<<"$f"
  [[ "${a[1]}" == "$$" && "${a[0]}" != Z ]]
}

cleanup() {
  local rc=$?
  if [[ -n "$acdd_pid" ]] && kill -0 "$acdd_pid" 2>/dev/null; then
    kill -TERM "$acdd_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$acdd_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  local pid live=()
  for pid in "${pids[@]}"; do is_child "$pid" && live+=("$pid"); done
  for pid in "${live[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  ((${#live[@]} == 0)) || sleep 0.3
  for pid in "${live[@]}"; do is_child "$pid" && kill -KILL "$pid" 2>/dev/null; done
  if [[ -f "$dir/pg/data/postmaster.pid" && -n "$pg_bin" ]]; then  # acdd did not stop it
    if ((EUID == 0)); then
      runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg/data" stop -m immediate >/dev/null 2>&1 || true
    else
      "$pg_bin/pg_ctl" -D "$dir/pg/data" stop -m immediate >/dev/null 2>&1 || true
    fi
  fi
  if [[ -n "${SIP_BENCH_KEEP:-}" || $rc -ne 0 ]]; then
    echo "sip_bench: files kept in $dir"
  else
    rm -rf "$dir"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "sip_bench: $*" >&2; exit 2; }
say() { echo "$*" >&2; }

# A loopback port free for UDP now (the kernel's choice).
free_port() {
  perl -MIO::Socket::INET -e '
    my $u = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:0") or exit 1;
    print $u->sockport, "\n";'
}

# Waits until a SIP server answers OPTIONS on 127.0.0.1:PORT (any response), or fails.
wait_sip() {
  local port="$1" limit="$2" pid="$3"
  local deadline=$((SECONDS + limit))
  until perl -MIO::Socket::INET -e '
      my ($port) = @ARGV;
      my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:0",
                                    PeerAddr => "127.0.0.1:$port") or exit 1;
      my $me = $s->sockport;
      my $m = "OPTIONS sip:probe\@127.0.0.1:$port SIP/2.0\r\n"
            . "Via: SIP/2.0/UDP 127.0.0.1:$me;branch=z9hG4bK-probe$$\r\n"
            . "From: <sip:probe\@127.0.0.1:$me>;tag=p$$\r\nTo: <sip:probe\@127.0.0.1:$port>\r\n"
            . "Call-ID: probe-$$\@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            . "Content-Length: 0\r\n\r\n";
      $s->send($m) or exit 1;
      my $rin = ""; vec($rin, fileno($s), 1) = 1;
      # (a refused port makes the socket readable too: only a SIP response counts)
      exit 1 unless select($rin, undef, undef, 0.5) > 0;
      defined $s->recv(my $buf, 65535) or exit 1;
      exit($buf =~ m{^SIP/2\.0 \d+} ? 0 : 1);' "$port"; do
    kill -0 "$pid" 2>/dev/null || die "the server on port $port exited (see $dir)"
    ((SECONDS < deadline)) || die "no SIP answer on port $port after ${limit}s (see $dir)"
    sleep 0.2
  done
}

# ---- SIPp scenarios --------------------------------------------------------------------

# The caller: INVITE with its send time in the From user, 200, ACK, hold, BYE. Logs
# "C step invite_s invite_us ok_s ok_us" per answered call.
cat >"$dir/caller.xml" <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench-caller">
  <Global variables="step"/>
  <nop><action><gettimeofday assign_to="s0,u0"/></action></nop>
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:s[$step]t[$s0]u[$u0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 8 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"><action><gettimeofday assign_to="s1,u1"/></action></recv>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:s[$step]t[$s0]u[$u0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop><action><log message="C [$step] [$s0] [$u0] [$s1] [$u1]"/></action></nop>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:s[$step]t[$s0]u[$u0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
EOF

# An agent's phone: INVITE, (180, ring,) 200 with SDP, ACK, BYE, 200. Logs
# "A sip:<caller's From user>@ ack_s ack_us" per completed call. Copies Record-Route
# (Kamailio's) into its responses, as a UAS must. With no ring time there is no 180: sent
# back to back, 180 and 200 may pass each other in Kamailio's worker processes, and the
# caller's SIPp scenario would count a 180 after the 200 as a failure.
ringing=""
if ((ring_ms > 0)); then
  ringing="<send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds=\"$ring_ms\"/>"
fi
cat >"$dir/agent.xml" <<EOF
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench-agent">
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="sip:[^@>;]*@" search_in="hdr" header="From:" check_it="true" assign_to="who"/></action>
  </recv>
  $ringing
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"><action><gettimeofday assign_to="as,au"/></action></recv>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <nop><action><log message="A [\$who] [\$as] [\$au]"/></action></nop>
</scenario>
EOF

# ---- processes and CPU -----------------------------------------------------------------

uas_ports=()
uas_pids=()
start_uas() {
  local i port
  for ((i = 0; i < n_uas; i++)); do
    port="$(free_port)"
    sipp -nostdin -sf "$dir/agent.xml" -i 127.0.0.1 -p "$port" -mp "$(free_port)" -t u1 \
      -recv_timeout 30000 -trace_err -error_file "$dir/agent-$port.err" \
      -log_file "$dir/agent-$port.log" -trace_logs ${trace:+-trace_msg -message_file "$dir/agent-$port.msg"} >"$dir/agent-$port.out" 2>&1 &
    pids+=($!)
    uas_pids+=($!)
    uas_ports+=("$port")
  done
  sleep 0.5
  for pid in "${uas_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || die "an agent UAS (SIPp) did not start (see $dir/agent-*.out)"
  done
}

# The CPU time (clock ticks) of processes: "pid..." -> total.
ticks_of() {
  local pid total=0 f
  for pid in "$@"; do
    f="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
    f="${f##*) }"  # the fields after "(comm) "
    local -a a
    read -r -a a <<<"$f"
    total=$((total + a[11] + a[12]))
  done
  echo "$total"
}

# The children of a process (for PostgreSQL's and Kamailio's worker processes).
children_of() {
  perl -e 'my $parent = shift;
    for my $stat (glob "/proc/[0-9]*/stat") {
      open my $f, "<", $stat or next;
      my $s = <$f> // next;
      $s =~ s/.*\) //s;
      my @a = split " ", $s;
      print $stat =~ m{/proc/(\d+)/}, "\n" if $a[1] == $parent;
    }' "$1"
}

# Per-thread ticks of acdd: "tid ticks" lines.
thread_ticks() {
  local t f
  for t in /proc/"$1"/task/*; do
    f="$(cat "$t/stat" 2>/dev/null)" || continue
    f="${f##*) }"
    local -a a
    read -r -a a <<<"$f"
    echo "${t##*/} $((a[11] + a[12]))"
  done
}

# acdd's threads by role ("tid role" lines), from their stacks (gdb, when installed; the
# threads have no names of their own). Without gdb the thread ids stand for themselves.
name_threads() {
  : >"$dir/threads.names"
  command -v gdb >/dev/null || return 0
  gdb -p "$1" -batch -ex "thread apply all bt 40" 2>/dev/null | perl -ne '
    if (/^Thread \d+ .*\(LWP (\d+)\)/) { $tid = $1; next }
    next unless defined $tid && !$seen{$tid};
    my $role = /SofiaSipService::run/ ? "sip" : /CoreThread/ ? "core"
             : /ship_loop/ ? "ship" : /append_loop/ ? "spool" : /ConfigWatcher/ ? "watcher"
             : /Daemon::run|\bmain \(/ ? "main" : undef;
    if ($role) { print "$tid $role\n"; $seen{$tid} = 1 }' >"$dir/threads.names" || true
}

# ---- targets ---------------------------------------------------------------------------

target_port=
target_pids=()  # the target's own processes, for CPU accounting
pg_pids=()

start_acd() {
  local port rtp_min=10000 rtp_max=29999
  port="$(free_port)"
  {
    cat <<EOF
# Written by bench/sip_bench.sh.
log:
  level: $log_level
database:
  data_dir: $dir/pg
  spool_dir: $dir/spool
shutdown:
  drain_timeout: 5s
demo:
  enabled: false
sip:
  enabled: true
  listen:
    - {transport: udp, address: 127.0.0.1, port: $port}
  media: {rtp_port_min: $rtp_min, rtp_port_max: $rtp_max}
  rate_limit: {requests_per_second: 1000000, burst: 1000000, ban_time: 1s}
  max_calls: 100000
  retry_after: 1s
  registration: {min_expires: 60s, max_expires: 1h, default_expires: 1h, login: ready}
tenants:
  - name: bench
    sip_realm: bench.test
    agents:
EOF
    # Agents a00001...: ha1 = md5(username:realm:password), the password being the name.
    perl -MDigest::MD5=md5_hex -e 'for my $i (1 .. $ARGV[0]) { my $n = sprintf "a%05d", $i;
      printf "      - {name: %s, extension: \"%d\", sip: {username: %s, ha1: %s}}\n",
        $n, 100000 + $i, $n, md5_hex("$n:bench.test:$n") }' "$n_agents"
    cat <<EOF
    queues:
      - name: q
        strategy: longest-idle
        ring_timeout: 10s
        wrap_up: 0s
        members:
EOF
    perl -e 'printf "          - {agent: a%05d}\n", $_ for 1 .. $ARGV[0]' "$n_agents"
    cat <<EOF
    trunks:
      - name: sipp
        allowed_sources: [127.0.0.1]
        dids:
          - {number: "100", queue: q}
EOF
  } >"$dir/acdd.yaml"
  "$acdd" --check --config "$dir/acdd.yaml" >"$dir/acdd-check.log" 2>&1 ||
    die "acdd rejects the generated configuration: $(head -n 5 "$dir/acdd-check.log")"
  "$acdd" --config "$dir/acdd.yaml" >>"$dir/acdd.log" 2>&1 &
  acdd_pid=$!
  pids+=("$acdd_pid")
  wait_sip "$port" 180 "$acdd_pid"
  target_port="$port"
  target_pids=("$acdd_pid")
  local postmaster
  postmaster="$(head -n 1 "$dir/pg/data/postmaster.pid" 2>/dev/null || true)"
  pg_pids=()
  if [[ -n "$postmaster" ]]; then
    pg_pids=("$postmaster")
    while read -r c; do pg_pids+=("$c"); done < <(children_of "$postmaster")
  fi

  # Every agent registers (digest, done here in perl: SIPp 3.6 cannot take per-call
  # credentials from an injection file), its Contact being one of the UAS (agent i ->
  # UAS i mod n). A window of registrations in flight, retransmitted after 500 ms.
  local i name
  local -a names=()
  for ((i = 1; i <= n_agents; i++)); do
    printf -v name 'a%05d' "$i"
    names+=("$name:${uas_ports[$(((i - 1) % n_uas))]}")
  done
  perl -MIO::Socket::INET -MDigest::MD5=md5_hex -MTime::HiRes=time -e '
    my ($port, @agents) = @ARGV;
    my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1:0",
                                  PeerAddr => "127.0.0.1:$port") or die "socket: $!\n";
    my $me = $s->sockport;
    my (%live, $next, $done);
    my $send = sub {
      my ($c) = @_;
      my ($user, $uas) = @{$c}{qw(user uas)};
      my $uri = "sip:127.0.0.1:$port";
      my $m = "REGISTER $uri SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:$me;branch=z9hG4bK-$c->{id}-$c->{cseq}\r\n"
            . "From: <sip:$user\@bench.test>;tag=r$c->{id}\r\nTo: <sip:$user\@bench.test>\r\n"
            . "Call-ID: reg-$c->{id}-$$\@127.0.0.1\r\nCSeq: $c->{cseq} REGISTER\r\n"
            . "Contact: <sip:$user\@127.0.0.1:$uas>\r\nExpires: 3600\r\nMax-Forwards: 70\r\n";
      if ($c->{nonce}) {
        my $ha1 = md5_hex("$user:$c->{realm}:$user");  # the password is the name
        my $ha2 = md5_hex("REGISTER:$uri");
        my $cnonce = "c$c->{id}";
        my $resp = md5_hex("$ha1:$c->{nonce}:00000001:$cnonce:auth:$ha2");
        # algorithm last, as SIPp does: acdd loses the last parameter of a long
        # Authorization header (in sofia-sip sip_header_as_string), and MD5 is the default.
        $m .= "Authorization: Digest username=\"$user\", realm=\"$c->{realm}\", cnonce=\"$cnonce\", "
            . "nc=00000001, qop=auth, uri=\"$uri\", nonce=\"$c->{nonce}\", response=\"$resp\", algorithm=MD5\r\n";
      }
      $s->send("${m}Content-Length: 0\r\n\r\n");
      $c->{sent} = time; $c->{tries}++;
      die "no answer to the REGISTER of $user\n" if $c->{tries} > 8;
    };
    my $start = sub {
      return if $next >= @agents;
      my ($user, $uas) = split /:/, $agents[$next];
      my $c = { id => $next, user => $user, uas => $uas, cseq => 1 };
      $live{$next++} = $c;
      $send->($c);
    };
    $next = 0; $done = 0;
    $start->() for 1 .. 50;
    while ($done < @agents) {
      my $rin = ""; vec($rin, fileno($s), 1) = 1;
      if (select(my $r = $rin, undef, undef, 0.1) > 0) {
        $s->recv(my $buf, 65535);
        my ($status) = $buf =~ m{^SIP/2.0 (\d+)} or next;
        my ($id) = $buf =~ m{^Call-ID:\s*reg-(\d+)-}mi or next;
        my ($cseq) = $buf =~ m{^CSeq:\s*(\d+)}mi;
        my $c = $live{$id} or next;
        next unless $cseq == $c->{cseq};
        if ($status == 401 && !$c->{nonce}) {
          ($c->{realm}) = $buf =~ m{realm="([^"]*)"};
          ($c->{nonce}) = $buf =~ m{nonce="([^"]*)"};
          $c->{cseq} = 2; $c->{tries} = 0;
          $send->($c);
        } elsif ($status == 200 && $c->{nonce}) {
          delete $live{$id}; $done++;
          $start->();
        } elsif ($status >= 300) {
          die "REGISTER of $c->{user}: $status\n";
        }
      }
      my $now = time;
      for my $c (values %live) { $send->($c) if $now - $c->{sent} > 0.5 }
    }' "$port" "${names[@]}" >"$dir/register.out" 2>&1 ||
    die "the agents could not register: $(cat "$dir/register.out")"
  name_threads "$acdd_pid"
  echo "acd: $n_agents agents registered; acdd RSS $(awk '/^VmRSS/ {printf "%d MB", $2 / 1024}' "/proc/$acdd_pid/status")"
  sleep 1  # the logins go through the core thread
}

stop_acd() {
  peak_rss="$(awk '/^VmHWM/ {print $2, $3}' "/proc/$acdd_pid/status" 2>/dev/null || echo "?")"
  kill -TERM "$acdd_pid" 2>/dev/null || true
  local rc=0
  wait "$acdd_pid" || rc=$?
  acdd_pid=
  ((rc == 0)) || say "sip_bench: acdd exited with $rc after SIGTERM (see $dir/acdd.log)"
  pg_pids=()
}

k_pid=
start_kamailio() {
  local port p
  port="$(free_port)"
  : >"$dir/dispatcher.list"
  for p in "${uas_ports[@]}"; do echo "1 sip:127.0.0.1:$p" >>"$dir/dispatcher.list"; done
  local mpath
  mpath="$(dirname "$(ls /usr/lib/*/kamailio/modules/tm.so /usr/lib/kamailio/modules/tm.so 2>/dev/null | head -n 1)")"
  [[ -n "$mpath" ]] || die "Kamailio's tm module was not found"
  cat >"$dir/kamailio.cfg" <<EOF
#!KAMAILIO
# Written by bench/sip_bench.sh: a plain stateful proxy on loopback.
debug=1
log_stderror=yes
children=$k_children
maxbuffer=4194304  # UDP receive buffer probing limit: as large as acdd's (sip.* TPTAG_UDP_RMEM)
listen=udp:127.0.0.1:$port
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
mpath="$mpath/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "pv.so"
loadmodule "dispatcher.so"
modparam("dispatcher", "list_file", "$dir/dispatcher.list")

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
  if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
  if (!is_method("INVITE")) { sl_send_reply("405", "Method Not Allowed"); exit; }
  t_check_trans();
  record_route();
  if (!ds_select_dst("1", "4")) { sl_send_reply("503", "No destination"); exit; }
  t_relay();
}
EOF
  kamailio -f "$dir/kamailio.cfg" -c >"$dir/kamailio-check.log" 2>&1 ||
    die "kamailio rejects $dir/kamailio.cfg: $(grep -m 3 -E 'ERROR|CRITICAL' "$dir/kamailio-check.log")"
  kamailio -f "$dir/kamailio.cfg" -DD -E -m 256 -M 16 -Y "$dir" -P "$dir/kamailio.pid" \
    >"$dir/kamailio.log" 2>&1 &
  k_pid=$!
  pids+=("$k_pid")
  wait_sip "$port" 30 "$k_pid"
  target_port="$port"
  target_pids=("$k_pid")
  while read -r c; do target_pids+=("$c"); done < <(children_of "$k_pid")
}

stop_kamailio() {
  kill -TERM "$k_pid" 2>/dev/null || true
  wait "$k_pid" 2>/dev/null || true
  k_pid=
}

# ---- one step ----------------------------------------------------------------------------

# The host's idle and total CPU time (clock ticks, all CPUs): "idle total".
host_cpu() {
  perl -ne 'if (/^cpu\s/) { my @a = split; shift @a; my $t = 0; $t += $_ for @a[0 .. 7];
              print $a[3] + $a[4], " $t\n"; exit }' /proc/stat
}

# Datagrams the kernel dropped on the target's SIP socket(s) (its receive buffer full):
# the drops column of /proc/net/udp for the local port.
udp_drops() {
  perl -e 'my $port = sprintf "%04X", shift; my $n = 0;
    open my $f, "<", "/proc/net/udp" or exit;
    while (<$f>) { my @a = split; $n += $a[-1] if ($a[1] // "") =~ /:$port$/ }
    print "$n\n";' "$1"
}

# Percentiles of the numbers in a file: "p50 p99" in ms with one decimal, "- -" when empty.
percentiles() {
  perl -e 'my @v = sort { $a <=> $b } map { chomp; $_ } <>;
           if (!@v) { print "- -\n"; exit }
           my $p = sub { $v[int($_[0] * (@v - 1) + 0.5)] };
           printf "%.1f %.1f\n", $p->(0.50), $p->(0.99);' "$1"
}

# A column of the last line of a SIPp statistics file.
stat_field() {
  perl -e 'my ($file, $name) = @ARGV; open my $f, "<", $file or exit;
           my @lines = <$f>; chomp @lines; my @h = split /;/, $lines[0];
           my @v = split /;/, $lines[-1];
           for my $i (0 .. $#h) { if ($h[$i] eq $name) { print $v[$i] // "", "\n"; exit } }' "$1" "$2"
}

step_id=0
# run_step TARGET RATE CALLS: prints one result row; sets step_failed.
run_step() {
  local target="$1" rate="$2" calls="$3"
  step_id=$((step_id + 1))
  local id="$step_id" tag="$dir/step$step_id"
  local -a sipp_pids=("${uas_pids[@]}")
  local t0 k0 p0 s0
  # PostgreSQL forks a backend per connection: look again at every step.
  if ((${#pg_pids[@]} > 0)); then
    local pm="${pg_pids[0]}"
    pg_pids=("$pm")
    while read -r c; do pg_pids+=("$c"); done < <(children_of "$pm")
  fi
  local d0
  d0="$(udp_drops "$target_port")"
  local h0
  h0="$(host_cpu)"
  t0="$(date +%s%N)"
  k0="$(ticks_of "${target_pids[@]}")"
  p0="$(ticks_of "${pg_pids[@]}")"
  s0="$(ticks_of "${sipp_pids[@]}")"
  [[ "$target" == acd ]] && thread_ticks "$acdd_pid" >"$tag.threads0"
  local timeout=$((calls / rate + hold_ms / 1000 + 60))
  sipp -nostdin -sf "$dir/caller.xml" -s 100 -i 127.0.0.1 -p "$(free_port)" -mp "$(free_port)" \
    -t u1 -m "$calls" -r "$rate" -rp 1000 -l 10000 -d "$hold_ms" -set step "$id" \
    -recv_timeout 15000 -timeout "${timeout}s" -timeout_error \
    -trace_err -error_file "$tag.caller.err" -log_file "$tag.caller.log" -trace_logs \
    -trace_stat -stf "$tag.caller.stat" -fd 1 \
    127.0.0.1:"$target_port" >"$tag.caller.out" 2>&1 &
  local caller=$!
  pids+=("$caller")
  # Its CPU time is read when it has exited (a zombie keeps its times), before wait.
  local st
  while st="$(cut -d")" -f2 "/proc/$caller/stat" 2>/dev/null)" && [[ "$st" != " Z "* ]]; do
    sleep 0.1
  done
  local caller_ticks
  caller_ticks="$(ticks_of "$caller")"
  local crc=0
  wait "$caller" || crc=$?
  # The agents' side finishes a moment later (the BYE from acd or through the proxy).
  local deadline=$((SECONDS + 20)) bridged=0
  while :; do
    bridged="$(cat "$dir"/agent-*.log 2>/dev/null | grep -c "^A sip:s${id}t" || true)"
    ((bridged >= calls || SECONDS >= deadline)) && break
    sleep 0.2
  done
  local t1 k1 p1 s1
  t1="$(date +%s%N)"
  local drops=$(($(udp_drops "$target_port") - d0))
  local h1 busy
  h1="$(host_cpu)"
  busy="$(perl -e 'my ($i0, $t0, $i1, $t1) = @ARGV; printf "%d", $t1 > $t0 ? 100 - 100 * ($i1 - $i0) / ($t1 - $t0) : 0' $h0 $h1)"
  k1="$(ticks_of "${target_pids[@]}")"
  p1="$(ticks_of "${pg_pids[@]}")"
  s1="$(ticks_of "${sipp_pids[@]}")"
  local wall_ticks=$(((t1 - t0) * hz / 1000000000))
  ((wall_ticks > 0)) || wall_ticks=1
  local cpu_target=$(((k1 - k0) * 100 / wall_ticks)) cpu_pg=$(((p1 - p0) * 100 / wall_ticks))
  local cpu_uas=$(((s1 - s0 + caller_ticks) * 100 / wall_ticks))
  local threads="-"
  if [[ "$target" == acd ]]; then
    thread_ticks "$acdd_pid" >"$tag.threads1"
    threads="$(perl -e 'my ($before, $after, $names, $wall) = @ARGV; my (%t0, %name);
        if (open my $n, "<", $names) { while (<$n>) { my ($t, $r) = split; $name{$t} = $r } }
        open my $f, "<", $before or exit; while (<$f>) { my ($t, $v) = split; $t0{$t} = $v }
        open my $g, "<", $after or exit; my @d;
        while (<$g>) { my ($t, $v) = split; push @d, [$name{$t} // $t, $v - ($t0{$t} // 0)] }
        @d = sort { $b->[1] <=> $a->[1] } grep { $_->[1] > 0 } @d;
        print join(" ", map { sprintf "%s=%d", $_->[0], $_->[1] * 100 / $wall } @d), "\n";' \
      "$tag.threads0" "$tag.threads1" "$dir/threads.names" "$wall_ticks")"
  fi
  local ok failed retrans
  ok="$(stat_field "$tag.caller.stat" 'SuccessfulCall(C)')"
  failed="$(stat_field "$tag.caller.stat" 'FailedCall(C)')"
  retrans="$(stat_field "$tag.caller.stat" 'Retransmissions(C)')"
  ok="${ok:-0}" failed="${failed:-0}" retrans="${retrans:-0}"
  # Failed: what the caller counts failed or never finished, or what no agent answered;
  # a SIPp error exit counts at least one.
  local failures=$((calls - ok > failed ? calls - ok : failed))
  ((calls - bridged <= failures)) || failures=$((calls - bridged))
  ((crc == 0 || failures > 0)) || failures=1
  # Times: answer from the caller's log, setup from the agents' logs.
  perl -ne 'if (/^C \S+ ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)/) {
              printf "%.3f\n", (($3 - $1) * 1e6 + ($4 - $2)) / 1000 }' \
    "$tag.caller.log" >"$tag.answer" 2>/dev/null || : >"$tag.answer"
  cat "$dir"/agent-*.log 2>/dev/null | perl -ne '
      if (/^A sip:s'"$id"'t([\d.]+)u([\d.]+)\@ ([\d.]+) ([\d.]+)/) {
        printf "%.3f\n", (($3 - $1) * 1e6 + ($4 - $2)) / 1000 }' >"$tag.setup"
  local answer setup
  answer="$(percentiles "$tag.answer")"
  setup="$(percentiles "$tag.setup")"
  [[ "$target" == acd ]] || { threads=""; cpu_pg="-"; }
  local rss="-"
  [[ "$target" != acd ]] || rss="$(awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$acdd_pid/status" 2>/dev/null || echo "-")"
  local row
  # shellcheck disable=SC2086 # answer and setup are two fields each
  local per_call
  per_call="$(perl -e 'printf "%.2f", $ARGV[0] * 1000 / $ARGV[1] / $ARGV[2]' "$((k1 - k0))" "$hz" "$calls")"
  last_per_call="$per_call"
  last_pg_per_call="$(perl -e 'printf "%.2f", $ARGV[0] * 1000 / $ARGV[1] / $ARGV[2]' "$((p1 - p0))" "$hz" "$calls")"
  printf -v row '%-9s %6d %6d %6d %6d %6d %8s %8s %8s %8s %5d%% %7s %6s %5d%% %4d%% %6s  %s' \
    "$target" "$rate" "$calls" "$failures" "$retrans" "$drops" $answer $setup \
    "$cpu_target" "$per_call" "$cpu_pg" "$cpu_uas" "$busy" "$rss" "$threads"
  echo "$row"
  [[ -z "$results" ]] || echo "$row" >>"$results"
  step_failed=$((failures > 0 ? 1 : 0))
  sleep 1  # let the last BYEs and the database settle
}

header() {
  printf "%-9s %6s %6s %6s %6s %6s %8s %8s %8s %8s %6s %7s %6s %6s %5s %6s  %s\n" \
    target rate calls failed retr drops ans_p50 ans_p99 set_p50 set_p99 cpu ms/call pg_cpu sipp host rss_mb threads
}

best_acd=0
best_kamailio=0
agent_limited=0
cpu_acd=- cpu_kamailio=- pgcpu_acd=- last_per_call=- last_pg_per_call=-
first_ok=1
peak_rss="-"
step_failed=0
results="$dir/results.txt"

run_target() {
  local target="$1" rate calls best=0 first=1
  if ((warmup_calls > 0)); then
    results='' run_step "$target" 50 "$warmup_calls" >"$dir/warmup-$target.txt"
    ((step_failed == 0)) || say "sip_bench: $target: the warm-up had failed calls: $(cat "$dir/warmup-$target.txt")"
  fi
  for rate in $rates; do
    if [[ "$target" == acd ]] && ((rate * (hold_ms + 200) > n_agents * 1000)); then
      echo "acd: not tried at $rate calls/s and above: $n_agents agents holding calls for ${hold_ms} ms cannot take them (raise SIP_BENCH_AGENTS)"
      agent_limited=1
      break
    fi
    calls=$((rate * step_seconds))
    ((calls >= min_calls)) || calls=$min_calls
    run_step "$target" "$rate" "$calls"
    if ((step_failed)); then
      ((first == 0)) || first_ok=0
      break
    fi
    first=0
    best=$rate
    printf -v "cpu_$target" '%s' "$last_per_call"
    printf -v "pgcpu_$target" '%s' "$last_pg_per_call"
  done
  printf -v "best_$target" '%s' "$best"
}

# ---- main ------------------------------------------------------------------------------

echo "sip_bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); agents $n_agents on $n_uas UAS, hold ${hold_ms} ms, ring ${ring_ms} ms, ${step_seconds}s per step, acdd log level $log_level, Kamailio children $k_children"
start_uas
header | tee "$results"
for target in $targets; do
  case "$target" in
    acd)
      start_acd
      run_target acd
      stop_acd
      ;;
    kamailio)
      start_kamailio
      run_target kamailio
      stop_kamailio
      ;;
    *) die "unknown target $target (acd, kamailio)" ;;
  esac
done

echo
echo "columns: rate = calls/s offered; failed = failed or unbridged calls; retr = caller retransmissions;"
echo "  drops = datagrams the kernel dropped at the target's SIP socket (receive buffer full);"
echo "  ans = INVITE->200 at the caller, set = INVITE->ACK at the agent's phone (ms), p50 and p99;"
echo "  cpu = the target's CPU during the step (% of one core; Kamailio: all its processes), ms/call = its"
echo "  CPU time per call; pg_cpu = acdd's embedded PostgreSQL; sipp = the SIPp caller and agent UAS;"
echo "  host = the whole machine's CPU busy (% of all CPUs, other users included); rss_mb = acdd's RSS after the step;"
echo "  threads = acdd's threads (% of one core). Load average now: $(cut -d' ' -f1-3 /proc/loadavg)."
case " $targets " in *" acd "*) echo "acd:      best rate with zero failed calls: $best_acd calls/s$( ((agent_limited == 0)) || echo " (agent-limited)"); CPU per call there $cpu_acd ms (+ $pgcpu_acd ms PostgreSQL); acdd peak RSS $peak_rss" ;; esac
case " $targets " in *" kamailio "*) echo "kamailio: best rate with zero failed calls: $best_kamailio calls/s; CPU per call there $cpu_kamailio ms" ;; esac
if [[ " $targets " == *" acd "* && " $targets " == *" kamailio "* ]]; then
  perl -e 'my ($a, $k) = @ARGV;
           if ($k > 0) { printf "ratio acd/kamailio: %.2f (target >= 0.5: %s)\n", $a / $k,
                         $a / $k >= 0.5 ? "met" : "NOT met" }
           else { print "ratio acd/kamailio: n/a (kamailio had no successful step)\n" }' \
    "$best_acd" "$best_kamailio"
fi
((first_ok)) || { echo "sip_bench: a target failed its first step" >&2; exit 1; }
exit 0
