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


def test_an_unknown_protocol_is_refused_by_name(demo_ledger: Custody) -> None:
    refused = demo_ledger.run_json("trial", "readiness", "NO-SUCH-TRIAL", expect=2)
    assert refused["field"] == "protocol" and "NO-SUCH-TRIAL" in refused["message"]
