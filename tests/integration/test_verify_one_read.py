"""Verification reads the event log once: the document pass is fed by the row checks, in this process or on workers.

The documents an event references are judged from the rows the verifier already decodes, never from
a second read of the log; the verdicts are those of the two-pass verifier, an edited event's
references included (the document pass judged every row whose bytes still decode).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.document_ref import DocumentKind
from domain.staff import STAFF_EVENT_TYPES
from ledger.service import CustodyLedger
from ledger.verifier import VerificationReport, VerifyOptions, verify_store
from tests.integration.document_fixtures import PDF, add, manufactured, qc_tests, reference, sha256_of
from tests.integration.journeys import dba, failures, team

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
QC_VERSION = 7  # the QC result is the product's seventh event on this journey


def qc_with_certificate(ledger: CustodyLedger) -> tuple[Any, int]:
    """A QC result signed with its certificate's reference; the event and its log position."""
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    [event] = rec(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
        tests=qc_tests(), document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    with dba(ledger.settings) as session:
        [position] = [
            r.position for r in session.rows() if (r.aggregate_id, r.version) == (event.aggregate_id, QC_VERSION)
        ]
    assert event.version == QC_VERSION
    return event, position


def remove_certificate(ledger: CustodyLedger) -> None:
    """An insider deletes the certificate's bytes (file or database row)."""
    if ledger.settings.backend == "sqlite":
        ledger.documents.path_of(sha256_of(PDF)).unlink()
        return
    with dba(ledger.settings) as session:
        session._run("ALTER TABLE documents DISABLE TRIGGER USER")
        session._run("DELETE FROM documents WHERE sha256 = %s", (sha256_of(PDF),))


def both_ways(ledger: CustodyLedger) -> VerificationReport:
    """Verify in this process and on two workers: the same report; return it."""
    base = VerifyOptions(trusted={ledger.meta.ledger_key_pair().public_key}, ledger_id=ledger.meta.ledger_id())
    in_process = verify_store(ledger.store, replace(base, workers=1))
    on_workers = verify_store(ledger.store, replace(base, workers=2, processes_from=0))
    assert on_workers.to_json() == in_process.to_json()
    return on_workers


def test_a_missing_document_is_named_without_a_second_read_of_the_log(
    ledger: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, position = qc_with_certificate(ledger)
    remove_certificate(ledger)
    scans: list[frozenset[str]] = []
    scan = ledger.store.scan

    def counted(*args: Any, **kwargs: Any) -> Any:
        scans.append(frozenset(kwargs.get("topics", ())))
        return scan(*args, **kwargs)

    monkeypatch.setattr(ledger.store, "scan", counted)
    report = both_ways(ledger)
    assert failures(report) == {("missing_document", str(event.aggregate_id), QC_VERSION, position)}
    # Each run reads the staff events for the key history, and the log itself only through its row scan.
    assert scans == [frozenset(STAFF_EVENT_TYPES)] * 2


def test_an_edited_event_is_named_and_its_swapped_document_as_well(ledger: CustodyLedger) -> None:
    event, position = qc_with_certificate(ledger)
    remove_certificate(ledger)
    with dba(ledger.settings) as session:
        forged = session.row(event.aggregate_id, QC_VERSION)
        session.disable_immutability()
        session.set_state(event.aggregate_id, QC_VERSION, forged.state.replace(b'"reviewed"', b'"Reviewed"'))
    assert failures(both_ways(ledger)) == {
        ("edited_record", str(event.aggregate_id), QC_VERSION, position),
        ("missing_document", str(event.aggregate_id), QC_VERSION, position),
    }
