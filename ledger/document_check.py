"""Verification's document pass: every document a signed event references is held and is the file it names.

Run after the log itself is verified (ledger/verifier.py), over the events whose type
has document fields only (the store filters them by topic). For each reference it
reads the stored bytes — unsealing a consent form with its patient's key — and hashes
them; each distinct document is read once however many events reference it.

- ``missing_document`` (a failure): the store holds no such document, or its bytes are gone;
- ``altered_document`` (a failure): the bytes no longer hash to the reference, no longer
  unseal, or are stored with another size or media type than the signed reference states;
- ``shredded_document`` (not a failure): a consent form whose patient's identity was
  erased. Erasure destroys the key on purpose (ledger/identity_store.py); the ciphertext
  and the signed hash remain, and nothing can, or should, open it again;
- ``document_not_checkable_here`` (not a failure): a consent form on a host without the
  identity key (``identity.kek``, which no backup carries: ledger/identity_kek.py).
  Verification never needs a key to patient identities; it checks what it can without one
  and goes on with the rest.

Without the patient's key (shredded, or not on this host) a sealed document is still
checked as far as its stored form allows: present, sealed, and of the size the signed
reference implies (ledger/document_sealing.py ``looks_sealed``; no hash of the ciphertext
is kept, so a changed byte inside it is found only where the key opens it).

A malformed reference in a stored payload is reported as ``altered_document``: the
signature covered it, so it was written that way by whoever held a signing key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from domain.document_ref import DocumentRef, document_fields, document_ref_from_json
from domain.errors import InvalidInput
from domain.registry import EVENT_TYPES
from ledger.document_sealing import looks_sealed
from ledger.documents import DocumentState, DocumentStore, DocumentUnavailable, references_in
from ledger.envelope import EnvelopeError
from ledger.identity_kek import IdentityKeyMismatch
from ledger.identity_store import IdentityUnavailable
from ledger.secrets import MissingSecret
from ledger.store import parse_envelope

NOTE_MEANING = {
    DocumentState.SHREDDED: "expected after erasure, not a failure",
    DocumentState.NOT_CHECKABLE: "not a failure: verify on a host holding identity.kek to check its content",
}
"""What verification reports about a sealed document it cannot open, never as a failure, and what that means."""
NOTES = tuple(NOTE_MEANING)

DOCUMENT_EVENT_TYPES = tuple(sorted(name for name, spec in EVENT_TYPES.items() if document_fields(spec.payload)))
"""The event types whose payloads may reference a document."""


@dataclass(frozen=True)
class DocumentFinding:
    """One reference and what checking it found; ``as_failure`` fits ``ledger.verifier.Failure``."""

    position: int
    aggregate_id: str
    version: int
    state: DocumentState
    detail: str

    @property
    def is_failure(self) -> bool:
        """Missing and altered documents break the history; a shredded or not checkable one is a note."""
        return self.state in (DocumentState.MISSING, DocumentState.ALTERED)

    def as_failure(self) -> tuple[int, str, int, str, str]:
        """Position, aggregate, version, reason, detail: the fields of a verification failure."""
        return (self.position, self.aggregate_id, self.version, str(self.state), self.detail)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (`custody verify --json`)."""
        return {
            "position": self.position,
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "reason": str(self.state),
            "detail": self.detail,
        }


def _references(store: Any) -> Iterator[tuple[int, str, int, str, Any]]:
    """(position, aggregate, version, field, raw reference) of every document reference in the log."""
    for row in store.scan(topics=DOCUMENT_EVENT_TYPES):
        try:
            envelope = parse_envelope(row.state)
            body = envelope.body
            payload = body.get("payload")
            aggregate, version = str(body["aggregate_id"]), int(body["version"])
        except (EnvelopeError, KeyError, TypeError, ValueError):
            continue  # an undecodable row is the log pass's failure, named there
        for name, raw in references_in(str(body.get("type")), payload):
            yield row.id, aggregate, version, name, raw


def _judge(
    documents: DocumentStore, raw: Any, field: str, seen: dict[str, tuple[DocumentState, str]]
) -> tuple[DocumentState, str]:
    try:
        ref = document_ref_from_json(raw, field=f"payload.{field}")
    except InvalidInput as error:
        return DocumentState.ALTERED, f"payload.{field} is not a document reference: {error.message}"
    if ref.sha256 not in seen:
        seen[ref.sha256] = _judge_document(documents, ref)
    state, detail = seen[ref.sha256]
    if state is DocumentState.INTACT:
        return state, detail
    return state, f"payload.{field} ({ref.media_type}, {ref.size_bytes} bytes): {detail}"


