-- depends: 0012.merkle-nodes 0006.http-api
-- People choose their own passwords (see the SQLite twin): 1 while the stored hash is that of a one-time
-- enrolment secret an administrator handed over, 0 once the person has chosen their own password.
ALTER TABLE api_credentials ADD COLUMN IF NOT EXISTS must_change_password integer NOT NULL DEFAULT 0;
