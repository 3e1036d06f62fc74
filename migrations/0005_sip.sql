-- 0005: the configuration the SIP layer needs beyond 0003 (see the `tenants:` section of
-- config/acdd.yaml for what each value means): per tenant whether agents may transfer
-- callers outside and the trunk agents' outbound calls use; per agent a static contact
-- (a phone reached without registering); per trunk the URI outbound calls are sent to;
-- per dialled number the priority and VIP level its calls get in the queue.
--
-- URIs are checked loosely here (a sip: or sips: scheme, no white space); the loader
-- (engine/app/config.h), which every configuration passes, checks their full syntax.
-- The daemon-level `sip:` section (listen addresses, limits, timers) stays in the file,
-- like `database:`.

-- Tenants: allow_external_transfer (false: agents may transfer callers only within the
-- tenant, a toll-fraud guard); outbound_trunk_id, the trunk of this tenant that agents'
-- outbound calls use (NULL: none; cleared when the trunk is deleted). The foreign key
-- includes the tenant's id, so it cannot point at another tenant's trunk.
ALTER TABLE tenants
  ADD COLUMN allow_external_transfer boolean NOT NULL DEFAULT false,
  ADD COLUMN outbound_trunk_id bigint,
  ADD CONSTRAINT tenants_outbound_trunk FOREIGN KEY (id, outbound_trunk_id)
    REFERENCES trunks (tenant_id, id) ON DELETE SET NULL (outbound_trunk_id);

-- Agents: the static contact of the agent's phone (NULL: none). An agent may have SIP
-- credentials, a static contact, or both.
ALTER TABLE agents
  ADD COLUMN sip_contact text CHECK (sip_contact ~* '^sips?:[^[:space:]]+$');

-- Trunks: where outbound calls over the trunk are sent, a sip: or sips: URI ('': the
-- trunk takes no outbound calls).
ALTER TABLE trunks
  ADD COLUMN outbound_uri text NOT NULL DEFAULT ''
    CHECK (outbound_uri = '' OR outbound_uri ~* '^sips?:[^[:space:]]+$');

-- Dialled numbers: the priority (-1000..1000) and VIP level (0..10, 0: not a VIP) that
-- calls on the number get in the queue.
ALTER TABLE dids
  ADD COLUMN priority int NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
  ADD COLUMN vip_level smallint NOT NULL DEFAULT 0 CHECK (vip_level BETWEEN 0 AND 10),
  -- When the caller is answered: 'immediate' or 'on-connect' (when an agent answers).
  ADD COLUMN answer text NOT NULL DEFAULT 'immediate' CHECK (answer IN ('immediate', 'on-connect'));
