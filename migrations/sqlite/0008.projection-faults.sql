-- depends: 0006.http-api
-- Projection faults: stored events a read model could not project (undecodable bytes, a payload of an
-- unexpected shape, a value a column cannot take). The follower records the fault and moves on, so one
-- such event never stops the read side; `custody projections check` lists them and exits 1.
-- Derived data, like 0004's tables: `custody projections rebuild` empties a projection's faults with its rows.
-- No payload values here (they may carry personal data): the position, the aggregate, the event type, and
-- the error's class and message with quoted values masked.

CREATE TABLE IF NOT EXISTS projection_faults (
    projection TEXT NOT NULL,
    log_position INTEGER NOT NULL,
    aggregate_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    error_class TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (projection, log_position)
);
