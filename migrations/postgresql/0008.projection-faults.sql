-- depends: 0006.http-api
-- Projection faults: stored events a read model could not project (undecodable bytes, a payload of an
-- unexpected shape, a value a column cannot take). The follower records the fault and moves on, so one
-- such event never stops the read side; `custody projections check` lists them and exits 1.
-- Derived data, like 0004's tables: `custody projections rebuild` empties a projection's faults with its rows.
-- No payload values here (they may carry personal data): the position, the aggregate, the event type, and
-- the error's class and message with quoted values masked.

CREATE TABLE IF NOT EXISTS projection_faults (
    projection text NOT NULL,
    log_position bigint NOT NULL,
    aggregate_id text NOT NULL,
    event_type text NOT NULL,
    error_class text NOT NULL,
    message text NOT NULL,
    PRIMARY KEY (projection, log_position)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON projection_faults TO custody_writer;
