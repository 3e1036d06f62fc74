-- 0001: the first schema. Configuration entities (tenants, skills, teams, agents, queues
-- and their relations) and the event history (calls, queue and agent events).
-- Every tenant-owned row carries tenant_id; names are unique within their tenant, and a
-- reference to another entity includes tenant_id in its foreign key, so a row can never
-- point into another tenant. The history tables (calls, legs, queue and agent events) come
-- in 0002_history.sql.

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

