"""A product bundle lists the documents its signed events reference and, on request, carries the files."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.document_ref import DocumentKind
from ledger.bundle import export_bundle
from ledger.bundle_parse import parse_bundle_text
from ledger.bundle_verify import verify_bundle
from ledger.service import CustodyLedger
from tests import independent_verifier
from tests.integration.document_fixtures import CSV, PDF, add, manufactured, qc_tests, reference, sha256_of
from tests.integration.journeys import released_and_stored, team

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RFIC = PDF.replace(b"Catalog", b"Catalog /Lang (fr)")


@pytest.fixture
def documented(ledger: CustodyLedger) -> tuple[CustodyLedger, Any, set[bytes]]:
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    add(ledger, RFIC, DocumentKind.RELEASE_FOR_INFUSION_CERTIFICATE)
    rec(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
        tests=qc_tests(), document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    rec(
        "qp", "ProductReleased", journey.product, qc_at + timedelta(days=1), "released",
        certificate_id="CoR-1", document=reference(RFIC, "application/pdf"),
    )  # fmt: skip
    return ledger, journey.product, {ledger.meta.ledger_key_pair().public_key}


def _versions(ledger: CustodyLedger, product: Any) -> dict[str, int]:
    return {envelope.type: envelope.version for envelope in ledger.history(product)}


def test_the_bundle_lists_each_referenced_document_without_its_bytes(
    documented: tuple[CustodyLedger, Any, set[bytes]],
) -> None:
    ledger, product, trusted = documented
    bundle = export_bundle(ledger, product)
    versions = _versions(ledger, product)
    expected: list[dict[str, Any]] = [
        {
            "sha256": sha256_of(content),
            "media_type": "application/pdf",
            "size_bytes": len(content),
            "kind": kind,
            "referenced_by": [{"version": versions[event], "field": "document"}],
        }
        for content, kind, event in (
            (PDF, "certificate_of_analysis", "QcResultsRecorded"),
            (RFIC, "release_for_infusion_certificate", "ProductReleased"),
        )
    ]
    assert bundle["documents"] == sorted(expected, key=lambda entry: str(entry["sha256"]))
    assert verify_bundle(bundle, trusted) == []


def test_with_documents_the_files_travel_and_are_checked(documented: tuple[CustodyLedger, Any, set[bytes]]) -> None:
    ledger, product, trusted = documented
    bundle = export_bundle(ledger, product, with_documents=True)
    contents = {entry["sha256"]: base64.b64decode(entry["content_base64"]) for entry in bundle["documents"]}
    assert contents == {sha256_of(PDF): PDF, sha256_of(RFIC): RFIC}
    assert verify_bundle(parse_bundle_text(json.dumps(bundle)), trusted) == []


def _same_length_other_bytes(entry: dict[str, Any]) -> str:
    content = base64.b64decode(entry["content_base64"])
    return base64.b64encode(content[:-1] + bytes([content[-1] ^ 1])).decode()


def _edited(bundle: dict[str, Any], change: Any) -> dict[str, Any]:
    edited = copy.deepcopy(bundle)
    change(edited["documents"])
    return edited


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda docs: docs[0].update(content_base64=base64.b64encode(CSV).decode()), "does not hash"),
        (lambda docs: docs[0].update(content_base64=_same_length_other_bytes(docs[0])), "does not hash"),
        (lambda docs: docs[0].update(content_base64="%%%"), "is not base64"),
        (lambda docs: docs.pop(0), "which the bundle does not list"),
        (lambda docs: docs[0].update(size_bytes=1), "differ from the signed reference"),
        (lambda docs: docs.append({**docs[0], "sha256": "ab" * 32}), "is not referenced by any signed event"),
        (lambda docs: docs[0].update(note="x"), "not part of a document entry"),
    ],
)
def test_a_bundle_whose_documents_disagree_with_its_signed_events_is_refused(
    documented: tuple[CustodyLedger, Any, set[bytes]], change: Any, expected: str
) -> None:
    ledger, product, trusted = documented
    bundle = export_bundle(ledger, product, with_documents=True)
    problems = verify_bundle(_edited(bundle, change), trusted)
    assert any(expected in problem for problem in problems), problems


def test_a_bundle_without_documents_has_no_documents_key(ledger: CustodyLedger) -> None:
    journey = released_and_stored(team(ledger), START)
    bundle = export_bundle(ledger, journey.product, with_documents=True)
    assert "documents" not in bundle
    assert verify_bundle(bundle, {ledger.meta.ledger_key_pair().public_key}) == []


def test_the_independent_verifier_agrees_from_the_format_page_alone(
    documented: tuple[CustodyLedger, Any, set[bytes]],
) -> None:
    ledger, product, trusted = documented
    bundle = export_bundle(ledger, product, with_documents=True)
    assert independent_verifier.verify(json.dumps(bundle), trusted) == []
    tampered = _edited(bundle, lambda docs: docs[0].update(content_base64=base64.b64encode(CSV).decode()))
    assert independent_verifier.verify(json.dumps(tampered), trusted) == [
        "document content does not hash to its reference"
    ]
    assert independent_verifier.verify(json.dumps(_edited(bundle, lambda docs: docs.pop())), trusted) == [
        "documents listed are not the referenced ones"
    ]
