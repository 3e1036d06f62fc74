#!/usr/bin/env bash
# Black-box test of configuration hot reload from PostgreSQL (run by ctest):
#   hot_reload_test.sh ACDD
# acdd runs with callers waiting in a queue that needs a skill no agent has. The test
# gives an agent that skill with `acdd config apply` (a change in the database); the
# running daemon must hear it (LISTEN/NOTIFY), reload, and route the waiting calls.
# Prints how long after the apply the first waiting call was offered.
acdd="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"

sed "s|@DIR@|$dir|g" "$here/hot_reload.yaml" >"$dir/acdd.yaml"
start_acdd "$dir/acdd.yaml"
wait_log 'event=config.seeded'
wait_log 'event=call.queued' 3
grep -q 'event=call.offered' "$log" && fail "a call was offered before any agent had the skill"

# The change: a01 gets french.
sed 's/- {name: a01, extension: "1001", skills: {english: 5}}/- {name: a01, extension: "1001", skills: {english: 5, french: 5}}/' \
  "$dir/acdd.yaml" >"$dir/changed.yaml"
grep -q 'french: 5' "$dir/changed.yaml" || fail "the test's sed did not change the file"
waiting="$(($(grep -c 'event=call.queued' "$log") - $(grep -c 'event=call.finished' "$log" || true)))"
applied_at="$(date +%s.%N)"
"$acdd" config apply "$dir/changed.yaml" --config "$dir/acdd.yaml" --yes >"$dir/apply.out" 2>&1 ||
  fail "acdd config apply failed: $(cat "$dir/apply.out")"
grep -q 'agent acme/a01' "$dir/apply.out" || fail "the diff did not name a01: $(cat "$dir/apply.out")"

wait_log 'event=config.reloaded source=database'
wait_log 'event=call.offered'
offered_ts="$(grep -m1 'event=call.offered' "$log" | sed -E 's/^ts=([^ ]+) .*/\1/')"
offered_at="$(date -d "$offered_ts" +%s.%N)"
latency_ms="$(awk -v a="$applied_at" -v b="$offered_at" 'BEGIN { printf "%d", (b - a) * 1000 }')"
# A waiting call (queued before the change) is the one offered: re-evaluated, not new.
first_offered="$(grep -m1 'event=call.offered' "$log" | grep -o ' call=[0-9]*' | cut -d= -f2)"
queued_line="$(grep -n "event=call.queued.* call=$first_offered" "$log" | cut -d: -f1)"
apply_line="$(grep -n 'event=config.reloaded source=database' "$log" | tail -1 | cut -d: -f1)"
((queued_line < apply_line)) || fail "the first offered call was not one that waited"

# A SIGHUP with a file whose metrics endpoint moved: the endpoint is bound once, at start;
# the reload says a restart is needed for it and keeps the running one (and the rest).
metrics_port="$(grep -E 'event=metrics.listening ' "$log" | head -n 1 | sed -E 's/.* port=([0-9]+).*/\1/')"
[[ "$metrics_port" =~ ^[1-9][0-9]*$ ]] || fail "the metrics endpoint did not start"
sed -i 's|listen: "127.0.0.1:0"  # metrics|listen: "127.0.0.2:0"  # metrics|' "$dir/acdd.yaml"
grep -q '127.0.0.2:0' "$dir/acdd.yaml" || fail "the test's sed did not move the metrics endpoint"
kill -HUP "$acdd_pid"
wait_log 'event=config.restart_needed setting=metrics.listen running=127.0.0.1:0 configured=127.0.0.2:0'
wait_log 'event=config.reloaded source=sighup'
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port" || fail "the running metrics endpoint went away"
exec 3<&-
stop_acdd
echo "hot reload: $waiting calls waiting; the first was offered ${latency_ms} ms after" \
  "'acdd config apply' started (target: within 1000 ms)"
((latency_ms < 10000)) || fail "the change took ${latency_ms} ms to reach the engine"
