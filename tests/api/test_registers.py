"""Reads of the registers over HTTP, on both backends: sites, trials, pathways, shipments and bank batches.

Who may read each comes from the hand-written table in ``tests/role_table.py``; what
each answer holds is checked against what the test itself recorded, never against the
code that builds it. A sponsor sees only what concerns its own trials' products, and
anything else answers 404, exactly as what does not exist.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest

from api import demo_journeys as j
from api import demo_pathway
from domain.site import site_id_for
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.api.conftest import ROLES, START
from tests.api.test_shipment_handover import dispatched
from tests.integration.journeys import PATIENT, Recorder, enrolled, password_of, ready
from tests.role_table import PATHWAY_READERS, REGISTER_READERS

MISSING = "00000000-0000-0000-0000-00000000dead"
READS = {
    "/sites": REGISTER_READERS,
    "/sites/NO-SUCH-SITE": REGISTER_READERS,
    "/trials": REGISTER_READERS,
    "/trials/NO-SUCH-TRIAL": REGISTER_READERS,
    "/pathways/PSN-NOBODY": PATHWAY_READERS,
    "/shipments": REGISTER_READERS,
    f"/shipments/{MISSING}": REGISTER_READERS,
    "/batches": REGISTER_READERS,
    f"/batches/{MISSING}": REGISTER_READERS,
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_the_registers_the_table_allows(sign_in: Any, role: str) -> None:
    session = sign_in(role)
    for path, readers in READS.items():
        answer = session.get(path)
        if role in readers:
            assert answer.status_code in (200, 404), (role, path, answer.text)
        else:
            assert answer.status_code == 403, (role, path, answer.text)
            assert answer.json()["rule"] == "role_not_allowed"


def test_sites_list_their_accreditations_scope_validity_and_pathway_setting(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    ready(team, START)
    ledger.record(
        "PathwayManagedElsewhereDeclared", site_id_for(j.UNIT), {"reason": "regional RCP of CHU Grenoble"},
        user=LEDGER_USER, meaning="approved", occurred_at=START,
    )  # fmt: skip
    nurse = sign_in("nurse")
    sites = nurse.get("/sites").json()
    assert [site["code"] for site in sites] == sorted(demo_pathway.SITES)
    unit = nurse.get(f"/sites/{j.UNIT}").json()
    assert unit == next(site for site in sites if site["code"] == j.UNIT)
    [accreditation] = unit["accreditations"]
    assert accreditation["accreditor"] == "jacie" and accreditation["scope"] == ["infusion"]
    assert accreditation["valid_from"] < START.date().isoformat() < accreditation["valid_until"]
    assert accreditation["withdrawn_on"] is None and accreditation["valid_today"] is True
    assert unit["covers_today"] == ["infusion"]
    assert unit["pathway_managed_elsewhere"] == "regional RCP of CHU Grenoble"
    pharmacy = nurse.get(f"/sites/{site_id_for(j.PHARMACY)}").json()
    assert pharmacy["code"] == j.PHARMACY and pharmacy["pathway_managed_elsewhere"] is None


def test_an_unknown_site_trial_pathway_shipment_or_batch_is_404_naming_the_field(sign_in: Any, team: Recorder) -> None:
    nurse = sign_in("nurse")
    for path, field in (
        ("/sites/NO-SUCH-SITE", "code"),
        ("/trials/NO-SUCH-TRIAL", "protocol"),
        ("/pathways/PSN-NOBODY", "reference"),
        (f"/shipments/{MISSING}", "shipment_id"),
        (f"/batches/{MISSING}", "batch_id"),
    ):
        answer = nurse.get(path)
        assert answer.status_code == 404, path
        assert (answer.json()["field"], answer.json()["rule"]) == (field, "not_found"), path
    assert nurse.get("/shipments/not-a-uuid").status_code == 422


def test_a_sponsor_sees_only_the_trials_it_is_authorised_on(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    ready(team, START)
    register_staff(ledger, "sponsor2", "Sid Sponsor", "sponsor", password_of("sponsor2"), registrar="ledger")
    protocol = demo_pathway.TRIAL_PROTOCOL
    # the sponsor and its research associate, who attested the sites' initiation visits (api/demo_trial_sites.py)
    users = ["sponsor", "sponsor.cra"]
    expected = {"protocol": protocol, "sponsor": demo_pathway.TRIAL_SPONSOR, "sponsor_users": users}
    for reader in ("nurse", "sponsor"):
        [trial] = sign_in(reader).get("/trials").json()
        assert {key: trial[key] for key in expected} == expected, reader
        assert sign_in(reader).get(f"/trials/{protocol}").json() == trial
    other = sign_in("sponsor2")
    assert other.get("/trials").json() == []
    assert other.get(f"/trials/{protocol}").status_code == 404


def test_a_pathway_is_read_by_pseudonym_and_the_pseudonym_never_reaches_the_log(
    sign_in: Any, team: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    ready(team, START)
    caplog.set_level(logging.INFO, logger="custody.api")
    pathway = sign_in("nurse").get(f"/pathways/{PATIENT}")
    assert pathway.status_code == 200
    body = pathway.json()
    assert body["patient_pseudonym"] == PATIENT and body["rcp_outcome"] == "eligible"
    assert body["consent_signed"] is True and body["consent_withdrawn"] is False
    assert {member["user_id"] for member in body["pair"]} == {"physician", "internist"}
    assert sign_in("sponsor").get(f"/pathways/{PATIENT}").status_code == 403
    assert sign_in("nurse").get("/pathways/PSN-NOBODY-0042").status_code == 404
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name == "custody.api")
    assert logged.count('"route": "/pathways/{reference}"') == 2, "both refusals are logged by route template"
    assert PATIENT not in logged and "PSN-NOBODY-0042" not in logged


def test_shipments_show_route_custodian_and_contents_and_a_sponsor_only_its_products(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    shipment, product, _ = dispatched(team)
    courier = sign_in("courier")
    [listed] = courier.get("/shipments").json()
    expected = {
        "shipment_id": str(shipment), "leg": "to_manufacturer", "from_site": j.APHERESIS_SITE,
        "to_site": j.MANUFACTURER, "temperature_class": "fresh_2_8c", "custodian": "courier",
        "handing_over_to": None, "seal_intact": True, "received": False, "units": [str(product)],
    }  # fmt: skip
    assert {key: listed[key] for key in expected} == expected
    assert courier.get(f"/shipments/{shipment}").json() == listed
    assert sign_in("sponsor").get("/shipments").json() == [listed], "the demo trial's product travels in it"
    register_staff(ledger, "sponsor2", "Sid Sponsor", "sponsor", password_of("sponsor2"), registrar="ledger")
    other = sign_in("sponsor2")
    assert other.get("/shipments").json() == []
    assert other.get(f"/shipments/{shipment}").status_code == 404


def test_batches_show_release_and_doses_left(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    enrolled(team, START)
    batch = uuid.uuid4()
    team(
        "qp", "BatchRegistered", batch, START + timedelta(days=1), "recorded",
        lot="MSC-LOT-9", donor_din="A999921654321", product_code="MSC-BANK", doses=4, site=j.MANUFACTURER,
    )  # fmt: skip
    qp = sign_in("qp")
    [listed] = qp.get("/batches").json()
    assert listed == qp.get(f"/batches/{batch}").json()
    assert {key: listed[key] for key in ("lot", "doses", "doses_left", "released", "recalled", "allocated")} == {
        "lot": "MSC-LOT-9", "doses": 4, "doses_left": 4, "released": False, "recalled": False, "allocated": [],
    }  # fmt: skip
    sponsor = sign_in("sponsor")
    assert sponsor.get("/batches").json() == [], "no dose of this batch went to the sponsor's trial"
    assert sponsor.get(f"/batches/{batch}").status_code == 404
