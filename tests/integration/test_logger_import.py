"""A shipper's logger file imported and judged by the ledger, end to end on both backends.

One LN2 dry shipper carries a Kymriah product (limit -120 °C, SmPC 6.4) and a Tecartus
product (limit -150 °C). A logger that read -130 °C for an hour left Tecartus's range but
not Kymriah's: the ledger records Tecartus's excursion and holds Kymriah too, since they
shared the box. A logger that stopped for 50 minutes leaves a deviation on each product.
Every import binds the file by its hash; the same file twice records once; a bad file or
a shipment still on its way changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest

from domain.errors import CustodyError
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import Recorder, team, verify
from tests.integration.logger_fixtures import LEDGER, Trip


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


def product(ledger: CustodyLedger, product_id: uuid.UUID) -> TherapyProduct:
    found = ledger.load(product_id)
    assert isinstance(found, TherapyProduct)
    return found


def test_an_excursion_in_the_readings_quarantines_every_product_in_the_shipper(rec: Recorder) -> None:
    trip = Trip(rec)
    content = trip.csv(warm=(120, 180))  # -130 °C from 2 h to 3 h after dispatch: six readings, 60 min
    done = trip.run(content)
    assert not done.already_imported
    imported, summary = rec.ledger.history(trip.shipment)[-2:]
    assert imported.body["type"] == "ShipmentLoggerFileImported" and imported.body["actor"]["user_id"] == "pharmacist"
    sha256 = hashlib.sha256(content).hexdigest()
    assert imported.body["payload"]["document"] == {
        "sha256": sha256, "media_type": "text/csv", "size_bytes": len(content),
    }  # fmt: skip
    assert summary.body["type"] == "ShipmentReadingsSummarised" and summary.body["actor"] == LEDGER
    figures = summary.body["payload"]
    assert (figures["document_sha256"], figures["min_c"], figures["max_c"]) == (sha256, -180.5, -130.0)
    assert figures["readings"] == 20 * 6 + 1  # dispatch to receipt inclusive, every 10 min
    assert figures["longest_gap_min"] == 10
    by_code = {p["product_code"]: p for p in figures["products"]}
    assert (by_code["TECARTUS"]["minutes_outside"], by_code["TECARTUS"]["excursion"]) == (60, True)
    assert (by_code["KYMRIAH"]["minutes_outside"], by_code["KYMRIAH"]["excursion"]) == (0, False)
    assert by_code["TECARTUS"]["acceptable"] == "≤ -150 °C" and by_code["KYMRIAH"]["acceptable"] == "≤ -120 °C"

    excursion = rec.ledger.history(trip.tecartus)[-1]
    assert excursion.body["type"] == "TemperatureExcursionRecorded" and excursion.body["actor"] == LEDGER
    assert excursion.body["payload"] == {
        "context": "shipping", "max_c": -130.0, "duration_min": 60, "min_c": -180.5, "data_logger_id": "LOG-9120",
    }  # fmt: skip
    held = rec.ledger.history(trip.kymriah)[-1]
    assert held.body["type"] == "ProductQuarantined" and held.body["actor"] == LEDGER
    assert "TECARTUS ≤ -150 °C (60 min outside)" in held.body["payload"]["reason"]
    for one in (trip.kymriah, trip.tecartus):
        assert product(rec.ledger, one).quarantined and product(rec.ledger, one).quarantined_by == "ledger"
    references = rec.ledger.documents.references(sha256)
    assert [(r.aggregate_id, r.field) for r in references] == [(trip.shipment, "document")]
    assert verify(rec.ledger).intact


def test_a_gap_longer_than_the_catalogue_allows_is_a_deviation_on_each_product(rec: Recorder) -> None:
    trip = Trip(rec)
    done = trip.run(trip.csv(silent=(300, 350)))  # readings at 290 then 350 min: 60 min without one
    by_code = {p["product_code"]: p for p in done.summary["products"]}
    gap_from = (trip.sent + timedelta(minutes=290)).isoformat()
    gap_to = (trip.sent + timedelta(minutes=350)).isoformat()
    assert by_code["KYMRIAH"]["gaps"] == [{"from_at": gap_from, "to_at": gap_to, "minutes": 60}]
    assert done.summary["longest_gap_min"] == 60
    for one in (trip.kymriah, trip.tecartus):
        deviation = rec.ledger.history(one)[-1]
        assert deviation.body["type"] == "DeviationRecorded" and deviation.body["actor"] == LEDGER
        assert deviation.body["payload"]["severity"] == "major"
        assert "60 min" in deviation.body["payload"]["description"]
        assert "30 min the catalogue allows" in deviation.body["payload"]["description"]
        found = product(rec.ledger, one)
        assert list(found.open_deviations) == [deviation.version] and not found.quarantined
    assert verify(rec.ledger).intact


def test_a_gap_within_the_catalogue_limit_records_nothing_on_the_products(rec: Recorder) -> None:
    trip = Trip(rec)
    before = [len(rec.ledger.history(one)) for one in (trip.kymriah, trip.tecartus)]
    trip.run(trip.csv(silent=(300, 320)))  # 290 → 320 min: 30 min, exactly the limit
    assert [len(rec.ledger.history(one)) for one in (trip.kymriah, trip.tecartus)] == before
    assert [e.type for e in rec.ledger.history(trip.shipment)[-2:]] == [
        "ShipmentLoggerFileImported", "ShipmentReadingsSummarised",
    ]  # fmt: skip


def test_the_same_file_again_records_nothing(rec: Recorder) -> None:
    trip = Trip(rec)
    content = trip.csv(warm=(120, 180))
    first = trip.run(content)
    size = rec.ledger.store.size()
    again = trip.run(content)
    assert again.already_imported
    assert [e.hash for e in again.envelopes] == [e.hash for e in first.envelopes[:2]]
    assert rec.ledger.store.size() == size
    with pytest.raises(CustodyError) as caught:  # through the event API too: refused, not judged twice
        rec.ledger.record(
            "ShipmentLoggerFileImported", trip.shipment, {"document": first.document.to_json()["reference"]},
            user="pharmacist", meaning="recorded", password="pharmacist-password",
        )  # fmt: skip
    assert caught.value.rule == "logger_file_already_imported"
    assert rec.ledger.store.size() == size


def test_a_bad_file_changes_nothing(rec: Recorder) -> None:
    trip = Trip(rec)
    content = trip.csv().replace(b"-180,5", b"cold", 1)  # the first reading (line 3) is not a number
    size = rec.ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        trip.run(content)
    assert (caught.value.rule, caught.value.field) == ("invalid_logger_file", "readings[0].temperature")
    assert "line 3" in caught.value.message
    assert rec.ledger.store.size() == size
    assert rec.ledger.documents.info(hashlib.sha256(content).hexdigest()) is None


def test_a_shipment_on_its_way_or_another_journeys_file_changes_nothing(rec: Recorder) -> None:
    trip = Trip(rec, received=False)
    content = trip.csv()
    size = rec.ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        trip.run(content)
    assert caught.value.rule == "shipment_not_received"
    assert rec.ledger.documents.info(hashlib.sha256(content).hexdigest()) is None
    assert rec.ledger.store.size() == size

    received = Trip(rec)
    old = "\n".join(["timestamp,temperature", (received.sent - timedelta(days=3)).isoformat() + ",-180"]).encode()
    with pytest.raises(CustodyError) as outside:
        received.run(old)
    assert outside.value.rule == "logger_file_outside_journey"
    assert rec.ledger.documents.info(hashlib.sha256(old).hexdigest()) is None


def test_only_the_receiving_roles_import_a_logger_file(rec: Recorder) -> None:
    trip = Trip(rec)
    size = rec.ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        trip.run(trip.csv(), user="courier")
    assert caught.value.rule == "role_not_allowed"
    assert rec.ledger.store.size() == size
    assert rec.ledger.documents.info(hashlib.sha256(trip.csv()).hexdigest()) is None  # the file was not kept either
