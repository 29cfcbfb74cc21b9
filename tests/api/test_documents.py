"""POST /documents and GET /documents/{sha256}: content-typed storage, size limits, and who may read what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.rest.app import create_app
from domain.document_ref import DocumentKind
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.api.conftest import START, Session
from tests.integration.document_fixtures import CSV, PDF, add, enrolled_pathway, manufactured, qc_tests, sha256_of
from tests.integration.journeys import IDENTITY, Recorder

LARGE_PDF = PDF + b"%" + b"0" * 10_000 + b"\n"


def upload(session: Session, content: bytes, kind: str, **form: str) -> Any:
    return session.client.post(
        "/documents",
        files={"file": ("upload.bin", content, "application/octet-stream")},
        data={"kind": kind, **form},
        headers=session.headers,
    )


def expected_answer(content: bytes, media_type: str, kind: str) -> dict[str, Any]:
    reference = {"sha256": sha256_of(content), "media_type": media_type, "size_bytes": len(content)}
    return {**reference, "kind": kind, "reference": reference}


def test_storing_answers_the_reference_and_the_same_bytes_again_answer_it_with_200(sign_in: Any) -> None:
    qp = sign_in("qp")
    first = upload(qp, PDF, "certificate_of_analysis")
    assert first.status_code == 201, first.text
    body = first.json()
    assert {key: body[key] for key in ("sha256", "media_type", "size_bytes", "kind", "reference")} == (
        expected_answer(PDF, "application/pdf", "certificate_of_analysis")
    )
    assert body["stored_now"] is True
    again = upload(qp, PDF, "certificate_of_analysis")
    assert (again.status_code, again.json()["stored_now"], again.json()["sha256"]) == (200, False, body["sha256"])


@pytest.mark.parametrize(
    ("user", "kind", "status"),
    [
        ("pharmacist", "logger_file", 201),
        ("qp", "shipping_manifest", 201),
        ("courier", "logger_file", 403),
        ("courier", "certificate_of_analysis", 403),
        ("qp", "certificate_of_analysis", 201),
        ("qp", "consent_form", 403),
        ("sponsor", "logger_file", 403),
        ("auditor", "other", 403),
        ("admin", "other", 403),
        ("nurse", "other", 201),
    ],
)
def test_who_may_store_which_kind(sign_in: Any, user: str, kind: str, status: int) -> None:
    answer = upload(sign_in(user), CSV if kind in ("logger_file", "shipping_manifest") else PDF, kind)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json()["rule"] == "role_not_allowed"


@pytest.mark.parametrize(
    ("content", "kind", "form", "status", "rule", "field"),
    [
        (b"MZ\x90\x00 an executable", "other", {}, 422, "unsupported_media_type", "file"),
        (PDF, "receipt", {}, 422, "invalid_choice", "kind"),
        (PDF, "consent_form", {}, 422, "required", "patient"),
        (PDF, "consent_form", {"patient": "PSN-NOBODY"}, 409, "patient_identity_not_registered", "patient"),
    ],
)
def test_what_cannot_be_stored_is_named(
    sign_in: Any, content: bytes, kind: str, form: dict[str, str], status: int, rule: str, field: str
) -> None:
    answer = upload(sign_in("physician"), content, kind, **form)
    assert (answer.status_code, answer.json()["rule"], answer.json()["field"]) == (status, rule, field)


@pytest.fixture
def small_limits(settings: Settings, team: Recorder) -> Iterator[TestClient]:
    """An application whose generic body limit is 4 KiB and whose documents may take 8 KiB."""
    limited = settings.model_copy(update={"max_body_bytes": 4096, "max_document_bytes": 8192})
    with TestClient(create_app(limited)) as client:
        yield client


def test_documents_pass_the_generic_body_limit_up_to_their_own(small_limits: TestClient) -> None:
    qp = Session(small_limits, "qp")
    fits = PDF + b"%" + b"0" * 6000 + b"\n"
    assert upload(qp, fits, "certificate_of_analysis").status_code == 201
    too_large = upload(qp, LARGE_PDF, "certificate_of_analysis")
    assert (too_large.status_code, too_large.json()["rule"]) == (413, "document_too_large")
    other_route = small_limits.post(
        "/products/x/events",
        content=b"{" + b" " * 5000 + b"}",
        headers={**qp.headers, "content-type": "application/json"},
    )
    assert (other_route.status_code, other_route.json()["rule"]) == (413, "body_too_large")


def test_an_unreferenced_document_is_read_by_its_uploader_and_reviewers_only(sign_in: Any) -> None:
    nurse = sign_in("nurse")
    assert upload(nurse, CSV, "other").status_code == 201
    path = f"/documents/{sha256_of(CSV)}"
    answers = {user: sign_in(user).get(path).status_code for user in ("nurse", "pharmacist", "qp", "auditor")}
    assert answers == {"nurse": 200, "pharmacist": 200, "qp": 200, "auditor": 200}
    for user in ("physician", "courier", "sponsor", "admin"):
        assert sign_in(user).get(path).status_code == 404, user
    got = nurse.get(path)
    assert (got.content, got.headers["content-type"], got.headers["x-content-type-options"]) == (
        CSV,
        "text/csv; charset=utf-8",
        "nosniff",
    )


def test_a_certificate_is_read_by_whoever_reads_the_product_that_references_it(
    sign_in: Any, ledger: CustodyLedger, team: Recorder
) -> None:
    journey, qc_at = manufactured(team, START)
    add(ledger, PDF, DocumentKind.CERTIFICATE_OF_ANALYSIS, by="qc")
    path = f"/documents/{sha256_of(PDF)}"
    assert sign_in("nurse").get(path).status_code == 404
    team(
        "qc", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=qc_tests(),
        document={"sha256": sha256_of(PDF), "media_type": "application/pdf", "size_bytes": len(PDF)},
    )  # fmt: skip
    for user in ("nurse", "physician", "courier", "auditor", "admin"):
        answer = sign_in(user).get(path)
        assert (answer.status_code, answer.content) == (200, PDF), user
    assert answer.headers["content-type"] == "application/pdf"


def test_a_consent_form_is_read_by_the_care_team_and_gone_once_the_patient_is_erased(
    sign_in: Any, ledger: CustodyLedger, team: Recorder
) -> None:
    pseudonym = "PSN-API-DOC-1"
    pathway = enrolled_pathway(team, pseudonym, START - timedelta(days=10))
    ledger.identities.put(pseudonym, IDENTITY, ledger.clock.now())
    physician = sign_in("physician")
    assert upload(physician, PDF, "consent_form", patient=pseudonym).status_code == 201
    team(
        "physician", "ConsentSigned", pathway, START - timedelta(days=5), "witnessed", form_version="v3.1",
        signed_on=(START - timedelta(days=5)).date().isoformat(), document_ref="CF-1",
        document={"sha256": sha256_of(PDF), "media_type": "application/pdf", "size_bytes": len(PDF)},
    )  # fmt: skip
    path = f"/documents/{sha256_of(PDF)}"
    readers = {user: sign_in(user).get(path).status_code for user in ("nurse", "physician", "pharmacist", "auditor")}
    assert readers == {"nurse": 200, "physician": 200, "pharmacist": 200, "auditor": 200}
    for user in ("qp", "courier", "sponsor", "admin"):
        assert sign_in(user).get(path).status_code == 404, user
    ledger.identities.erase(pseudonym, ledger.clock.now())
    gone = physician.get(path)
    assert (gone.status_code, gone.json()["rule"]) == (410, "document_shredded")


def test_a_malformed_hash_is_422_and_an_unknown_one_404(sign_in: Any) -> None:
    auditor = sign_in("auditor")
    assert auditor.get("/documents/not-a-hash").json()["rule"] == "invalid_sha256"
    assert auditor.get("/documents/" + "ab" * 32).status_code == 404
