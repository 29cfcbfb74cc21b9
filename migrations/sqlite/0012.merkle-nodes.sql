-- depends: 0009.aggregate-heads
-- Complete subtree hashes of the transparency log, kept by the Merkle follower as it appends leaves:
-- (level, node_index) covers leaves [node_index * 2^level, (node_index + 1) * 2^level), level >= 1
-- (level 0 is merkle_leaves). A root, an inclusion proof or a consistency proof then reads O(log n) rows.
-- Derived data, rebuilt from the leaves; verifiers recompute everything from the events.
CREATE TABLE IF NOT EXISTS merkle_nodes (
    level INTEGER NOT NULL,
    node_index INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, node_index)
);

-- Cosignatures witnesses returned for a checkpoint (C2SP tlog-cosignature lines), one per witness.
CREATE TABLE IF NOT EXISTS checkpoint_cosignatures (
    tree_size INTEGER NOT NULL,
    witness TEXT NOT NULL,
    signature_line TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (tree_size, witness)
);

CREATE TRIGGER IF NOT EXISTS checkpoint_cosignatures_refuse_update BEFORE UPDATE ON checkpoint_cosignatures
BEGIN
    SELECT RAISE(ABORT, 'cosignatures are immutable');
END;

CREATE TRIGGER IF NOT EXISTS checkpoint_cosignatures_refuse_delete BEFORE DELETE ON checkpoint_cosignatures
BEGIN
    SELECT RAISE(ABORT, 'cosignatures are immutable');
END;
