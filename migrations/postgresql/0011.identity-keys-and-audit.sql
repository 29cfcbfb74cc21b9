-- depends: 0009.aggregate-heads
-- Patient identity as crypto-shredding, and the audit log of people and identity access (see the SQLite twin).
ALTER TABLE patient_identities ADD COLUMN IF NOT EXISTS wrapped_key bytea;
ALTER TABLE patient_identities ADD COLUMN IF NOT EXISTS key_nonce bytea;
ALTER TABLE patient_identities ADD COLUMN IF NOT EXISTS kek_generation bigint;
ALTER TABLE patient_identities ADD COLUMN IF NOT EXISTS lookup bytea;
CREATE INDEX IF NOT EXISTS patient_identities_by_lookup ON patient_identities (lookup);

CREATE TABLE IF NOT EXISTS identity_kek_generations (
    generation bigint PRIMARY KEY,
    fingerprint bytea NOT NULL,
    created_at text NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
    position bigserial PRIMARY KEY,
    recorded_at text NOT NULL,
    action text NOT NULL,
    actor text NOT NULL,
    subject text NOT NULL,
    detail text NOT NULL
);

CREATE OR REPLACE FUNCTION custody_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_refuse_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION custody_refuse_audit_change();
CREATE TRIGGER audit_log_refuse_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse_audit_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
GRANT SELECT, INSERT ON audit_log TO custody_writer;
GRANT USAGE ON SEQUENCE audit_log_position_seq TO custody_writer;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM custody_writer;