def _judge_document(documents: DocumentStore, ref: DocumentRef) -> tuple[DocumentState, str]:
    try:
        info, plain = documents.content(ref.sha256)
    except DocumentUnavailable as unavailable:
        if unavailable.state in NOTES:
            return _judge_sealed(documents, ref, unavailable)
        return unavailable.state, str(unavailable)
    if info.size_bytes != ref.size_bytes or info.media_type != ref.media_type:
        return DocumentState.ALTERED, f"document {ref.sha256} is stored as {info.media_type}, {info.size_bytes} bytes"
    if len(plain) != ref.size_bytes:
        return DocumentState.ALTERED, f"document {ref.sha256} holds {len(plain)} bytes"
    return DocumentState.INTACT, ""


def _judge_sealed(
    documents: DocumentStore, ref: DocumentRef, unavailable: DocumentUnavailable
) -> tuple[DocumentState, str]:
    """A sealed document whose key is not at hand: what can be checked without it, then the note."""
    info = documents.info(ref.sha256)
    stored = documents.stored_bytes(ref.sha256)
    if info is None or stored is None:
        return DocumentState.MISSING, f"document {ref.sha256} is not in the store"
    if info.size_bytes != ref.size_bytes or info.media_type != ref.media_type:
        return DocumentState.ALTERED, f"document {ref.sha256} is stored as {info.media_type}, {info.size_bytes} bytes"
    if not looks_sealed(stored, ref.size_bytes):
        return (
            DocumentState.ALTERED,
            f"document {ref.sha256}: its stored bytes are not a sealed document of {ref.size_bytes} bytes",
        )
    return unavailable.state, str(unavailable)


class DocumentPass:
    """The document pass fed one reference at a time, as the verifier's single scan of the log meets them.

    The references come from the rows the verifier already decodes (ledger/row_check.py), so the log is
    not read and decoded a second time; each distinct document is still judged once.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.documents: DocumentStore | None = None  # opened at the first reference: a log without any reads none
        self.seen: dict[str, tuple[DocumentState, str]] = {}
        self.findings: list[DocumentFinding] = []

    def add(self, position: int, aggregate: str, version: int, field: str, raw: Any) -> None:
        """Judge one reference of the event at log ``position``; keep what is not intact."""
        self.documents = self.documents or DocumentStore(self.store, self.store.settings.home)
        state, detail = _judge(self.documents, raw, field, self.seen)
        if state is not DocumentState.INTACT:
            self.findings.append(DocumentFinding(position, aggregate, version, state, detail))


def check_documents(store: Any) -> list[DocumentFinding]:
    """Every reference that is not intact, in log order (failures and shredded documents alike)."""
    documents = DocumentPass(store)
    for reference in _references(store):
        documents.add(*reference)
    return documents.findings


def document_failures(store: Any) -> list[tuple[int, str, int, str, str]]:
    """The document pass's failures, as (position, aggregate, version, reason, detail) for the verifier."""
    return [finding.as_failure() for finding in check_documents(store) if finding.is_failure]


def document_notes(store: Any) -> list[DocumentFinding]:
    """References to sealed documents this host cannot open (shredded, or no identity key here): never failures.

    Cheap beside the full pass: only each referenced document's row and its patient's key are read, no bytes.
    """
    documents = DocumentStore(store, store.settings.home)
    states: dict[str, DocumentState] = {}
    findings = []
    for position, aggregate, version, field, raw in _references(store):
        sha256 = raw.get("sha256") if isinstance(raw, Mapping) else None
        if not isinstance(sha256, str):
            continue
        if sha256 not in states:
            info = documents.info(sha256)
            states[sha256] = DocumentState.INTACT if info is None else _key_state(documents, info.patient)
        state = states[sha256]
        if state is DocumentState.SHREDDED:
            detail = f"payload.{field}: document {sha256} was sealed with a key erased with its patient's identity"
            findings.append(DocumentFinding(position, aggregate, version, state, detail))
        elif state is DocumentState.NOT_CHECKABLE:
            detail = (
                f"payload.{field}: document {sha256} is sealed with its patient's key; the identity key "
                "(identity.kek) is not on this host, so only its sealed form and size were checked"
            )
            findings.append(DocumentFinding(position, aggregate, version, state, detail))
    return findings


def _key_state(documents: DocumentStore, patient: str | None) -> DocumentState:
    """INTACT when nothing needs a key or it opens here; SHREDDED once erased; NOT_CHECKABLE without identity.kek."""
    if patient is None:
        return DocumentState.INTACT
    try:
        documents.identities.data_key(patient)
    except IdentityUnavailable:
        return DocumentState.SHREDDED
    except (IdentityKeyMismatch, MissingSecret):
        return DocumentState.NOT_CHECKABLE
    return DocumentState.INTACT


def shredded_documents(store: Any) -> list[DocumentFinding]:
    """References to documents shredded with their patient's identity (the notes' expected case after erasure)."""
    return [finding for finding in document_notes(store) if finding.state is DocumentState.SHREDDED]
