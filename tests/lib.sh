# Shared by the black-box daemon tests (sourced): a temporary directory with the daemon's
# embedded PostgreSQL cluster, the daemon's log as the event stream, and helpers.
#   Expects: $acdd (the binary). Provides: $dir, $log, $acdd_pid, pg, sql, wait_log,
#   start_acdd CONFIG, stop_acdd, fail. Cleans up (kills what it started, stops the
#   cluster, removes $dir) on exit, printing the log's tail when the test failed.
set -euo pipefail

dir="$(mktemp -d "${TMPDIR:-/tmp}/acd-test-XXXXXX")"
chmod 711 "$dir"
log="$dir/acdd.log"
pids=()
acdd_pid=

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  pg stop -m immediate >/dev/null 2>&1 || true
  if ((rc != 0)); then
    echo "---- last lines of the daemon's log ($log) ----"
    grep -v -E 'event=(call|agent)[.]' "$log" 2>/dev/null | tail -n 30 || true
  fi
  if [[ -n "${ACD_TEST_KEEP:-}" ]]; then echo "kept $dir"; else rm -rf "$dir"; fi
  exit "$rc"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgresql.log" "$@"
  else
    "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgresql.log" "$@"
  fi
}
sql() {
  psql -X -q -t -A -v ON_ERROR_STOP=1 "host=$dir/pg dbname=acd user=acd" -c "$1"
}

# Waits until the log holds `count` lines matching `pattern` (extended regex), looking
# every 100 ms (the daemon is a separate process; its log is the event stream here).
wait_log() {
  local pattern="$1" count="${2:-1}" limit="${3:-120}"
  local deadline=$((SECONDS + limit))
  local seen
  # (grep prints nothing when the log does not exist yet: that is 0 lines.)
  while seen="$(grep -E -c -- "$pattern" "$log" 2>/dev/null || true)"; ((${seen:-0} < count)); do
    ((SECONDS < deadline)) ||
      fail "timed out after ${limit}s waiting for $count log line(s) matching: $pattern"
    kill -0 "$acdd_pid" 2>/dev/null || fail "acdd exited while waiting for: $pattern"
    sleep 0.1
  done
}

start_acdd() {
  : >>"$log"  # the log exists before anything waits on it (the daemon starts in the background)
  "$acdd" --config "$1" >>"$log" 2>&1 &
  pids+=($!)
  acdd_pid=$!
}

# Stops acdd with SIGTERM and expects a clean exit. A daemon that has not stopped after
# 90 s is a hang: its threads' stacks (when gdb is installed) go to $dir/hang.txt and the
# test's output, and it is killed, so the test fails saying why instead of timing out.
stop_acdd() {
  kill -TERM "$acdd_pid"
  local rc=0 watchdog
  (
    sleep 90 </dev/null >/dev/null 2>&1
    kill -0 "$acdd_pid" 2>/dev/null || exit 0
    if command -v gdb >/dev/null; then
      timeout 60 gdb -p "$acdd_pid" -batch -ex "thread apply all bt" >"$dir/hang.txt" 2>&1 || true
      echo "---- acdd hung on the way out; its threads ----" >&2
      grep -E '^(Thread|#)' "$dir/hang.txt" | head -n 200 >&2 || true
    fi
    kill -KILL "$acdd_pid" 2>/dev/null || true
  ) &
  watchdog=$!
  wait "$acdd_pid" || rc=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  ((rc != 137)) || fail "acdd did not stop within 90 s of SIGTERM (see the threads above)"
  ((rc == 0)) || fail "acdd exited with $rc after SIGTERM"
}
