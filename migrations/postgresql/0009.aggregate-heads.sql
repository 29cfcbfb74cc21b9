-- depends: 0003.merkle-log
-- The head of every aggregate (last version, SHA-256 of that stored event, its Merkle leaf index and log position), kept by
-- a follower of the event log. At each checkpoint the ledger commits the root of a Merkle map over these rows
-- into the log itself (AggregateHeadsCommitted), so a bundle can prove it holds a product's whole history.
-- Derived data: rebuilt from the events by the follower; the signed commitments are what verifiers trust.
CREATE TABLE IF NOT EXISTS aggregate_heads (
    aggregate_id text PRIMARY KEY,
    version bigint NOT NULL,
    entry_hash bytea NOT NULL,
    leaf_index bigint NOT NULL,
    position bigint NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON aggregate_heads TO custody_writer;
