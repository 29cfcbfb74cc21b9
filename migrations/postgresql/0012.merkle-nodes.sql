-- depends: 0009.aggregate-heads
-- Complete subtree hashes of the transparency log, kept by the Merkle follower as it appends leaves:
-- (level, node_index) covers leaves [node_index * 2^level, (node_index + 1) * 2^level), level >= 1
-- (level 0 is merkle_leaves). A root, an inclusion proof or a consistency proof then reads O(log n) rows.
-- Derived data, rebuilt from the leaves; verifiers recompute everything from the events.
CREATE TABLE IF NOT EXISTS merkle_nodes (
    level integer NOT NULL,
    node_index bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, node_index)
);

-- Cosignatures witnesses returned for a checkpoint (C2SP tlog-cosignature lines), one per witness.
CREATE TABLE IF NOT EXISTS checkpoint_cosignatures (
    tree_size bigint NOT NULL,
    witness text NOT NULL,
    signature_line text NOT NULL,
    received_at text NOT NULL,
    PRIMARY KEY (tree_size, witness)
);

CREATE TRIGGER checkpoint_cosignatures_refuse_update_delete BEFORE UPDATE OR DELETE ON checkpoint_cosignatures
    FOR EACH ROW EXECUTE FUNCTION custody_refuse_history_change();
CREATE TRIGGER checkpoint_cosignatures_refuse_truncate BEFORE TRUNCATE ON checkpoint_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse_history_change();
REVOKE UPDATE, DELETE, TRUNCATE ON checkpoint_cosignatures FROM PUBLIC;
GRANT SELECT, INSERT ON merkle_nodes, checkpoint_cosignatures TO custody_writer;
