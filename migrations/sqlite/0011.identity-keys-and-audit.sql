-- depends: 0009.aggregate-heads
-- Patient identity as crypto-shredding, and the audit log of people and identity access.
-- patient_identities gains a data key per patient (wrapped_key, under the identity key-encryption key of generation
-- kek_generation) and a keyed hash of the hospital number (lookup) so one hospital number is one patient without
-- comparing in clear. Rows sealed before this migration (wrapped_key NULL) are re-sealed by the ledger on first use.
-- identity_kek_generations: which key-encryption key is current (its generation and a fingerprint, never the key:
-- the key lives beside master.key, outside the database and every backup, and is replaced at each erasure).
-- audit_log: who erased or revealed an identity, failed a signature, was locked or unlocked; append-only, and it
-- never holds an identity value (a pseudonym at most).
ALTER TABLE patient_identities ADD COLUMN wrapped_key BLOB;
ALTER TABLE patient_identities ADD COLUMN key_nonce BLOB;
ALTER TABLE patient_identities ADD COLUMN kek_generation INTEGER;
ALTER TABLE patient_identities ADD COLUMN lookup BLOB;
CREATE INDEX IF NOT EXISTS patient_identities_by_lookup ON patient_identities (lookup);

CREATE TABLE IF NOT EXISTS identity_kek_generations (
    generation INTEGER PRIMARY KEY,
    fingerprint BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS audit_log_refuse_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: it can never be edited');
END;

CREATE TRIGGER IF NOT EXISTS audit_log_refuse_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: it can never be deleted');
END;
