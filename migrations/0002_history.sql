-- 0002: the history the engine writes: one row per call, one per agent leg of a call, the
-- queue events of every call, every agent-state transition, queue overflow-level changes,
-- callback requests, recordings and voicemails.
--
-- History names its tenant, queues and agents by name (text), not by configuration row id:
-- a record outlives the configuration it was made under (an agent deleted next year still
-- has her calls in last year's reports), and records can be written while the database
-- is unreachable (they are spooled with the names the engine knew at the time).
--
-- Every row is keyed by what the engine assigns once and never again, so writing the same
-- record twice (a replay of the spool after a crash or an outage) inserts nothing the
-- second time (INSERT ... ON CONFLICT DO NOTHING):
--   * call rows by call_id, which is unique across daemon runs (see engine/store/records.h);
--   * call events by (call_id, seq), seq counting the call's events from 1;
--   * agent and queue events by (run_id, seq): run_id identifies one run of the daemon,
--     seq counts that run's events of the table from 1.
-- Times are timestamptz; durations are milliseconds (bigint).

-- One row per call, written when the call ends (or, for a call in progress when the
-- daemon died, when the next run replays the spool: final_state 'interrupted').
CREATE TABLE calls (
  call_id       bigint PRIMARY KEY,
  run_id        bigint NOT NULL,
  tenant        text NOT NULL,
  direction     text NOT NULL DEFAULT 'inbound'
                CHECK (direction IN ('inbound', 'outbound', 'internal')),
  caller        text,            -- the caller's number, as received
  dialled       text,            -- the number or entry point dialled
  first_queue   text,            -- the first queue the call entered
  last_queue    text,            -- the last queue the call was in
  agent         text,            -- the agent who answered
  final_state   text NOT NULL CHECK (final_state IN ('completed', 'abandoned', 'voicemail',
                  'callback', 'hung-up', 'cancelled', 'unanswered', 'interrupted')),
  exit_reason   text,            -- for calls that left a queue through an exit
  arrived_at    timestamptz NOT NULL,   -- entered the engine
  queued_at     timestamptz,            -- entered the last queue
  answered_at   timestamptz,
  ended_at      timestamptz NOT NULL,
  wait_ms       bigint NOT NULL DEFAULT 0 CHECK (wait_ms >= 0),  -- in the last queue
  total_wait_ms bigint NOT NULL DEFAULT 0 CHECK (total_wait_ms >= 0),  -- arrival to answer/end
  talk_ms       bigint NOT NULL DEFAULT 0 CHECK (talk_ms >= 0),
  hold_ms       bigint NOT NULL DEFAULT 0 CHECK (hold_ms >= 0),
  sl_threshold_ms bigint,        -- the last queue's service-level threshold at the time
  offers        int NOT NULL DEFAULT 0 CHECK (offers >= 0),     -- agents rung
  queues        int NOT NULL DEFAULT 0 CHECK (queues >= 0),     -- queues entered
  vip_level     int NOT NULL DEFAULT 0,
  detail        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX calls_tenant_arrived ON calls (tenant, arrived_at);
CREATE INDEX calls_tenant_queue_arrived ON calls (tenant, last_queue, arrived_at);
CREATE INDEX calls_tenant_agent_arrived ON calls (tenant, agent, arrived_at);
CREATE INDEX calls_caller ON calls (caller);

-- One row per agent leg of a call: every time the engine rang an agent for it.
CREATE TABLE call_legs (
  call_id      bigint NOT NULL,
  leg          int NOT NULL CHECK (leg >= 1),  -- 1-based, in offer order
  run_id       bigint NOT NULL,
  tenant       text NOT NULL,
  queue        text,
  agent        text NOT NULL,
  offered_at   timestamptz NOT NULL,
  answered_at  timestamptz,
  ended_at     timestamptz NOT NULL,
  result       text NOT NULL CHECK (result IN ('answered', 'no-answer', 'busy', 'declined',
                 'failed', 'answered-elsewhere', 'caller-gone', 'withdrawn', 'interrupted')),
  PRIMARY KEY (call_id, leg)
);
CREATE INDEX call_legs_tenant_agent ON call_legs (tenant, agent, offered_at);

-- The queue events of a call, in order.
--   enter           joined `queue`
--   offer           `agent` rung
--   ring-no-answer  `agent` did not answer in time (RONA)
--   offer-ended     the offer to `agent` ended otherwise (reason: busy, declined, ...)
--   connect         `agent` answered; wait_ms is the time in this queue
--   escalate        an escalation step came into force (detail.step)
--   overflow        left for another queue (detail.to_queue, reason)
--   timeout         left after the queue's maximum wait (detail.destination)
--   exit            left through another exit (reason, detail.destination)
--   transfer        transferred by the agent (detail.to)
--   abandon         the caller hung up before an agent answered; wait_ms is the wait
--   complete        the call ended after an agent answered (detail.talk_ms, hold_ms)
--   end             the call ended otherwise (reason: the final state)
CREATE TABLE queue_events (
  call_id     bigint NOT NULL,
  seq         int NOT NULL CHECK (seq >= 1),
  run_id      bigint NOT NULL,
  tenant      text NOT NULL,
  queue       text,
  at          timestamptz NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('enter', 'offer', 'ring-no-answer', 'offer-ended',
                'connect', 'escalate', 'overflow', 'timeout', 'exit', 'transfer', 'abandon',
                'complete', 'end')),
  agent       text,
  wait_ms     bigint CHECK (wait_ms >= 0),
  reason      text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (call_id, seq)
);
CREATE INDEX queue_events_tenant_queue_at ON queue_events (tenant, queue, at);

-- Every agent-state transition, with its reason (not-ready reason code) and cause.
CREATE TABLE agent_state_events (
  run_id      bigint NOT NULL,
  seq         bigint NOT NULL CHECK (seq >= 1),
  tenant      text NOT NULL,
  agent       text NOT NULL,
  at          timestamptz NOT NULL,
  from_state  text NOT NULL,
  to_state    text NOT NULL,
  reason      text,   -- the not-ready reason code, when to_state is not-ready
  cause       text NOT NULL,  -- what made the transition (agent request, offer, ...)
  call_id     bigint,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX agent_state_events_tenant_agent_at ON agent_state_events (tenant, agent, at, run_id, seq);

-- A queue's overflow level (the highest member tier in use) changed.
CREATE TABLE queue_overflow_events (
  run_id      bigint NOT NULL,
  seq         bigint NOT NULL CHECK (seq >= 1),
  tenant      text NOT NULL,
  queue       text NOT NULL,
  at          timestamptz NOT NULL,
  from_tier   int NOT NULL,
  to_tier     int NOT NULL,
  PRIMARY KEY (run_id, seq)
);

-- Callback requests: a caller who left a queue asking to be called back.
CREATE TABLE callbacks (
  call_id       bigint PRIMARY KEY,
  tenant        text NOT NULL,
  queue         text,
  number        text,
  requested_at  timestamptz NOT NULL,
  status        text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'dialling', 'done', 'failed', 'cancelled')),
  attempts      int NOT NULL DEFAULT 0,
  done_at       timestamptz
);
CREATE INDEX callbacks_pending ON callbacks (tenant, requested_at) WHERE status = 'pending';

