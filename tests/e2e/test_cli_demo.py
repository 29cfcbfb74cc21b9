"""`custody demo`: one JSON summary, and `--if-empty` records nothing on a ledger that has products."""

from __future__ import annotations

import json
from uuid import UUID

from api.demo import PATIENTS, USERS
from tests.e2e.conftest import Custody

ROLES = {"nurse", "physician", "pharmacist", "qp", "courier", "sponsor", "auditor", "admin"}


def test_demo_json_prints_one_object_with_five_products_four_pseudonyms_and_every_users_password(
    demo_ledger: Custody,
) -> None:
    summary = demo_ledger.demo

    assert set(summary) == {"products", "patients", "users", "refused"}
    assert len(summary["products"]) == 5
    assert len({UUID(product) for product in summary["products"]}) == 5
    assert summary["patients"] == list(PATIENTS)
    assert set(summary["users"]) == set(USERS) | {"admin"}
    assert {role for _, role in USERS.values()} | {"admin"} == ROLES
    for user in USERS:
        assert summary["users"][user] == f"{user}-demo-pass"
    assert summary["users"]["admin"] == demo_ledger.admin_password()


def test_demo_shows_each_kind_of_attempt_a_unit_must_never_accept_refused_with_its_rule(demo_ledger: Custody) -> None:
    rules = [refusal.split("[", 1)[1].split("]", 1)[0] for refusal in demo_ledger.demo["refused"]]
    assert rules == [
        "pathway_required",
        "enrolment_does_not_match_decision",
        "site_not_registered",
        "din_already_used",
        "ln2_position_occupied",
        "trial_site_not_ready",
        "trial_site_not_activated",
        "implausible_value",
        "release_by_qc_recorder",
        "open_deviation_blocks_step",
        "temperature_verdict_contradicts_figures",
        "qc_verdict_contradicts_results",
        "corrector_role_not_allowed",
    ]


def test_demo_saves_its_summary_privately_in_the_home(demo_ledger: Custody) -> None:
    saved = demo_ledger.home / "demo.json"

    assert json.loads(saved.read_text()) == demo_ledger.demo
    assert saved.stat().st_mode & 0o077 == 0


def test_demo_if_empty_on_a_ledger_with_products_prints_the_same_products_and_records_nothing(
    demo_ledger: Custody,
) -> None:
    before = demo_ledger.ledger_size()

    again = demo_ledger.run_json("demo", "--if-empty")

    assert again["products"] == demo_ledger.demo["products"]
    assert again["patients"] == demo_ledger.demo["patients"]
    assert demo_ledger.ledger_size() == before


def test_demo_without_json_prints_the_products_for_a_person(demo_ledger: Custody) -> None:
    result = demo_ledger.run("demo", "--if-empty")

    assert "already holds products" in result.stdout
    assert all(product in result.stdout for product in demo_ledger.demo["products"])
    assert result.stdout.endswith(
        "".join(f"refused, as it must be: {refusal}\n" for refusal in demo_ledger.demo["refused"])
    )
