"""The live worklist's server side: the event stream on the web session's cookie, and an alert's banner shown only
to the people the alert was told to.

A product of ACADEMIC-CD19 thawed on 27 March 2026 at 09:04 UTC must be infused by 10:04 UTC, 11:04 in Paris
(UTC+1 until 29 March); the scan runs at 09:50 UTC (14 minutes left: amber, "bientôt"). Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time

from api.deadline_scan import scan
from ledger.envelope import Envelope
from ledger.setup import register_staff
from tests.api.conftest import START
from tests.integration.journeys import Journey, Recorder, infused, password_of, thawed


@pytest.fixture
def alerted(team: Recorder) -> tuple[Journey, Envelope, int]:
    """The thawed product, its amber alert, and the log position before the alert."""
    register_staff(team.ledger, "sponsor2", "Sue Other", "sponsor", password_of("sponsor2"), registrar="ledger")
    with freeze_time(datetime(2026, 3, 27, 9, 10, tzinfo=UTC)):
        journey = thawed(team, START)
    before = team.ledger.store.size()
    with freeze_time(datetime(2026, 3, 27, 9, 50, tzinfo=UTC)):
        raised = scan(team.ledger)
    assert len(raised) == 1
    return journey, raised[0], before


def test_the_banner_shows_the_alert_in_french_to_the_bedside_team(
    alerted: tuple[Journey, Envelope, int], browser_of: Any
) -> None:
    journey, alert, _ = alerted
    nurse = browser_of("nurse")
    nurse.cookies.set("lang", "fr")
    answer = nurse.get(f"/ui/alerts/{alert.aggregate_id}")
    assert answer.status_code == 200, answer.text
    shown = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", answer.text).split()))
    assert (
        shown == f"⚠ Alerte d'échéance : délai décongélation-perfusion — {journey.coi.value} — expire le 27 mars à "
        "11:04 ( bientôt ) Masquer"
    )
    assert f'<a href="/ui/products/{journey.product}">{journey.coi.value}</a>' in answer.text
    assert 'data-alert-level="amber"' in answer.text


@pytest.mark.parametrize("username", ["courier", "sponsor2", "pharmacist"])
def test_the_banner_is_not_shown_to_someone_the_alert_was_not_told_to(
    alerted: tuple[Journey, Envelope, int], browser_of: Any, username: str
) -> None:
    journey, alert, _ = alerted
    answer = browser_of(username).get(f"/ui/alerts/{alert.aggregate_id}")
    assert answer.status_code == 404
    assert journey.coi.value not in answer.text and str(journey.product) not in answer.text, "nothing revealed"
    assert "live-alert" not in answer.text


def test_the_trial_sponsor_sees_the_banner_and_a_product_id_is_no_alert(
    alerted: tuple[Journey, Envelope, int], browser_of: Any
) -> None:
    journey, alert, _ = alerted
    sponsor = browser_of("sponsor")
    assert sponsor.get(f"/ui/alerts/{alert.aggregate_id}").status_code == 200
    assert sponsor.get(f"/ui/alerts/{journey.product}").status_code == 404


def test_the_web_stream_follows_the_session_cookie_with_unnamed_messages(
    alerted: tuple[Journey, Envelope, int], browser_of: Any, client: TestClient
) -> None:
    _, alert, before = alerted
    nurse = browser_of("nurse")
    lines = []
    with nurse.stream("GET", "/ui/events/stream", params={"idle": 2}, headers={"Last-Event-ID": str(before)}) as got:
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/event-stream")
        lines = list(got.iter_lines())
    assert not any(line.startswith("event:") for line in lines), "every type reaches the page's onmessage"
    data = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")]
    assert [(d["type"], d["aggregate_id"]) for d in data] == [("DeadlineAlertRaised", str(alert.aggregate_id))]
    assert f"id: {before + 1}" in lines
    client.cookies.clear()
    signed_out = client.get("/ui/events/stream", follow_redirects=False)
    assert signed_out.status_code in (303, 401), "no stream without a session"


def test_a_follow_up_visit_banner_names_the_visit(team: Recorder, browser_of: Any) -> None:
    """Infused on 27 March 2026, the day-14 visit not recorded: its last on-time day is 13 April (Paris)."""
    with freeze_time(datetime(2026, 4, 4, 9, 0, tzinfo=UTC)):
        journey = infused(team, START)
    with freeze_time(datetime(2026, 4, 13, 8, 0, tzinfo=UTC)):
        raised = scan(team.ledger)
    assert [e.body["payload"]["visit"] for e in raised] == ["day 14"]
    nurse = browser_of("nurse")
    nurse.cookies.set("lang", "fr")
    answer = nurse.get(f"/ui/alerts/{raised[0].aggregate_id}")
    shown = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", answer.text).split()))
    assert shown == (
        f"⚠ Alerte d'échéance : visite de suivi — {journey.coi.value} — day 14 : dernier jour dans les délais "
        "aujourd'hui ( bientôt ) Masquer"
    )
    assert browser_of("courier").get(f"/ui/alerts/{raised[0].aggregate_id}").status_code == 404
