"""`custody document add`, `custody verify` and `custody export --with-documents` in-process, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.document_ref import DocumentKind
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.conftest import cli_runner, point_cli_at
from tests.integration.document_fixtures import PDF, add, enrolled_pathway, manufactured, qc_tests, reference, sha256_of
from tests.integration.journeys import IDENTITY, team

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def cli(
    ledger: CustodyLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``cli(*argv)`` → (exit code, stdout, stderr) against the fixture's ledger."""
    point_cli_at(settings, monkeypatch)
    return cli_runner(capsys)


def test_document_add_prints_the_reference_and_refuses_by_content(cli: Any, tmp_path: Path) -> None:
    pdf = tmp_path / "certificate.txt"  # the name says text: the content is a PDF
    pdf.write_bytes(PDF)
    code, out, _ = cli("document", "add", str(pdf), "--kind", "certificate_of_analysis")
    assert code == 0
    assert f"sha256: {sha256_of(PDF)}" in out and "media_type: application/pdf" in out
    assert f"size_bytes: {len(PDF)}" in out
    code, out, _ = cli("document", "add", str(pdf), "--kind", "certificate_of_analysis", "--json")
    assert code == 0
    assert json.loads(out)["reference"] == reference(PDF, "application/pdf")
    assert json.loads(out)["stored_now"] is False
    fake = tmp_path / "scan.pdf"
    fake.write_bytes(b"\x7fELF not a pdf")
    code, out, _ = cli("document", "add", str(fake), "--kind", "other", "--json")
    assert (code, json.loads(out)["rule"], json.loads(out)["field"]) == (2, "unsupported_media_type", "file")


def test_verify_fails_on_a_missing_document_and_notes_a_shredded_one(cli: Any, ledger: CustodyLedger) -> None:
    rec = team(ledger)
    pathway = enrolled_pathway(rec, "PSN-CLI-1", START - timedelta(days=10))
    ledger.identities.put("PSN-CLI-1", IDENTITY, ledger.clock.now())
    add(ledger, PDF, DocumentKind.CONSENT_FORM, by="physician", patient="PSN-CLI-1")
    rec(
        "physician", "ConsentSigned", pathway, START - timedelta(days=5), "witnessed", form_version="v3.1",
        signed_on=(START - timedelta(days=5)).date().isoformat(), document_ref="CF-1",
        document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    assert cli("verify", "--json")[0] == 0
    ledger.identities.erase("PSN-CLI-1", ledger.clock.now())
    code, out, _ = cli("verify", "--json")
    verdict = json.loads(out)
    assert (code, verdict["intact"], verdict["failures"]) == (0, True, [])
    assert [(note["aggregate_id"], note["reason"]) for note in verdict["shredded_documents"]] == [
        (str(pathway), "shredded_document")
    ]
    code, out, _ = cli("verify")
    assert code == 0 and "shredded_document" in out and "not a failure" in out


def test_export_with_documents_then_verify_bundle(cli: Any, ledger: CustodyLedger, tmp_path: Path) -> None:
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    rec(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
        tests=qc_tests(), document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    target = tmp_path / "bundle.json"
    code, out, _ = cli("export", str(journey.product), "-o", str(target), "--with-documents")
    assert code == 0 and "1 referenced document(s), 1 included" in out
    code, _, _ = cli("verify-bundle", str(target), "--trust", str(ledger.settings.home / "ledger.pub"))
    assert code == 0
    bundle = json.loads(target.read_text())
    bundle["documents"][0]["content_base64"] = bundle["documents"][0]["content_base64"][:-4] + "AAAA"
    target.write_text(json.dumps(bundle))
    code, out, _ = cli("verify-bundle", str(target), "--trust", str(ledger.settings.home / "ledger.pub"))
    assert code == 1 and "does not hash to the signed reference" in out
