"""The rules every document reference obeys before a step is signed.

A step that relies on a document names it by hash (domain/document_ref.py). Signing a
hash the ledger does not hold would bind the history to a file nobody can produce, so:

- ``document_not_stored``: the referenced SHA-256 is not in the document store;
- ``document_mismatch``: it is stored, but with another size or media type than the
  reference states (the reference would describe a different file);
- ``document_wrong_kind``: the stored document is not of a kind the field accepts (a
  consent form offered as a certificate of analysis);
- ``document_other_patient``: a document sealed for one patient (a consent form) is
  referenced on anything but that patient's own pathway;
- ``document_required``: the site lists the step (or the field) in
  ``CUSTODY_DOCUMENTS_REQUIRED`` and no document is referenced.

Documents are optional by default. The figures a decision rests on (QC values, the
logger's minimum and maximum, the consent's date and form version) are already in the
signed payload and judged by the ledger; a missing file weakens the audit trail, not the
patient's safety, and requiring it everywhere would stop every site that still keeps paper
certificates. A site that holds its files electronically turns the requirement on per
step. The domain never reads the store: the ledger hands it a lookup, as it does for the
wristband check (domain/bedside_identity.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.aggregate import Aggregate
from domain.document_ref import DocumentKind, DocumentRef, document_fields
from domain.errors import InvalidInput, RuleViolation
from domain.events import Context
from domain.pathway import PatientPathway
from domain.spec import EventSpec


@dataclass(frozen=True)
class StoredDocument:
    """What the ledger's document store says of one document: enough to judge a reference, never its bytes."""

    sha256: str
    kind: DocumentKind
    media_type: str
    size_bytes: int
    patient: str | None = None
    """The pseudonym whose data key seals the document (a consent form), or None."""


DocumentLookup = Callable[[str], StoredDocument | None]
"""SHA-256 → what the store holds under it, or None when it holds nothing."""


def required_key(event_type: str, field: str) -> str:
    """How CUSTODY_DOCUMENTS_REQUIRED names one document field of one event type."""
    return f"{event_type}.{field}"


def parse_required(text: str, event_types: Mapping[str, EventSpec]) -> frozenset[str]:
    """The document fields a CUSTODY_DOCUMENTS_REQUIRED value requires: ``Type`` (all its document fields) or
    ``Type.field``, separated by commas; anything else is refused, naming the entry."""
    required: set[str] = set()
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, _, field = entry.partition(".")
        spec = event_types.get(name)
        fields = document_fields(spec.payload) if spec is not None else {}
        if not fields:
            with_documents = sorted(n for n, s in event_types.items() if document_fields(s.payload))
            raise InvalidInput(
                f"CUSTODY_DOCUMENTS_REQUIRED entry {entry!r}: {name!r} is not an event type that references a "
                f"document; these do: {', '.join(with_documents)}",
                field="CUSTODY_DOCUMENTS_REQUIRED",
                rule="invalid_setting",
            )
        if field and field not in fields:
            raise InvalidInput(
                f"CUSTODY_DOCUMENTS_REQUIRED entry {entry!r}: {name} has no document field {field!r}; its document "
                f"fields: {', '.join(sorted(fields))}",
                field="CUSTODY_DOCUMENTS_REQUIRED",
                rule="invalid_setting",
            )
        required.update(required_key(name, one) for one in ([field] if field else fields))
    return frozenset(required)


def check_documents(spec: EventSpec, payload: Any, ctx: Context, target: Aggregate | None) -> None:
    """Refuse the step unless every document it references is stored, as described, and of an accepted kind."""
    for name, kinds in document_fields(spec.payload).items():
        path = f"payload.{name}"
        ref = getattr(payload, name)
        if ref is None:
            if required_key(spec.name, name) in ctx.documents_required:
                raise RuleViolation(
                    f"{path} is required: this site records {spec.name} only with its document "
                    f"({' or '.join(sorted(kinds))}; CUSTODY_DOCUMENTS_REQUIRED). Store the file first "
                    "(`custody document add`, POST /documents) and reference the SHA-256 it prints",
                    field=path,
                    rule="document_required",
                )
            continue
        assert isinstance(ref, DocumentRef)
        _check_one(ref, kinds, path, ctx, target)


def _check_one(ref: DocumentRef, kinds: frozenset[DocumentKind], path: str, ctx: Context, target: Any) -> None:
    stored = ctx.documents(ref.sha256) if ctx.documents is not None else None
    if stored is None:
        raise RuleViolation(
            f"{path}.sha256 {ref.sha256} is not in the document store: store the file first "
            "(`custody document add`, POST /documents); a signed step never names a file the ledger cannot produce",
            field=f"{path}.sha256",
            rule="document_not_stored",
        )
    if stored.size_bytes != ref.size_bytes or stored.media_type != ref.media_type:
        raise RuleViolation(
            f"{path} says {ref.media_type}, {ref.size_bytes} bytes, but the stored document {ref.sha256} is "
            f"{stored.media_type}, {stored.size_bytes} bytes: copy the reference the store printed",
            field=path,
            rule="document_mismatch",
        )
    if stored.kind not in kinds:
        raise RuleViolation(
            f"{path} references a {stored.kind} document; this field takes {' or '.join(sorted(kinds))}",
            field=path,
            rule="document_wrong_kind",
        )
    if stored.patient is not None and not (isinstance(target, PatientPathway) and target.pseudonym == stored.patient):
        raise RuleViolation(
            f"{path} references a document sealed for another patient: it may be referenced only on that "
            "patient's own pathway",
            field=path,
            rule="document_other_patient",
        )
