-- The event log, in the shape eventsourcing's SQLite application recorder expects
-- (rowid is the notification id, i.e. the global log position).
CREATE TABLE IF NOT EXISTS stored_events (
    originator_id TEXT,
    originator_version INTEGER,
    topic TEXT,
    state BLOB,
    PRIMARY KEY (originator_id, originator_version)
);

-- Defence in depth beside verification: the database itself refuses to edit history.
CREATE TRIGGER IF NOT EXISTS stored_events_refuse_update BEFORE UPDATE ON stored_events
BEGIN
    SELECT RAISE(ABORT, 'stored events are immutable: record a correction event instead');
END;

CREATE TRIGGER IF NOT EXISTS stored_events_refuse_delete BEFORE DELETE ON stored_events
BEGIN
    SELECT RAISE(ABORT, 'stored events are immutable: they can never be deleted');
END;

-- Sealed private signing keys (never in clear) and the public half they unlock.
CREATE TABLE IF NOT EXISTS sealed_signing_keys (
    key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    public_key BLOB NOT NULL,
    salt BLOB NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    kdf TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sealed_signing_keys_by_user ON sealed_signing_keys (user_id);

-- Patient identity, encrypted (AES-GCM, bound to the pseudonym); erasable without touching any event.
CREATE TABLE IF NOT EXISTS patient_identities (
    pseudonym TEXT PRIMARY KEY,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- Facts about this ledger instance (its id, the ledger key id).
CREATE TABLE IF NOT EXISTS ledger_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
