"""The deadline scan: an alert signed by the ledger when a running deadline reaches its amber, then its red
threshold, once per level, even with two scanners racing. Runs on SQLite and PostgreSQL.

A product of ACADEMIC-CD19 (60 minutes from thaw completion to infusion; amber at 15 minutes left, red at 5) is
thawed on 27 March 2026 at 09:04 UTC, so its deadline is 10:04 UTC: every instant below is written out by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from freezegun import freeze_time

from api.cli_alerts import scanner
from api.deadline_scan import due_alerts, raise_alerts, scan
from domain.deadline_alert import alert_id
from domain.errors import OutOfOrder
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.api.conftest import START
from tests.conftest import cli_runner, point_cli_at
from tests.integration.journeys import Journey, failures, infused, team, thawed, verify

REGISTERED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
RECORDED = datetime(2026, 3, 27, 9, 10, tzinfo=UTC)
DEADLINE = datetime(2026, 3, 27, 10, 4, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[Any]:
    """Every signature and every scan at a time the test chose (autouse: before the ledger exists)."""
    with freeze_time(REGISTERED) as clock:
        yield clock


def thawed_product(ledger: CustodyLedger, frozen: Any) -> Journey:
    frozen.move_to(RECORDED)
    journey = thawed(team(ledger), START)
    assert journey.thawed_at == datetime(2026, 3, 27, 9, 4, tzinfo=UTC)
    return journey


def scan_at(ledger: CustodyLedger, frozen: Any, moment: datetime) -> list[Any]:
    frozen.move_to(moment)
    return scan(ledger)


def test_amber_then_red_each_once_signed_by_the_ledger(ledger: CustodyLedger, frozen: Any) -> None:
    journey = thawed_product(ledger, frozen)
    assert scan_at(ledger, frozen, datetime(2026, 3, 27, 9, 48, 59, tzinfo=UTC)) == []  # 15 min 1 s left: calm
    amber = scan_at(ledger, frozen, datetime(2026, 3, 27, 9, 49, tzinfo=UTC))  # 15 minutes left
    assert len(amber) == 1
    body = amber[0].body
    assert (body["type"], body["aggregate_kind"], body["version"]) == ("DeadlineAlertRaised", "alert", 1)
    assert body["aggregate_id"] == str(alert_id(journey.product, "thaw_to_infusion", DEADLINE))
    assert body["actor"]["user_id"] == "ledger" and body["actor"]["role"] == "system"
    assert body["payload"] == {
        "product_id": str(journey.product), "coi": journey.coi.value, "deadline": "thaw_to_infusion",
        "deadline_at": "2026-03-27T10:04:00+00:00", "level": "amber", "roles": ["nurse", "physician", "sponsor"],
    }  # fmt: skip
    assert scan_at(ledger, frozen, datetime(2026, 3, 27, 9, 55, tzinfo=UTC)) == [], "amber is raised once"
    red = scan_at(ledger, frozen, datetime(2026, 3, 27, 9, 59, tzinfo=UTC))  # 5 minutes left
    assert [(e.body["payload"]["level"], e.body["version"]) for e in red] == [("red", 2)]
    assert scan_at(ledger, frozen, datetime(2026, 3, 27, 10, 1, tzinfo=UTC)) == [], "red is raised once"
    assert scan_at(ledger, frozen, datetime(2026, 3, 27, 10, 30, tzinfo=UTC)) == [], "overdue raises nothing"
    history = ledger.history(alert_id(journey.product, "thaw_to_infusion", DEADLINE))
    assert [e.body["payload"]["level"] for e in history] == ["amber", "red"]
    assert failures(verify(ledger)) == set(), "the alerts verify as any signed event"


def test_two_scanners_racing_store_one_alert(ledger: CustodyLedger, settings: Settings, frozen: Any) -> None:
    journey = thawed_product(ledger, frozen)
    moment = datetime(2026, 3, 27, 9, 50, tzinfo=UTC)
    frozen.move_to(moment)
    other = CustodyLedger(settings)  # a second process on the same store
    try:
        seen_first, seen_second = due_alerts(ledger, moment), due_alerts(other, moment)
        assert len(seen_first) == len(seen_second) == 1, "both scanners see the amber alert due"
        assert len(raise_alerts(ledger, seen_first, moment)) == 1
        assert raise_alerts(other, seen_second, moment) == [], "the store refused the second"
        assert scan(other) == [], "and the next scan sees it raised"
    finally:
        other.close()
    history = ledger.history(alert_id(journey.product, "thaw_to_infusion", DEADLINE))
    assert [(e.version, e.body["payload"]["level"]) for e in history] == [(1, "amber")]


def test_an_alert_cannot_be_recorded_by_a_person(ledger: CustodyLedger, frozen: Any) -> None:
    journey = thawed_product(ledger, frozen)
    frozen.move_to(datetime(2026, 3, 27, 9, 50, tzinfo=UTC))
    size = ledger.store.size()
    target = alert_id(journey.product, "thaw_to_infusion", DEADLINE)
    payload = {
        "product_id": str(journey.product), "coi": journey.coi.value, "deadline": "thaw_to_infusion",
        "deadline_at": "2026-03-27T10:04:00+00:00", "level": "amber", "roles": ["nurse"],
    }  # fmt: skip
    with pytest.raises(OutOfOrder) as refused:
        ledger.record("DeadlineAlertRaised", target, payload, user="nurse", meaning="recorded",
                      password="nurse-password")  # fmt: skip
    assert (refused.value.field, refused.value.rule) == ("type", "derived_event")
    assert ledger.store.size() == size, "nothing stored"


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli(*argv)`` → (exit code, stdout, stderr) against the test's store."""
    point_cli_at(settings, monkeypatch)
    return cli_runner(capsys)