-- Recordings of calls (one row per recorded part; pausing starts a new part).
CREATE TABLE recordings (
  call_id      bigint NOT NULL,
  part         int NOT NULL CHECK (part >= 1),
  tenant       text NOT NULL,
  agent        text,
  path         text NOT NULL,
  started_at   timestamptz NOT NULL,
  duration_ms  bigint NOT NULL CHECK (duration_ms >= 0),
  channels     smallint NOT NULL DEFAULT 2 CHECK (channels IN (1, 2)),
  PRIMARY KEY (call_id, part)
);

-- Voicemail messages.
CREATE TABLE voicemails (
  call_id      bigint PRIMARY KEY,
  tenant       text NOT NULL,
  queue        text,
  caller       text,
  path         text NOT NULL,
  recorded_at  timestamptz NOT NULL,
  duration_ms  bigint NOT NULL CHECK (duration_ms >= 0),
  heard_at     timestamptz
);

-- Runs of the daemon. A run is recorded when its first records reach the database; when a
-- later run has shipped everything an earlier run spooled, it closes the earlier run out
-- (closed_out_at): calls that run left unfinished get a calls row with final_state
-- 'interrupted', and agents it left logged in get a final 'logged-out' transition
-- (cause 'system', reason 'engine-restart'), so reports never count a dead run's last
-- state as lasting for ever. A run that stopped cleanly has nothing to close out.
CREATE TABLE runs (
  run_id         bigint PRIMARY KEY,
  started_at     timestamptz NOT NULL,
  stopped_at     timestamptz,   -- set by a run that stopped cleanly
  closed_out_at  timestamptz
);
CREATE INDEX queue_events_run ON queue_events (run_id);
CREATE INDEX agent_state_events_run ON agent_state_events (run_id, agent);
