"""The content-addressed document store: every file a signed step relied on, kept by its SHA-256.

A document is stored once under the SHA-256 of its bytes (the same bytes twice are one
document), never replaced and never deleted: signed events reference it for as long as
the ledger exists, whatever happens to the product. What it is (kind, media type read
from its content, size, who stored it, when) is a row of ``documents``; where its bytes
live depends on the backend (README, "Documents"):

- SQLite: a file ``CUSTODY_HOME/documents/<first two hex digits>/<sha256>``, written to a
  private temporary file, flushed, then linked into place — a link never replaces an
  existing file, so a document is never overwritten, even by two writers at once;
- PostgreSQL: the ``content`` column (bytea) of its row, because the application servers
  of one database share no file system and each must serve every document, and so that
  one ``pg_dump`` copies the documents with the events that reference them.

A consent form identifies its patient: it is sealed with the patient's data key
(ledger/document_sealing.py) and becomes unreadable, by design, when the identity is
erased (``DocumentShredded``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.document_ref import DocumentKind, DocumentRef, MediaType, document_fields
from domain.document_rules import StoredDocument
from domain.errors import IdentityNotRegistered, InvalidInput, RuleViolation
from domain.registry import EVENT_TYPES
from domain.text import checked_text
from ledger.clock import isoformat
from ledger.document_media import media_type_of
from ledger.document_sealing import DocumentUnsealable, open_document, seal_document
from ledger.envelope import Envelope
from ledger.identity_kek import IdentityKeyMismatch
from ledger.identity_store import IdentityStore, IdentityUnavailable
from ledger.recorders import InTransaction
from ledger.secrets import MissingSecret
from ledger.side_cursor import SideCursor
from ledger.store import EventStore

DOCUMENTS_DIR = "documents"
_COLUMNS = "sha256, kind, media_type, size_bytes, patient, uploaded_by, uploaded_at"


class DocumentState(StrEnum):
    """What checking a referenced document against its reference found."""

    INTACT = "intact"
    MISSING = "missing_document"
    ALTERED = "altered_document"
    SHREDDED = "shredded_document"
    NOT_CHECKABLE = "document_not_checkable_here"


class DocumentUnavailable(Exception):
    """The document's bytes cannot be produced as its reference describes them (``state`` says why)."""

    def __init__(self, message: str, state: DocumentState) -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class DocumentInfo:
    """One stored document as its row describes it (never its bytes)."""

    sha256: str
    kind: DocumentKind
    media_type: MediaType
    size_bytes: int
    patient: str | None
    uploaded_by: str
    uploaded_at: str

    @property
    def reference(self) -> DocumentRef:
        """The reference a step puts in its payload to rely on this document."""
        return DocumentRef(self.sha256, self.media_type, self.size_bytes)

    def to_json(self) -> dict[str, Any]:
        """What `custody document add --json` and POST /documents answer: no pseudonym, no content."""
        return {
            "sha256": self.sha256,
            "media_type": str(self.media_type),
            "size_bytes": self.size_bytes,
            "kind": str(self.kind),
            "uploaded_at": self.uploaded_at,
            "reference": {"sha256": self.sha256, "media_type": str(self.media_type), "size_bytes": self.size_bytes},
        }

    def facts(self) -> StoredDocument:
        """What the domain's rules see of it (domain/document_rules.py)."""
        return StoredDocument(self.sha256, self.kind, str(self.media_type), self.size_bytes, self.patient)


@dataclass(frozen=True)
class Reference:
    """One signed event's reference to a document: whose event, which version, which payload field."""

    aggregate_id: UUID
    aggregate_kind: str
    version: int
    field: str


def _info(row: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        sha256=str(row["sha256"]),
        kind=DocumentKind(row["kind"]),
        media_type=MediaType(row["media_type"]),
        size_bytes=int(row["size_bytes"]),
        patient=None if row["patient"] is None else str(row["patient"]),
        uploaded_by=str(row["uploaded_by"]),
        uploaded_at=str(row["uploaded_at"]),
    )


def document_kind(text: str, *, field: str = "kind") -> DocumentKind:
    """A kind as typed on the command line or sent in a form; ``invalid_choice`` otherwise."""
    try:
        return DocumentKind(text)
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not one of {', '.join(kind.value for kind in DocumentKind)}",
            field=field,
            rule="invalid_choice",
        ) from None


