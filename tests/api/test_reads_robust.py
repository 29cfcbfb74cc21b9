"""After hostile stored events, every read of the HTTP API and of the web pages still answers, for every role.

The events are signed with real keys and appended below the domain's checks
(``tests.integration.hostile``): a NUL in a deviation, a lone surrogate in an
annotation, a deviation without its description, and bytes that are not UTF-8.
Before the read side was made robust, the first one alone turned every read
into a 422 for everybody, for good.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from ledger.service import CustodyLedger
from tests.api.conftest import ROLES
from tests.integration.hostile import LONE_SURROGATE, NOT_UTF8, PLACEHOLDER, forge_bytes, signed, stored_product
from tests.integration.journeys import PATIENT, Recorder
from tests.web.conftest import browse_as

REPLACEMENT = "\ufffd"
AUDIT_READERS = ("pharmacist", "qp", "auditor", "admin")
PATIENT_READERS = ("nurse", "physician", "pharmacist", "auditor")


@pytest.fixture
def hostile(ledger: CustodyLedger, team: Recorder) -> UUID:
    """A stored product carrying three hostile events, and an undecodable row elsewhere in the log."""
    product = stored_product(team).product
    signed(
        ledger, product, "DeviationRecorded", {"severity": "minor", "description": "label\x00reprinted"}, "pharmacist"
    )
    forge_bytes(ledger, product, "AnnotationAdded", {"text": f"label {PLACEHOLDER} photographed"}, LONE_SURROGATE)
    signed(ledger, product, "DeviationRecorded", {"severity": "minor"}, "pharmacist")
    forge_bytes(ledger, uuid.uuid4(), "AnnotationAdded", {"text": PLACEHOLDER}, NOT_UTF8)
    return product


@pytest.mark.parametrize("role", ROLES)
def test_every_role_still_reads_the_product_list_after_hostile_events(hostile: UUID, sign_in: Any, role: str) -> None:
    answer = sign_in(role).get("/products")
    assert answer.status_code == 200, answer.text
    listed = {row["product_id"] for row in answer.json()}
    assert (str(hostile) in listed) is (role != "sponsor")


@pytest.mark.parametrize("role", [role for role in ROLES if role != "sponsor"])
def test_the_product_its_status_and_its_signed_history_still_answer(hostile: UUID, sign_in: Any, role: str) -> None:
    session = sign_in(role)
    status = session.get(f"/products/{hostile}")
    assert status.status_code == 200, status.text
    assert [d["description"] for d in status.json()["open_deviations"]] == [f"label{REPLACEMENT}reprinted"]
    history = session.get(f"/products/{hostile}/timeline")
    assert history.status_code == 200, history.text
    texts = [e["body"]["payload"].get("description") for e in history.json()["events"] if e["body"]["version"] > 1]
    assert "label\x00reprinted" in texts


def test_a_sponsor_is_answered_not_found_for_the_hostile_product_as_for_any_product_of_another_trial(
    hostile: UUID, sign_in: Any
) -> None:
    session = sign_in("sponsor")
    assert session.get(f"/products/{hostile}").status_code == 404
    assert session.get(f"/products/{hostile}/timeline").status_code == 404


@pytest.mark.parametrize("role", AUDIT_READERS)
def test_the_audit_trail_still_answers_and_shows_the_nul_as_a_replacement_character(
    hostile: UUID, sign_in: Any, role: str
) -> None:
    answer = sign_in(role).get("/audit")
    assert answer.status_code == 200, answer.text
    assert [row["detail"] for row in answer.json()["deviations"]] == [f"minor: label{REPLACEMENT}reprinted"]


@pytest.mark.parametrize("role", PATIENT_READERS)
def test_the_patient_timeline_inventory_and_metrics_still_answer(hostile: UUID, sign_in: Any, role: str) -> None:
    session = sign_in(role)
    timeline = session.get(f"/patients/{quote(PATIENT)}/timeline")
    assert timeline.status_code == 200, timeline.text
    annotations = [row["payload"]["text"] for row in timeline.json() if row["event_type"] == "AnnotationAdded"]
    assert annotations == [f"label {REPLACEMENT} photographed"]
    assert session.get("/inventory").status_code == 200
    if role != "nurse":
        assert session.get("/metrics").status_code == 200


@pytest.mark.parametrize("role", ["nurse", "pharmacist", "auditor", "sponsor"])
def test_the_web_pages_still_answer_after_hostile_events(hostile: UUID, client: TestClient, role: str) -> None:
    browser = browse_as(client, role)
    pages = ["/ui/"]
    if role != "sponsor":
        pages += [f"/ui/products/{hostile}", "/ui/inventory", f"/ui/patients/{quote(PATIENT)}"]
    if role in AUDIT_READERS:
        pages.append("/ui/audit")
    for page in pages:
        answer = browser.get(page)
        assert answer.status_code == 200, (page, answer.text[:500])


def test_the_product_as_of_a_moment_after_its_hostile_events_is_a_clear_refusal_not_a_server_error(
    hostile: UUID, sign_in: Any
) -> None:
    answer = sign_in("auditor").get(f"/products/{hostile}", params={"as_of": "2100-01-01T00:00:00Z"})
    assert answer.status_code == 409, answer.text
    assert (answer.json()["rule"], answer.json()["field"]) == ("history_not_replayable", "as_of")


def test_the_fhir_export_of_a_product_with_a_hostile_history_is_a_named_problem_never_a_500(
    hostile: UUID, sign_in: Any
) -> None:
    answer = sign_in("auditor").get(f"/products/{hostile}/fhir")
    assert answer.status_code == 409, answer.text  # the deviation without its description cannot be mapped
    assert (answer.json()["rule"], answer.json()["field"]) == ("history_not_replayable", "product_id")
