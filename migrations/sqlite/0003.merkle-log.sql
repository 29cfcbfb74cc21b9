-- depends: 0002.tracking
-- The transparency log over the whole event log: one leaf per stored event, in log order
-- (leaf = SHA-256(0x00 ‖ SHA-256(stored envelope bytes)), RFC 9162), and the signed checkpoints.
CREATE TABLE IF NOT EXISTS merkle_leaves (
    leaf_index INTEGER PRIMARY KEY,
    position INTEGER NOT NULL UNIQUE,
    leaf_hash BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS checkpoints (
    tree_size INTEGER PRIMARY KEY,
    root_hash BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TRIGGER IF NOT EXISTS checkpoints_refuse_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'signed checkpoints are immutable');
END;

CREATE TRIGGER IF NOT EXISTS checkpoints_refuse_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'signed checkpoints are immutable');
END;
