-- depends: 0004.projections
-- The follow-up worklist (projections/followup.py): one row per visit scheduled at infusion, closed when the
-- visit is recorded. Derived data, like 0004's tables: `custody projections rebuild followup` refills it.
-- Due, overdue or upcoming is computed when asked (it depends on today), never stored. Pseudonyms only.

CREATE TABLE IF NOT EXISTS projection_followup_products (
    product_id TEXT PRIMARY KEY,
    patient_pseudonym TEXT NOT NULL,
    coi TEXT NOT NULL,
    product_kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_followup_visits (
    product_id TEXT NOT NULL,
    visit TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    patient_pseudonym TEXT NOT NULL,
    coi TEXT NOT NULL,
    product_kind TEXT NOT NULL,
    infused_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    latest_on TEXT NOT NULL,
    done_at TEXT,
    done_version INTEGER,
    PRIMARY KEY (product_id, visit)
);
CREATE INDEX IF NOT EXISTS projection_followup_visits_open ON projection_followup_visits (done_at, due_on);
CREATE INDEX IF NOT EXISTS projection_followup_visits_by_patient
    ON projection_followup_visits (patient_pseudonym, due_on);
