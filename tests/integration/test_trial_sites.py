"""On both backends: a trial site is activated only when ready, a step for the trial needs an active ready site,
each refusal stores nothing, and the readiness view and the audit trail show who attested what."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time

from api import demo_journeys as j
from api import demo_pathway, demo_trial_sites
from api.trial_readiness import site_readiness, trial_of
from domain.errors import CustodyError
from domain.identifiers import product_id_for
from domain.trial_site import trial_site_id_for
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from projections import queries
from tests.integration.journeys import PATIENT, Recorder, enrolled, ready, team

PROTOCOL = demo_pathway.TRIAL_PROTOCOL
UNREADY = demo_trial_sites.UNREADY_SITE


def _with_sponsor(ledger: CustodyLedger) -> Recorder:
    rec = team(ledger)
    register_staff(ledger, "sponsor", "Sophie Lambert", "sponsor", "sponsor-password", registrar="ledger")
    rec.passwords["sponsor"] = "sponsor-password"
    return rec


def _enrol_at(ledger: CustodyLedger, site: str, when: datetime) -> None:
    coi = j.new_coi(ledger.settings.facility, 26)
    payload = {
        "coi": coi.value, "product_kind": "car_t", "product_code": "ACADEMIC-CD19", "patient_pseudonym": PATIENT,
        "indication": "systemic_lupus_erythematosus", "treating_physician": "physician", "collection_site": site,
        "trial_protocol": PROTOCOL,
    }  # fmt: skip
    ledger.record("ProductEnrolled", product_id_for(coi), payload, user="physician", meaning="approved",
                  password="physician-password", occurred_at=when)  # fmt: skip


def test_the_sponsor_cannot_activate_a_site_missing_its_gmo_authorisation_and_a_training_nor_enrol_there(
    ledger: CustodyLedger,
) -> None:
    rec = _with_sponsor(ledger)
    now = ledger.clock.now()
    ready(rec, now - timedelta(days=5))
    refused = demo_trial_sites.record_unready_site(rec, PROTOCOL, now, PATIENT)
    assert len(refused) == 2 and all("gmo_authorisation" in r and "nurse" in r for r in refused)
    size = ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        rec("sponsor", "TrialSiteActivated", trial_site_id_for(PROTOCOL, UNREADY), now, "approved")
    assert caught.value.rule == "trial_site_not_ready" and caught.value.field == "prerequisites.gmo_authorisation"
    with pytest.raises(CustodyError) as caught:
        _enrol_at(ledger, UNREADY, now)
    assert caught.value.rule == "trial_site_not_activated" and caught.value.field == "payload.collection_site"
    assert "staff_training (not trained on the protocol on" in caught.value.message
    assert ledger.store.size() == size


def test_the_readiness_view_lists_each_sites_checklist_with_evidence_and_who_signed(ledger: CustodyLedger) -> None:
    rec = _with_sponsor(ledger)
    now = ledger.clock.now()
    ready(rec, now - timedelta(days=5))
    demo_trial_sites.record_unready_site(rec, PROTOCOL, now, PATIENT)
    report = site_readiness(ledger, trial_of(ledger, PROTOCOL), now.date())
    by_site = {site["site_code"]: site for site in report["sites"]}
    assert set(by_site) == {j.APHERESIS_SITE, j.UNIT, UNREADY}
    assert by_site[j.UNIT]["status"] == "active" and by_site[j.UNIT]["ready"]
    unready = {check["prerequisite"]: check for check in by_site[UNREADY]["prerequisites"]}
    assert by_site[UNREADY]["status"] == "opened" and not by_site[UNREADY]["ready"]
    assert [name for name, check in unready.items() if check["state"] == "missing"] == [
        "gmo_authorisation", "staff_training",
    ]  # fmt: skip
    assert unready["pui_agreement"]["evidence"][0]["reference"] == "PUI-ACCORD-CART-01"
    assert unready["pui_agreement"]["evidence"][0]["signed_by"] == LEDGER_USER
    assert unready["accreditation"]["evidence"][0]["reference"] == "SFGM-TC-F9998"


def test_a_lapsed_training_stops_collection_at_an_active_site_from_that_day_and_is_shown_expiring_before(
    ledger: CustodyLedger,
) -> None:
    rec = _with_sponsor(ledger)
    now = ledger.clock.now()
    journey = enrolled(rec, now - timedelta(days=100))
    site = trial_site_id_for(PROTOCOL, j.APHERESIS_SITE)
    lapse_on = (now - timedelta(days=50)).date()
    rec.ledger.record("TrialPrerequisiteAttested", site, {
        "prerequisite": "staff_training", "reference": "TRAINING-renewal", "attested_by": "Sponsor's training log",
        "valid_from": (now - timedelta(days=99)).date().isoformat(), "valid_until": lapse_on.isoformat(),
        "user_id": "nurse",
    }, user=LEDGER_USER, meaning="approved", occurred_at=now - timedelta(days=99))  # fmt: skip
    checks = {c["prerequisite"]: c["state"] for c in site_readiness(ledger, trial_of(ledger, PROTOCOL),
              lapse_on - timedelta(days=10))["sites"][0]["prerequisites"]}  # fmt: skip
    assert checks["staff_training"] == "expiring"
    size = ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        j.collect_and_manufacture(rec, journey.product, journey.coi, "G123426654321", now - timedelta(days=40))
    assert caught.value.rule == "trial_site_not_ready" and "nurse" in caught.value.message
    assert ledger.store.size() == size


def test_a_suspended_site_refuses_enrolment_and_the_audit_trail_lists_who_attested_and_activated(
    ledger: CustodyLedger,
) -> None:
    rec = _with_sponsor(ledger)
    with freeze_time(ledger.clock.now()):
        now = ledger.clock.now()
        ready(rec, now - timedelta(days=5))
        site = trial_site_id_for(PROTOCOL, j.APHERESIS_SITE)
        rec("sponsor", "TrialSiteSuspended", site, now - timedelta(hours=2), "approved", reason="monitoring finding")
        size = ledger.store.size()
        with pytest.raises(CustodyError) as caught:
            _enrol_at(ledger, j.APHERESIS_SITE, now - timedelta(hours=1))
        assert caught.value.rule == "trial_site_not_activated" and "suspended" in caught.value.message
        assert ledger.store.size() == size
    trail = [(row["event_type"], row["user_id"]) for row in queries.audit(ledger.store)["events"]
             if row["aggregate_id"] == str(site)]  # fmt: skip
    assert trail[0] == ("TrialSiteOpened", LEDGER_USER)
    assert ("TrialPrerequisiteAttested", LEDGER_USER) in trail
    assert trail[-2:] == [("TrialSiteActivated", LEDGER_USER), ("TrialSiteSuspended", "sponsor")]
    sponsor_rows = queries.audit(ledger.store, user="sponsor")["events"]
    assert [row["event_type"] for row in sponsor_rows] == ["TrialSiteSuspended"]
