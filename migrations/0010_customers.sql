-- 0010: customers, for the agent's screen pop. When a call is offered to an agent, the
-- desktop shows the customer record of the caller's number and the number's previous
-- contacts (engine/store/customer_lookup.h reads both, off the event loop).
--
-- Phone numbers. Callers present their number as the From user of the INVITE: E.164
-- ("+15551234567"), national digits, or with visual separators ("+1-555-123 4567").
-- acd_normalize_phone() reduces any of these to one form: a '+' when one comes before
-- the first digit, then the digits only ("+15551234567"). The engine's
-- normalize_phone_number() (customer_lookup.h) is the same function in C++; the two must
-- never differ. Text without a digit ("anonymous") normalizes to '' or '+', which names
-- no customer. The function is IMMUTABLE and inlined into the index below: changing it
-- means a new migration that also rebuilds that index.
--
-- Customers. One row per (tenant, number); phone_number is stored normalized: a trigger
-- normalizes whatever is written (so an import may write numbers as the CRM has them), and
-- the CHECK refuses a number with no digit or longer than 64 characters. The unique
-- constraint's index on (tenant_id, phone_number) is the lookup's index. fields holds the
-- tenant's own attributes as a JSON object; the screen pop shows its top-level keys with
-- their values as text. updated_at is set on every update that does not set it itself.
-- Customers are data, not configuration: no 'acd_config' notification, not part of
-- `acdd config`.
--
-- History. Previous contacts of a number are its inbound calls (calls.caller as received,
-- so it is compared normalized), newest first: calls_tenant_caller_arrived makes that an
-- index scan that stops after the few rows shown. (0002's calls_caller, on the raw caller
-- without the tenant, stays for ad-hoc queries.) Building it locks calls against writes
-- for as long as it takes; the record shipper waits and the spool holds the records.
--
-- Reports. Nothing changes; a number's contacts, for example:
--   SELECT arrived_at, last_queue, agent, final_state, talk_ms
--   FROM calls WHERE tenant = 'acme' AND direction = 'inbound'
--     AND acd_normalize_phone(caller) = acd_normalize_phone('+1 555 123 4567')
--   ORDER BY arrived_at DESC, call_id DESC LIMIT 10;

-- Not STRICT, so that PostgreSQL inlines it (NULL still gives NULL).
CREATE FUNCTION acd_normalize_phone(phone text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT CASE WHEN phone ~ '^[^0-9]*\+' THEN '+' ELSE '' END
           || regexp_replace(phone, '[^0-9]+', '', 'g')
  $$;

CREATE TABLE customers (
  tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  phone_number  text NOT NULL CHECK (phone_number ~ '^\+?[0-9]+$' AND length(phone_number) <= 64),
  name          text NOT NULL DEFAULT '',
  account       text NOT NULL DEFAULT '',  -- the account or customer number in the CRM
  tier          text NOT NULL DEFAULT '',  -- e.g. 'gold', 'vip'; '' for none
  notes         text NOT NULL DEFAULT '',
  fields        jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(fields) = 'object'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, phone_number),
  UNIQUE (tenant_id, id)
);

CREATE FUNCTION acd_customers_before_write() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW.phone_number := acd_normalize_phone(NEW.phone_number);
  IF TG_OP = 'UPDATE' AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER customers_before_write BEFORE INSERT OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION acd_customers_before_write();

CREATE INDEX calls_tenant_caller_arrived
  ON calls (tenant, acd_normalize_phone(caller), arrived_at DESC, call_id DESC)
  WHERE direction = 'inbound';
