-- depends: 0004.projections
-- The follow-up worklist (projections/followup.py): one row per visit scheduled at infusion, closed when the
-- visit is recorded. Derived data, like 0004's tables: `custody projections rebuild followup` refills it.
-- Due, overdue or upcoming is computed when asked (it depends on today), never stored. Pseudonyms only.

CREATE TABLE IF NOT EXISTS projection_followup_products (
    product_id text PRIMARY KEY,
    patient_pseudonym text NOT NULL,
    coi text NOT NULL,
    product_kind text NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_followup_visits (
    product_id text NOT NULL,
    visit text NOT NULL,
    sequence bigint NOT NULL,
    patient_pseudonym text NOT NULL,
    coi text NOT NULL,
    product_kind text NOT NULL,
    infused_on text NOT NULL,
    due_on text NOT NULL,
    latest_on text NOT NULL,
    done_at text,
    done_version bigint,
    PRIMARY KEY (product_id, visit)
);
CREATE INDEX IF NOT EXISTS projection_followup_visits_open ON projection_followup_visits (done_at, due_on);
CREATE INDEX IF NOT EXISTS projection_followup_visits_by_patient
    ON projection_followup_visits (patient_pseudonym, due_on);

GRANT SELECT, INSERT, UPDATE, DELETE ON projection_followup_products, projection_followup_visits TO custody_writer;
