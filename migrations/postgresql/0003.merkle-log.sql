-- depends: 0002.tracking
-- The transparency log over the whole event log: one leaf per stored event, in log order
-- (leaf = SHA-256(0x00 ‖ SHA-256(stored envelope bytes)), RFC 9162), and the signed checkpoints.
CREATE TABLE IF NOT EXISTS merkle_leaves (
    leaf_index bigint PRIMARY KEY,
    position bigint NOT NULL UNIQUE,
    leaf_hash bytea NOT NULL
);

CREATE TABLE IF NOT EXISTS checkpoints (
    tree_size bigint PRIMARY KEY,
    root_hash bytea NOT NULL,
    note text NOT NULL,
    created_at text NOT NULL
);

CREATE TRIGGER checkpoints_refuse_update_delete BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION custody_refuse_history_change();
CREATE TRIGGER checkpoints_refuse_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse_history_change();
REVOKE UPDATE, DELETE, TRUNCATE ON checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON merkle_leaves, checkpoints TO custody_writer;
