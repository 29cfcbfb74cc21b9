"""The demonstration data set, as the read models show it: the figures a demo audience checks by eye."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from api.demo import PATIENTS, record_demo
from api.demo_journeys import APHERESIS_SITE
from ledger.clock import parse_instant
from ledger.service import CustodyLedger
from ledger.settings import Settings
from projections import queries, runner
from projections.check import check
from projections.status_query import status_now
from tests.integration.projection_helpers import snapshot


@pytest.fixture
def demo(ledger: CustodyLedger, settings: Settings) -> dict[str, Any]:
    """The demo recorded on this backend; its summary (products in journey order)."""
    record_demo(settings, as_json=True, if_empty=False)
    return dict(json.loads((settings.home / "demo.json").read_text()))


def sle_product(ledger: CustodyLedger) -> UUID:
    [row] = [r for r in queries.timeline(ledger.store, "PSN-SLE-0001") if r["event_type"] == "ProductEnrolled"]
    return UUID(row["product_id"])


def test_the_ssc_msc_dose_still_in_storage_is_in_the_inventory_at_its_ln2_position(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    units = [u for u in queries.inventory(ledger.store) if u["patient_pseudonym"] == "PSN-SSC-0002"]
    [unit] = units
    assert (unit["product_kind"], unit["state"], unit["status"]) == ("msc", "stored", "available")
    assert (unit["tank"], unit["rack"], unit["box"]) == ("LN2-TANK-1", "R3", "B12") and unit["position"]
    assert unit["expiry"] is None
    assert unit in queries.inventory(ledger.store, unit["site"])


def test_the_sle_product_is_infused_and_its_vein_to_vein_is_its_collection_to_infusion_days(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    product = sle_product(ledger)
    assert status_now(ledger.store, product, ledger.clock.now())["state"] == "infused"
    history = ledger.history(product)
    collected = next(e for e in history if e.type == "ApheresisCollected").body["payload"]["started_at"]
    infused = next(e for e in history if e.type == "Infused").body["payload"]["started_at"]
    days = (parse_instant(infused) - parse_instant(collected)).total_seconds() / 86400
    [car_t] = [g for g in queries.metrics(ledger.store) if (g["product_kind"], g["site"]) == ("car_t", APHERESIS_SITE)]
    assert car_t["vein_to_vein"]["count"] == 1
    assert car_t["vein_to_vein"]["median_days"] == pytest.approx(days, abs=0.001)


def test_the_identity_near_miss_is_listed_in_the_audit_near_misses(ledger: CustodyLedger, demo: dict[str, Any]) -> None:
    # The physician scanned the wristband of the patient in the next bed; a pharmacist resolved it (not the physician).
    trail = queries.audit(ledger.store, user="physician")
    [near_miss] = trail["near_misses"]
    assert near_miss["aggregate_id"] == str(sle_product(ledger))
    assert near_miss["event_type"] == "IdentityMismatchRecorded" and "scanned" in near_miss["detail"]
    assert all(row["user_id"] == "physician" for row in trail["events"])
    resolved = [e for e in ledger.history(sle_product(ledger)) if e.type == "MismatchResolved"]
    assert [e.body["actor"]["user_id"] for e in resolved] == ["pharmacist"]


def test_the_patient_timeline_is_in_occurrence_order_with_signer_role_and_meaning_and_clinical_events(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    rows = queries.timeline(ledger.store, "PSN-SLE-0001")
    assert [r["occurred_at"] for r in rows] == sorted(r["occurred_at"] for r in rows)
    assert {"AdverseEventRecorded", "FollowUpRecorded"} <= {r["event_type"] for r in rows if r["clinical"]}
    assert all(r["actor_name"] and r["actor_role"] and r["meaning"] for r in rows)


def test_no_patient_identity_reaches_any_projection_table(ledger: CustodyLedger, demo: dict[str, Any]) -> None:
    runner.catch_up(ledger.store)
    text = json.dumps(snapshot(ledger.store), default=str)
    for identity in PATIENTS.values():
        # Given names are left out: "Paul" is also the demo courier's printed name, which is not identity.
        for secret in (identity.family_name, identity.birth_date, identity.hospital_number):
            assert secret not in text
    assert "PSN-SLE-0001" in text
    assert check(ledger.store).differences == []
