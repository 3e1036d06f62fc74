-- 0012: the history of non-voice tasks: chats, e-mails, SMS, web forms and callback requests
-- that the router offers to agents like calls (engine/core/task.h; docs/ARCHITECTURE.md,
-- "Omnichannel tasks").
--
-- History. tasks gets one row per task, written when the task finishes (the core's
-- TaskFinished event) through the record spool like the rest of the history (record format
-- 4, engine/store/record_codec.h), so it reaches the database even when the database was
-- down when the task finished. Like calls, it names its tenant, queues and agent by name
-- (text), as the engine knew them at the time.
--
-- Key. Whoever creates a task picks its id, and the id is unique only among the tasks of
-- one run of the daemon (calls' ids are unique across runs, tasks' are not), so a row is
-- keyed by (run_id, task_id): a replay of the spool inserts nothing twice.
--
-- A task's steps through queues and agents are not written to queue_events: that table is
-- keyed by call_id, which a task id could collide with, and the close-out of a dead run
-- (0002's runs) makes 'interrupted' calls rows from it. So a task still in the system when
-- the daemon dies gets no row.
--
-- channel and final_state have CHECKs: both mirror enums of the core (core::Channel,
-- core::TaskFinalState), and a new value needs a migration (and reports that know it)
-- before an engine may write it.
--
-- Reports. No report function uses the table yet; see docs/REPORTS.md, "Tasks", for
-- queries. Tasks handled per agent and channel, for example:
--   SELECT agent, channel, count(*) AS tasks, round(avg(handle_ms) / 1000.0) AS avg_handle_s
--   FROM tasks
--   WHERE tenant = 'acme' AND final_state = 'completed'
--     AND created_at >= '2024-05-01' AND created_at < '2024-06-01'
--   GROUP BY 1, 2 ORDER BY 1, 2;

CREATE TABLE tasks (
  run_id        bigint NOT NULL,    -- the daemon run the task lived in
  task_id       bigint NOT NULL,    -- the task's id in that run
  tenant        text NOT NULL,
  channel       text NOT NULL
                CHECK (channel IN ('chat', 'email', 'sms', 'web-form', 'callback')),
  subject       text,               -- what the agent saw first (a chat's first line, a mail's
                                    -- subject), as the task first entered a queue
  customer      text,               -- the customer's address (phone number, e-mail, chat
                                    -- handle), as the task first entered a queue
  first_queue   text,               -- the queue the task was created in
  last_queue    text,               -- the last queue the task was in
  agent         text,               -- the last agent who accepted it; NULL: nobody did
                                    -- (an agent it was only offered to is not named)
  final_state   text NOT NULL CHECK (final_state IN ('completed', 'abandoned', 'cancelled')),
                                    -- completed: an agent accepted and completed it;
                                    -- abandoned: cancelled before an agent accepted it
                                    -- (the customer left); cancelled: cancelled while an
                                    -- agent worked on it
  created_at    timestamptz NOT NULL,  -- entered the engine
  queued_at     timestamptz,           -- entered the last queue
  accepted_at   timestamptz,           -- first accepted by an agent; NULL: never accepted
  finished_at   timestamptz NOT NULL,  -- completed or cancelled
  wait_ms       bigint NOT NULL DEFAULT 0 CHECK (wait_ms >= 0),
                                    -- in the last queue, until accepted or, when it ended
                                    -- unaccepted there, until it ended
  handle_ms     bigint NOT NULL DEFAULT 0 CHECK (handle_ms >= 0),
                                    -- accepted until completed, transferred or cancelled,
                                    -- summed over every agent who had it
  sl_threshold_ms bigint,           -- the last queue's service-level threshold at the time
  offers        int NOT NULL DEFAULT 0 CHECK (offers >= 0),     -- offers made to agents
                                    -- (accepted, declined, timed out or withdrawn)
  transfers     int NOT NULL DEFAULT 0 CHECK (transfers >= 0),  -- transfers to a queue by
                                                                 -- the agent who had it
  requeues      int NOT NULL DEFAULT 0 CHECK (requeues >= 0),   -- back to a queue because
                                    -- the agent who had it was logged out (by a supervisor
                                    -- or the system)
  queues        int NOT NULL DEFAULT 0 CHECK (queues >= 0),     -- queue entries: 1 + transfers
                                                                 -- + requeues
  vip_level     int NOT NULL DEFAULT 0,  -- as the task first entered a queue
  PRIMARY KEY (run_id, task_id)
);
-- Search and reports by time within a tenant, and a tenant's tasks of one queue, agent or
-- customer by time (newest first: the indexes scan backwards as well). The agent and
-- customer indexes leave out the rows without one (a search names one, so never needs them).
CREATE INDEX tasks_tenant_created ON tasks (tenant, created_at);
CREATE INDEX tasks_tenant_queue_created ON tasks (tenant, last_queue, created_at);
CREATE INDEX tasks_tenant_agent_created ON tasks (tenant, agent, created_at)
  WHERE agent IS NOT NULL;
CREATE INDEX tasks_tenant_customer_created ON tasks (tenant, customer, created_at)
  WHERE customer IS NOT NULL;
