"""The full role matrix: every role against every read and every recordable event type.

A forbidden action is 403 before anything else is looked at: the writes below go to
aggregates that do not exist, with empty payloads and no password, so any answer
but 403 proves the role check passed and something later refused. Who is expected to
pass comes from the hand-written table in ``tests/role_table.py``, never from the
production one it checks.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.rest.writes import COLLECTIONS
from domain.registry import EVENT_TYPES
from tests.api.conftest import ROLES
from tests.role_table import (
    AUDIT_READERS,
    DERIVED,
    INVENTORY_READERS,
    LOG_EVENTS,
    LOG_READERS,
    METRICS_READERS,
    PATHWAY_READERS,
    PATIENT_TIMELINE_READERS,
    PRINTED_NAME_EVENTS,
    REGISTRY_EXPORTERS,
    ROLES_BY_EVENT_TYPE,
    STAFF_EVENTS,
    VERIFIERS,
    allowed,
)

MISSING = "00000000-0000-0000-0000-00000000dead"
R = frozenset[str]
ALL: R = frozenset(ROLES)
READS: dict[str, R] = {
    "/products": ALL,
    f"/products/{MISSING}": ALL,
    f"/products/{MISSING}/timeline": ALL,
    f"/products/{MISSING}/export": ALL,
    f"/products/{MISSING}/fhir": ALL,
    "/patients/PSN-NOBODY/timeline": PATIENT_TIMELINE_READERS,
    "/inventory": INVENTORY_READERS,
    "/audit": AUDIT_READERS,
    "/metrics": METRICS_READERS,
    "/verify": VERIFIERS,
    "/checkpoints/latest": ALL,
    "/log/consistency?from=1": LOG_READERS,
    "/registry-exports/ebmt": REGISTRY_EXPORTERS,
    "/schedule": PATHWAY_READERS,
    f"/products/{MISSING}/registry/descar-t": REGISTRY_EXPORTERS,
}
NEVER_WRITE = {"sponsor", "auditor"}
CLI_ONLY = {"CatalogueChanged"}  # the signed catalogue changes through `custody catalogue apply` only
NOT_WRITTEN_HERE = DERIVED | STAFF_EVENTS | PRINTED_NAME_EVENTS | LOG_EVENTS | CLI_ONLY | {"ProductEnrolled"}
REQUESTED = sorted(set(ROLES_BY_EVENT_TYPE) - NOT_WRITTEN_HERE)
"""Every event type a person records on an existing aggregate, from the hand table (enrolment has its own route)."""
PATHS = {collection.kind: collection.path for collection in COLLECTIONS}


def _writes() -> list[tuple[str, str]]:
    """(route, event type) for every requested event type, on an aggregate that does not exist."""
    return [(f"/{PATHS[EVENT_TYPES[name].kind]}/{MISSING}/events", name) for name in REQUESTED]


@pytest.mark.parametrize("role", ROLES)
def test_reads(sign_in: Any, role: str) -> None:
    session = sign_in(role)
    for path, readers in READS.items():
        answer = session.get(path)
        if role in readers:
            assert answer.status_code != 403, (role, path, answer.text)
        else:
            assert answer.status_code == 403, (role, path, answer.text)
            assert answer.json()["rule"] == "role_not_allowed"


@pytest.mark.parametrize("role", ROLES)
def test_writes(sign_in: Any, role: str) -> None:
    session = sign_in(role)
    for path, event_type in _writes():
        answer = session.post(path, {"type": event_type, "payload": {}, "meaning": "recorded"})
        if role in allowed(event_type):
            assert answer.status_code != 403, (role, event_type, answer.text)
        else:
            assert answer.status_code == 403, (role, event_type, answer.text)
            assert answer.json()["rule"] == "role_not_allowed"
    enrol = session.post("/products", {"type": "ProductEnrolled", "payload": {}, "meaning": "approved"})
    assert (enrol.status_code == 403) == (role not in allowed("ProductEnrolled")), enrol.text


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
