"""Helpers for the projection tests: random accepted journeys, and every projection table read back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.staff import staff_id_for
from ledger.service import CustodyLedger
from ledger.store import EventStore
from projections.runner import PROJECTIONS
from tests.integration.journeys import (
    PATIENT,
    TEAM,
    Recorder,
    enrolled,
    infused,
    password_of,
    register_team,
    released_and_stored,
    thawed,
)

MOVES = ("enrolled", "stored", "thawed", "infused", "deviation", "quarantine")


def recorder(ledger: CustodyLedger) -> Recorder:
    """The test team, registered once per ledger (hypothesis reuses the ledger between examples)."""
    if ledger.load(staff_id_for("nurse")) is None:
        register_team(ledger)
    return Recorder(ledger, {username: password_of(username) for username in TEAM})


def play(rec: Recorder, move: str, index: int) -> None:
    """One accepted journey (or a journey and an exception on it), for its own patient."""
    start = rec.ledger.clock.now() - timedelta(days=60)
    patient = f"{PATIENT}-{index % 3}"
    if move == "enrolled":
        enrolled(rec, start, patient)
    elif move == "stored":
        released_and_stored(rec, start, patient)
    elif move == "thawed":
        thawed(rec, start, patient)
    elif move == "infused":
        infused(rec, start, patient)
    else:
        journey = released_and_stored(rec, start, patient)
        at = start + timedelta(days=30)
        if move == "deviation":
            payload = {"description": "label reprinted", "severity": "minor"}
            rec("pharmacist", "DeviationRecorded", journey.product, at, "recorded", **payload)
        else:
            rec("pharmacist", "ProductQuarantined", journey.product, at, "recorded", reason="tank alarm")


def snapshot(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    """Every row of every projection table, in key order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with store.side_transaction() as cursor:
        for cls in PROJECTIONS:
            for table in cls.tables:
                cursor.execute(f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {', '.join(table.key)}")
                tables[table.name] = cursor.fetchall()
    return tables
