-- depends: 0002.tracking
-- Read models derived from the event log by the followers in projections/ (one tracking row each).
-- Derived data: `custody projections rebuild` empties these tables and replays the log; stored events are
-- never touched. Times are the envelope's canonical UTC text (fixed width, so text order is time order).
-- No patient identity here: the pseudonym only.

CREATE TABLE IF NOT EXISTS projection_product_status (
    product_id TEXT PRIMARY KEY,
    coi TEXT NOT NULL,
    product_kind TEXT NOT NULL,
    product_code TEXT NOT NULL,
    patient_pseudonym TEXT NOT NULL,
    indication TEXT NOT NULL,
    batch_id TEXT,
    lot TEXT,
    state TEXT NOT NULL,
    state_since TEXT NOT NULL,
    next_step TEXT,
    custodian_user_id TEXT NOT NULL,
    custodian_name TEXT NOT NULL,
    custodian_role TEXT NOT NULL,
    site TEXT,
    tank TEXT,
    rack TEXT,
    box TEXT,
    position TEXT,
    shipment_id TEXT,
    in_transit_to TEXT,
    quarantined INTEGER NOT NULL,
    quarantine_reason TEXT,
    suspended INTEGER NOT NULL,
    suspension_reason TEXT,
    recalled INTEGER NOT NULL,
    exceptional_release INTEGER NOT NULL,
    open_deviation_count INTEGER NOT NULL,
    open_deviations TEXT NOT NULL,
    deadline_kind TEXT,
    deadline_at TEXT,
    last_event_type TEXT NOT NULL,
    last_occurred_at TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS projection_product_status_by_coi ON projection_product_status (coi);
CREATE INDEX IF NOT EXISTS projection_product_status_by_patient ON projection_product_status (patient_pseudonym);
CREATE INDEX IF NOT EXISTS projection_product_status_by_state ON projection_product_status (state);
CREATE INDEX IF NOT EXISTS projection_product_status_by_deadline ON projection_product_status (deadline_at);

CREATE TABLE IF NOT EXISTS projection_timeline_products (
    product_id TEXT PRIMARY KEY,
    patient_pseudonym TEXT NOT NULL,
    coi TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_timeline (
    log_position INTEGER PRIMARY KEY,
    patient_pseudonym TEXT NOT NULL,
    product_id TEXT NOT NULL,
    coi TEXT NOT NULL,
    version INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    clinical INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor_user_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    meaning TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projection_timeline_by_patient
    ON projection_timeline (patient_pseudonym, occurred_at, log_position);

CREATE TABLE IF NOT EXISTS projection_inventory (
    product_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    tank TEXT,
    rack TEXT,
    box TEXT,
    position TEXT,
    coi TEXT NOT NULL,
    product_kind TEXT NOT NULL,
    product_code TEXT NOT NULL,
    patient_pseudonym TEXT NOT NULL,
    lot TEXT,
    batch_id TEXT,
    dose_number INTEGER,
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    hold_reason TEXT,
    expiry TEXT,
    on_hand_since TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projection_inventory_by_location ON projection_inventory (site, tank, rack, box, position);

CREATE TABLE IF NOT EXISTS projection_audit_sites (
    aggregate_id TEXT PRIMARY KEY,
    site TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_audit (
    log_position INTEGER PRIMARY KEY,
    aggregate_id TEXT NOT NULL,
    aggregate_kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    role TEXT NOT NULL,
    meaning TEXT NOT NULL,
    site TEXT,
    flag TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS projection_audit_by_user ON projection_audit (user_id, recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_role ON projection_audit (role, recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_site ON projection_audit (site, recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_time ON projection_audit (recorded_at);
CREATE INDEX IF NOT EXISTS projection_audit_by_flag ON projection_audit (flag, recorded_at);

CREATE TABLE IF NOT EXISTS projection_batch_releases (
    batch_id TEXT PRIMARY KEY,
    released_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_milestones (
    product_id TEXT PRIMARY KEY,
    product_kind TEXT NOT NULL,
    product_code TEXT NOT NULL,
    site TEXT NOT NULL,
    first_collection_at TEXT,
    released_at TEXT,
    infused_at TEXT
);
CREATE INDEX IF NOT EXISTS projection_milestones_by_group ON projection_milestones (product_kind, site);