class DocumentStore:
    """Store, describe and read documents; list which signed events reference them."""

    def __init__(self, store: EventStore, home: Path, identities: IdentityStore | None = None) -> None:
        self.store = store
        self.home = home
        self._identities = identities

    @property
    def identities(self) -> IdentityStore:
        """The sealed identities, whose data keys seal consent forms (opened on first use)."""
        if self._identities is None:
            self._identities = IdentityStore(self.store, self.home)
        return self._identities

    def path_of(self, sha256: str) -> Path:
        """Where an SQLite ledger keeps a document's bytes."""
        return self.home / DOCUMENTS_DIR / sha256[:2] / sha256

    # -- writing ---------------------------------------------------------------------------------

    def add(
        self,
        content: bytes,
        kind: DocumentKind,
        *,
        uploaded_by: str,
        now: datetime,
        max_bytes: int,
        patient: str | None = None,
    ) -> tuple[DocumentInfo, bool]:
        """Store ``content`` once (True when stored now, False when it already was); refuse what cannot be a document.

        Storing the same bytes again as the same kind answers the stored document; as
        another kind (or for another patient) it is refused, since one hash has one meaning.
        """
        if not content:
            raise InvalidInput("file is empty: a document has at least one byte", field="file", rule="empty_document")
        if len(content) > max_bytes:
            raise InvalidInput(
                f"file is {len(content)} bytes, more than the {max_bytes} a document may take "
                "(CUSTODY_MAX_DOCUMENT_BYTES)",
                field="file",
                rule="document_too_large",
            )
        patient = self._patient_for(kind, patient)
        media_type = media_type_of(content)
        sha256 = hashlib.sha256(content).hexdigest()
        existing = self.info(sha256)
        if existing is not None:
            return self._same(existing, kind, patient), False
        stored = content
        if patient is not None:
            stored = seal_document(content, sha256, patient, self._data_key(patient))
        info = DocumentInfo(sha256, kind, media_type, len(content), patient, uploaded_by, isoformat(now))
        if self.store.backend == "sqlite":
            self._write_file(sha256, stored)
        with self.store.side_transaction() as cursor:
            self._insert(cursor, info, stored)
        found = self.info(sha256)
        assert found is not None
        return self._same(found, kind, patient), found == info

    def _patient_for(self, kind: DocumentKind, patient: str | None) -> str | None:
        if not kind.identifies_patient:
            if patient is not None:
                raise InvalidInput(
                    f"patient is given for a {kind} document: only a consent form is sealed for a patient",
                    field="patient",
                    rule="patient_not_expected",
                )
            return None
        if patient is None or not patient.strip():
            raise InvalidInput(
                "patient (the pseudonym) is required for a consent form: it is sealed with that patient's key",
                field="patient",
                rule="required",
            )
        return checked_text(patient.strip(), "patient")

    def _data_key(self, patient: str) -> bytes:
        try:
            return self.identities.data_key(patient)
        except IdentityUnavailable:
            raise IdentityNotRegistered(
                f"no identity is registered for patient {patient}: register it (`custody patient register`) before "
                "storing their consent form, which is sealed with their key",
                field="patient",
            ) from None

    @staticmethod
    def _same(existing: DocumentInfo, kind: DocumentKind, patient: str | None) -> DocumentInfo:
        if existing.kind != kind or existing.patient != patient:
            raise RuleViolation(
                f"these bytes are already stored as document {existing.sha256} of kind {existing.kind}"
                + (" for another patient" if existing.patient != patient else "")
                + f"; one file has one meaning, so it cannot also be stored as {kind}"
                + (" for this patient" if existing.patient != patient and existing.kind == kind else ""),
                field="kind" if existing.kind != kind else "patient",
                rule="document_kind_conflict",
            )
        return existing

    def _write_file(self, sha256: str, stored: bytes) -> None:
        """Put the bytes in place without ever replacing a file: temporary file, fsync, link (fails if present)."""
        final = self.path_of(sha256)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = final.with_name(f".{sha256}.{os.getpid()}.{os.urandom(4).hex()}.part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(stored)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, final)
            except FileExistsError:
                if final.read_bytes() != stored:
                    raise RuleViolation(
                        f"{final} already holds other bytes than document {sha256}: it is left as it is; run "
                        "`custody verify` to see which signed steps it breaks",
                        field="file",
                        rule="document_file_conflict",
                    ) from None
        finally:
            temporary.unlink(missing_ok=True)  # the temporary copy only; the document is the linked file

    def _insert(self, cursor: SideCursor, info: DocumentInfo, stored: bytes) -> None:
        values = [
            info.sha256,
            str(info.kind),
            str(info.media_type),
            info.size_bytes,
            info.patient,
            info.uploaded_by,
            info.uploaded_at,
        ]
        columns, marks = _COLUMNS, ", ".join(["%s"] * len(values))
        if self.store.backend == "postgresql":
            columns, marks = columns + ", content", marks + ", %s"
            values.append(stored)
        cursor.execute(
            f"INSERT INTO documents ({columns}) VALUES ({marks}) ON CONFLICT (sha256) DO NOTHING",
            values,
        )

    # -- reading ---------------------------------------------------------------------------------

    def info(self, sha256: str) -> DocumentInfo | None:
        """The stored document's row, or None."""
        with self.store.side_transaction() as cursor:
            cursor.execute(f"SELECT {_COLUMNS} FROM documents WHERE sha256 = %s", (sha256,))
            row = cursor.fetchone()
        return None if row is None else _info(row)

    def lookup(self, sha256: str) -> StoredDocument | None:
        """The domain's lookup (``Context.documents``): what the store holds under ``sha256``."""
        found = self.info(sha256)
        return None if found is None else found.facts()

    def key_held(self, patient: str) -> bool:
        """Whether the patient's data key still exists (False once their identity is erased)."""
        try:
            self.identities.data_key(patient)
        except IdentityUnavailable:
            return False
        return True

    def stored_bytes(self, sha256: str) -> bytes | None:
        """The bytes as kept (sealed for a consent form), or None when they are gone."""
        if self.store.backend == "sqlite":
            try:
                return self.path_of(sha256).read_bytes()
            except FileNotFoundError:
                return None
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT content FROM documents WHERE sha256 = %s", (sha256,))
            row = cursor.fetchone()
        return None if row is None else bytes(row["content"])

    def content(self, sha256: str) -> tuple[DocumentInfo, bytes]:
        """A document and its plaintext, checked against its hash; ``DocumentUnavailable`` saying why not."""
        info = self.info(sha256)
        stored = self.stored_bytes(sha256) if info is not None else None
        if info is None or stored is None:
            raise DocumentUnavailable(f"document {sha256} is not in the store", DocumentState.MISSING)
        plain = stored
        if info.patient is not None:
            try:
                data_key = self.identities.data_key(info.patient)
            except IdentityUnavailable:
                raise DocumentUnavailable(
                    f"document {sha256} was sealed with a patient's key that was erased with their identity",
                    DocumentState.SHREDDED,
                ) from None
            except (IdentityKeyMismatch, MissingSecret):
                raise DocumentUnavailable(
                    f"document {sha256} is sealed with its patient's key, and the identity key (identity.kek) that "
                    "opens it is not on this host",
                    DocumentState.NOT_CHECKABLE,
                ) from None
            try:
                plain = open_document(stored, sha256, info.patient, data_key)
            except DocumentUnsealable as error:
                raise DocumentUnavailable(f"document {sha256}: {error}", DocumentState.ALTERED) from None
        if hashlib.sha256(plain).hexdigest() != sha256:
            raise DocumentUnavailable(f"document {sha256}: its bytes no longer hash to it", DocumentState.ALTERED)
        return info, plain

    def readable(self, sha256: str) -> bytes | None:
        """The domain's reader (``Context.document_bytes``): the plaintext checked against its hash, or None."""
        try:
            return self.content(sha256)[1]
        except DocumentUnavailable:
            return None

    def references(self, sha256: str) -> list[Reference]:
        """Every signed event that references the document, as recorded with the event."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT aggregate_id, aggregate_kind, version, field FROM document_references WHERE sha256 = %s"
                " ORDER BY aggregate_id, version, field",
                (sha256,),
            )
            rows = cursor.fetchall()
        return [
            Reference(
                UUID(str(row["aggregate_id"])), str(row["aggregate_kind"]), int(row["version"]), str(row["field"])
            )
            for row in rows
        ]


def references_in(event_type: str, payload: Any) -> list[tuple[str, Any]]:
    """The (field, raw reference) pairs a signed payload of ``event_type`` holds (unchecked: as stored)."""
    spec = EVENT_TYPES.get(event_type)
    if spec is None or not isinstance(payload, Mapping):
        return []
    return [(name, payload[name]) for name in document_fields(spec.payload) if payload.get(name) is not None]


def reference_writes(envelopes: Sequence[Envelope]) -> list[InTransaction]:
    """The ``document_references`` rows of these events, written in the transaction that stores them."""
    rows = [
        (str(ref["sha256"]), str(envelope.aggregate_id), str(envelope.body["aggregate_kind"]), envelope.version, name)
        for envelope in envelopes
        for name, ref in references_in(envelope.type, envelope.body.get("payload"))
        if isinstance(ref, Mapping)
    ]
    if not rows:
        return []

    def write(cursor: SideCursor) -> None:
        for row in rows:
            cursor.execute(
                "INSERT INTO document_references (sha256, aggregate_id, aggregate_kind, version, field)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                row,
            )

    return [write]
