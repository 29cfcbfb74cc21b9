-- depends: 0014.signing-lockout
-- Documents bound into the signed history by hash (certificates of analysis, release certificates, consent forms,
-- risk assessments, data-logger files, shipping manifests). On SQLite the bytes are files under
-- CUSTODY_HOME/documents/<first two hex digits>/<sha256>, written once and never replaced; this table says what each
-- file is: its kind, the media type found in its content, its size, who stored it and when, and for a consent form
-- the pseudonym whose data key encrypts it (the SHA-256 is the plaintext's). Rows are never edited nor deleted, with
-- the product or otherwise: a signed event may reference any of them forever.
-- document_references: which aggregate's event (by version and payload field) references which document, written in
-- the transaction that stores the event; what GET /documents/{sha256} checks the reader's access against.
CREATE TABLE IF NOT EXISTS documents (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    patient TEXT,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS document_references (
    sha256 TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    aggregate_kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    field TEXT NOT NULL,
    PRIMARY KEY (sha256, aggregate_id, version, field)
);

CREATE TRIGGER IF NOT EXISTS documents_refuse_update BEFORE UPDATE ON documents
BEGIN
    SELECT RAISE(ABORT, 'a stored document is never edited: store the new version as a new document');
END;

CREATE TRIGGER IF NOT EXISTS documents_refuse_delete BEFORE DELETE ON documents
BEGIN
    SELECT RAISE(ABORT, 'a stored document is never deleted: signed events reference it');
END;

CREATE TRIGGER IF NOT EXISTS document_references_refuse_update BEFORE UPDATE ON document_references
BEGIN
    SELECT RAISE(ABORT, 'a document reference follows a signed event: it is never edited');
END;

CREATE TRIGGER IF NOT EXISTS document_references_refuse_delete BEFORE DELETE ON document_references
BEGIN
    SELECT RAISE(ABORT, 'a document reference follows a signed event: it is never deleted');
END;
