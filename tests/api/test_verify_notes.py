"""GET /verify lists the notes `custody verify` prints: sealed documents this server cannot open, never failures."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from domain.document_ref import DocumentKind
from ledger.service import CustodyLedger
from tests.api.conftest import START
from tests.integration.document_fixtures import PDF, add, enrolled_pathway, reference, sha256_of
from tests.integration.journeys import IDENTITY, Recorder


def test_verify_lists_a_consent_form_not_checkable_here_then_shredded(
    sign_in: Any, ledger: CustodyLedger, team: Recorder
) -> None:
    pseudonym = "PSN-API-NOTE-1"
    pathway = enrolled_pathway(team, pseudonym, START - timedelta(days=10))
    ledger.identities.put(pseudonym, IDENTITY, ledger.clock.now())
    add(ledger, PDF, DocumentKind.CONSENT_FORM, by="physician", patient=pseudonym)
    [event] = team(
        "physician", "ConsentSigned", pathway, START - timedelta(days=5), "witnessed", form_version="v3.1",
        signed_on=(START - timedelta(days=5)).date().isoformat(), document_ref="CF-1",
        document=reference(PDF, "application/pdf"),
    )  # fmt: skip
    auditor = sign_in("auditor")
    report = auditor.get("/verify").json()
    assert report["intact"] and report["notes"] == []
    home = ledger.settings.home
    os.replace(home / "identity.kek", home / "identity.kek.elsewhere")
    report = auditor.get("/verify").json()
    assert report["intact"] and report["failures"] == []
    assert [(note["aggregate_id"], note["version"], note["reason"]) for note in report["notes"]] == [
        (str(pathway), event.version, "document_not_checkable_here")
    ]
    assert sha256_of(PDF) in report["notes"][0]["detail"]
    unreadable = sign_in("physician").get(f"/documents/{sha256_of(PDF)}")
    assert unreadable.status_code == 503, unreadable.text  # an operator's fix, not a server fault
    assert unreadable.json()["rule"] == "document_not_checkable_here"
    os.replace(home / "identity.kek.elsewhere", home / "identity.kek")
    assert sign_in("physician").get(f"/documents/{sha256_of(PDF)}").content == PDF
    ledger.identities.erase(pseudonym, ledger.clock.now())
    report = auditor.get("/verify").json()
    assert report["intact"]
    assert [(note["aggregate_id"], note["reason"]) for note in report["notes"]] == [(str(pathway), "shredded_document")]
