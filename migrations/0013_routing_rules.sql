-- 0013: rule-based routing (docs/RULES.md): each queue's routing steps and order
-- (core::QueueConfig::routing, the queue key `routing` of config/acdd.yaml), and what the
-- rules read of an agent (core::AgentConfig::languages and ::attributes, the agent keys
-- `languages` and `attributes`).
--
-- Queues. routing is a JSON object: '{}' (the default, and every queue written before this
-- migration) for a queue that routes by its skills and escalation; otherwise the steps, each
-- with the wait it applies from in milliseconds and its condition as written, and optionally
-- the ORDER BY list as written:
--   {"steps": [{"after_ms": 0, "target": "agent.skill.billing >= 5"},
--              {"after_ms": 30000, "target": "agent.skill.billing >= 2"}],
--    "order_by": "agent.skill.billing DESC, agent.idle DESC"}
-- The CHECK refuses another shape (a key other than steps and order_by, no step, a step
-- whose after_ms is not an integer >= 0 or whose target is not a string, an order_by that is
-- not a string). What the rules say (their syntax, the names they use, steps in increasing
-- order of after_ms, no escalation or overflow beside them) is checked by the loader
-- (engine/app/config.h), which every configuration passes.
--
-- Agents. languages is a JSON array of distinct strings of 1-35 letters, digits or '-', at
-- most 32 (["en", "es"]; '[]', the default: none); attributes a JSON object of at most 64
-- names ([A-Za-z_][A-Za-z0-9_]*, up to 64 characters) to strings of at most 256 characters
-- ({"site": "paris", "level": "senior"}; '{}', the default: none). The CHECKs refuse anything
-- else; the loader checks the same.
--
-- Reports. Nothing changes.

-- True when `routing` is '{}' or {"steps": [one or more {"after_ms": integer >= 0,
-- "target": string}], "order_by": string (optional)} (CASE keeps the per-element tests from
-- running on what does not have the shape).
CREATE FUNCTION acd_is_queue_routing(routing jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE WHEN jsonb_typeof(routing) <> 'object' THEN false
                WHEN routing = '{}' THEN true
                WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(routing) AS k(key)
                             WHERE k.key NOT IN ('steps', 'order_by')) THEN false
                WHEN routing ? 'order_by' AND jsonb_typeof(routing->'order_by') <> 'string'
                  THEN false
                WHEN jsonb_typeof(routing->'steps') IS DISTINCT FROM 'array' THEN false
                WHEN jsonb_array_length(routing->'steps') = 0 THEN false
           ELSE NOT EXISTS (
             SELECT 1 FROM jsonb_array_elements(routing->'steps') AS s(step)
             WHERE CASE WHEN jsonb_typeof(s.step) <> 'object' THEN true
                        WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(s.step) AS k(key)
                                     WHERE k.key NOT IN ('after_ms', 'target')) THEN true
                        WHEN jsonb_typeof(s.step->'target') IS DISTINCT FROM 'string' THEN true
                        WHEN jsonb_typeof(s.step->'after_ms') IS DISTINCT FROM 'number' THEN true
                        ELSE (s.step->'after_ms')::text !~ '^[0-9]{1,15}$' END)
           END
  $$;

-- True when `languages` is an array of at most 32 distinct strings of 1-35 letters, digits
-- or '-'.
CREATE FUNCTION acd_is_agent_languages(languages jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE WHEN jsonb_typeof(languages) <> 'array' THEN false
                WHEN jsonb_array_length(languages) > 32 THEN false
           ELSE NOT EXISTS (
                  SELECT 1 FROM jsonb_array_elements(languages) AS l(language)
                  WHERE jsonb_typeof(l.language) <> 'string'
                     OR NOT (l.language #>> '{}') ~ '^[A-Za-z0-9-]{1,35}$')
            AND (SELECT count(DISTINCT l.language) = count(*)
                 FROM jsonb_array_elements(languages) AS l(language))
           END
  $$;

-- True when `attributes` is an object of at most 64 names [A-Za-z_][A-Za-z0-9_]{0,63} to
-- strings of at most 256 characters.
CREATE FUNCTION acd_is_agent_attributes(attributes jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE WHEN jsonb_typeof(attributes) <> 'object' THEN false
           ELSE (SELECT count(*) <= 64 FROM jsonb_object_keys(attributes))
            AND NOT EXISTS (
                  SELECT 1 FROM jsonb_each(attributes) AS a(name, value)
                  WHERE a.name !~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'
                     OR jsonb_typeof(a.value) <> 'string'
                     OR length(a.value #>> '{}') > 256)
           END
  $$;

ALTER TABLE queues
  ADD COLUMN routing jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT queues_routing_check CHECK (acd_is_queue_routing(routing));

ALTER TABLE agents
  ADD COLUMN languages jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT agents_languages_check CHECK (acd_is_agent_languages(languages)),
  ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT agents_attributes_check CHECK (acd_is_agent_attributes(attributes));
