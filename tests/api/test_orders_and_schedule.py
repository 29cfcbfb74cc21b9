"""Orders, slots and the planning worklist over HTTP and the command line, on both backends.

The manufacturer (the demo's "EU GMP cell-therapy facility") declares one slot on 16 March
2026 and two on 23 March; two lupus patients, decided and consented before 2 March, are
ordered on 2 March. Expected rows are written from those days by hand.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from api import demo_journeys as j
from api.cli import main
from domain.manufacturing_schedule import schedule_id_for
from domain.pathway import pathway_id_for
from ledger.settings import Settings
from tests.api.conftest import START, password
from tests.conftest import FAST_KDF
from tests.integration.journeys import Recorder, ready

SECOND = "PSN-TEST-0002"
FIRST = "PSN-TEST-0001"


def _declared(team: Recorder) -> None:
    for patient in (FIRST, SECOND):
        ready(team, START, patient)
    team("qp", "ManufacturingCapacityDeclared", schedule_id_for(j.MANUFACTURER), START, "approved",
         manufacturer=j.MANUFACTURER, slots=[{"starts_on": "2026-03-16", "capacity": 1},
                                             {"starts_on": "2026-03-23", "capacity": 2}])  # fmt: skip


def _order(slot_on: str, apheresis_on: str = "2026-03-09", **more: Any) -> dict[str, Any]:
    return {
        "type": "TreatmentOrdered", "meaning": "requested", "occurred_at": j.iso(START + timedelta(hours=2)),
        "password": password("physician"),
        "payload": {"manufacturer": j.MANUFACTURER, "apheresis_on": apheresis_on, "slot_on": slot_on, **more},
    }  # fmt: skip


def test_orders_book_slots_over_http_and_the_worklist_lists_their_days(sign_in: Any, team: Recorder) -> None:
    _declared(team)
    physician = sign_in("physician")
    first = physician.post(f"/pathways/{FIRST}/events", _order("2026-03-16", infusion_on="2026-04-06"))
    assert first.status_code == 201, first.text
    full = physician.post(f"/pathways/{SECOND}/events", _order("2026-03-16"))
    assert full.status_code == 409
    assert (full.json()["rule"], full.json()["field"]) == ("slot_full", "payload.slot_on")
    second = physician.post(f"/pathways/{SECOND}/events", _order("2026-03-23", apheresis_on="2026-03-12"))
    assert second.status_code == 201, second.text

    answer = physician.get("/schedule", params={"since": "2026-03-10"})
    assert answer.status_code == 200, answer.text
    assert [(r["day"], r["kind"], r["patient_pseudonym"]) for r in answer.json()["planned"]] == [
        ("2026-03-12", "apheresis", SECOND),
        ("2026-03-16", "manufacturing_slot", FIRST),
        ("2026-03-23", "manufacturing_slot", SECOND),
        ("2026-04-06", "infusion", FIRST),
    ]
    assert {r["manufacturer"] for r in answer.json()["planned"]} == {j.MANUFACTURER}
    order = physician.get(f"/pathways/{SECOND}").json()["order"]
    assert {k: order[k] for k in ("manufacturer", "apheresis_on", "slot_on", "infusion_on")} == {
        "manufacturer": j.MANUFACTURER, "apheresis_on": "2026-03-12", "slot_on": "2026-03-23", "infusion_on": None,
    }  # fmt: skip

    cancel = {"type": "TreatmentOrderCancelled", "meaning": "requested", "payload": {"reason": "remission"},
              "occurred_at": j.iso(START + timedelta(hours=3)), "password": password("physician")}  # fmt: skip
    assert physician.post(f"/pathways/{FIRST}/events", cancel).status_code == 201
    after = physician.get("/schedule", params={"since": "2026-03-01"}).json()["planned"]
    assert physician.get(f"/pathways/{FIRST}").json()["order"] is None, "a cancelled order is no longer open"
    assert [(r["day"], r["kind"]) for r in after] == [("2026-03-12", "apheresis"), ("2026-03-23", "manufacturing_slot")]
    assert physician.post(f"/pathways/{SECOND}/events", _order("2026-03-16")).json()["rule"] == "order_already_open"


def test_the_qp_declares_capacity_over_http_under_the_manufacturers_code(sign_in: Any, team: Recorder) -> None:
    ready(team, START)
    slots = [{"starts_on": "2026-03-16", "capacity": 1}]
    body = {"type": "ManufacturingCapacityDeclared", "meaning": "approved", "password": password("qp"),
            "occurred_at": j.iso(START), "payload": {"manufacturer": j.MANUFACTURER, "slots": slots}}  # fmt: skip
    answer = sign_in("qp").post(f"/manufacturing-schedules/{quote(j.MANUFACTURER)}/events", body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["aggregate_id"] == str(schedule_id_for(j.MANUFACTURER))
    bad = sign_in("physician").get("/schedule", params={"since": "16/03/2026"})
    assert (bad.status_code, bad.json()["rule"], bad.json()["field"]) == (422, "invalid_date", "since")


def test_custody_schedule_prints_the_same_days(
    team: Recorder, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _declared(team)
    team("physician", "TreatmentOrdered", pathway_id_for(FIRST), START + timedelta(hours=1), "requested",
         manufacturer=j.MANUFACTURER, apheresis_on="2026-03-09", slot_on="2026-03-16")  # fmt: skip
    for name in list(os.environ):
        if name.startswith("CUSTODY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CUSTODY_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("CUSTODY_DATABASE_URL", settings.database_url)
    for key, value in FAST_KDF.items():
        monkeypatch.setenv("CUSTODY_" + key.upper(), str(value))
    assert main(["schedule", "--since", "2026-03-01"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"2026-03-09  apheresis           {FIRST}  {j.MANUFACTURER}",
        f"2026-03-16  manufacturing_slot  {FIRST}  {j.MANUFACTURER}",
    ]
    assert main(["schedule", "--since", "2026-03-17"]) == 0
    assert capsys.readouterr().out == "nothing planned from 2026-03-17\n"
