"""`custody sites | trials | shipments | batches` and the bag lines of `custody status`, on the demo ledger."""

from __future__ import annotations

from api import demo_journeys as j
from api import demo_pathway
from tests.e2e.conftest import Custody


def test_sites_json_lists_every_accredited_demo_site_with_its_scope_and_validity(demo_ledger: Custody) -> None:
    sites = {site["code"]: site for site in demo_ledger.run_json("sites")["sites"]}
    assert set(demo_pathway.SITES) <= set(sites)
    for code, scope in demo_pathway.SITES.items():
        assert [held["scope"] for held in sites[code]["accreditations"]] == [scope], code
        assert sites[code]["covers_today"] == scope, code


def test_sites_prints_one_site_per_line_with_its_accreditations(demo_ledger: Custody) -> None:
    printed = demo_ledger.run("sites").stdout
    assert f"{j.PHARMACY}" in printed and "covered today for: storage" in printed
    assert "jacie JACIE-" in printed


def test_trials_shipments_and_batches_list_what_the_demo_recorded(demo_ledger: Custody) -> None:
    trials = demo_ledger.run_json("trials")["trials"]
    assert demo_pathway.TRIAL_PROTOCOL in {trial["protocol"] for trial in trials}
    shipments = demo_ledger.run_json("shipments")["shipments"]
    assert {(s["leg"], s["to_site"]) for s in shipments} >= {("to_manufacturer", j.MANUFACTURER)}
    assert all(s["units"] for s in shipments)
    batches = demo_ledger.run_json("batches")["batches"]
    assert "MSC-BANK-2026-07" in {batch["lot"] for batch in batches}
    assert demo_ledger.run("trials").stdout.startswith(f"{len(trials)} trials")


def test_status_prints_each_bag_and_its_fate(demo_ledger: Custody) -> None:
    shipments = demo_ledger.run_json("shipments")["shipments"]
    product = next(s["units"][0] for s in shipments if s["leg"] == "to_pharmacy")
    status = demo_ledger.run_json("status", product)
    assert status["bags"], "a product shipped to the pharmacy was manufactured into bags"
    printed = demo_ledger.run("status", product).stdout
    for bag in status["bags"]:
        assert f"  bag {bag['bag_id']}: {bag['fate']}" in printed
