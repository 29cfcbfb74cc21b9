"""On both backends: a trial site is activated only when ready, a step for the trial needs an active ready site,
each prerequisite is attested by a role that can vouch for it and the pair by physicians of the right specialty,
each refusal stores nothing, and the readiness view and the audit trail show who attested what."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest
from freezegun import freeze_time

from api import demo_journeys as j
from api import demo_pathway, demo_trial_sites
from api.trial_readiness import site_readiness, trial_of
from domain.errors import CustodyError
from domain.identifiers import product_id_for
from domain.site import site_id_for
from domain.staff import staff_id_for
from domain.trial_site import trial_site_id_for
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from projections import queries
from tests.conftest import ADMIN_PASSWORD
from tests.integration.journeys import PATIENT, Recorder, enrolled, ready, team

PROTOCOL = demo_pathway.TRIAL_PROTOCOL
UNREADY = demo_trial_sites.UNREADY_SITE
LUPUS_SITE = "CH-F9999 Nephrology day unit"


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
    pui = unready["pui_agreement"]["evidence"][0]
    assert (pui["reference"], pui["signed_by"], pui["signed_by_name"], pui["signed_by_role"]) == (
        "PUI-ACCORD-CART-01", "pui.head", "Dr Bruno Vasseur", "pharmacist",
    )  # fmt: skip
    visit = unready["initiation_visit"]["evidence"][0]
    assert (visit["signed_by"], visit["signed_by_role"]) == ("sponsor.cra", "sponsor")
    assert unready["disease_specialist"]["specialty"] == {
        "user_id": "internist", "name": "Dr Irene Internist", "specialties": ["internal_medicine"], "holds": True,
        "detail": "internist (Dr Irene Internist): internal_medicine, treats systemic_lupus_erythematosus, "
        "systemic_sclerosis, vasculitis, inflammatory_myopathy",
    }  # fmt: skip
    assert unready["cell_therapy_specialist"]["specialty"]["specialties"] == ["haematology"]
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
    }, user="admin", password=ADMIN_PASSWORD, meaning="approved", occurred_at=now - timedelta(days=99))  # fmt: skip
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
    attesters = {user for event_type, user in trail if event_type == "TrialPrerequisiteAttested"}
    assert attesters == {"research.director", "pui.head", "sponsor.cra", "physician"}
    assert trail[-2:] == [("TrialSiteActivated", LEDGER_USER), ("TrialSiteSuspended", "sponsor")]
    sponsor_rows = queries.audit(ledger.store, user="sponsor")["events"]
    assert [row["event_type"] for row in sponsor_rows] == ["TrialSiteSuspended"]


def _opened_for_lupus(rec: Recorder, now: datetime) -> UUID:
    """A third site of the demo hospital opened for the trial's lupus patients only, nothing attested yet."""
    site = site_id_for(LUPUS_SITE)
    since = now - timedelta(days=30)
    rec.ledger.record("SiteRegistered", site, {"code": LUPUS_SITE, "name": LUPUS_SITE, "facility": "F9999"},
                      user=LEDGER_USER, meaning="approved", occurred_at=since)  # fmt: skip
    target = trial_site_id_for(PROTOCOL, LUPUS_SITE)
    rec.ledger.record("TrialSiteOpened", target, {
        "protocol": PROTOCOL, "site_code": LUPUS_SITE, "product_kind": "car_t",
        "indications": ["systemic_lupus_erythematosus"], "activities": ["infusion"],
    }, user=LEDGER_USER, meaning="approved", occurred_at=since)  # fmt: skip
    return target


def _attestation(prerequisite: str, now: datetime, **extra: str) -> dict[str, str]:
    return {"prerequisite": prerequisite, "reference": f"REF-{prerequisite}", "attested_by": "CHU",
            "valid_from": (now - timedelta(days=20)).date().isoformat(), **extra}  # fmt: skip


