-- depends: 0011.identity-keys-and-audit
-- Signing lockout (21 CFR Part 11 §11.300(d)): consecutive wrong passwords given to unseal a person's signing key,
-- on any channel (CLI, HTTP API, web forms), and since when their signing is locked. After
-- CUSTODY_SIGNING_MAX_FAILURES failures in a row every signature of that person is refused, even with the right
-- password, until an administrator unlocks it. A counter, not evidence: each failure, lock and unlock is also
-- appended to audit_log, which nobody can edit. Times are ISO 8601 UTC text.
CREATE TABLE IF NOT EXISTS signing_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_at TEXT
);
