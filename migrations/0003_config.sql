-- 0003: the configuration in the database. PostgreSQL is the engine's source of
-- configuration: tenants, skills, teams with break policies, agents (extension, work mode,
-- skills, SIP credentials), queues (strategy, limits, exits, escalation, overflow, required
-- skills, members), users with roles and API tokens, prompt sets, business-hours
-- calendars with holidays, IVR menus, trunks and their dialled numbers (DIDs).
-- `acdd config apply FILE` writes these tables from the YAML model (config/acdd.yaml);
-- `acdd config export` reads them back (engine/app/config_db.h).
--
-- Conventions (as in 0001): every tenant-owned row carries tenant_id, names are unique
-- within their tenant, and every reference includes tenant_id in its foreign key, so no
-- row can point into another tenant. Durations are milliseconds (bigint, *_ms). Nested
-- rules the engine reads as a whole (queue exits, escalation, overflow; weekly opening
-- hours) are jsonb; what a report or the engine filters by has its own column or table.
-- Secrets are stored only as hashes: API tokens as SHA-256 (hex), SIP passwords as the
-- digest HA1, md5("username:realm:password") (hex). Uniqueness that a reordering within
-- one apply may violate midway (extensions, SIP user names, numbers, token hashes) is
-- checked at commit (DEFERRABLE INITIALLY DEFERRED), and so are the references of IVR
-- options and DIDs to queues and menus (menus may point at each other).
--
-- Every configuration table notifies the channel 'acd_config' on every row change with
-- the payload {"table":"<table>","tenant":<tenant id>,"id":<row id or null>,"op":"INSERT"}
-- (op INSERT, UPDATE or DELETE; ids only, no data), for hot reload.

-- True when `name` is a time zone PostgreSQL knows (IANA names such as Europe/Berlin).
CREATE FUNCTION acd_is_time_zone(name text) RETURNS boolean
  LANGUAGE sql STABLE STRICT
  AS $$ SELECT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = $1) $$;

