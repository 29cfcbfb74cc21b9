"""The trial-sites page: each site's checklist, what is missing in red, for the trial's own sponsor only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api import demo_pathway, demo_trial_sites
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.integration.journeys import PATIENT, Recorder, password_of, ready

PROTOCOL = demo_pathway.TRIAL_PROTOCOL


def test_the_checklist_shows_what_is_missing_in_red_and_who_signed_the_evidence(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    now = ledger.clock.now()
    ready(team, now - timedelta(days=5))
    demo_trial_sites.record_unready_site(team, PROTOCOL, now, PATIENT)
    client = browser_of("sponsor")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/trials/{PROTOCOL}/sites")
    assert page.status_code == 200, page.text
    unready = page.text.split(f'data-site="{demo_trial_sites.UNREADY_SITE}"', 1)[1]
    assert "not ready" in unready
    gmo = unready.split('data-prerequisite="gmo_authorisation"', 1)[1].split("</tr>", 1)[0]
    assert 'style="color:#b00020"' in gmo and "not attested" in gmo
    assert "PUI-ACCORD-CART-01" in unready and "signed by Dr Bruno Vasseur (pharmacist)" in unready
    pui = unready.split('data-prerequisite="pui_agreement"', 1)[1].split("</tr>", 1)[0]
    assert "attested by: pharmacist" in pui
    pair = unready.split('data-prerequisite="disease_specialist"', 1)[1].split("</tr>", 1)[0]
    assert "specialty: internist (Dr Irene Internist): internal_medicine, treats systemic_lupus_erythematosus" in pair
    assert "signed by Isabelle Roussel (admin)" in pair
    register_staff(ledger, "sponsor2", "Sid Sponsor", "sponsor", password_of("sponsor2"), registrar="ledger")
    assert browser_of("sponsor2").get(f"/ui/trials/{PROTOCOL}/sites").status_code == 404
