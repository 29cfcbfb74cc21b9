-- depends: 0014.signing-lockout
-- Documents bound into the signed history by hash (see the SQLite twin). On PostgreSQL the bytes live in the
-- database (content bytea), not in files: the application servers of one PostgreSQL deployment share no file
-- system, and a document must be readable from every one of them, and copied by the same pg_dump as the events that
-- reference it. Rows are never edited nor deleted.
CREATE TABLE IF NOT EXISTS documents (
    sha256 text PRIMARY KEY,
    kind text NOT NULL,
    media_type text NOT NULL,
    size_bytes bigint NOT NULL,
    patient text,
    uploaded_by text NOT NULL,
    uploaded_at text NOT NULL,
    content bytea NOT NULL
);

CREATE TABLE IF NOT EXISTS document_references (
    sha256 text NOT NULL,
    aggregate_id text NOT NULL,
    aggregate_kind text NOT NULL,
    version bigint NOT NULL,
    field text NOT NULL,
    PRIMARY KEY (sha256, aggregate_id, version, field)
);

CREATE OR REPLACE FUNCTION custody_refuse_document_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stored documents and their references are never edited nor deleted (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER documents_refuse_update_delete BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION custody_refuse_document_change();
CREATE TRIGGER documents_refuse_truncate BEFORE TRUNCATE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse_document_change();
CREATE TRIGGER document_references_refuse_update_delete BEFORE UPDATE OR DELETE ON document_references
    FOR EACH ROW EXECUTE FUNCTION custody_refuse_document_change();
CREATE TRIGGER document_references_refuse_truncate BEFORE TRUNCATE ON document_references
    FOR EACH STATEMENT EXECUTE FUNCTION custody_refuse_document_change();

REVOKE UPDATE, DELETE, TRUNCATE ON documents, document_references FROM PUBLIC;
GRANT SELECT, INSERT ON documents, document_references TO custody_writer;
REVOKE UPDATE, DELETE, TRUNCATE ON documents, document_references FROM custody_writer;