def test_alerts_run_once_raises_then_says_none(ledger: CustodyLedger, frozen: Any, cli: Any) -> None:
    journey = thawed_product(ledger, frozen)
    frozen.move_to(datetime(2026, 3, 27, 9, 50, tzinfo=UTC))
    code, out, err = cli("alerts", "run", "--once")
    assert code == 0, err
    assert f"amber alert: thaw_to_infusion of {journey.coi.value} ends at 2026-03-27T10:04:00+00:00" in out
    assert "told: nurse, physician, sponsor" in out and out.rstrip().endswith("1 alert(s) raised")
    size = ledger.store.size()
    code, out, err = cli("alerts", "run", "--once")
    assert (code, out.strip()) == (0, "0 alert(s) raised")
    assert ledger.store.size() == size


@pytest.mark.parametrize("every", ["0", "-5", "3601"])
def test_a_bad_interval_is_refused_naming_the_option(ledger: CustodyLedger, cli: Any, every: str) -> None:
    size = ledger.store.size()
    code, _, err = cli("alerts", "run", "--every", every)
    assert code != 0
    assert "--every must be more than 0 and at most 3600 seconds" in err and "[field: every; rule: out_of_range]" in err
    assert ledger.store.size() == size


def test_a_follow_up_visit_not_recorded_warns_once_on_its_last_on_time_day(ledger: CustodyLedger, frozen: Any) -> None:
    """Infused on 27 March 2026; the day-7 visit is recorded; the day-14 visit (due 10 April, on time until 13 April
    with the pathway's 3 grace days) is not. Paris is UTC+2 from 29 March: 13 April runs from 12 April 22:00 UTC."""
    frozen.move_to(datetime(2026, 4, 4, 9, 0, tzinfo=UTC))
    journey = infused(team(ledger), START)
    assert scan_at(ledger, frozen, datetime(2026, 4, 6, 10, 0, tzinfo=UTC)) == [], "day 7 is recorded: no alert"
    assert scan_at(ledger, frozen, datetime(2026, 4, 12, 21, 59, tzinfo=UTC)) == [], "12 April in Paris"
    raised = scan_at(ledger, frozen, datetime(2026, 4, 12, 22, 0, tzinfo=UTC))
    assert [e.body["payload"] for e in raised] == [
        {
            "product_id": str(journey.product), "coi": journey.coi.value, "deadline": "follow_up_visit",
            "deadline_at": "2026-04-13T22:00:00+00:00", "level": "amber", "roles": ["nurse", "physician"],
            "visit": "day 14",
        }
    ]  # fmt: skip
    assert raised[0].body["actor"]["user_id"] == "ledger"
    assert scan_at(ledger, frozen, datetime(2026, 4, 13, 21, 59, tzinfo=UTC)) == [], "once"
    assert scan_at(ledger, frozen, datetime(2026, 4, 13, 22, 0, tzinfo=UTC)) == [], "a missed visit is not warned of"


def test_the_server_s_background_scan_raises_the_alert_and_stops(
    ledger: CustodyLedger, settings: Settings, frozen: Any
) -> None:
    journey = thawed_product(ledger, frozen)
    frozen.move_to(datetime(2026, 3, 27, 9, 50, tzinfo=UTC))
    assert scanner(settings.model_copy(update={"alert_scan_seconds": 0}), threading.Event()) is None, "0: off"
    stop = threading.Event()
    thread = scanner(settings.model_copy(update={"alert_scan_seconds": 0.2}), stop)
    assert thread is not None
    target = alert_id(journey.product, "thaw_to_infusion", DEADLINE)
    try:
        for _ in range(100):
            if ledger.history(target):
                break
            time.sleep(0.1)
        time.sleep(0.6)  # a few more scans: still one alert
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "the scan stops with the server"
    assert [e.body["payload"]["level"] for e in ledger.history(target)] == ["amber"]
