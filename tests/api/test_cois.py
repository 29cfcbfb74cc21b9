"""`POST /cois` on both backends: a fresh COI of this facility and year, never one a product already carries.

Who may ask is who may enrol (the hand-written table in tests/role_table.py). Nothing is
stored by asking: the COI is reserved by the enrolment that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api import demo_journeys as j
from api.rest.cois import fresh_coi
from api.rest.problems import ApiProblem
from domain.identifiers import Coi, product_id_for
from ledger.service import CustodyLedger
from tests.api.conftest import ROLES, START, MovableClock
from tests.integration.journeys import PATIENT, Recorder, ready
from tests.role_table import allowed


def _draws(*sequences: str) -> Any:
    characters: Iterator[str] = iter("".join(sequences))
    return lambda alphabet: next(characters)


def test_a_coi_is_this_facilitys_for_this_year_unused_and_enrolable(
    sign_in: Any, team: Recorder, ledger: CustodyLedger, clock: MovableClock
) -> None:
    physician = sign_in("physician")
    before = ledger.store.size()
    answer = physician.post("/cois", None)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    year = clock.now().astimezone(ZoneInfo("Europe/Paris")).strftime("%y")
    assert body["coi"].startswith(f"CHF9999{year}") and len(body["coi"]) == 15
    assert body["facility"] == "F9999"
    assert body["eye_readable"].startswith(body["coi"] + " ")
    assert ledger.store.size() == before  # asking stores nothing
    other = physician.post("/cois", None).json()["coi"]
    assert other != body["coi"]

    ready(team, START)
    product = j.enrol_car_t(team, Coi(body["coi"]), PATIENT, "systemic_lupus_erythematosus", START)
    assert str(product) == body["product_id"]
    assert physician.get(f"/products/{body['coi']}").status_code == 200


def test_a_drawn_coi_a_product_already_carries_is_skipped(team: Recorder, ledger: CustodyLedger) -> None:
    ready(team, START)
    taken = fresh_coi(ledger, _draws("AB12CD"))
    j.enrol_car_t(team, taken, PATIENT, "systemic_lupus_erythematosus", START)
    assert fresh_coi(ledger, _draws("AB12CD", "ZZZZZ9")).value == taken.value[:-6] + "ZZZZZ9"
    assert ledger.load(product_id_for(taken)) is not None


def test_when_every_draw_is_taken_the_allocation_fails_by_name(team: Recorder, ledger: CustodyLedger) -> None:
    ready(team, START)
    taken = fresh_coi(ledger, _draws("QQQQQQ"))
    j.enrol_car_t(team, taken, PATIENT, "systemic_lupus_erythematosus", START)
    with pytest.raises(ApiProblem) as failed:
        fresh_coi(ledger, _draws(*["QQQQQQ"] * 8))
    assert (failed.value.status, failed.value.rule) == (503, "coi_allocation_failed")


@pytest.mark.parametrize("role", ROLES)
def test_only_those_who_enrol_may_ask_for_a_coi(sign_in: Any, role: str) -> None:
    answer = sign_in(role).post("/cois", None)
    if role in allowed("ProductEnrolled"):
        assert answer.status_code == 201, answer.text
    else:
        assert answer.status_code == 403
        assert answer.json()["rule"] == "role_not_allowed"
