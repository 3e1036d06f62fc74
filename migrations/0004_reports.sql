-- 0004: reports as SQL over the history of 0002 (docs/REPORTS.md is the reference).
--
--   report_queue_intervals(tenant, from, to, interval, time_zone, sl_threshold_ms)
--       per queue and interval: offered, answered, abandoned, the three service-level
--       variants, ASA, AHT, talk/hold/wrap-up averages, longest wait, abandon rate,
--       overflowed-out, timed-out and other exits.
--   report_agent_intervals(tenant, from, to, interval, time_zone)
--       per agent and interval: offers, answered, RONA, and time in each state (logged in,
--       ready, not ready with a map by reason, ringing, dialing, talk, hold, wrap-up).
--   report_agent_state_time(tenant, from, to, interval, time_zone)
--       the same state time, one row per agent, interval, state and not-ready reason.
--   report_agent_monthly_volume(tenant, from, to, time_zone)
--       per agent and calendar month: offers, answered, RONA, outbound calls, talk, hold,
--       wrap-up and AHT of the calls answered.
-- and the building blocks: report_check_params, report_interval_start, report_intervals,
-- report_call_wrap_up_ms, report_ms.
--
-- Conventions shared by every report:
--   * The range is half-open, [p_from, p_to). p_to before p_from is an error; p_from = p_to
--     is an empty range (no rows).
--   * p_interval is one of '15 min', 'hour', 'day', 'month'; anything else is an error.
--   * Intervals are wall-clock intervals of p_time_zone (an IANA name such as
--     'Europe/Berlin', default 'UTC'). interval_start is the absolute instant
--     (timestamptz) an interval begins; interval_local the same instant on the wall clock
--     of p_time_zone. A day is the local calendar day (23 or 25 hours on a DST change); in
--     the hour that repeats when clocks go back, the two real hours are two rows with the
--     same interval_local and different interval_start.
--   * Durations are milliseconds (bigint), averages rounded to the nearest millisecond;
--     ratios are numeric in [0, 1] rounded to 4 decimals, NULL when the denominator is 0.
--   * Only rows with something in them are returned (no zero-filled intervals).

