"""`custody trial readiness`: the demo trial's sites, one active and ready, one missing its GMO authorisation."""

from __future__ import annotations

from api import demo_journeys as j
from api import demo_trial_sites
from tests.e2e.conftest import Custody

PROTOCOL = "CART-AUTOIMMUNE-01"


def test_readiness_lists_each_site_with_what_is_met_missing_or_expiring(demo_ledger: Custody) -> None:
    report = demo_ledger.run_json("trial", "readiness", PROTOCOL)
    sites = {site["site_code"]: site for site in report["sites"]}
    assert sites[j.UNIT]["status"] == "active" and sites[j.UNIT]["ready"]
    unready = sites[demo_trial_sites.UNREADY_SITE]
    missing = [c["prerequisite"] for c in unready["prerequisites"] if c["state"] == "missing"]
    assert unready["status"] == "opened" and missing == ["gmo_authorisation", "staff_training"]
    text = demo_ledger.run("trial", "readiness", PROTOCOL).stdout
    assert "[MISSING] gmo_authorisation: not attested" in text
    assert f"{demo_trial_sites.UNREADY_SITE}: opened, NOT READY" in text


def test_readiness_shows_who_signed_each_attestation_who_may_and_the_pairs_specialties(demo_ledger: Custody) -> None:
    report = demo_ledger.run_json("trial", "readiness", PROTOCOL)
    unit = {c["prerequisite"]: c for c in {s["site_code"]: s for s in report["sites"]}[j.UNIT]["prerequisites"]}
    signers = {name: (c["evidence"][0]["signed_by_name"], c["evidence"][0]["signed_by_role"], c["may_attest"])
               for name, c in unit.items() if name not in {"accreditation", "staff_training"}}  # fmt: skip
    assert signers == {
        "disease_specialist": ("Isabelle Roussel", "admin", ["admin", "physician"]),
        "cell_therapy_specialist": ("Isabelle Roussel", "admin", ["admin", "physician"]),
        "pui_agreement": ("Dr Bruno Vasseur", "pharmacist", ["pharmacist"]),
        "gmo_authorisation": ("Isabelle Roussel", "admin", ["admin"]),
        "contract_signed": ("Isabelle Roussel", "admin", ["admin", "sponsor"]),
        "initiation_visit": ("Thomas Girard", "sponsor", ["sponsor"]),
        "rcp_named": ("Dr Anne Durand", "physician", ["physician"]),
        "ln2_qualified": ("Dr Bruno Vasseur", "pharmacist", ["pharmacist", "qp"]),
    }
    assert "may_attest" not in unit["accreditation"]
    assert unit["disease_specialist"]["specialty"]["specialties"] == ["internal_medicine"]
    text = demo_ledger.run("trial", "readiness", PROTOCOL).stdout
    assert "PUI-ACCORD-CART-01 (Head of the hospital pharmacy (PUI)); signed by Dr Bruno Vasseur (pharmacist)" in text
    assert "attested by: pharmacist or qp" in text
    assert (
        "specialty fits: internist (Dr Hélène Robert): internal_medicine, treats systemic_lupus_erythematosus" in text
    )


def test_an_unknown_protocol_is_refused_by_name(demo_ledger: Custody) -> None:
    refused = demo_ledger.run_json("trial", "readiness", "NO-SUCH-TRIAL", expect=2)
    assert refused["field"] == "protocol" and "NO-SUCH-TRIAL" in refused["message"]
