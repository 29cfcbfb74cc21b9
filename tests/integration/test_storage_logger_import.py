"""An LN2 tank's logger file judged over a product's storage, end to end on both backends.

Kymriah (limit -120 °C) and Tecartus (limit -150 °C) sit in the same tank from one hour after
their receipt (``t0``). The tank's file reads -185 °C every 10 minutes; a warm hour reads
-130 °C. The expected figures below are counted by hand from those files.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import Recorder, free_position, team, verify
from tests.integration.logger_fixtures import LEDGER
from tests.integration.storage_fixtures import Tank


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


def product(ledger: CustodyLedger, product_id: object) -> TherapyProduct:
    found = ledger.load(product_id)  # type: ignore[arg-type]
    assert isinstance(found, TherapyProduct)
    return found


def test_a_warm_hour_is_an_excursion_for_the_colder_product_only(rec: Recorder) -> None:
    tank = Tank(rec)
    content = tank.csv(warm=(600, 660))  # -130 °C at 600…650 min: six readings, 60 minutes held
    done = tank.run(tank.tecartus, content)
    imported, summary, excursion = rec.ledger.history(tank.tecartus)[-3:]
    sha256 = hashlib.sha256(content).hexdigest()
    assert imported.body["type"] == "StorageLoggerFileImported" and imported.body["actor"]["user_id"] == "pharmacist"
    assert imported.body["payload"] == {
        "document": {"sha256": sha256, "media_type": "text/csv", "size_bytes": len(content)},
        "site": "CHU-F9999 PUI", "tank": "LN2-TANK-1",
    }  # fmt: skip
    assert summary.body["type"] == "StorageReadingsSummarised" and summary.body["actor"] == LEDGER
    figures = summary.body["payload"]
    assert figures == done.summary
    stored_at, last = tank.t0 + timedelta(hours=1), tank.t0 + timedelta(hours=48)
    assert (figures["min_c"], figures["max_c"], figures["acceptable"], figures["high_c"]) == (
        -185,
        -130,
        "≤ -150 °C",
        -150,
    )
    assert (figures["minutes_outside"], figures["excursion"], figures["readings"]) == (60, True, 283)
    assert figures["longest_gap_min"] == 10 and figures["gap_allowed_min"] == 30
    assert figures["stays"] == [{
        "rack": "R3", "box": "B12", "position": tank.positions[tank.tecartus],
        "from_at": stored_at.isoformat(), "to_at": last.isoformat(), "readings": 283, "minutes_outside": 60,
        "gaps": [],
    }]  # fmt: skip
    assert excursion.body["type"] == "TemperatureExcursionRecorded" and excursion.body["actor"] == LEDGER
    assert excursion.body["payload"] == {
        "context": "storage", "max_c": -130, "duration_min": 60, "min_c": -185, "data_logger_id": "tank LN2-TANK-1",
    }  # fmt: skip
    assert product(rec.ledger, tank.tecartus).quarantined

    kept = tank.run(tank.kymriah, content)  # the same file, the other product: within its range
    assert (kept.summary["excursion"], kept.summary["minutes_outside"], kept.summary["acceptable"]) == (
        False, 0, "≤ -120 °C",
    )  # fmt: skip
    assert [e.type for e in rec.ledger.history(tank.kymriah)[-2:]] == [
        "StorageLoggerFileImported", "StorageReadingsSummarised",
    ]  # fmt: skip
    assert not product(rec.ledger, tank.kymriah).quarantined
    assert {(r.aggregate_id, r.field) for r in rec.ledger.documents.references(sha256)} == {
        (tank.tecartus, "document"), (tank.kymriah, "document"),
    }  # fmt: skip
    assert verify(rec.ledger).intact


def test_a_gap_longer_than_the_catalogue_allows_is_a_major_deviation(rec: Recorder) -> None:
    tank = Tank(rec)
    done = tank.run(tank.kymriah, tank.csv(silent=(1000, 1060)))  # readings at 990 then 1060 min: 70 min
    gap = {
        "from_at": (tank.t0 + timedelta(minutes=990)).isoformat(),
        "to_at": (tank.t0 + timedelta(minutes=1060)).isoformat(),
        "minutes": 70,
    }
    assert done.summary["stays"][0]["gaps"] == [gap] and done.summary["longest_gap_min"] == 70
    assert done.summary["readings"] == 283 - 6
    deviation = rec.ledger.history(tank.kymriah)[-1]
    assert deviation.body["type"] == "DeviationRecorded" and deviation.body["actor"] == LEDGER
    assert deviation.body["payload"]["severity"] == "major"
    assert "tank LN2-TANK-1" in deviation.body["payload"]["description"]
    assert "30 min the catalogue allows" in deviation.body["payload"]["description"]
    found = product(rec.ledger, tank.kymriah)
    assert list(found.open_deviations) == [deviation.version] and not found.quarantined


def test_each_stay_in_the_tank_is_judged_and_only_that_tank(rec: Recorder) -> None:
    tank = Tank(rec)
    moved_at = tank.t0 + timedelta(hours=24)
    second = free_position(rec.ledger)
    j.store(rec, tank.kymriah, moved_at, second)  # moved within the tank
    rec(
        "pharmacist", "StoredInLN2", tank.kymriah, tank.t0 + timedelta(hours=36), "performed", site=j.PHARMACY,
        tank="LN2-TANK-2", rack="R1", box="B1", position="A1", temperature_c=-180.0,
    )  # fmt: skip
    latest = tank.run(tank.kymriah, tank.csv(until_min=47 * 60))  # no tank named: the one it was last stored in
    assert (latest.summary["tank"], [s["position"] for s in latest.summary["stays"]]) == ("LN2-TANK-2", ["A1"])
    done = tank.run(tank.kymriah, tank.csv(), tank=j.LN2_TANK)
    stays = done.summary["stays"]
    assert [(s["position"], s["from_at"], s["to_at"], s["readings"]) for s in stays] == [
        (tank.positions[tank.kymriah], (tank.t0 + timedelta(hours=1)).isoformat(), moved_at.isoformat(), 139),
        (second, moved_at.isoformat(), (tank.t0 + timedelta(hours=36)).isoformat(), 73),
    ]  # (1440 − 60) / 10 + 1 and (2160 − 1440) / 10 + 1 readings; the tank-2 stay is not this file's
    assert done.summary["readings"] == 139 + 73


def test_a_dispensed_product_is_judged_until_it_left_the_tank(rec: Recorder) -> None:
    tank = Tank(rec)
    left = tank.t0 + timedelta(hours=30)
    coi = product(rec.ledger, tank.kymriah).coi
    rec(
        "pharmacist", "Dispensed", tank.kymriah, left, "verified", to_unit=j.UNIT, scanned_coi=coi,
        scanned_patient="PSN-TEST-0001", release_verified=True,
    )  # fmt: skip
    done = tank.run(tank.kymriah, tank.csv(warm=(2000, 2100)))  # warm only after it left: not its concern
    (stay,) = done.summary["stays"]
    assert (stay["to_at"], stay["readings"], done.summary["excursion"]) == (left.isoformat(), 175, False)


def test_refused_imports_change_nothing(rec: Recorder) -> None:
    tank = Tank(rec)
    unstored = Tank(rec, store=False)
    content = tank.csv()
    cases = [
        (lambda: tank.run(tank.kymriah, content, tank="LN2-TANK-9"), "product_never_in_tank", "payload.tank"),
        (lambda: unstored.run(unstored.kymriah, content), "product_never_in_tank", "tank"),
        (lambda: tank.run(tank.kymriah, content, user="courier"), "role_not_allowed", None),
        (lambda: tank.run(tank.kymriah, content.replace(b"-185", b"cold", 1)), "invalid_logger_file",
         "readings[0].temperature"),
    ]  # fmt: skip
    size = rec.ledger.store.size()
    for run, rule, field in cases:
        with pytest.raises(CustodyError) as caught:
            run()
        assert caught.value.rule == rule
        if field is not None:
            assert caught.value.field == field
    old = "\n".join(["timestamp,temperature", (tank.t0 - timedelta(days=3)).isoformat() + ",-185"]).encode()
    with pytest.raises(CustodyError) as outside:
        tank.run(tank.kymriah, old)
    assert outside.value.rule == "logger_file_outside_storage"
    assert rec.ledger.store.size() == size
    for bad in (content, old):
        assert rec.ledger.documents.info(hashlib.sha256(bad).hexdigest()) is None


def test_the_same_file_again_for_the_same_product_records_nothing(rec: Recorder) -> None:
    tank = Tank(rec)
    content = tank.csv(warm=(600, 660))
    first = tank.run(tank.tecartus, content)
    size = rec.ledger.store.size()
    again = tank.run(tank.tecartus, content)
    assert again.already_imported
    assert [e.hash for e in again.envelopes] == [e.hash for e in first.envelopes[:2]]
    assert rec.ledger.store.size() == size
    with pytest.raises(CustodyError) as caught:
        rec.ledger.record(
            "StorageLoggerFileImported", tank.tecartus,
            {"document": first.document.to_json()["reference"], "site": j.PHARMACY, "tank": j.LN2_TANK},
            user="pharmacist", meaning="recorded", password="pharmacist-password",
        )  # fmt: skip
    assert caught.value.rule == "logger_file_already_imported"
    assert rec.ledger.store.size() == size
