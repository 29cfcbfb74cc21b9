"""A deadline alert reaches, through `GET /events/stream`, the roles it names, and nobody else: the bedside team
and the sponsor of the product's trial, never a courier for a thaw, never another trial's sponsor.

A product of ACADEMIC-CD19 thawed on 27 March 2026 at 09:04 UTC must be infused by 10:04 UTC; the scan runs at
09:50 UTC (14 minutes left: amber). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from freezegun import freeze_time

from api.deadline_scan import scan
from ledger.setup import register_staff
from tests.api.conftest import START, Session
from tests.api.test_event_stream import _read
from tests.integration.journeys import Recorder, password_of, thawed


def test_the_alert_is_streamed_to_the_roles_it_names_only(client: TestClient, team: Recorder) -> None:
    register_staff(team.ledger, "sponsor2", "Sue Other", "sponsor", password_of("sponsor2"), registrar="ledger")
    with freeze_time(datetime(2026, 3, 27, 9, 10, tzinfo=UTC)):
        journey = thawed(team, START)
    before = team.ledger.store.size()
    with freeze_time(datetime(2026, 3, 27, 9, 50, tzinfo=UTC)):
        raised = scan(team.ledger)
    assert [e.body["payload"]["level"] for e in raised] == ["amber"]
    alert = raised[0]

    def told(username: str) -> list[tuple[str, str]]:
        messages = _read(client, Session(client, username), {"after": before, "idle": 2})
        return [(event, data["aggregate_id"]) for _, event, data in messages]

    expected = [("DeadlineAlertRaised", str(alert.aggregate_id))]
    assert told("nurse") == expected
    assert told("physician") == expected
    assert told("sponsor") == expected, "the sponsor of the product's trial is told"
    assert told("courier") == [], "a courier has no part in a thawed product's infusion"
    assert told("sponsor2") == [], "another trial's sponsor is not told"
    assert told("pharmacist") == []
    nurse = _read(client, Session(client, "nurse"), {"after": before, "idle": 2})
    assert "payload" not in nurse[0][2] and journey.coi.value not in str(nurse[0][2]), "a notice carries no payload"
