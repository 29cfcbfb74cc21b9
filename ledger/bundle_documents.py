"""The documents of a product bundle: the hashes its signed events reference, and optionally the files.

An exported bundle lists, under ``documents``, every document the product's events
reference (SHA-256, media type, size, kind, and which event versions and payload
fields reference it); ``custody export --with-documents`` adds each file's bytes in
base64 (``content_base64``) so an inspector holds the evidence itself. Patient-sealed
documents are never exported (a product's events cannot reference one: consent forms
belong to the patient's pathway). The key is left out when no event references a
document, so a bundle without documents is byte for byte what it was before.

A verifier trusts none of the listing: it recomputes the references from the signed
events, refuses a listing that adds, omits or misdescribes one, and hashes every
included file against its signed reference (docs/bundle-format.md, "Documents").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any

from domain.document_ref import DocumentRef, document_ref_from_json
from domain.errors import InvalidInput
from ledger.document_media import sniff_media_type
from ledger.documents import DocumentStore, DocumentUnavailable, references_in
from ledger.envelope import Opened

DOCUMENT_KEYS = frozenset({"sha256", "media_type", "size_bytes", "kind", "referenced_by"})
CONTENT_KEY = "content_base64"


def signed_references(events: Iterable[Opened]) -> dict[str, tuple[DocumentRef, list[dict[str, Any]]]]:
    """SHA-256 → (the signed reference, [{version, field}…]) over the given events; malformed ones skipped."""
    found: dict[str, tuple[DocumentRef, list[dict[str, Any]]]] = {}
    for opened in events:
        body = opened.envelope.body
        for field, raw in references_in(str(body.get("type")), body.get("payload")):
            try:
                ref = document_ref_from_json(raw, field=f"payload.{field}")
            except InvalidInput:
                continue
            entry = found.setdefault(ref.sha256, (ref, []))
            entry[1].append({"version": body["version"], "field": field})
    return found


def bundle_documents(documents: DocumentStore, events: Iterable[Opened], *, with_content: bool) -> list[dict[str, Any]]:
    """The ``documents`` member of a bundle of these events (empty when they reference none)."""
    listed = []
    for sha256, (ref, referenced_by) in sorted(signed_references(events).items()):
        info = documents.info(sha256)
        entry: dict[str, Any] = {
            "sha256": sha256,
            "media_type": str(ref.media_type),
            "size_bytes": ref.size_bytes,
            "kind": str(info.kind) if info is not None else None,
            "referenced_by": referenced_by,
        }
        if with_content and info is not None and info.patient is None:
            with suppress(DocumentUnavailable):  # exported without its bytes then; `custody verify` names why
                entry[CONTENT_KEY] = base64.b64encode(documents.content(sha256)[1]).decode("ascii")
        listed.append(entry)
    return listed


def document_problems(listing: object, events: Iterable[Opened]) -> list[str]:
    """Why the bundle's ``documents`` member does not match its signed events, or an included file its reference."""
    signed = signed_references(events)
    if listing is None:
        listing = []
    if not isinstance(listing, list) or not all(isinstance(entry, Mapping) for entry in listing):
        return ["documents: must be a list of objects"]
    problems: list[str] = []
    seen: set[str] = set()
    for number, entry in enumerate(listing, start=1):
        label = f"document {number}"
        unknown = sorted(set(entry) - DOCUMENT_KEYS - {CONTENT_KEY})
        if unknown:
            problems.append(f"{label}: keys {', '.join(unknown)} are not part of a document entry")
        sha256 = entry.get("sha256")
        if not isinstance(sha256, str) or sha256 not in signed:
            problems.append(f"{label}: {sha256!r} is not referenced by any signed event of the bundle")
            continue
        seen.add(sha256)
        ref = signed[sha256][0]
        if entry.get("media_type") != str(ref.media_type) or entry.get("size_bytes") != ref.size_bytes:
            problems.append(f"{label} ({sha256}): media type or size differ from the signed reference")
        if CONTENT_KEY in entry:
            problems += _content_problems(label, entry[CONTENT_KEY], ref)
    problems += [
        f"the signed events reference document {sha256}, which the bundle does not list"
        for sha256 in sorted(set(signed) - seen)
    ]
    return problems


def _content_problems(label: str, encoded: object, ref: DocumentRef) -> list[str]:
    try:
        if not isinstance(encoded, str):
            raise ValueError("not a string")
        content = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        return [f"{label} ({ref.sha256}): {CONTENT_KEY} is not base64"]
    if hashlib.sha256(content).hexdigest() != ref.sha256 or len(content) != ref.size_bytes:
        return [f"{label} ({ref.sha256}): the included file does not hash to the signed reference"]
    if sniff_media_type(content) != ref.media_type:
        return [f"{label} ({ref.sha256}): the included file is not {ref.media_type}"]
    return []
