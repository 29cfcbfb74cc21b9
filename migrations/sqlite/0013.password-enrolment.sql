-- depends: 0012.merkle-nodes 0006.http-api
-- People choose their own passwords (21 CFR Part 11 §11.300): a person an administrator registers receives a
-- one-time enrolment secret and must replace it with a password of their own before anything else.
-- api_credentials.must_change_password is 1 while the stored hash is that of an enrolment secret, 0 once the
-- person has chosen. Rows written before this migration hold passwords their owners chose or were given before
-- enrolment secrets existed: they keep working (0). Side table, not evidence: password changes are in audit_log.
ALTER TABLE api_credentials ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
