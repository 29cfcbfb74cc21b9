-- depends: 0011.identity-keys-and-audit
-- Webhooks (ledger/webhooks*.py, docs/webhooks.md): where each one sends, which event types, and its signing secret,
-- kept only sealed (AES-256-GCM under a key derived from the master secret), never in clear. Disabling a webhook
-- sets disabled_at; the row stays, so the audit log and the deliveries keep naming something.
-- webhook_deliveries: one row per event a webhook must tell, written *before* the first attempt is sent and settled
-- (delivered or given up) in the same transaction as the webhook's tracking position moves past it
-- (ledger/follower.py): a sender killed mid-delivery finds the row still pending and sends it again under the same
-- message id (webhook-id), which the receiver dedupes. No payload, no patient identity is stored here.
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at TEXT,
    disabled_by TEXT
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    position INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'given_up')),
    attempts INTEGER NOT NULL,
    first_attempt_at TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL,
    next_attempt_at TEXT,
    last_error TEXT,
    settled_at TEXT,
    PRIMARY KEY (webhook_id, position)
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_by_state ON webhook_deliveries (webhook_id, state, position);
