-- depends: 0005.pathway
-- What the HTTP API needs beside the event log. None of it is evidence: the signed events are.
-- api_credentials: one Argon2id hash (argon2-cffi's encoded form) per username, for `POST /auth/token`.
-- api_login_failures: consecutive failed sign-ins per username and until when the account is locked.
-- api_idempotency: the answer given to each (username, Idempotency-Key), so a retried write stores nothing twice.
-- Times are ISO 8601 UTC text on both backends, compared as text.

CREATE TABLE IF NOT EXISTS api_credentials (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_login_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT
);
CREATE TABLE IF NOT EXISTS api_idempotency (
    username TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status INTEGER,
    response TEXT,
    PRIMARY KEY (username, idempotency_key)
);
