"""Small real files of each accepted type, and helpers to store them and reference them from steps."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from api import demo_journeys as j
from api import demo_pathway
from domain.document_ref import DocumentKind
from domain.pathway import pathway_id_for
from ledger.documents import DocumentInfo
from ledger.service import CustodyLedger
from tests.integration.journeys import Journey, Recorder, dba, enrolled

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
CSV = b"time;temperature_c\n2026-03-02T08:00:00Z;-185.2\n2026-03-02T09:00:00Z;-184.9\n"
MAX_BYTES = 20 * 1024 * 1024


def sha256_of(content: bytes) -> str:
    """The expected digest, computed here rather than trusted from the store."""
    return hashlib.sha256(content).hexdigest()


def add(
    ledger: CustodyLedger, content: bytes, kind: DocumentKind, *, by: str = "qp", patient: str | None = None
) -> DocumentInfo:
    """Store a document as ``by``."""
    info, _ = ledger.documents.add(
        content, kind, uploaded_by=by, now=ledger.clock.now(), max_bytes=MAX_BYTES, patient=patient
    )
    return info


def reference(content: bytes, media_type: str) -> dict[str, Any]:
    """A reference written by hand from the bytes (the oracle: not read back from the store)."""
    return {"sha256": sha256_of(content), "media_type": media_type, "size_bytes": len(content)}


def manufactured(rec: Recorder, start: datetime) -> tuple[Journey, datetime]:
    """An enrolled CAR-T product, collected and manufactured; the moment its QC is due."""
    journey = enrolled(rec, start)
    din = f"G1234{start.year % 100:02d}{start.day:02d}{start.hour:02d}00"
    qc_at = j.collect_and_manufacture(rec, journey.product, journey.coi, din, start + timedelta(days=1))
    return journey, qc_at


def qc_tests() -> list[dict[str, Any]]:
    """The demo's passing CAR-T panel."""
    captured: list[dict[str, Any]] = []

    def capture(user: str, event_type: str, target: Any, when: Any, meaning: str, **payload: Any) -> None:
        captured.extend(payload["tests"])

    j.qc(capture, None, None)  # type: ignore[arg-type]
    return captured


def enrolled_pathway(rec: Recorder, pseudonym: str, when: datetime) -> Any:
    """A patient's pathway, enrolled and nothing more (consent not yet recorded)."""
    for user in ("physician", "internist"):
        rec.passwords.setdefault(user, f"{user}-password")
    demo_pathway.record_registries(rec, when)
    demo_pathway._enrol(
        rec, pseudonym, "systemic_lupus_erythematosus", when, demo_pathway.PRIOR["systemic_lupus_erythematosus"]
    )
    return pathway_id_for(pseudonym)


def replace_document(ledger: CustodyLedger, sha256: str, content: bytes | None) -> None:
    """An insider with file-system or database rights replaces (or, with None, removes) a document's bytes."""
    if ledger.settings.backend == "sqlite":
        path = ledger.documents.path_of(sha256)
        if content is None:
            path.unlink()
        else:
            path.write_bytes(content)
        return
    with dba(ledger.settings) as session:
        session._run("ALTER TABLE documents DISABLE TRIGGER USER")
        if content is None:
            session._run("DELETE FROM documents WHERE sha256 = %s", (sha256,))
        else:
            session._run("UPDATE documents SET content = %s WHERE sha256 = %s", (content, sha256))
