"""`custody verify` on a host without identity.kek: a referenced consent form is a note, never a crash or a failure.

The expected sealed size is written out by hand: 5-byte magic, 12-byte nonce, the plaintext, 16-byte tag.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.cli import main
from domain.document_ref import DocumentKind
from ledger.document_check import check_documents, document_notes
from ledger.documents import DocumentState, DocumentUnavailable
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.conftest import FAST_KDF
from tests.integration.document_fixtures import PDF, add, enrolled_pathway, manufactured, qc_tests, reference
from tests.integration.journeys import IDENTITY, dba, failures, team, verify

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CONSENT = PDF + b"% consent form v3.1\n"
PSEUDONYM = "PSN-NOKEK-0001"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def ledger_with_consent_and_certificate(ledger: CustodyLedger) -> tuple[Any, Any]:
    """A CoA on QC and a sealed consent form on ConsentSigned; then identity.kek leaves the host. (QC, consent)."""
    rec = team(ledger)
    journey, qc_at = manufactured(rec, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS)
    [qc] = rec(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed",
        tests=qc_tests(), document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    pathway = enrolled_pathway(rec, PSEUDONYM, START - timedelta(days=10))
    ledger.identities.put(PSEUDONYM, IDENTITY, ledger.clock.now())
    add(ledger, CONSENT, DocumentKind.CONSENT_FORM, by="physician", patient=PSEUDONYM)
    [consent] = rec(
        "physician", "ConsentSigned", pathway, START - timedelta(days=5), "witnessed",
        form_version="v3.1", signed_on=(START - timedelta(days=5)).date().isoformat(), document_ref="CF-1",
        document=reference(CONSENT, "application/pdf"),
    )  # fmt: skip
    assert verify(ledger).failures == [] and document_notes(ledger.store) == []
    os.replace(ledger.settings.home / "identity.kek", ledger.settings.home / "identity.kek.elsewhere")
    return qc, consent


def position_of(ledger: CustodyLedger, event: Any) -> int:
    with dba(ledger.settings) as session:
        [found] = [
            row.position
            for row in session.rows()
            if (row.aggregate_id, row.version) == (event.aggregate_id, event.version)
        ]
    return found


def replace_stored(ledger: CustodyLedger, sha256: str, content: bytes) -> None:
    """An insider with file-system or database rights replaces a document's stored bytes."""
    if ledger.settings.backend == "sqlite":
        ledger.documents.path_of(sha256).write_bytes(content)
        return
    with dba(ledger.settings) as session:
        session._run("ALTER TABLE documents DISABLE TRIGGER USER")
        session._run("UPDATE documents SET content = %s WHERE sha256 = %s", (content, sha256))


def test_a_consent_form_is_noted_as_not_checkable_here_and_the_rest_still_verified(ledger: CustodyLedger) -> None:
    _, consent = ledger_with_consent_and_certificate(ledger)
    assert verify(ledger).failures == []
    [note] = document_notes(ledger.store)
    assert (note.aggregate_id, note.version, note.state, note.is_failure) == (
        str(consent.aggregate_id),
        consent.version,
        DocumentState.NOT_CHECKABLE,
        False,
    )
    assert note.position == position_of(ledger, consent)
    assert "identity.kek" in note.detail and "not on this host" in note.detail
    [finding] = check_documents(ledger.store)  # the full pass agrees, after the keyless check of the sealed form
    assert finding.state is DocumentState.NOT_CHECKABLE
    with pytest.raises(DocumentUnavailable) as caught:
        ledger.documents.content(sha(CONSENT))
    assert caught.value.state is DocumentState.NOT_CHECKABLE


def test_without_the_key_an_altered_certificate_still_fails_next_to_the_note(ledger: CustodyLedger) -> None:
    qc, _ = ledger_with_consent_and_certificate(ledger)
    replace_stored(ledger, sha(PDF), PDF + b"%")
    assert failures(verify(ledger)) == {("altered_document", str(qc.aggregate_id), qc.version, position_of(ledger, qc))}
    assert [note.state for note in document_notes(ledger.store)] == [DocumentState.NOT_CHECKABLE]


@pytest.mark.parametrize(
    "change",
    [
        lambda sealed: sealed[:-1],  # one byte short of the size the signed reference implies
        lambda sealed: sealed + b"\x00",
        lambda sealed: PDF + b"%" * (len(sealed) - len(PDF)),  # the right size, not sealed: the plaintext swapped in
    ],
)
def test_without_the_key_a_consent_form_not_of_its_sealed_form_and_size_fails(
    ledger: CustodyLedger, change: Any
) -> None:
    _, consent = ledger_with_consent_and_certificate(ledger)
    stored = ledger.documents.stored_bytes(sha(CONSENT))
    assert stored is not None and len(stored) == 5 + 12 + len(CONSENT) + 16
    replace_stored(ledger, sha(CONSENT), change(stored))
    assert failures(verify(ledger)) == {
        ("altered_document", str(consent.aggregate_id), consent.version, position_of(ledger, consent))
    }


def test_custody_verify_prints_the_note_and_exits_0(
    ledger: CustodyLedger, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, consent = ledger_with_consent_and_certificate(ledger)
    for name in list(os.environ):
        if name.startswith("CUSTODY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CUSTODY_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("CUSTODY_DATABASE_URL", settings.database_url)
    for key, value in FAST_KDF.items():
        monkeypatch.setenv("CUSTODY_" + key.upper(), str(value))
    assert main(["verify", "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["intact"] is True and verdict["shredded_documents"] == []
    assert [(note["aggregate_id"], note["version"], note["reason"]) for note in verdict["notes"]] == [
        (str(consent.aggregate_id), consent.version, "document_not_checkable_here")
    ]
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert "document_not_checkable_here" in out and "not a failure" in out and ": intact" in out
