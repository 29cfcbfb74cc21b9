"""The product page says, in words, what became of each bag, which site setting covers the product, and that
its patient withdrew consent (both backends)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from api import demo_journeys as j
from domain.identifiers import product_id_for
from domain.pathway import pathway_id_for
from domain.site import site_id_for
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from tests.api.conftest import START
from tests.integration.journeys import PATIENT, Recorder, ready, released_and_stored


def _fact(page: str, element_id: str) -> str | None:
    """The text of the element with that id, tags removed; None when the page has no such element."""
    found = re.search(rf'id="{element_id}">(.*?)</dd>', page, re.DOTALL)
    return None if found is None else re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_each_bag_and_a_withdrawal_of_consent_are_stated_on_the_page(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    lot = f"LOT-{journey.coi.sequence}"
    client = browser_of("pharmacist")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/products/{journey.product}").text
    assert _fact(page, "bags") == f"{lot}-B1: stored; {lot}-B2: stored"
    assert _fact(page, "consent-withdrawn") is None and _fact(page, "pathway-managed-elsewhere") is None
    an_hour_ago = ledger.clock.now() - timedelta(hours=1)  # the same day as the step, even just after midnight
    team(
        "physician", "ConsentWithdrawn", pathway_id_for(PATIENT), an_hour_ago, "recorded",
        withdrawn_on=an_hour_ago.date().isoformat(), reason="patient's decision",
    )  # fmt: skip
    page = client.get(f"/ui/products/{journey.product}").text
    assert _fact(page, "consent-withdrawn") == "Consent withdrawn: no step may consume or commit the product"
    client.cookies.set("lang", "fr")
    page = client.get(f"/ui/products/{journey.product}").text
    assert _fact(page, "consent-withdrawn") == (
        "Consentement retiré: aucune étape ne peut consommer ni engager le produit"
    )
    assert _fact(page, "bags") == f"{lot}-B1: stockée; {lot}-B2: stockée"


def test_the_pathway_managed_elsewhere_setting_is_shown_on_the_products_it_covers(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    start = ledger.clock.now() - timedelta(days=2)
    ready(team, start)
    ledger.record(
        "PathwayManagedElsewhereDeclared", site_id_for(j.APHERESIS_SITE), {"reason": "regional RCP of CHU Grenoble"},
        user=LEDGER_USER, meaning="approved", occurred_at=start,
    )  # fmt: skip
    coi = j.new_coi(ledger.settings.facility, 26)
    j.enrol_car_t(team, coi, "PSN-GRENOBLE-1", "systemic_lupus_erythematosus", start + timedelta(hours=1))
    client = browser_of("nurse")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/products/{product_id_for(coi)}").text
    assert _fact(page, "pathway-managed-elsewhere") == f"{j.APHERESIS_SITE}: regional RCP of CHU Grenoble"
    assert _fact(page, "bags") == "—", "no bag before manufacturing"