-- An entity name: 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit.
CREATE DOMAIN acd_name AS text CHECK (VALUE ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$');

-- "HH:MM-HH:MM" opening-hours ranges, each from < to (to may be 24:00).
CREATE FUNCTION acd_is_hours(ranges text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT coalesce(bool_and(r ~ '^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
                             AND split_part(r, '-', 1) < split_part(r, '-', 2)), true)
    FROM unnest(ranges) AS r
  $$;

-- Tenants: the SIP digest realm of the tenant's phones (NULL: the tenant's name), the
-- default prompt language, the default time zone, the not-ready reasons agents may use
-- (empty: any).
ALTER TABLE tenants
  ADD COLUMN sip_realm text CHECK (sip_realm ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$'),
  ADD COLUMN default_language text NOT NULL DEFAULT 'en'
    CHECK (default_language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
  ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC' CHECK (acd_is_time_zone(time_zone)),
  ADD COLUMN not_ready_reasons text[] NOT NULL DEFAULT '{}';

-- Teams: the break policy. max_on_break (0001) is the most agents on one of
-- break_reasons at once (NULL: no limit); max_break_seconds each break's longest
-- duration (NULL: no limit), now with millisecond precision.
ALTER TABLE teams
  ALTER COLUMN max_break_seconds TYPE numeric(12, 3),
  ADD COLUMN break_reasons text[] NOT NULL DEFAULT '{}',
  ADD COLUMN break_over_limit text NOT NULL DEFAULT 'refuse'
    CHECK (break_over_limit IN ('refuse', 'waitlist'));

-- Agents: extension, work mode, after-call work after outbound calls, SIP credentials
-- (user name and HA1 with the tenant's realm; both or neither).
ALTER TABLE agents
  ADD COLUMN extension text NOT NULL CHECK (extension ~ '^[A-Za-z0-9*#+._-]{1,32}$'),
  ADD COLUMN work_mode text NOT NULL DEFAULT 'auto-ready'
    CHECK (work_mode IN ('auto-ready', 'manual')),
  ADD COLUMN outbound_wrap_up_ms bigint NOT NULL DEFAULT 0 CHECK (outbound_wrap_up_ms >= 0),
  ADD COLUMN sip_username text CHECK (sip_username ~ '^[A-Za-z0-9._~!$&''()*+,;=%-]{1,64}$'),
  ADD COLUMN sip_ha1 text CHECK (sip_ha1 ~ '^[0-9a-f]{32}$'),
  ADD CONSTRAINT agents_sip_both CHECK ((sip_username IS NULL) = (sip_ha1 IS NULL)),
  ADD CONSTRAINT agents_extension_unique UNIQUE (tenant_id, extension)
    DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT agents_sip_username_unique UNIQUE (tenant_id, sip_username)
    DEFERRABLE INITIALLY DEFERRED;

-- Queues: every setting of the file has a column, except the nested rules, which are
-- jsonb in the file's own shape with durations in milliseconds:
--   exits      {"on_timeout": {"voicemail": "box"}, "on_full": {"queue": "other"},
--               "on_empty": {"hangup": "message"}}  (absent: hang up, no message)
--   escalation [{"after_ms": 10000, "relax_min_level": 0, "drop_optional_skills": true,
--                "max_tier": 0}, ...]  (in order of after_ms)
--   overflow   {"enabled": true, "min_calls": 5, "min_wait_ms": 10000, "sustain_ms": 300000,
--               "max_tier": 4, "clear_below_calls": 2, "clear_after_ms": 120000}
-- The columns `priority` and `settings` of 0001 are not used.
ALTER TABLE queues
  ADD CONSTRAINT queues_strategy_known CHECK (strategy IN ('longest-idle', 'least-talk-time',
    'fewest-calls', 'round-robin', 'top-down', 'ring-all', 'random', 'weighted-random',
    'best-proficiency')),
  ADD COLUMN sl_threshold_ms bigint NOT NULL DEFAULT 20000 CHECK (sl_threshold_ms > 0),
  ADD COLUMN ring_timeout_ms bigint NOT NULL DEFAULT 15000 CHECK (ring_timeout_ms > 0),
  ADD COLUMN wrap_up_ms bigint NOT NULL DEFAULT 0 CHECK (wrap_up_ms >= 0),
  ADD COLUMN manual_wrap_up boolean NOT NULL DEFAULT false,
  ADD COLUMN default_handle_time_ms bigint NOT NULL DEFAULT 180000
    CHECK (default_handle_time_ms > 0),
  ADD COLUMN max_wait_ms bigint NOT NULL DEFAULT 0 CHECK (max_wait_ms >= 0),
  ADD COLUMN max_length int NOT NULL DEFAULT 0 CHECK (max_length >= 0),
  ADD COLUMN join_when_empty boolean NOT NULL DEFAULT true,
  ADD COLUMN leave_when_empty boolean NOT NULL DEFAULT false,
  ADD COLUMN aging_per_minute numeric NOT NULL DEFAULT 0 CHECK (aging_per_minute >= 0),
  ADD COLUMN vip_boost int NOT NULL DEFAULT 100 CHECK (vip_boost >= 0),
  ADD COLUMN rona_policy text NOT NULL DEFAULT 'not-ready'
    CHECK (rona_policy IN ('not-ready', 'ready', 'logout')),
  ADD COLUMN rona_retry_ms bigint NOT NULL DEFAULT 30000 CHECK (rona_retry_ms >= 0),
  ADD COLUMN ring_all_limit int NOT NULL DEFAULT 32 CHECK (ring_all_limit BETWEEN 1 AND 1000),
  ADD COLUMN sticky_window_ms bigint NOT NULL DEFAULT 0 CHECK (sticky_window_ms >= 0),
  ADD COLUMN sticky_wait_ms bigint NOT NULL DEFAULT 30000 CHECK (sticky_wait_ms >= 0),
  ADD COLUMN exits jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(exits) = 'object'),
  ADD COLUMN escalation jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(escalation) = 'array'),
  ADD COLUMN overflow jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(overflow) = 'object');

-- The skills a queue requires, in the file's order (position).
CREATE TABLE queue_skills (
  tenant_id   bigint NOT NULL,
  queue_id    bigint NOT NULL,
  skill_id    bigint NOT NULL,
  min_level   smallint NOT NULL DEFAULT 1 CHECK (min_level BETWEEN 1 AND 10),
  optional    boolean NOT NULL DEFAULT false,
  position    int NOT NULL DEFAULT 0,
  PRIMARY KEY (queue_id, skill_id),
  FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX queue_skills_skill ON queue_skills (skill_id);

-- Members: list order (top-down, round robin) and weight (weighted random); priority
-- (0001) is the member's queue_priority.
ALTER TABLE queue_members
  ADD COLUMN position int NOT NULL DEFAULT 0,
  ADD COLUMN weight int NOT NULL DEFAULT 1 CHECK (weight >= 1),
  ADD CONSTRAINT queue_members_tier_range CHECK (tier <= 9);

-- People who use the API and consoles. Roles: admin, supervisor, agent, read-only (at
-- least one). agent_id links a user to the agent they work as (optional; cleared when the
-- agent is deleted).
CREATE TABLE users (
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name         acd_name NOT NULL,
  display_name text NOT NULL DEFAULT '',
  roles        text[] NOT NULL CHECK (cardinality(roles) >= 1 AND
                 roles <@ ARRAY['admin', 'supervisor', 'agent', 'read-only']::text[]),
  agent_id     bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE SET NULL (agent_id)
);
CREATE INDEX users_agent ON users (agent_id);

-- API tokens of a user: only the SHA-256 of the token (lower-case hex) is stored.
CREATE TABLE api_tokens (
  tenant_id   bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     bigint NOT NULL,
  name        acd_name NOT NULL,
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,  -- NULL: never
  UNIQUE (user_id, name),
  CONSTRAINT api_tokens_sha256_unique UNIQUE (sha256) DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Prompt sets: recorded prompts of one language under one directory.
CREATE TABLE prompt_sets (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        acd_name NOT NULL,
  language    text NOT NULL CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
  path        text NOT NULL CHECK (path <> ''),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- Business-hours calendars: weekly opening hours in the calendar's time zone, as jsonb
-- {"mon": ["08:00-12:00", "13:00-18:00"], ...} (days mon..sun; a day absent is closed).
CREATE TABLE calendars (
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        acd_name NOT NULL,
  time_zone   text NOT NULL CHECK (acd_is_time_zone(time_zone)),
  weekly      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(weekly) = 'object'),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- Holidays of a calendar: closed all day (hours NULL) or open only in `hours`.
CREATE TABLE calendar_holidays (
  tenant_id   bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  calendar_id bigint NOT NULL,
  day         date NOT NULL,
  name        text NOT NULL DEFAULT '',
  hours       text[] CHECK (acd_is_hours(hours)),
  UNIQUE (calendar_id, day),
  FOREIGN KEY (tenant_id, calendar_id) REFERENCES calendars (tenant_id, id) ON DELETE CASCADE
);

-- IVR menus: a prompt (of the prompt set, or the tenant's default), how long to wait for
-- a key, how often to repeat.
CREATE TABLE ivr_menus (
  tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          acd_name NOT NULL,
  prompt        text NOT NULL CHECK (prompt <> ''),
  prompt_set_id bigint,
  timeout_ms    bigint NOT NULL DEFAULT 5000 CHECK (timeout_ms > 0),
  retries       int NOT NULL DEFAULT 2 CHECK (retries BETWEEN 0 AND 10),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, prompt_set_id) REFERENCES prompt_sets (tenant_id, id)
);

-- What a key does in a menu. input is a key (0-9, *, #) or 'failure' (no valid key after
-- the retries). action: queue (queue_id), menu (menu_id), voicemail (target: mailbox),
-- callback (target: note), hangup (target: message), operator (target: extension or
-- number; empty: the tenant's operator).
CREATE TABLE ivr_options (
  tenant_id   bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  menu_id     bigint NOT NULL,
  input       text NOT NULL CHECK (input ~ '^[0-9*#]$' OR input = 'failure'),
  action      text NOT NULL
              CHECK (action IN ('queue', 'menu', 'voicemail', 'callback', 'hangup', 'operator')),
  queue_id    bigint,
  target_menu_id bigint,
  target      text NOT NULL DEFAULT '',
  UNIQUE (menu_id, input),
  CHECK ((action = 'queue') = (queue_id IS NOT NULL)),
  CHECK ((action = 'menu') = (target_menu_id IS NOT NULL)),
  FOREIGN KEY (tenant_id, menu_id) REFERENCES ivr_menus (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (tenant_id, target_menu_id) REFERENCES ivr_menus (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED
);

-- SIP trunks: where calls may come from (source networks), optional digest
-- authentication (user name and HA1 with the tenant's realm), the caller id for
-- outbound calls.
CREATE TABLE trunks (
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name            acd_name NOT NULL,
  allowed_sources cidr[] NOT NULL DEFAULT '{}',
  auth_username   text,
  auth_ha1        text CHECK (auth_ha1 ~ '^[0-9a-f]{32}$'),
  caller_id       text NOT NULL DEFAULT '' CHECK (caller_id ~ '^[+]?[0-9A-Za-z*#._-]{0,32}$'),
  CHECK ((auth_username IS NULL) = (auth_ha1 IS NULL)),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);

-- Dialled numbers: a number arriving on a trunk goes to an entry point: a queue or an
-- IVR menu (kind leaves room for call flows).
CREATE TABLE dids (
  tenant_id   bigint NOT NULL,
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trunk_id    bigint NOT NULL,
  number      text NOT NULL CHECK (number ~ '^[+]?[0-9A-Za-z*#._-]{1,32}$'),
  kind        text NOT NULL CHECK (kind IN ('queue', 'menu')),
  queue_id    bigint,
  menu_id     bigint,
  CHECK ((kind = 'queue') = (queue_id IS NOT NULL)),
  CHECK ((kind = 'menu') = (menu_id IS NOT NULL)),
  CONSTRAINT dids_number_unique UNIQUE (tenant_id, number) DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (tenant_id, trunk_id) REFERENCES trunks (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (tenant_id, menu_id) REFERENCES ivr_menus (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX dids_number ON dids (number);

-- Change notification for hot reload: one function, one trigger per table.
CREATE FUNCTION acd_config_notify() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
DECLARE
  r jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
  PERFORM pg_notify('acd_config', format('{"table":%s,"tenant":%s,"id":%s,"op":"%s"}',
    to_json(TG_TABLE_NAME::text),
    coalesce(CASE WHEN TG_TABLE_NAME = 'tenants' THEN r->'id' ELSE r->'tenant_id' END, 'null'),
    coalesce(r->'id', 'null'),
    TG_OP));
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'skills', 'teams', 'agents', 'agent_skills', 'queues',
      'queue_skills', 'queue_members', 'users', 'api_tokens', 'prompt_sets', 'calendars',
      'calendar_holidays', 'ivr_menus', 'ivr_options', 'trunks', 'dids'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION acd_config_notify()', t || '_notify', t);
  END LOOP;
END
$$;