-- Raises a clear error for invalid report parameters; returns true otherwise. Called first
-- by every report so the error comes even when there is no data.
CREATE FUNCTION report_check_params(p_from timestamptz, p_to timestamptz, p_interval text,
                                    p_time_zone text)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF p_interval IS NULL OR p_interval NOT IN ('15 min', 'hour', 'day', 'month') THEN
    RAISE EXCEPTION 'invalid report interval %', coalesce(quote_literal(p_interval), 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'p_interval must be one of ''15 min'', ''hour'', ''day'', ''month''';
  END IF;
  IF p_from IS NULL OR p_to IS NULL THEN
    RAISE EXCEPTION 'invalid report range: p_from and p_to are required'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_to < p_from THEN
    RAISE EXCEPTION 'invalid report range: p_to (%) is before p_from (%)', p_to, p_from
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_time_zone IS NULL THEN
    RAISE EXCEPTION 'invalid report time zone: p_time_zone is required'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'use an IANA time zone name such as ''UTC'' or ''Europe/Berlin''';
  END IF;
  PERFORM now() AT TIME ZONE p_time_zone;  -- raises: time zone "..." not recognized
  RETURN true;
END
$$;

-- An interval as whole milliseconds (rounded).
CREATE FUNCTION report_ms(p_duration interval) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT round(extract(epoch FROM p_duration) * 1000)::bigint
$$;

-- The start (an absolute instant) of the report interval of p_time_zone that contains p_at.
-- '15 min' and 'hour' are found on the local wall clock and moved back by the same amount
-- in absolute time, so the hour that repeats when clocks go back gives two intervals
-- (exact wherever clocks change by whole hours, i.e. everywhere but Lord Howe Island);
-- 'day' and 'month' are local calendar days and months. NULL for an unknown p_interval.
CREATE FUNCTION report_interval_start(p_at timestamptz, p_interval text,
                                      p_time_zone text DEFAULT 'UTC')
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE p_interval
    WHEN '15 min' THEN p_at - ((p_at AT TIME ZONE p_time_zone)
                               - date_bin('15 minutes', p_at AT TIME ZONE p_time_zone,
                                          timestamp '2000-01-01'))
    WHEN 'hour' THEN p_at - ((p_at AT TIME ZONE p_time_zone)
                             - date_trunc('hour', p_at AT TIME ZONE p_time_zone))
    WHEN 'day' THEN date_trunc('day', p_at AT TIME ZONE p_time_zone) AT TIME ZONE p_time_zone
    WHEN 'month' THEN date_trunc('month', p_at AT TIME ZONE p_time_zone) AT TIME ZONE p_time_zone
  END
$$;

-- The report intervals that overlap [p_from, p_to), in order; each ends where the next
-- begins. The first may begin before p_from and the last end after p_to (they are not
-- clipped). No rows when p_from >= p_to. Raises for invalid parameters.
CREATE FUNCTION report_intervals(p_from timestamptz, p_to timestamptz, p_interval text,
                                 p_time_zone text DEFAULT 'UTC')
RETURNS TABLE (interval_start timestamptz, interval_end timestamptz, interval_local timestamp)
LANGUAGE sql STABLE AS $$
  WITH starts AS (
    -- '15 min' and 'hour': every 15 minutes of absolute time (every UTC offset in use is a
    -- multiple of 15 minutes) mapped to the start of its interval, one step past p_to so
    -- the last interval has an end.
    SELECT DISTINCT report_interval_start(g.at, p_interval, p_time_zone) AS s
    FROM generate_series(report_interval_start(p_from, p_interval, p_time_zone),
                         p_to + interval '1 hour', interval '15 minutes') AS g(at)
    WHERE p_interval IN ('15 min', 'hour')
    UNION
    -- 'day' and 'month': the local calendar, one step past p_to.
    SELECT l.at AT TIME ZONE p_time_zone
    FROM generate_series(date_trunc(CASE p_interval WHEN 'month' THEN 'month' ELSE 'day' END,
                                    p_from AT TIME ZONE p_time_zone),
                         (p_to AT TIME ZONE p_time_zone) + CASE p_interval
                           WHEN 'day' THEN interval '1 day' ELSE interval '1 month' END,
                         CASE p_interval WHEN 'day' THEN interval '1 day'
                           ELSE interval '1 month' END) AS l(at)
    WHERE p_interval IN ('day', 'month')
  ), bounds AS (
    SELECT s, lead(s) OVER (ORDER BY s) AS e FROM starts
  )
  SELECT b.s, b.e, b.s AT TIME ZONE p_time_zone
  FROM bounds b
  WHERE report_check_params(p_from, p_to, p_interval, p_time_zone)
    AND b.e IS NOT NULL AND b.s < p_to AND b.e > p_from
  ORDER BY b.s
$$;

-- The wrap-up time of one call: the duration of every 'wrap-up' state carrying the call's
-- id (of p_agent, or of any agent when p_agent is NULL), each up to the agent's next state
-- event. A wrap-up still in progress (no next event yet) counts 0.
CREATE FUNCTION report_call_wrap_up_ms(p_tenant text, p_call_id bigint, p_agent text DEFAULT NULL)
RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(report_ms(sum(n.at - w.at)), 0)
  FROM agent_state_events w
  CROSS JOIN LATERAL (
    SELECT x.at FROM agent_state_events x
    WHERE x.tenant = w.tenant AND x.agent = w.agent
      AND (x.at, x.run_id, x.seq) > (w.at, w.run_id, w.seq)
    ORDER BY x.at, x.run_id, x.seq
    LIMIT 1) n
  WHERE w.call_id = p_call_id AND w.to_state = 'wrap-up' AND w.tenant = p_tenant
    AND (p_agent IS NULL OR w.agent = p_agent)
$$;

-- Per queue and interval. Which calls count, and where:
--   * A call counts for its last queue (calls.last_queue), in the interval in which it
--     entered that queue (calls.queued_at, or arrived_at when queued_at is missing): the
--     call's wait, threshold and outcome are those of its last queue.
--   * offered: every call whose last queue this is, except 'interrupted' calls (the daemon
--     stopped during the call; their figures are incomplete), which are counted apart in
--     `interrupted`. offered = answered + abandoned + ended_otherwise.
--   * answered: final_state 'completed'. abandoned: 'abandoned' (caller hung up before an
--     agent answered). ended_otherwise: voicemail, callback, hung-up, cancelled, unanswered.
--   * in threshold: wait_ms <= the threshold, which is p_sl_threshold_ms when given, else
--     the call's own sl_threshold_ms (a call without one is never in threshold).
--   * sl_answered                 = answered_in_threshold / answered
--     sl_with_abandons            = (answered_in_threshold + abandoned_in_threshold)
--                                   / (answered + abandoned)
--     sl_abandons_after_threshold = answered_in_threshold
--                                   / (answered + abandoned - abandoned_in_threshold)
--     abandon_rate                = abandoned / (answered + abandoned)
--     (the same definitions as the engine's live statistics, engine/core/snapshot.h)
--   * asa_ms: average wait of answered calls; aht_ms: average talk + hold + wrap-up of
--     answered calls (wrap-up: report_call_wrap_up_ms of the answering agent); avg_talk_ms,
--     avg_hold_ms, avg_wrap_up_ms the parts; longest_wait_ms: the longest wait of any
--     offered call.
--   * overflowed_out, timed_out, exited: the queue's 'overflow', 'timeout' and 'exit' events
--     (queue_events), in the interval in which the call entered this queue before leaving:
--     overflow = left for another queue (by any exit rule), timeout = the maximum wait
--     with a destination other than a queue, exit = any other exit (full, no agents,
--     closed, caller breakout). A call that overflows from A to B is offered in B and
--     overflowed_out in A; a call that times out to voicemail is offered, timed_out and
--     ended_otherwise in its queue.
CREATE FUNCTION report_queue_intervals(p_tenant text, p_from timestamptz, p_to timestamptz,
                                       p_interval text, p_time_zone text DEFAULT 'UTC',
                                       p_sl_threshold_ms bigint DEFAULT NULL)
RETURNS TABLE (
  queue text,
  interval_start timestamptz,
  interval_local timestamp,
  offered bigint,
  answered bigint,
  abandoned bigint,
  ended_otherwise bigint,
  answered_in_threshold bigint,
  abandoned_in_threshold bigint,
  sl_answered numeric,
  sl_with_abandons numeric,
  sl_abandons_after_threshold numeric,
  abandon_rate numeric,
  asa_ms bigint,
  aht_ms bigint,
  avg_talk_ms bigint,
  avg_hold_ms bigint,
  avg_wrap_up_ms bigint,
  longest_wait_ms bigint,
  overflowed_out bigint,
  timed_out bigint,
  exited bigint,
  interrupted bigint)
LANGUAGE sql STABLE AS $$
  SELECT report_check_params(p_from, p_to, p_interval, p_time_zone);

  WITH in_range AS (
    SELECT c.*
    FROM calls c
    WHERE c.tenant = p_tenant AND c.last_queue IS NOT NULL
      AND coalesce(c.queued_at, c.arrived_at) >= p_from
      AND coalesce(c.queued_at, c.arrived_at) < p_to
  ), wrap_up AS (
    -- The answering agent's wrap-up of each answered call (as report_call_wrap_up_ms).
    SELECT w.call_id, report_ms(sum(n.at - w.at)) AS wrap_up_ms
    FROM in_range c
    JOIN agent_state_events w
      ON w.call_id = c.call_id AND w.to_state = 'wrap-up' AND w.tenant = c.tenant
         AND w.agent = c.agent
    CROSS JOIN LATERAL (
      SELECT x.at FROM agent_state_events x
      WHERE x.tenant = w.tenant AND x.agent = w.agent
        AND (x.at, x.run_id, x.seq) > (w.at, w.run_id, w.seq)
      ORDER BY x.at, x.run_id, x.seq
      LIMIT 1) n
    WHERE c.final_state = 'completed'
    GROUP BY w.call_id
  ), c AS (
    SELECT c.last_queue AS queue,
           report_interval_start(coalesce(c.queued_at, c.arrived_at), p_interval,
                                 p_time_zone) AS bucket,
           c.final_state <> 'interrupted' AS offered,
           c.final_state = 'completed' AS answered,
           c.final_state = 'abandoned' AS abandoned,
           c.final_state = 'interrupted' AS interrupted,
           coalesce(c.wait_ms <= coalesce(p_sl_threshold_ms, c.sl_threshold_ms), false)
             AS in_threshold,
           c.wait_ms, c.talk_ms, c.hold_ms,
           CASE WHEN c.final_state = 'completed' THEN coalesce(w.wrap_up_ms, 0) END
             AS wrap_up_ms
    FROM in_range c
    LEFT JOIN wrap_up w ON w.call_id = c.call_id
  ), by_call AS (
    SELECT c.queue, c.bucket,
           count(*) FILTER (WHERE c.offered) AS offered,
           count(*) FILTER (WHERE c.answered) AS answered,
           count(*) FILTER (WHERE c.abandoned) AS abandoned,
           count(*) FILTER (WHERE c.offered AND NOT c.answered AND NOT c.abandoned)
             AS ended_otherwise,
           count(*) FILTER (WHERE c.answered AND c.in_threshold) AS answered_in_threshold,
           count(*) FILTER (WHERE c.abandoned AND c.in_threshold) AS abandoned_in_threshold,
           round(avg(c.wait_ms) FILTER (WHERE c.answered))::bigint AS asa_ms,
           round(avg(c.talk_ms + c.hold_ms + c.wrap_up_ms) FILTER (WHERE c.answered))::bigint
             AS aht_ms,
           round(avg(c.talk_ms) FILTER (WHERE c.answered))::bigint AS avg_talk_ms,
           round(avg(c.hold_ms) FILTER (WHERE c.answered))::bigint AS avg_hold_ms,
           round(avg(c.wrap_up_ms) FILTER (WHERE c.answered))::bigint AS avg_wrap_up_ms,
           max(c.wait_ms) FILTER (WHERE c.offered) AS longest_wait_ms,
           count(*) FILTER (WHERE c.interrupted) AS interrupted
    FROM c
    GROUP BY c.queue, c.bucket
  ), leaving AS (
    -- Each overflow/timeout/exit event, dated by the call's entry into that queue.
    SELECT e.queue, e.kind, coalesce(n.at, e.at) AS entered_at
    FROM queue_events e
    LEFT JOIN LATERAL (
      SELECT max(n.at) AS at FROM queue_events n
      WHERE n.call_id = e.call_id AND n.seq < e.seq AND n.kind = 'enter'
        AND n.queue = e.queue) n ON true
    WHERE e.tenant = p_tenant AND e.kind IN ('overflow', 'timeout', 'exit')
      AND e.queue IS NOT NULL AND e.at >= p_from
  ), by_event AS (
    SELECT l.queue, report_interval_start(l.entered_at, p_interval, p_time_zone) AS bucket,
           count(*) FILTER (WHERE l.kind = 'overflow') AS overflowed_out,
           count(*) FILTER (WHERE l.kind = 'timeout') AS timed_out,
           count(*) FILTER (WHERE l.kind = 'exit') AS exited
    FROM leaving l
    WHERE l.entered_at >= p_from AND l.entered_at < p_to
    GROUP BY 1, 2
  )
  SELECT coalesce(k.queue, v.queue),
         coalesce(k.bucket, v.bucket),
         coalesce(k.bucket, v.bucket) AT TIME ZONE p_time_zone,
         coalesce(k.offered, 0),
         coalesce(k.answered, 0),
         coalesce(k.abandoned, 0),
         coalesce(k.ended_otherwise, 0),
         coalesce(k.answered_in_threshold, 0),
         coalesce(k.abandoned_in_threshold, 0),
         round(k.answered_in_threshold::numeric / nullif(k.answered, 0), 4),
         round((k.answered_in_threshold + k.abandoned_in_threshold)::numeric
               / nullif(k.answered + k.abandoned, 0), 4),
         round(k.answered_in_threshold::numeric
               / nullif(k.answered + k.abandoned - k.abandoned_in_threshold, 0), 4),
         round(k.abandoned::numeric / nullif(k.answered + k.abandoned, 0), 4),
         k.asa_ms,
         k.aht_ms,
         k.avg_talk_ms,
         k.avg_hold_ms,
         k.avg_wrap_up_ms,
         k.longest_wait_ms,
         coalesce(v.overflowed_out, 0),
         coalesce(v.timed_out, 0),
         coalesce(v.exited, 0),
         coalesce(k.interrupted, 0)
  FROM by_call k
  FULL JOIN by_event v ON v.queue = k.queue AND v.bucket = k.bucket
  ORDER BY 1, 2
$$;

-- Time in state per agent, interval, state and (for 'not-ready') reason.
--   * An agent's states are the segments between consecutive agent_state_events of the
--     agent, ordered by (at, run_id, seq): to_state from `at` until the next event's `at`.
--     The state at p_from is the one set by the agent's last event before p_from. The last
--     segment of an agent (no later event) lasts until now().
--   * Segments are clipped to [p_from, p_to) and split at interval boundaries, so a
--     two-hour break over three hour intervals contributes to each of them.
--   * 'logged-out' is not reported; reason is NULL except for 'not-ready'.
--   * A run of the daemon that died is closed out by a later run (see `runs` in 0002),
--     which records a 'logged-out' transition at the dead run's end for the agents it left
--     logged in; until then, such an agent's last state lasts until now() (or p_to).
CREATE FUNCTION report_agent_state_time(p_tenant text, p_from timestamptz, p_to timestamptz,
                                        p_interval text, p_time_zone text DEFAULT 'UTC')
RETURNS TABLE (
  agent text,
  interval_start timestamptz,
  interval_local timestamp,
  state text,
  reason text,
  duration_ms bigint)
LANGUAGE sql STABLE AS $$
  SELECT report_check_params(p_from, p_to, p_interval, p_time_zone);

  WITH RECURSIVE agents AS (
    -- The tenant's agents, by a skip scan of agent_state_events_tenant_agent_at.
    SELECT min(e.agent) AS agent FROM agent_state_events e WHERE e.tenant = p_tenant
    UNION ALL
    SELECT (SELECT min(e.agent) FROM agent_state_events e
            WHERE e.tenant = p_tenant AND e.agent > a.agent)
    FROM agents a WHERE a.agent IS NOT NULL
  ), events AS (
    -- The last event before the range (the state at p_from) ...
    SELECT p.agent, p.at, p.run_id, p.seq, p.to_state, p.reason
    FROM agents a
    CROSS JOIN LATERAL (
      SELECT e.agent, e.at, e.run_id, e.seq, e.to_state, e.reason
      FROM agent_state_events e
      WHERE e.tenant = p_tenant AND e.agent = a.agent AND e.at < p_from
      ORDER BY e.at DESC, e.run_id DESC, e.seq DESC
      LIMIT 1) p
    UNION ALL
    -- ... the events in the range ...
    SELECT e.agent, e.at, e.run_id, e.seq, e.to_state, e.reason
    FROM agents a
    JOIN agent_state_events e
      ON e.tenant = p_tenant AND e.agent = a.agent AND e.at >= p_from AND e.at < p_to
    UNION ALL
    -- ... and the first one after it, which ends the last segment in the range.
    SELECT f.agent, f.at, f.run_id, f.seq, f.to_state, f.reason
    FROM agents a
    CROSS JOIN LATERAL (
      SELECT e.agent, e.at, e.run_id, e.seq, e.to_state, e.reason
      FROM agent_state_events e
      WHERE e.tenant = p_tenant AND e.agent = a.agent AND e.at >= p_to
      ORDER BY e.at, e.run_id, e.seq
      LIMIT 1) f
  ), segments AS (
    SELECT ev.agent, ev.to_state AS state,
           CASE WHEN ev.to_state = 'not-ready' THEN ev.reason END AS reason,
           greatest(ev.at, p_from) AS s,
           least(coalesce(lead(ev.at) OVER w, now()), p_to) AS e
    FROM events ev
    WINDOW w AS (PARTITION BY ev.agent ORDER BY ev.at, ev.run_id, ev.seq)
  ), clipped AS (
    SELECT g.*,
           report_interval_start(g.s, p_interval, p_time_zone) AS first_bucket,
           report_interval_start(g.e, p_interval, p_time_zone) AS end_bucket
    FROM segments g
    WHERE g.state <> 'logged-out' AND g.e > g.s
  ), pieces AS (
    -- Most segments lie inside one interval (their end is in the interval they start in);
    -- the others are split over report_intervals.
    SELECT g.agent, g.state, g.reason, x.interval_start, x.duration
    FROM clipped g
    CROSS JOIN LATERAL (
      SELECT g.first_bucket AS interval_start, g.e - g.s AS duration
      WHERE g.first_bucket = g.end_bucket
      UNION ALL
      SELECT i.interval_start, least(g.e, i.interval_end) - greatest(g.s, i.interval_start)
      FROM report_intervals(g.s, g.e, p_interval, p_time_zone) i
      WHERE g.first_bucket <> g.end_bucket) x
  )
  SELECT p.agent, p.interval_start, p.interval_start AT TIME ZONE p_time_zone, p.state,
         p.reason, report_ms(sum(p.duration))
  FROM pieces p
  GROUP BY p.agent, p.interval_start, p.state, p.reason
  ORDER BY p.agent, p.interval_start, p.state, p.reason
$$;

-- Per agent and interval:
--   * offers, answered, rona: the agent's call legs (call_legs) by the interval of
--     offered_at: every leg, legs with result 'answered' (calls handled), legs with
--     result 'no-answer' (ring-on-no-answer).
--   * time in state (report_agent_state_time): logged_in_ms (every state but
--     'logged-out'), ready_ms (ready, i.e. idle), not_ready_ms and not_ready_by_reason (a
--     jsonb object reason -> ms; a not-ready without a reason is under "(none)"),
--     ringing_ms ('reserved' + 'ringing'), dialing_ms, talk_ms ('talking'), hold_ms
--     ('held'), wrap_up_ms ('wrap-up'). Talk and hold include outbound and internal calls.
--     logged_in_ms is the sum of the other time columns.
CREATE FUNCTION report_agent_intervals(p_tenant text, p_from timestamptz, p_to timestamptz,
                                       p_interval text, p_time_zone text DEFAULT 'UTC')
RETURNS TABLE (
  agent text,
  interval_start timestamptz,
  interval_local timestamp,
  offers bigint,
  answered bigint,
  rona bigint,
  logged_in_ms bigint,
  ready_ms bigint,
  not_ready_ms bigint,
  not_ready_by_reason jsonb,
  ringing_ms bigint,
  dialing_ms bigint,
  talk_ms bigint,
  hold_ms bigint,
  wrap_up_ms bigint)
LANGUAGE sql STABLE AS $$
  SELECT report_check_params(p_from, p_to, p_interval, p_time_zone);

  WITH st AS (
    SELECT * FROM report_agent_state_time(p_tenant, p_from, p_to, p_interval, p_time_zone)
  ), by_state AS (
    SELECT st.agent, st.interval_start,
           sum(st.duration_ms) AS logged_in_ms,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state = 'ready'), 0) AS ready_ms,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state = 'not-ready'), 0)
             AS not_ready_ms,
           coalesce(jsonb_object_agg(coalesce(st.reason, '(none)'), st.duration_ms)
                      FILTER (WHERE st.state = 'not-ready'), '{}'::jsonb)
             AS not_ready_by_reason,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state IN ('reserved', 'ringing')), 0)
             AS ringing_ms,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state = 'dialing'), 0) AS dialing_ms,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state = 'talking'), 0) AS talk_ms,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state = 'held'), 0) AS hold_ms,
           coalesce(sum(st.duration_ms) FILTER (WHERE st.state = 'wrap-up'), 0) AS wrap_up_ms
    FROM st
    GROUP BY st.agent, st.interval_start
  ), by_leg AS (
    SELECT l.agent, report_interval_start(l.offered_at, p_interval, p_time_zone) AS bucket,
           count(*) AS offers,
           count(*) FILTER (WHERE l.result = 'answered') AS answered,
           count(*) FILTER (WHERE l.result = 'no-answer') AS rona
    FROM call_legs l
    WHERE l.tenant = p_tenant AND l.offered_at >= p_from AND l.offered_at < p_to
    GROUP BY 1, 2
  )
  SELECT coalesce(s.agent, l.agent),
         coalesce(s.interval_start, l.bucket),
         coalesce(s.interval_start, l.bucket) AT TIME ZONE p_time_zone,
         coalesce(l.offers, 0),
         coalesce(l.answered, 0),
         coalesce(l.rona, 0),
         coalesce(s.logged_in_ms, 0),
         coalesce(s.ready_ms, 0),
         coalesce(s.not_ready_ms, 0),
         coalesce(s.not_ready_by_reason, '{}'::jsonb),
         coalesce(s.ringing_ms, 0),
         coalesce(s.dialing_ms, 0),
         coalesce(s.talk_ms, 0),
         coalesce(s.hold_ms, 0),
         coalesce(s.wrap_up_ms, 0)
  FROM by_state s
  FULL JOIN by_leg l ON l.agent = s.agent AND l.bucket = s.interval_start
  ORDER BY 1, 2
