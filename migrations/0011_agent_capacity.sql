-- 0011: each agent's capacity for non-voice tasks (core::AgentConfig::capacity, the agent
-- key `capacity` of config/acdd.yaml): how many chats, e-mails, SMS, web forms and callback
-- requests the agent holds at once, per channel (engine/core/task.h).
--
-- Agents. capacity is a JSON object of channel name -> tasks at once, 0 to 32 (0: the agent
-- takes no task of that channel), holding only the channels that differ from the default
-- of 1, in the file's own shape: {"chat": 3, "email": 2, "sms": 0}. '{}' (the default, and
-- every agent written before this migration): one task of each channel. The keys are the
-- engine's channel names (core::to_string(Channel)); like 0012's tasks.channel, a new
-- channel needs a migration before an engine may write it. The CHECK refuses anything else
-- (another channel, a value that is not an integer from 0 to 32, an array); the loader
-- (engine/app/config.h), which every configuration passes, checks the same.
--
-- Reports. Nothing changes.

-- True when `capacity` is an object of known channels with integers 0..32 (CASE keeps the
-- per-value tests from running on what is not an object or not a number).
CREATE FUNCTION acd_is_agent_capacity(capacity jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE WHEN jsonb_typeof(capacity) <> 'object' THEN false
           ELSE NOT EXISTS (
             SELECT 1 FROM jsonb_each(capacity) AS c(channel, tasks)
             WHERE c.channel NOT IN ('chat', 'email', 'sms', 'web-form', 'callback')
                OR CASE WHEN jsonb_typeof(c.tasks) <> 'number' THEN true
                        WHEN c.tasks::text !~ '^[0-9]{1,2}$' THEN true
                        ELSE c.tasks::text::integer > 32 END)
           END
  $$;

ALTER TABLE agents
  ADD COLUMN capacity jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT agents_capacity_check CHECK (acd_is_agent_capacity(capacity));
