-- depends: 0006.http-api
-- ledger_restores: one row per `custody restore`. A restored store may be behind a checkpoint the ledger
-- already published; signing new events there would grow a second tree of the same size, so writes are held
-- while a row has no released_at. The release says how: 'checkpoint' (the latest published checkpoint was
-- shown to be within the restored log; its note is kept) or 'accept_fork' (an administrator's recorded decision).
-- None of it is evidence (the signed events and checkpoints are). Written idempotently (IF NOT EXISTS) because
-- a restore runs it inside its own transaction, before yoyo records it. Times are ISO 8601 UTC text.

CREATE TABLE IF NOT EXISTS ledger_restores (
    restore_id bigserial PRIMARY KEY,
    restored_at text NOT NULL,
    restored_size bigint NOT NULL,
    backup_created_at text NOT NULL,
    archive_sha256 text NOT NULL,
    released_at text,
    released_by text,
    release_kind text,
    release_reason text,
    release_checkpoint text
);
-- The write path asks "is any restore still held?" before every append: this index answers it alone.
CREATE INDEX IF NOT EXISTS ledger_restores_held ON ledger_restores (restore_id) WHERE released_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON ledger_restores TO custody_writer;
GRANT USAGE ON SEQUENCE ledger_restores_restore_id_seq TO custody_writer;
