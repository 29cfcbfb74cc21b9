-- depends: 0002.tracking
-- Read models derived from the event log by the followers in projections/ (one tracking row each).
-- Derived data: `custody projections rebuild` empties these tables and replays the log; stored events are
-- never touched. Times are the envelope's canonical UTC text (fixed width, so text order is time order).
-- No patient identity here: the pseudonym only.

CREATE TABLE IF NOT EXISTS projection_product_status (
    product_id text PRIMARY KEY,
    coi text NOT NULL,
    product_kind text NOT NULL,
    product_code text NOT NULL,
    patient_pseudonym text NOT NULL,
    indication text NOT NULL,
    batch_id text,
    lot text,
    state text NOT NULL,
    state_since text NOT NULL,
    next_step text,
    custodian_user_id text NOT NULL,
    custodian_name text NOT NULL,
    custodian_role text NOT NULL,
    site text,
    tank text,
    rack text,
    box text,
    position text,
    shipment_id text,
    in_transit_to text,
    quarantined bigint NOT NULL,
    quarantine_reason text,
    suspended bigint NOT NULL,
    suspension_reason text,
    recalled bigint NOT NULL,
    exceptional_release bigint NOT NULL,
    open_deviation_count bigint NOT NULL,
    open_deviations text NOT NULL,
    deadline_kind text,
    deadline_at text,
    last_event_type text NOT NULL,
    last_occurred_at text NOT NULL,
    version bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS projection_product_status_by_coi ON projection_product_status (coi);
CREATE INDEX IF NOT EXISTS projection_product_status_by_patient ON projection_product_status (patient_pseudonym);
CREATE INDEX IF NOT EXISTS projection_product_status_by_state ON projection_product_status (state);
CREATE INDEX IF NOT EXISTS projection_product_status_by_deadline ON projection_product_status (deadline_at);

CREATE TABLE IF NOT EXISTS projection_timeline_products (
    product_id text PRIMARY KEY,
    patient_pseudonym text NOT NULL,
    coi text NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_timeline (
    log_position bigint PRIMARY KEY,
    patient_pseudonym text NOT NULL,
    product_id text NOT NULL,
    coi text NOT NULL,
    version bigint NOT NULL,
    event_type text NOT NULL,
    clinical bigint NOT NULL,
    occurred_at text NOT NULL,
    recorded_at text NOT NULL,
    actor_user_id text NOT NULL,
    actor_name text NOT NULL,
    actor_role text NOT NULL,
    meaning text NOT NULL,
    payload text NOT NULL
);
CREATE INDEX IF NOT EXISTS projection_timeline_by_patient
    ON projection_timeline (patient_pseudonym, occurred_at, log_position);

CREATE TABLE IF NOT EXISTS projection_inventory (
    product_id text PRIMARY KEY,
    site text NOT NULL,
    tank text,
    rack text,
    box text,
    position text,
    coi text NOT NULL,
    product_kind text NOT NULL,
    product_code text NOT NULL,
    patient_pseudonym text NOT NULL,
    lot text,
    batch_id text,
    dose_number bigint,
    state text NOT NULL,
    status text NOT NULL,
    hold_reason text,
    expiry text,
    on_hand_since text NOT NULL
);
CREATE INDEX IF NOT EXISTS projection_inventory_by_location ON projection_inventory (site, tank, rack, box, position);

CREATE TABLE IF NOT EXISTS projection_audit_sites (
    aggregate_id text PRIMARY KEY,
    site text NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_audit (
    log_position bigint PRIMARY KEY,
    aggregate_id text NOT NULL,
    aggregate_kind text NOT NULL,
    version bigint NOT NULL,
    event_type text NOT NULL,
    occurred_at text NOT NULL,
    recorded_at text NOT NULL,
    user_id text NOT NULL,
    actor_name text NOT NULL,
    role text NOT NULL,
    meaning text NOT NULL,
    site text,
    flag text,
    detail text
);
CREATE INDEX IF NOT EXISTS projection_audit_by_user ON projection_audit (user_id, recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_role ON projection_audit (role, recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_site ON projection_audit (site, recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_time ON projection_audit (recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_flag ON projection_audit (flag, recorded_at);

CREATE TABLE IF NOT EXISTS projection_batch_releases (
    batch_id text PRIMARY KEY,
    released_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_milestones (
    product_id text PRIMARY KEY,
    product_kind text NOT NULL,
    product_code text NOT NULL,
    site text NOT NULL,
    first_collection_at text,
    released_at text,
    infused_at text
);
CREATE INDEX IF NOT EXISTS projection_milestones_by_group ON projection_milestones (product_kind, site);

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO custody_writer', current_schema());
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    projection_product_status, projection_timeline_products, projection_timeline, projection_inventory,
    projection_audit_sites, projection_audit, projection_batch_releases, projection_milestones
    TO custody_writer;
