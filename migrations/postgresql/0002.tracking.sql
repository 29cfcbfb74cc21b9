-- depends: 0001.event-log
-- Where each follower of the event log (Merkle log, projections) has got to, written in the same
-- transaction as what it derived: an event is applied exactly once, and a crash loses nothing.
-- Single-row tracking per follower name, as eventsourcing's PostgreSQL tracking recorder expects.
CREATE TABLE IF NOT EXISTS custody_tracking (
    application_name text,
    notification_id bigint,
    PRIMARY KEY (application_name)
);
GRANT SELECT, INSERT, UPDATE ON custody_tracking TO custody_writer;
