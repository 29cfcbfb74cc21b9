-- depends: 0004.projections
-- The audit trail page filters by record (a product or COI, a shipment, a person's record) and by event type, and
-- pages through the matches in log order: one index each, ending with the log position, so a page is read in
-- order from the index. The other filters (person, role, site, time) have theirs since 0004.
CREATE INDEX IF NOT EXISTS projection_audit_by_aggregate ON projection_audit (aggregate_id, log_position);
CREATE INDEX IF NOT EXISTS projection_audit_by_event_type ON projection_audit (event_type, log_position);
