"""The demo's judged, four-eyes and correction refusals, on both backends: each shown, and only the real steps stored.

The demo products are, in journey order: the SLE CAR-T, the two SSC MSC doses, the
vasculitis CAR-T and the myopathy CAR-T (api/demo.py).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from api.demo import record_demo
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from ledger.settings import Settings


@pytest.fixture
def demo(ledger: CustodyLedger, settings: Settings) -> dict[str, Any]:
    """The demo recorded on this backend; its summary."""
    record_demo(settings, as_json=True, if_empty=False)
    return dict(json.loads((settings.home / "demo.json").read_text()))


def product_of(ledger: CustodyLedger, product_id: str) -> TherapyProduct:
    found = ledger.load(UUID(product_id))
    assert isinstance(found, TherapyProduct)
    return found


def test_each_judged_four_eyes_and_correction_refusal_names_its_step_and_rule(demo: dict[str, Any]) -> None:
    shown = [refusal.split(": ", 1)[0] for refusal in demo["refused"][-6:]]
    assert shown == [
        "ApheresisCollected refused [implausible_value]",
        "ProductReleased refused [release_by_qc_recorder]",
        "ProductReleased refused [open_deviation_blocks_step]",
        "ShipmentReceived refused [temperature_verdict_contradicts_figures]",
        "QcResultsRecorded refused [qc_verdict_contradicts_results]",
        "EventCorrected refused [corrector_role_not_allowed]",
    ]
    assert "payload.volume_ml 5000 mL is not plausible" in demo["refused"][-6]
    assert "Sophie Marchand (qc) recorded this lot's QC results" in demo["refused"][-5]
    assert "max -96 °C" in demo["refused"][-3]
    assert "viability measured 60 % is out of specification (≥ 80 %)" in demo["refused"][-2]
    assert "a courier may not correct a QcResultsRecorded" in demo["refused"][-1]


def test_the_sle_lot_stores_one_collection_and_a_release_after_the_qps_assessment_of_its_deviation(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    sle = demo["products"][0]
    history = ledger.history(UUID(sle))
    types = [envelope.type for envelope in history]
    [collection] = [e.body["payload"] for e in history if e.type == "ApheresisCollected"]
    assert collection["volume_ml"] == 245
    qc = types.index("QcResultsRecorded")
    after_qc = ["DeviationRecorded", "DeviationImpactAssessed", "ProductReleased", "DeviationClosed"]
    assert types[qc + 1 : qc + 5] == after_qc
    signers = [envelope.body["actor"]["user_id"] for envelope in history[qc : qc + 5]]
    assert signers == ["qc", "qp", "qp", "qp", "qp"]
    deviation, assessment, closure = (history[qc + offset].body for offset in (1, 2, 4))
    assert deviation["payload"]["severity"] == "major"
    assert assessment["payload"]["deviation_version"] == deviation["version"]
    assert assessment["payload"]["steps"] == ["release"]
    assert closure["payload"]["deviation_version"] == deviation["version"]
    product = product_of(ledger, sle)
    assert product.open_deviations == {}
    assert product.state == "infused"


def test_the_warmed_vasculitis_shipper_is_received_once_with_the_excursion_it_had(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    vasculitis = UUID(demo["products"][3])
    [arrival] = [
        envelope.body["payload"]
        for envelope in ledger.history(vasculitis)
        if envelope.type == "ProductReceived" and envelope.body["payload"]["leg"] == "to_pharmacy"
    ]
    shipment = ledger.history(UUID(arrival["shipment_id"]))
    receipts = [envelope.body["payload"] for envelope in shipment if envelope.type == "ShipmentReceived"]
    assert [(r["temperature_ok"], r["max_c"], r["excursion_min"]) for r in receipts] == [(False, -96.0, 45)]
    assert "TemperatureExcursionRecorded" in [envelope.type for envelope in ledger.history(vasculitis)]


def test_the_out_of_spec_myopathy_lot_keeps_its_one_qc_record_uncorrected(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    myopathy = demo["products"][4]
    types = [envelope.type for envelope in ledger.history(UUID(myopathy))]
    assert types.count("QcResultsRecorded") == 1
    assert "EventCorrected" not in types
    product = product_of(ledger, myopathy)
    assert product.state == "qc_out_of_spec"
    assert product.qc_in_spec is False
