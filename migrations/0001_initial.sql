-- 0001: the first schema. Configuration entities (tenants, skills, teams, agents, queues
-- and their relations) and the event history (calls, queue and agent events).
-- Every tenant-owned row carries tenant_id; names are unique within their tenant, and a
-- reference to another entity includes tenant_id in its foreign key, so a row can never
-- point into another tenant. History rows are keyed by (call_id, seq) / (agent_id, seq),
-- so replaying the same event is an idempotent write (INSERT ... ON CONFLICT DO NOTHING).

CREATE TABLE tenants (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE skills (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

CREATE TABLE teams (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  -- The break policy: at most this many agents on a break at once (NULL: no limit), each
  -- at most max_break_seconds (NULL: no limit).
  max_on_break      int CHECK (max_on_break >= 0),
  max_break_seconds int CHECK (max_break_seconds > 0),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

CREATE TABLE agents (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  display_name text,
  team_id     bigint,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);

CREATE TABLE agent_skills (
  tenant_id   bigint NOT NULL,
  agent_id    bigint NOT NULL,
  skill_id    bigint NOT NULL,
  proficiency smallint NOT NULL CHECK (proficiency BETWEEN 1 AND 10),
  PRIMARY KEY (agent_id, skill_id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE queues (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  strategy    text NOT NULL DEFAULT 'longest-idle',
  priority    int NOT NULL DEFAULT 0,
  -- Everything else of the queue (skills, escalation, overflow, exits, ...) as the
  -- configuration file writes it, until later migrations give it columns.
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

CREATE TABLE queue_members (
  tenant_id   bigint NOT NULL,
  queue_id    bigint NOT NULL,
  agent_id    bigint NOT NULL,
  tier        smallint NOT NULL DEFAULT 1 CHECK (tier >= 1),
  penalty     int NOT NULL DEFAULT 0 CHECK (penalty >= 0),
  priority    int NOT NULL DEFAULT 0,
  PRIMARY KEY (queue_id, agent_id),
  FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX queue_members_agent ON queue_members (agent_id);

-- One row per event in a call's life (arrived, queued, offered, answered, transferred,
-- finished, ...); seq counts the call's events from 1.
CREATE TABLE call_records (
  tenant_id   bigint NOT NULL REFERENCES tenants (id),
  call_id     bigint NOT NULL,
  seq         int NOT NULL CHECK (seq >= 1),
  at          timestamptz NOT NULL,
  kind        text NOT NULL,
  queue_id    bigint,
  agent_id    bigint,
  cause       text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (call_id, seq)
);
CREATE INDEX call_records_tenant_at ON call_records (tenant_id, at);

-- Queue-level events of a call (joined, escalated, overflowed, left, ...).
CREATE TABLE queue_events (
  tenant_id   bigint NOT NULL REFERENCES tenants (id),
  call_id     bigint NOT NULL,
  seq         int NOT NULL CHECK (seq >= 1),
  queue_id    bigint NOT NULL,
  at          timestamptz NOT NULL,
  kind        text NOT NULL,
  wait_ms     bigint CHECK (wait_ms >= 0),
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (call_id, seq)
);
CREATE INDEX queue_events_queue_at ON queue_events (queue_id, at);

-- Agent state transitions; seq counts the agent's transitions from 1.
CREATE TABLE agent_state_events (
  tenant_id   bigint NOT NULL REFERENCES tenants (id),
  agent_id    bigint NOT NULL,
  seq         bigint NOT NULL CHECK (seq >= 1),
  at          timestamptz NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  reason      text,
  cause       text,
  call_id     bigint,
  PRIMARY KEY (agent_id, seq)
);
CREATE INDEX agent_state_events_tenant_at ON agent_state_events (tenant_id, at);
