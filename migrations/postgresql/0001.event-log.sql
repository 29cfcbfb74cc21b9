-- The event log, in the shape eventsourcing's PostgreSQL application recorder expects
-- for an application named "Custody" (notification_id is the global log position).
CREATE TABLE IF NOT EXISTS custody_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX IF NOT EXISTS custody_events_notification_id_idx ON custody_events (notification_id ASC);

-- The composite type eventsourcing inserts rows through (unnest of an array of it).
DO $$
BEGIN
    CREATE TYPE stored_event_uuid AS (originator_id uuid, originator_version bigint, topic text, state bytea);
EXCEPTION WHEN duplicate_object THEN
    NULL;
END
$$;

-- Defence in depth beside verification: the database itself refuses to edit history.
CREATE OR REPLACE FUNCTION custody_refuse_history_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stored events are immutable (% refused): record a correction event instead', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER custody_events_refuse_update_delete BEFORE UPDATE OR DELETE ON custody_events
    FOR EACH ROW EXECUTE FUNCTION custody_refuse_history_change();
CREATE TRIGGER custody_events_refuse_truncate BEFORE TRUNCATE ON custody_events
    FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse_history_change();

REVOKE UPDATE, DELETE, TRUNCATE ON custody_events FROM PUBLIC;

-- The role a deployment should connect as: it may read and append, never rewrite.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'custody_writer') THEN
        CREATE ROLE custody_writer NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another installation created it at the same moment
END
$$;
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO custody_writer', current_schema());
END
$$;
GRANT SELECT, INSERT ON custody_events TO custody_writer;
REVOKE UPDATE, DELETE, TRUNCATE ON custody_events FROM custody_writer;

CREATE TABLE IF NOT EXISTS sealed_signing_keys (
    key_id text PRIMARY KEY,
    user_id text NOT NULL,
    public_key bytea NOT NULL,
    salt bytea NOT NULL,
    nonce bytea NOT NULL,
    ciphertext bytea NOT NULL,
    kdf text NOT NULL,
    created_at text NOT NULL
);
CREATE INDEX IF NOT EXISTS sealed_signing_keys_by_user ON sealed_signing_keys (user_id);

CREATE TABLE IF NOT EXISTS patient_identities (
    pseudonym text PRIMARY KEY,
    nonce bytea NOT NULL,
    ciphertext bytea NOT NULL,
    created_at text NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger_meta (
    name text PRIMARY KEY,
    value text NOT NULL
);
