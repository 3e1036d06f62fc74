-- 0014: call-flow scripts (docs/FLOWS.md): per tenant the Lua scripts a dialled number may
-- run (app::CallFlowConfig, the tenant key `flows` of config/acdd.yaml), and the dialled
-- number's entry kind 'flow'.
--
-- Flows. source is the script's text: a flow written in the file with `file:` is stored
-- with the text read from that file, so the database holds everything the engine runs;
-- file keeps the path as written, for people only (an exported document has `source:`).
-- Whether the text compiles is checked by the loader (engine/app/config.h), which every
-- configuration passes: a script that does not compile is refused and the engine keeps the
-- configuration it runs. fallback is where a call goes when its script cannot decide (an
-- error, a limit, no decision): a queue (fallback_queue_id), a voicemail box or a hang-up
-- (fallback_target: the mailbox, or the message).
--
-- Dialled numbers. kind 'flow' runs the flow flow_id; its queue_id and menu_id are NULL.
--
-- Reports. Nothing changes.

CREATE TABLE flows (
  tenant_id         bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name              acd_name NOT NULL,
  source            text NOT NULL CHECK (source <> '' AND octet_length(source) <= 262144),
  file              text NOT NULL DEFAULT '',
  instruction_limit bigint NOT NULL DEFAULT 1000000
                    CHECK (instruction_limit BETWEEN 1000 AND 100000000),
  memory_limit      bigint NOT NULL DEFAULT 2097152
                    CHECK (memory_limit BETWEEN 65536 AND 67108864),
  fallback          text NOT NULL CHECK (fallback IN ('queue', 'voicemail', 'hangup')),
  fallback_queue_id bigint,
  fallback_target   text NOT NULL DEFAULT '',
  CHECK ((fallback = 'queue') = (fallback_queue_id IS NOT NULL)),
  CHECK (fallback <> 'queue' OR fallback_target = ''),
  CHECK (fallback <> 'voicemail' OR fallback_target ~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$'),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, fallback_queue_id) REFERENCES queues (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED
);

CREATE TRIGGER flows_notify AFTER INSERT OR UPDATE OR DELETE ON flows
  FOR EACH ROW EXECUTE FUNCTION acd_config_notify();

ALTER TABLE dids
  DROP CONSTRAINT dids_kind_check,
  ADD CONSTRAINT dids_kind_check CHECK (kind IN ('queue', 'menu', 'flow')),
  ADD COLUMN flow_id bigint,
  ADD CONSTRAINT dids_flow_target CHECK ((kind = 'flow') = (flow_id IS NOT NULL)),
  ADD CONSTRAINT dids_flow FOREIGN KEY (tenant_id, flow_id) REFERENCES flows (tenant_id, id)
    DEFERRABLE INITIALLY DEFERRED;
