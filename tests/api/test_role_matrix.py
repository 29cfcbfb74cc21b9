"""The full role matrix: every role against every read and every recordable event type.

A forbidden action is 403 before anything else is looked at: the writes below go to
aggregates that do not exist, with empty payloads and no password, so any answer
but 403 proves the role check passed and something later refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.rest.event_schemas import requestable
from api.rest.writes import COLLECTIONS
from tests.api.conftest import ROLES

MISSING = "00000000-0000-0000-0000-00000000dead"
R = set[str]
ALL: R = set(ROLES)
READS: dict[str, R] = {
    "/products": ALL,
    f"/products/{MISSING}": ALL,
    f"/products/{MISSING}/timeline": ALL,
    f"/products/{MISSING}/export": ALL,
    "/patients/PSN-NOBODY/timeline": {"nurse", "physician", "pharmacist", "auditor"},
    "/inventory": {"nurse", "physician", "pharmacist", "qp", "auditor"},
    "/audit": {"pharmacist", "qp", "auditor", "admin"},
    "/metrics": {"physician", "pharmacist", "qp", "auditor"},
    "/verify": {"pharmacist", "qp", "auditor", "admin"},
    "/checkpoints/latest": ALL,
}
NEVER_WRITE = {"sponsor", "auditor"}
CLINICAL_STEPS = {
    "nurse": {"BedsideCheckPerformed", "Thawed", "Infused", "ApheresisCollected"},
    "physician": {"ExceptionalReleaseRequested", "FollowUpRecorded", "TreatmentDecisionProposed"},
    "pharmacist": {"StoredInLN2", "Dispensed", "ShipmentReceived"},
    "qp": {"ProductReleased", "QcResultsRecorded", "BatchReleased"},
    "courier": {"ShipmentHandedOver"},
    "admin": {"SiteRegistered", "TrialRegistered"},
}


def _writes() -> list[tuple[str, str, str]]:
    return [
        (f"/{collection.path}/{MISSING}/events", collection.kind, spec.name)
        for collection in COLLECTIONS
        for spec in requestable(collection.kind)
    ]


def _allowed_writers(event_type: str) -> R:
    for collection in COLLECTIONS:
        for spec in requestable(collection.kind):
            if spec.name == event_type:
                return {str(role) for role in spec.roles} & ALL
    raise AssertionError(event_type)


@pytest.mark.parametrize("role", ROLES)
def test_reads(sign_in: Any, role: str) -> None:
    session = sign_in(role)
    for path, allowed in READS.items():
        answer = session.get(path)
        if role in allowed:
            assert answer.status_code != 403, (role, path, answer.text)
        else:
            assert answer.status_code == 403, (role, path, answer.text)
            assert answer.json()["rule"] == "role_not_allowed"


@pytest.mark.parametrize("role", ROLES)
def test_writes(sign_in: Any, role: str) -> None:
    session = sign_in(role)
    seen_allowed = set()
    for path, _kind, event_type in _writes():
        answer = session.post(path, {"type": event_type, "payload": {}, "meaning": "recorded"})
        if role in _allowed_writers(event_type):
            seen_allowed.add(event_type)
            assert answer.status_code != 403, (role, event_type, answer.text)
        else:
            assert answer.status_code == 403, (role, event_type, answer.text)
    enrol = session.post("/products", {"type": "ProductEnrolled", "payload": {}, "meaning": "approved"})
    assert (enrol.status_code == 403) == (role not in {"nurse", "physician", "pharmacist"})
    if role in NEVER_WRITE:
        assert not seen_allowed
    else:
        assert CLINICAL_STEPS[role] <= seen_allowed
    if role == "admin":
        assert not seen_allowed & {"Infused", "ProductReleased", "Dispensed", "Thawed", "ProductEnrolled"}


@pytest.mark.parametrize("role", sorted(NEVER_WRITE))
def test_read_only_roles_get_403_even_for_a_malformed_body(client: Any, sign_in: Any, role: str) -> None:
    session = sign_in(role)
    answer = client.post(
        f"/products/{MISSING}/events",
        content=b"{not json",
        headers={**session.headers, "content-type": "application/json"},
    )
    assert answer.status_code == 403


def test_a_forbidden_type_is_403_before_its_payload_is_checked(sign_in: Any) -> None:
    answer = sign_in("nurse").post(f"/products/{MISSING}/events", {"type": "ProductReleased", "payload": "junk"})
    assert answer.status_code == 403
    assert "ProductReleased" in answer.json()["detail"]
