"""The read models from the command line: status, timeline, inventory, audit, metrics, and projections."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from tests.e2e.conftest import Custody


def test_status_json_of_the_first_demo_product_has_state_infused_and_its_custodian(demo_ledger: Custody) -> None:
    status = demo_ledger.run_json("status", demo_ledger.demo["products"][0])
    assert status["state"] == "infused"
    assert status["custodian"]["role"] == "nurse" and status["source"] == "projection"


def test_status_as_of_before_the_ledger_existed_exits_2_naming_the_as_of_field(demo_ledger: Custody) -> None:
    result = demo_ledger.run("status", demo_ledger.demo["products"][0], "--as-of", "2001-01-01T00:00:00Z", expect=2)
    assert "field: as_of" in result.stderr


def test_a_malformed_as_of_exits_2_naming_the_field_and_the_rule(demo_ledger: Custody) -> None:
    result = demo_ledger.run("status", demo_ledger.demo["products"][0], "--as-of", "last tuesday", expect=2)
    assert "field: as_of; rule: malformed_instant" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_product_exits_2_naming_the_product_field(demo_ledger: Custody) -> None:
    result = demo_ledger.run("status", "00000000-0000-4000-8000-000000000000", expect=2)
    assert "field: product" in result.stderr


def test_inventory_of_an_unknown_site_exits_2_naming_the_site_field(demo_ledger: Custody) -> None:
    result = demo_ledger.run("inventory", "--site", "Atlantis PUI", expect=2)
    assert "field: site; rule: unknown_site" in result.stderr


def test_inventory_lists_the_msc_dose_still_in_ln2(demo_ledger: Custody) -> None:
    units = demo_ledger.run_json("inventory")["units"]
    assert any(u["patient_pseudonym"] == "PSN-SSC-0002" and u["tank"] == "LN2-TANK-1" for u in units)


def test_timeline_prints_the_pseudonym_and_never_the_patient_name(demo_ledger: Custody) -> None:
    result = demo_ledger.run("timeline", "--patient", "PSN-SLE-0001")
    assert "PSN-SLE-0001" in result.stdout and "ApheresisCollected" in result.stdout
    assert "DUPONT" not in result.stdout and "IPP-40021" not in result.stdout


def test_audit_lists_the_identity_near_miss(demo_ledger: Custody) -> None:
    trail = demo_ledger.run_json("audit", "--since", "2000-01-01T00:00:00Z")
    assert [row["event_type"] for row in trail["near_misses"]] == ["IdentityMismatchRecorded"]


def test_metrics_give_a_vein_to_vein_figure_for_car_t(demo_ledger: Custody) -> None:
    groups = demo_ledger.run_json("metrics")["groups"]
    assert any(g["product_kind"] == "car_t" and g["vein_to_vein"]["count"] >= 1 for g in groups)


def test_projections_check_exits_1_naming_a_hand_edited_row_and_rebuild_repairs_it(fresh_demo: Custody) -> None:
    fresh_demo.run("projections", "rebuild")
    assert fresh_demo.run_json("projections", "check")["consistent"] is True
    edit = "UPDATE projection_inventory SET status = 'available', tank = 'LN2-TANK-9'"
    if fresh_demo.backend == "sqlite":
        with closing(sqlite3.connect(fresh_demo.sqlite_path)) as conn, conn:
            conn.execute(edit)
    else:
        with fresh_demo.pg() as conn:
            conn.execute(edit)
    result = fresh_demo.run("projections", "check", expect=1)
    assert "projection_inventory row" in result.stdout and "column tank" in result.stdout
    fresh_demo.run("projections", "rebuild", "inventory")
    fresh_demo.run("projections", "check")
    lags = fresh_demo.run_json("projections", "status")["projections"]
    assert {lag["behind"] for lag in lags} == {0}
