-- 0006: call transfers (RoutingCore::transfer_to_queue, transfer_external and
-- complete_attended_transfer; docs/ROUTING.md, "Transfers").
--
-- History. calls.final_state gains 'transferred': answered, then handed by the agent to a
-- party outside (calls.agent is the agent who transferred it). queue_events already has
-- the kind 'transfer' (0002); the engine writes one per transfer, in the queue the call
-- was answered in:
--   agent    the agent who had the call
--   reason   the kind of transfer: 'queue' (blind, the call waits in a queue again: an
--            'enter' event follows), 'external' (blind, to an outside party: the call
--            ends 'transferred') or 'attended' (after a consultation call: to the agent
--            detail.to_agent, or outside when there is none)
--   wait_ms  the call's wait in that queue before it was answered
--   detail   {"to": queue or agent, "to_queue", "to_agent", "talk_ms", "hold_ms",
--            "sl_threshold_ms"}: talk_ms and hold_ms are the transferring agent's part of
--            the call, sl_threshold_ms the queue's threshold
-- The transferring agent's leg ends at the transfer (result 'answered'); the target of an
-- attended transfer gets a leg offered and answered at the transfer. A call's talk_ms
-- and hold_ms cover the whole call, every agent's part.
--
-- Reports. A transferred call is an answered call:
--   * report_queue_intervals: a call ending 'transferred' counts as answered in its last
--     queue, like 'completed'. A transfer to a queue ('transfer' event, reason 'queue')
--     counts as an answered call of the queue it left, dated by the call's entry into
--     that queue, with the event's wait, threshold, talk and hold and the transferring
--     agent's wrap-up; the call then counts again, as a new offered call, in the queue it
--     went to (the engine's live statistics count it the same way). The call's own row
--     keeps the talk, hold and wrap-up of the other parts, so nothing counts twice.
--     A call's wrap-up is now every agent's wrap-up carrying its id (after an attended
--     transfer both agents wrap up), less what went with its transfers to a queue.
--   * report_agent_monthly_volume: the talk and hold of an answered leg are its agent's
--     own part of the call; a leg that ended with a transfer has its part in the transfer
--     event. The agent's wrap-up of a call counts once however many legs they had in it.
-- The signatures and columns of both reports do not change.

ALTER TABLE calls DROP CONSTRAINT calls_final_state_check;
ALTER TABLE calls ADD CONSTRAINT calls_final_state_check
  CHECK (final_state IN ('completed', 'abandoned', 'voicemail', 'callback', 'hung-up',
                         'cancelled', 'unanswered', 'interrupted', 'transferred'));

-- Queue report: a tenant's transfers to a queue by time.
CREATE INDEX queue_events_tenant_transfer ON queue_events (tenant, at)
  WHERE kind = 'transfer';

-- As in 0004, with transfers (see the head of this file). Which calls count, and where:
--   * A call counts for its last queue (calls.last_queue), in the interval in which it
--     entered that queue (calls.queued_at, or arrived_at when queued_at is missing).
--   * offered: every call whose last queue this is, except 'interrupted' calls, which are
--     counted apart in `interrupted`; plus every transfer of a call from this queue to a
--     queue. offered = answered + abandoned + ended_otherwise.
--   * answered: final_state 'completed' or 'transferred', and the transfers to a queue.
--     abandoned: 'abandoned'. ended_otherwise: voicemail, callback, hung-up, cancelled,
--     unanswered.
--   * in threshold: wait_ms <= the threshold, which is p_sl_threshold_ms when given, else
--     the call's own sl_threshold_ms (a call without one is never in threshold).
--   * the service levels, abandon rate, ASA, AHT and averages as in 0004; wrap-up: every
--     agent's wrap-up carrying the call's id, each up to the agent's next state event,
--     that of a transfer to a queue going with the transfer (the transferring agent's
--     wrap-up after it, before they answered the call again, if ever).
--   * overflowed_out, timed_out, exited as in 0004.
CREATE OR REPLACE FUNCTION report_queue_intervals(p_tenant text, p_from timestamptz,
                                                  p_to timestamptz, p_interval text,
                                                  p_time_zone text DEFAULT 'UTC',
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
    SELECT c.*, c.final_state IN ('completed', 'transferred') AS is_answered
    FROM calls c
    WHERE c.tenant = p_tenant AND c.last_queue IS NOT NULL
      AND coalesce(c.queued_at, c.arrived_at) >= p_from
      AND coalesce(c.queued_at, c.arrived_at) < p_to
  ), moved AS (
    -- Transfers to a queue, dated by the call's entry into the queue they left.
    SELECT e.call_id, e.queue, e.agent, e.at, e.wait_ms,
           (e.detail ->> 'sl_threshold_ms')::bigint AS sl_threshold_ms,
           coalesce((e.detail ->> 'talk_ms')::bigint, 0) AS talk_ms,
           coalesce((e.detail ->> 'hold_ms')::bigint, 0) AS hold_ms,
           n.at AS entered_at
    FROM queue_events e
    CROSS JOIN LATERAL (
      SELECT coalesce(max(x.at), e.at) AS at FROM queue_events x
      WHERE x.call_id = e.call_id AND x.seq < e.seq AND x.kind = 'enter'
        AND x.queue = e.queue) n
    WHERE e.tenant = p_tenant AND e.kind = 'transfer' AND e.reason = 'queue'
      AND e.queue IS NOT NULL AND e.at >= p_from AND n.at >= p_from AND n.at < p_to
  ), moved_parts AS (
    -- Per call counted here: the talk and hold that went with its transfers to a queue.
    SELECT c.call_id, sum(coalesce((e.detail ->> 'talk_ms')::bigint, 0)) AS talk_ms,
           sum(coalesce((e.detail ->> 'hold_ms')::bigint, 0)) AS hold_ms
    FROM in_range c
    JOIN queue_events e
      ON e.call_id = c.call_id AND e.kind = 'transfer' AND e.reason = 'queue'
    WHERE c.queues > 1 AND c.is_answered
    GROUP BY c.call_id
  ), wrap_ups AS (
    -- The wrap-ups carrying the id of a call counted here (answered in its last queue, or
    -- transferred from a queue), each up to the agent's next state event, with the time of
    -- the transfer to a queue it goes with: the agent's latest transfer of the call before
    -- it, unless they answered the call again in between.
    SELECT w.call_id, w.agent, n.at - w.at AS duration, t.at AS transfer_at
    FROM (SELECT c.call_id, c.queues > 1 AS moved FROM in_range c WHERE c.is_answered
          UNION
          SELECT m.call_id, true FROM moved m) k
    JOIN agent_state_events w
      ON w.call_id = k.call_id AND w.to_state = 'wrap-up' AND w.tenant = p_tenant
    CROSS JOIN LATERAL (
      SELECT x.at FROM agent_state_events x
      WHERE x.tenant = w.tenant AND x.agent = w.agent
        AND (x.at, x.run_id, x.seq) > (w.at, w.run_id, w.seq)
      ORDER BY x.at, x.run_id, x.seq
      LIMIT 1) n
    LEFT JOIN LATERAL (
      SELECT e.at FROM queue_events e
      WHERE k.moved AND e.call_id = w.call_id AND e.kind = 'transfer' AND e.reason = 'queue'
        AND e.agent = w.agent AND e.at <= w.at
        AND NOT EXISTS (SELECT 1 FROM call_legs l
                        WHERE l.call_id = w.call_id AND l.agent = w.agent
                          AND l.answered_at > e.at AND l.answered_at <= w.at)
      ORDER BY e.at DESC
      LIMIT 1) t ON true
  ), wrap_up AS (
    -- A call's wrap-up, less what goes with its transfers to a queue.
    SELECT u.call_id, report_ms(sum(u.duration)) AS wrap_up_ms
    FROM wrap_ups u
    WHERE u.transfer_at IS NULL
    GROUP BY u.call_id
  ), c AS (
    SELECT c.last_queue AS queue,
           report_interval_start(coalesce(c.queued_at, c.arrived_at), p_interval,
                                 p_time_zone) AS bucket,
           c.final_state <> 'interrupted' AS offered,
           c.is_answered AS answered,
           c.final_state = 'abandoned' AS abandoned,
           c.final_state = 'interrupted' AS interrupted,
           coalesce(c.wait_ms <= coalesce(p_sl_threshold_ms, c.sl_threshold_ms), false)
             AS in_threshold,
           c.wait_ms,
           c.talk_ms - coalesce(p.talk_ms, 0) AS talk_ms,
           c.hold_ms - coalesce(p.hold_ms, 0) AS hold_ms,
           CASE WHEN c.is_answered THEN coalesce(w.wrap_up_ms, 0) END AS wrap_up_ms
    FROM in_range c
    LEFT JOIN moved_parts p ON p.call_id = c.call_id
    LEFT JOIN wrap_up w ON w.call_id = c.call_id
    UNION ALL
    -- Each transfer to a queue: an answered call of the queue it left.
    SELECT m.queue,
           report_interval_start(m.entered_at, p_interval, p_time_zone),
           true, true, false, false,
           coalesce(m.wait_ms <= coalesce(p_sl_threshold_ms, m.sl_threshold_ms), false),
           m.wait_ms, m.talk_ms, m.hold_ms,
           coalesce((SELECT report_ms(sum(u.duration)) FROM wrap_ups u
                     WHERE u.call_id = m.call_id AND u.agent = m.agent
                       AND u.transfer_at = m.at), 0)
    FROM moved m
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

-- As in 0004, with transfers (see the head of this file):
--   * talk_ms, hold_ms: of each answered leg, its agent's part of the call: the talk and
--     hold of the transfer that ended the leg (a 'transfer' event of the leg's agent at the
--     leg's end), else, when the agent is the one the call ended with (calls.agent), the
--     call's talk and hold less the parts of its transfers.
--   * wrap_up_ms: the agent's wrap-up of each call they answered, once per call (with the
--     agent's last answered leg of it).
CREATE OR REPLACE FUNCTION report_agent_monthly_volume(p_tenant text, p_from timestamptz,
                                                       p_to timestamptz,
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
           coalesce(sum(p.talk_ms) FILTER (WHERE l.result = 'answered'), 0) AS talk_ms,
           coalesce(sum(p.hold_ms) FILTER (WHERE l.result = 'answered'), 0) AS hold_ms,
           coalesce(sum(report_call_wrap_up_ms(l.tenant, l.call_id, l.agent))
                      FILTER (WHERE l.result = 'answered' AND NOT EXISTS (
                        SELECT 1 FROM call_legs later
                        WHERE later.call_id = l.call_id AND later.agent = l.agent
                          AND later.result = 'answered' AND later.leg > l.leg)), 0)
             AS wrap_up_ms
    FROM call_legs l
    LEFT JOIN calls c ON c.call_id = l.call_id AND c.agent = l.agent
    LEFT JOIN LATERAL (
      SELECT x.talk_ms, x.hold_ms FROM (
        -- The leg ended with a transfer by its agent: their part.
        SELECT (e.detail ->> 'talk_ms')::bigint AS talk_ms,
               (e.detail ->> 'hold_ms')::bigint AS hold_ms, 1 AS rank
        FROM queue_events e
        WHERE e.call_id = l.call_id AND e.kind = 'transfer' AND e.agent = l.agent
          AND e.at = l.ended_at
        UNION ALL
        -- The call ended with this agent: its talk and hold less the parts transferred.
        SELECT c.talk_ms - coalesce(sum((e.detail ->> 'talk_ms')::bigint), 0),
               c.hold_ms - coalesce(sum((e.detail ->> 'hold_ms')::bigint), 0), 2
        FROM queue_events e
        WHERE e.call_id = l.call_id AND e.kind = 'transfer'
      ) x
      ORDER BY x.rank
      LIMIT 1) p ON l.result = 'answered'
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
