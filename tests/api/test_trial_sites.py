"""`GET /trials/{protocol}/sites`: each site's checklist, to the trial's own sponsor and the site's staff only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api import demo_journeys as j
from api import demo_pathway, demo_trial_sites
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.integration.journeys import PATIENT, Recorder, password_of, ready

PROTOCOL = demo_pathway.TRIAL_PROTOCOL


def _two_sites_and_one_unready(team: Recorder, ledger: CustodyLedger) -> None:
    now = ledger.clock.now()
    ready(team, now - timedelta(days=5))
    demo_trial_sites.record_unready_site(team, PROTOCOL, now, PATIENT)


def test_the_trials_sponsor_sees_each_sites_prerequisites_with_state_and_evidence(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    _two_sites_and_one_unready(team, ledger)
    answer = sign_in("sponsor").get(f"/trials/{PROTOCOL}/sites")
    assert answer.status_code == 200, answer.text
    sites = {site["site_code"]: site for site in answer.json()["sites"]}
    assert sites[j.APHERESIS_SITE]["ready"] and sites[j.APHERESIS_SITE]["status"] == "active"
    unready = {c["prerequisite"]: c for c in sites[demo_trial_sites.UNREADY_SITE]["prerequisites"]}
    assert unready["gmo_authorisation"]["state"] == "missing"
    assert unready["staff_training"]["state"] == "missing" and "nurse" in unready["staff_training"]["detail"]
    assert unready["contract_signed"]["evidence"][0]["reference"] == "CONV-CART-AI-01-F9999"
    visit = unready["initiation_visit"]
    assert (visit["evidence"][0]["signed_by_name"], visit["evidence"][0]["signed_by_role"]) == (
        "Thomas Girard", "sponsor",
    )  # fmt: skip
    assert visit["may_attest"] == ["sponsor"] and unready["ln2_qualified"]["may_attest"] == ["pharmacist", "qp"]
    pair = unready["cell_therapy_specialist"]["specialty"]
    assert (pair["user_id"], pair["specialties"], pair["holds"]) == ("physician", ["haematology"], True)


def test_another_sponsor_and_an_unknown_trial_answer_404_and_an_auditor_reads_it(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    _two_sites_and_one_unready(team, ledger)
    register_staff(ledger, "sponsor2", "Sid Sponsor", "sponsor", password_of("sponsor2"), registrar="ledger")
    assert sign_in("sponsor2").get(f"/trials/{PROTOCOL}/sites").status_code == 404
    missing = sign_in("pharmacist").get("/trials/NO-SUCH-TRIAL/sites")
    assert missing.status_code == 404 and missing.json()["field"] == "protocol"
    assert sign_in("auditor").get(f"/trials/{PROTOCOL}/sites").status_code == 200
