-- depends: 0011.identity-keys-and-audit
-- Webhooks and their deliveries (see the SQLite twin for why each column is there). The signing secret is kept
-- sealed only; deliveries are written before the first attempt and settled with the tracking position.
CREATE TABLE IF NOT EXISTS webhooks (
    id text PRIMARY KEY,
    url text NOT NULL,
    event_types text NOT NULL,
    sealed_secret bytea NOT NULL,
    created_at text NOT NULL,
    created_by text NOT NULL,
    disabled_at text,
    disabled_by text
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    webhook_id text NOT NULL REFERENCES webhooks (id),
    position bigint NOT NULL,
    message_id text NOT NULL,
    event_type text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'given_up')),
    attempts integer NOT NULL,
    first_attempt_at text NOT NULL,
    last_attempt_at text NOT NULL,
    next_attempt_at text,
    last_error text,
    settled_at text,
    PRIMARY KEY (webhook_id, position)
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_by_state ON webhook_deliveries (webhook_id, state, position);

GRANT SELECT, INSERT, UPDATE ON webhooks, webhook_deliveries TO custody_writer;