def test_each_prerequisite_is_signed_by_who_can_vouch_for_it_and_a_refusal_stores_nothing(
    ledger: CustodyLedger,
) -> None:
    rec = _with_sponsor(ledger)
    with freeze_time(ledger.clock.now()):
        now = ledger.clock.now()
        ready(rec, now - timedelta(days=5))
        target = _opened_for_lupus(rec, now)
        size = ledger.store.size()
        refusals = [
            ("admin", "pui_agreement", "attester_role_not_allowed", "pui_agreement is attested by pharmacist"),
            ("pharmacist", "initiation_visit", "attester_role_not_allowed", "initiation_visit is attested by sponsor"),
            ("sponsor", "rcp_named", "attester_role_not_allowed", "rcp_named is attested by physician"),
            ("nurse", "ln2_qualified", "role_not_allowed", "recorded by: admin, pharmacist, physician, qp, sponsor"),
        ]
        for user, prerequisite, rule, message in refusals:
            password = ADMIN_PASSWORD if user == "admin" else rec.passwords[user]
            with pytest.raises(CustodyError) as caught:
                ledger.record("TrialPrerequisiteAttested", target, _attestation(prerequisite, now), user=user,
                              password=password, meaning="approved", occurred_at=now)  # fmt: skip
            assert (caught.value.rule, caught.value.field) == (rule, "user") and message in caught.value.message
        assert ledger.store.size() == size
        rec("pharmacist", "TrialPrerequisiteAttested", target, now, "approved", **_attestation("pui_agreement", now))
        rec("sponsor", "TrialPrerequisiteAttested", target, now, "approved", **_attestation("initiation_visit", now))
    sites = {s["site_code"]: s for s in site_readiness(ledger, trial_of(ledger, PROTOCOL), now.date())["sites"]}
    checks = {c["prerequisite"]: c for c in sites[LUPUS_SITE]["prerequisites"]}
    signed = [(c["evidence"][0]["signed_by_name"], c["evidence"][0]["signed_by_role"])
              for c in (checks["pui_agreement"], checks["initiation_visit"])]  # fmt: skip
    assert signed == [("Phil Pharmacist", "pharmacist"), ("Sophie Lambert", "sponsor")]
    assert checks["pui_agreement"]["state"] == checks["initiation_visit"]["state"] == "met"


def test_the_disease_specialist_must_treat_the_sites_indication_and_the_other_give_cell_therapy(
    ledger: CustodyLedger,
) -> None:
    rec = _with_sponsor(ledger)
    with freeze_time(ledger.clock.now()):
        now = ledger.clock.now()
        ready(rec, now - timedelta(days=5))
        target = _opened_for_lupus(rec, now)
        register_staff(ledger, "dermatologist", "Dr Denis Derm", "physician", "dermatologist-password",
                       registrar="ledger")  # fmt: skip
        rec.passwords["dermatologist"] = "dermatologist-password"
        specialty = {"specialties": ["dermatology"], "evidence": "RPPS register extract"}
        ledger.record("StaffSpecialtyRecorded", staff_id_for("dermatologist"), specialty, user=LEDGER_USER,
                      meaning="approved")  # fmt: skip
        size = ledger.store.size()
        named = [("disease_specialist", "dermatologist", "specialty_not_for_indication",
                  "systemic_lupus_erythematosus needs internal_medicine, nephrology, rheumatology"),
                 ("cell_therapy_specialist", "internist", "not_a_cell_therapy_specialist",
                  "a cell-therapy specialist is in cell_therapy or haematology")]  # fmt: skip
        for prerequisite, user_id, rule, message in named:
            with pytest.raises(CustodyError) as caught:
                rec("physician", "TrialPrerequisiteAttested", target, now, "approved",
                    **_attestation(prerequisite, now, user_id=user_id))  # fmt: skip
            assert (caught.value.rule, caught.value.field) == (rule, "payload.user_id")
            assert message in caught.value.message
        assert ledger.store.size() == size
        rec("physician", "TrialPrerequisiteAttested", target, now, "approved",
            **_attestation("disease_specialist", now, user_id="internist"))  # fmt: skip
    sites = {s["site_code"]: s for s in site_readiness(ledger, trial_of(ledger, PROTOCOL), now.date())["sites"]}
    checks = {c["prerequisite"]: c for c in sites[LUPUS_SITE]["prerequisites"]}
    assert checks["disease_specialist"]["state"] == "met" and checks["disease_specialist"]["specialty"]["holds"]
    assert (
        checks["cell_therapy_specialist"]["state"] == "missing" and "specialty" not in checks["cell_therapy_specialist"]
    )