$$;

-- Per agent and calendar month of p_time_zone (the monthly volume statistics):
--   * offers, answered, rona: the agent's call legs by the month of offered_at (as in
--     report_agent_intervals).
--   * outbound: calls the agent placed (calls.direction 'outbound', calls.agent), by the
--     month of arrived_at.
--   * talk_ms, hold_ms: the talk and hold of the calls the agent answered (calls.talk_ms,
--     calls.hold_ms of each answered leg's call whose calls.agent is this agent);
--     wrap_up_ms: the agent's wrap-up of those calls (report_call_wrap_up_ms);
--     aht_ms = (talk_ms + hold_ms + wrap_up_ms) / answered, NULL when nothing was answered.
CREATE FUNCTION report_agent_monthly_volume(p_tenant text, p_from timestamptz, p_to timestamptz,
                                            p_time_zone text DEFAULT 'UTC')
RETURNS TABLE (
  agent text,
  month_start timestamptz,
  month date,
  offers bigint,
  answered bigint,
  rona bigint,
  outbound bigint,
  talk_ms bigint,
  hold_ms bigint,
  wrap_up_ms bigint,
  aht_ms bigint)
LANGUAGE sql STABLE AS $$
  SELECT report_check_params(p_from, p_to, 'month', p_time_zone);

  WITH legs AS (
    SELECT l.agent, report_interval_start(l.offered_at, 'month', p_time_zone) AS bucket,
           count(*) AS offers,
           count(*) FILTER (WHERE l.result = 'answered') AS answered,
           count(*) FILTER (WHERE l.result = 'no-answer') AS rona,
           coalesce(sum(c.talk_ms) FILTER (WHERE l.result = 'answered'), 0) AS talk_ms,
           coalesce(sum(c.hold_ms) FILTER (WHERE l.result = 'answered'), 0) AS hold_ms,
           coalesce(sum(report_call_wrap_up_ms(l.tenant, l.call_id, l.agent))
                      FILTER (WHERE l.result = 'answered'), 0) AS wrap_up_ms
    FROM call_legs l
    LEFT JOIN calls c ON c.call_id = l.call_id AND c.agent = l.agent
    WHERE l.tenant = p_tenant AND l.offered_at >= p_from AND l.offered_at < p_to
    GROUP BY 1, 2
  ), outbound AS (
    SELECT c.agent, report_interval_start(c.arrived_at, 'month', p_time_zone) AS bucket,
           count(*) AS outbound
    FROM calls c
    WHERE c.tenant = p_tenant AND c.direction = 'outbound' AND c.agent IS NOT NULL
      AND c.arrived_at >= p_from AND c.arrived_at < p_to
    GROUP BY 1, 2
  )
  SELECT coalesce(l.agent, o.agent),
         coalesce(l.bucket, o.bucket),
         (coalesce(l.bucket, o.bucket) AT TIME ZONE p_time_zone)::date,
         coalesce(l.offers, 0),
         coalesce(l.answered, 0),
         coalesce(l.rona, 0),
         coalesce(o.outbound, 0),
         coalesce(l.talk_ms, 0),
         coalesce(l.hold_ms, 0),
         coalesce(l.wrap_up_ms, 0),
         round((l.talk_ms + l.hold_ms + l.wrap_up_ms)::numeric / nullif(l.answered, 0))::bigint
  FROM legs l
  FULL JOIN outbound o ON o.agent = l.agent AND o.bucket = l.bucket
  ORDER BY 1, 2
$$;

-- Indexes for the reports' range scans and look-ups.
-- Queue report: a tenant's calls by the time they entered their last queue.
CREATE INDEX calls_tenant_queued ON calls (tenant, (coalesce(queued_at, arrived_at)))
  WHERE last_queue IS NOT NULL;
-- Per-call wrap-up: the wrap-up states of a call.
CREATE INDEX agent_state_events_wrap_up ON agent_state_events (call_id)
  WHERE to_state = 'wrap-up';
-- Agent reports: a tenant's legs by offer time, all agents.
CREATE INDEX call_legs_tenant_offered ON call_legs (tenant, offered_at);
-- Queue report: the events by which calls leave a queue.
CREATE INDEX queue_events_tenant_leaving ON queue_events (tenant, at)
  WHERE kind IN ('overflow', 'timeout', 'exit');
