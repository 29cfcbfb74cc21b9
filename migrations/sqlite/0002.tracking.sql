-- depends: 0001.event-log
-- Where each follower of the event log (Merkle log, projections) has got to, written in the same
-- transaction as what it derived: an event is applied exactly once, and a crash loses nothing.
-- Single-row tracking per follower name, as eventsourcing's SQLite tracking recorder expects.
CREATE TABLE IF NOT EXISTS tracking (
    application_name TEXT,
    notification_id INTEGER,
    PRIMARY KEY (application_name)
) WITHOUT ROWID;
