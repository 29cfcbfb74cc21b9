"""On both backends: a product's status says what became of each bag, which site setting covers it, and
whether its patient withdrew consent, now and as of a moment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api import demo_journeys as j
from domain.identifiers import product_id_for
from domain.pathway import pathway_id_for
from domain.site import site_id_for
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from projections.status_query import status_as_of, status_now
from tests.integration.journeys import PATIENT, Recorder, ready, released_and_stored, team, thawed

CONSENT_HOLD = {
    "kind": "consent_withdrawn",
    "reason": "the patient withdrew consent: no step may consume or commit the product",
}


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


def _now(ledger: CustodyLedger, product: object) -> dict[str, object]:
    return status_now(ledger.store, product, ledger.clock.now(), ledger.catalogue)  # type: ignore[arg-type]


def test_a_stored_lot_shows_both_its_bags_stored(ledger: CustodyLedger, rec: Recorder) -> None:
    journey = released_and_stored(rec, ledger.clock.now() - timedelta(days=30))
    lot = f"LOT-{journey.coi.sequence}"
    assert _now(ledger, journey.product)["bags"] == [
        {"bag_id": f"{lot}-B1", "fate": "stored"},
        {"bag_id": f"{lot}-B2", "fate": "stored"},
    ]


def test_after_a_thaw_the_thawed_bag_and_the_dispensed_one_are_told_apart_and_as_of_replays_them(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = thawed(rec, ledger.clock.now() - timedelta(days=30))
    lot = f"LOT-{journey.coi.sequence}"
    assert _now(ledger, journey.product)["bags"] == [
        {"bag_id": f"{lot}-B1", "fate": "thawed"},
        {"bag_id": f"{lot}-B2", "fate": "dispensed"},
    ]
    thaw = next(e for e in ledger.history(journey.product) if e.type == "Thawed")
    before = status_as_of(ledger.store, journey.product, thaw.recorded_at - timedelta(microseconds=1), ledger.catalogue)
    assert [bag["fate"] for bag in before["bags"]] == ["dispensed", "dispensed"]


def test_a_product_before_manufacturing_has_no_bags_yet(ledger: CustodyLedger, rec: Recorder) -> None:
    ready(rec, ledger.clock.now() - timedelta(days=2))
    coi = j.new_coi(ledger.settings.facility, 26)
    product = j.enrol_car_t(rec, coi, PATIENT, "systemic_lupus_erythematosus", ledger.clock.now() - timedelta(days=1))
    status = _now(ledger, product)
    assert status["bags"] == []
    assert status["pathway_managed_elsewhere"] is None and status["consent_withdrawn"] is False


def test_a_withdrawal_of_consent_shows_as_a_hold_from_the_moment_it_was_recorded(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = released_and_stored(rec, ledger.clock.now() - timedelta(days=30))
    assert _now(ledger, journey.product)["consent_withdrawn"] is False
    assert CONSENT_HOLD not in _now(ledger, journey.product)["holds"]  # type: ignore[operator]
    an_hour_ago = ledger.clock.now() - timedelta(hours=1)  # the same day as the step, even just after midnight
    withdrawn = rec(
        "physician", "ConsentWithdrawn", pathway_id_for(PATIENT), an_hour_ago, "recorded",
        withdrawn_on=an_hour_ago.date().isoformat(), reason="patient's decision",
    )  # fmt: skip
    now = _now(ledger, journey.product)
    assert now["consent_withdrawn"] is True
    assert CONSENT_HOLD in now["holds"]  # type: ignore[operator]
    before = status_as_of(
        ledger.store, journey.product, withdrawn[0].recorded_at - timedelta(microseconds=1), ledger.catalogue
    )
    assert before["consent_withdrawn"] is False and CONSENT_HOLD not in before["holds"]


def test_a_product_enrolled_under_its_sites_pathway_managed_elsewhere_setting_says_so(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    start = ledger.clock.now() - timedelta(days=2)
    ready(rec, start)
    ledger.record(
        "PathwayManagedElsewhereDeclared", site_id_for(j.APHERESIS_SITE), {"reason": "regional RCP of CHU Grenoble"},
        user=LEDGER_USER, meaning="approved", occurred_at=start,
    )  # fmt: skip
    coi = j.new_coi(ledger.settings.facility, 26)
    j.enrol_car_t(rec, coi, "PSN-GRENOBLE-1", "systemic_lupus_erythematosus", start + timedelta(hours=1))
    status = _now(ledger, product_id_for(coi))
    assert status["pathway_managed_elsewhere"] == f"{j.APHERESIS_SITE}: regional RCP of CHU Grenoble"
    assert status["consent_withdrawn"] is False, "no pathway here: nothing was withdrawn here"
