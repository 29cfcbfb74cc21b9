-- depends: 0011.identity-keys-and-audit
-- Signing lockout: consecutive wrong signing passwords per person and since when their signing is locked
-- (see the SQLite twin). A counter, not evidence: each failure, lock and unlock is also appended to audit_log.
CREATE TABLE IF NOT EXISTS signing_failures (
    username text PRIMARY KEY,
    failures integer NOT NULL,
    locked_at text
);

GRANT SELECT, INSERT, UPDATE ON signing_failures TO custody_writer;
