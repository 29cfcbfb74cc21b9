"""Two physicians order the last manufacturing slot of a day at the same moment: one wins, on both backends.

Each works through their own ``CustodyLedger`` on the same database; a barrier in front
of the store's append makes both decide on the same schedule before either writes, so
the race happens every time. The loser's order is not stored at all (its pathway is
unchanged), and trying again it is told the slot is full.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest

from api import demo_journeys as j
from domain.errors import RuleViolation
from domain.manufacturing_schedule import ManufacturingSchedule, schedule_id_for
from domain.pathway import PatientPathway, pathway_id_for
from ledger.envelope import Envelope
from ledger.service import CustodyLedger
from ledger.store import ConcurrentChange
from tests.integration.journeys import password_of, ready, team, verify

PATIENTS = ("PSN-RACE-0001", "PSN-RACE-0002")


def _gate(ledger: CustodyLedger, barrier: threading.Barrier) -> None:
    append: Callable[..., list[int]] = ledger.store.append

    def gated(envelopes: Sequence[Envelope], in_transaction: Sequence[Any] = ()) -> list[int]:
        barrier.wait()
        return append(envelopes, in_transaction)

    ledger.store.append = gated  # type: ignore[method-assign]


def test_two_orders_for_the_last_slot_one_wins_and_the_other_is_stored_nowhere(ledger: CustodyLedger) -> None:
    start = ledger.clock.now() - timedelta(days=2)
    rec = team(ledger, ("physician", "internist", "qp"))
    for patient in PATIENTS:
        ready(rec, start, patient)
    slot_day = (start + timedelta(days=9)).date().isoformat()
    rec("qp", "ManufacturingCapacityDeclared", schedule_id_for(j.MANUFACTURER), start, "approved",
        manufacturer=j.MANUFACTURER, slots=[{"starts_on": slot_day, "capacity": 1}])  # fmt: skip
    order = {"manufacturer": j.MANUFACTURER, "apheresis_on": (start + timedelta(days=2)).date().isoformat(),
             "slot_on": slot_day}  # fmt: skip

    racers = [CustodyLedger(ledger.settings) for _ in PATIENTS]
    barrier = threading.Barrier(len(racers), timeout=30)
    for racer in racers:
        _gate(racer, barrier)
    outcomes: dict[str, list[Envelope] | Exception] = {}

    def attempt(racer: CustodyLedger, patient: str) -> None:
        try:
            outcomes[patient] = racer.record("TreatmentOrdered", pathway_id_for(patient), order, user="physician",
                                             meaning="requested", password=password_of("physician"),
                                             occurred_at=start + timedelta(hours=1))  # fmt: skip
        except Exception as error:
            outcomes[patient] = error

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(racers, PATIENTS, strict=True)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive()
    finally:
        for racer in racers:
            racer.close()

    winners = [p for p, result in outcomes.items() if not isinstance(result, Exception)]
    losers = [p for p, result in outcomes.items() if isinstance(result, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(outcomes[losers[0]], ConcurrentChange)
    schedule = ledger.load(schedule_id_for(j.MANUFACTURER))
    assert isinstance(schedule, ManufacturingSchedule)
    assert set().union(*schedule.booked.values()) == {str(pathway_id_for(winners[0]))}
    loser = ledger.load(pathway_id_for(losers[0]))
    assert isinstance(loser, PatientPathway) and loser.order is None
    assert not any(e.type == "TreatmentOrdered" for e in ledger.history(pathway_id_for(losers[0])))

    with pytest.raises(RuleViolation) as again:
        rec("physician", "TreatmentOrdered", pathway_id_for(losers[0]), start + timedelta(hours=2), "requested",
            **order)  # fmt: skip
    assert again.value.rule == "slot_full"
    report = verify(ledger)
    assert report.intact, report.failures
