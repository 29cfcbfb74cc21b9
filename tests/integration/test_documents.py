"""Documents bound into the signed history by hash, on both backends: storing, referencing, verifying, shredding."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from domain.document_ref import DocumentKind
from domain.errors import CustodyError
from ledger.document_check import shredded_documents
from ledger.documents import DocumentState, DocumentUnavailable
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.integration.document_fixtures import (
    CSV,
    JPEG,
    PDF,
    PNG,
    add,
    enrolled_pathway,
    manufactured,
    qc_tests,
    reference,
    replace_document,
    sha256_of,
)
from tests.integration.journeys import IDENTITY, dba, failures, team, verify

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def refusal(action: Any) -> CustodyError:
    with pytest.raises(CustodyError) as caught:
        action()
    return caught.value


def test_same_bytes_are_stored_once_and_answer_the_same_reference(ledger: CustodyLedger) -> None:
    first, stored_now = ledger.documents.add(
        PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS, uploaded_by="qp", now=ledger.clock.now(), max_bytes=10_000
    )
    again, stored_again = ledger.documents.add(
        PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS, uploaded_by="qc", now=ledger.clock.now(), max_bytes=10_000
    )
    assert (stored_now, stored_again) == (True, False)
    assert first == again
    assert (first.sha256, first.media_type, first.size_bytes) == (sha256_of(PDF), "application/pdf", len(PDF))
    assert first.uploaded_by == "qp"
    with dba(ledger.settings) as session:
        assert session._run("SELECT count(*) FROM documents") == [(1,)]
    assert ledger.documents.content(sha256_of(PDF))[1] == PDF


@pytest.mark.parametrize(
    ("content", "media_type"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (CSV, "text/csv")],
)
def test_the_media_type_is_read_from_the_content(ledger: CustodyLedger, content: bytes, media_type: str) -> None:
    assert add(ledger, content, DocumentKind.OTHER).media_type == media_type


def test_sqlite_keeps_the_bytes_in_a_file_named_by_the_hash(ledger: CustodyLedger, settings: Settings) -> None:
    if settings.backend != "sqlite":
        pytest.skip("PostgreSQL layout only, on every run including CI: SQLite keeps files (tested below)")
    info = add(ledger, CSV, DocumentKind.LOGGER_FILE, by="courier")
    path = settings.home / "documents" / info.sha256[:2] / info.sha256
    assert path.read_bytes() == CSV
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_file_in_the_way_is_never_overwritten(ledger: CustodyLedger, settings: Settings) -> None:
    if settings.backend != "sqlite":
        pytest.skip("SQLite layout only, on every run including CI: PostgreSQL keeps the bytes in the database")
    path = settings.home / "documents" / sha256_of(PDF)[:2] / sha256_of(PDF)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"something else")
    error = refusal(lambda: add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS))
    assert (error.rule, error.field) == ("document_file_conflict", "file")
    assert path.read_bytes() == b"something else"
    assert ledger.documents.info(sha256_of(PDF)) is None


@pytest.mark.parametrize(
    ("content", "kind", "patient", "rule", "field"),
    [
        (b"", DocumentKind.OTHER, None, "empty_document", "file"),
        (b"x" * 1025, DocumentKind.OTHER, None, "document_too_large", "file"),
        (b"just words, but no second line\x00", DocumentKind.OTHER, None, "unsupported_media_type", "file"),
        (b"MZ\x90\x00binary", DocumentKind.OTHER, None, "unsupported_media_type", "file"),
        (PDF, DocumentKind.CONSENT_FORM, None, "required", "patient"),
        (PDF, DocumentKind.CONSENT_FORM, "PSN-NOBODY", "patient_identity_not_registered", "patient"),
        (PDF, DocumentKind.OTHER, "PSN-NOBODY", "patient_not_expected", "patient"),
    ],
)
def test_what_cannot_be_a_document_is_refused_and_nothing_stored(
    ledger: CustodyLedger, content: bytes, kind: DocumentKind, patient: str | None, rule: str, field: str
) -> None:
    error = refusal(
        lambda: ledger.documents.add(
            content, kind, uploaded_by="qp", now=ledger.clock.now(), max_bytes=1024, patient=patient
        )
    )
    assert (error.rule, error.field) == (rule, field)
    with dba(ledger.settings) as session:
        assert session._run("SELECT count(*) FROM documents") == [(0,)]


def test_one_file_has_one_kind(ledger: CustodyLedger) -> None:
    add(ledger, CSV, DocumentKind.LOGGER_FILE)
    error = refusal(lambda: add(ledger, CSV, DocumentKind.SHIPPING_MANIFEST))
    assert (error.rule, error.field) == ("document_kind_conflict", "kind")


def test_the_database_refuses_to_edit_or_delete_a_document(ledger: CustodyLedger) -> None:
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    refused = (sqlite3.DatabaseError, psycopg.Error)
    with dba(ledger.settings) as session:
        with pytest.raises(refused):
            session._run("UPDATE documents SET size_bytes = 1")
        with pytest.raises(refused):
            session._run("DELETE FROM documents")
        assert session._run("SELECT size_bytes FROM documents") == [(len(PDF),)]


def test_qc_with_its_certificate_is_signed_with_the_reference_and_verifies(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    ref = reference(PDF, "application/pdf")
    [event] = rec("qc", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=qc_tests(), document=ref)
    assert event.body["payload"]["document"] == ref
    [found] = ledger.documents.references(sha256_of(PDF))
    assert (found.aggregate_id, found.aggregate_kind, found.version, found.field) == (
        journey.product,
        "product",
        event.version,
        "document",
    )
    assert verify(ledger).failures == []


@pytest.mark.parametrize(
    ("change", "rule", "field"),
    [
        ({"sha256": "ab" * 32}, "document_not_stored", "payload.document.sha256"),
        ({"size_bytes": len(PDF) + 1}, "document_mismatch", "payload.document"),
        ({"media_type": "image/png"}, "document_mismatch", "payload.document"),
        ({"sha256": sha256_of(CSV), "media_type": "text/csv", "size_bytes": len(CSV)}, "document_wrong_kind",
         "payload.document"),
        ({"sha256": "AB" * 31}, "invalid_sha256", "payload.document.sha256"),
        ({"size_bytes": 0}, "out_of_range", "payload.document.size_bytes"),
    ],
)  # fmt: skip
def test_a_reference_the_store_cannot_back_is_refused_and_nothing_signed(
    ledger: CustodyLedger, change: dict[str, Any], rule: str, field: str
) -> None:
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    add(ledger, CSV, DocumentKind.LOGGER_FILE, by="courier")
    size = ledger.store.size()
    ref = {**reference(PDF, "application/pdf"), **change}
    error = refusal(
        lambda: rec("qc", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=qc_tests(), document=ref)
    )
    assert (error.rule, error.field) == (rule, field)
    assert ledger.store.size() == size
    assert ledger.documents.references(sha256_of(PDF)) == []


def test_a_site_may_require_the_document(settings: Settings) -> None:
    required = settings.model_copy(update={"documents_required": "QcResultsRecorded"})
    ledger = CustodyLedger(required)
    try:
        from ledger.setup import initialise
        from tests.conftest import ADMIN_PASSWORD

        initialise(ledger, ADMIN_PASSWORD)
        rec = team(ledger)
        journey, qc_at = manufactured(rec, START)
        size = ledger.store.size()
        error = refusal(lambda: rec("qc", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=qc_tests()))
        assert (error.rule, error.field) == ("document_required", "payload.document")
        assert ledger.store.size() == size
        add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
        rec(
            "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
            tests=qc_tests(), document=reference(PDF, "application/pdf"),
        )  # fmt: skip
        assert ledger.store.size() > size
    finally:
        ledger.close()


def _qc_with_certificate(ledger: CustodyLedger) -> tuple[Any, int]:
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    [event] = rec(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
        tests=qc_tests(), document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    [position] = [
        row.position for row in _rows(ledger) if (row.aggregate_id, row.version) == (journey.product, event.version)
    ]
    return event, position


def _rows(ledger: CustodyLedger) -> list[Any]:
    with dba(ledger.settings) as session:
        return session.rows()


@pytest.mark.parametrize(("content", "reason"), [(None, "missing_document"), (PDF + b"%", "altered_document")])
def test_verify_names_a_missing_or_altered_document_where_it_is_referenced(
    ledger: CustodyLedger, content: bytes | None, reason: str
) -> None:
    event, position = _qc_with_certificate(ledger)
    assert verify(ledger).failures == []
    replace_document(ledger, sha256_of(PDF), content)
    assert failures(verify(ledger)) == {(reason, str(event.aggregate_id), event.version, position)}
    with pytest.raises(DocumentUnavailable) as caught:
        ledger.documents.content(sha256_of(PDF))
    assert caught.value.state == DocumentState(reason)


PSEUDONYM = "PSN-DOC-0001"


def _consent(ledger: CustodyLedger, pseudonym: str = PSEUDONYM) -> tuple[Any, Any]:
    rec = team(ledger)
    pathway = enrolled_pathway(rec, pseudonym, START - timedelta(days=10))
    ledger.identities.put(pseudonym, IDENTITY, ledger.clock.now())
    add(ledger, PDF, DocumentKind.CONSENT_FORM, by="physician", patient=pseudonym)
    return rec, pathway


def _sign_consent(rec: Any, pathway: Any, ref: dict[str, Any]) -> list[Any]:
    return list(
        rec(
            "physician", "ConsentSigned", pathway, START - timedelta(days=5), "witnessed",
            form_version="v3.1", signed_on=(START - timedelta(days=5)).date().isoformat(), document_ref="CF-1",
            document=ref,
        )
    )  # fmt: skip


def test_a_consent_form_is_sealed_with_the_patients_key_and_referenced_on_their_pathway(
    ledger: CustodyLedger,
) -> None:
    rec, pathway = _consent(ledger)
    stored = ledger.documents.stored_bytes(sha256_of(PDF))
    assert stored is not None and PDF not in stored and len(stored) > len(PDF)
    assert ledger.documents.content(sha256_of(PDF))[1] == PDF
    [event] = _sign_consent(rec, pathway, reference(PDF, "application/pdf"))
    assert event.body["payload"]["document"]["sha256"] == sha256_of(PDF)
    assert verify(ledger).failures == []


def test_a_consent_form_is_refused_on_another_patients_pathway(ledger: CustodyLedger) -> None:
    rec, _ = _consent(ledger)
    other = enrolled_pathway(rec, "PSN-DOC-0002", START - timedelta(days=9))
    size = ledger.store.size()
    error = refusal(lambda: _sign_consent(rec, other, reference(PDF, "application/pdf")))
    assert (error.rule, error.field) == ("document_other_patient", "payload.document")
    assert ledger.store.size() == size


def test_erasing_the_patient_shreds_the_consent_form_and_verify_says_so_without_failing(
    ledger: CustodyLedger,
) -> None:
    rec, pathway = _consent(ledger)
    [event] = _sign_consent(rec, pathway, reference(PDF, "application/pdf"))
    assert ledger.identities.erase(PSEUDONYM, ledger.clock.now())
    assert verify(ledger).failures == []
    [shredded] = shredded_documents(ledger.store)
    assert (shredded.aggregate_id, shredded.version, shredded.state) == (
        str(pathway),
        event.version,
        DocumentState.SHREDDED,
    )
    with pytest.raises(DocumentUnavailable) as caught:
        ledger.documents.content(sha256_of(PDF))
    assert caught.value.state is DocumentState.SHREDDED
    assert ledger.documents.stored_bytes(sha256_of(PDF)) is not None  # never deleted, only unreadable
