"""`custody staff qualify | show`: an administrator records training; anyone on the machine sees its state today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Custody


def test_the_demo_courier_s_training_is_shown_expiring_and_a_new_qualification_valid(scratch_ledger: Custody) -> None:
    shown = scratch_ledger.run_json("staff", "show", "courier")
    assert shown["role"] == "courier"
    assert [held["state"] for held in shown["qualifications"]] == ["expiring"]  # the demo leaves 45 days

    until = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    recorded = scratch_ledger.run(
        "staff", "qualify", "nurse", "--events", "Thawed", "Infused", "--until", until, "--reference", "TR-E2E-1",
        CUSTODY_PASSWORD=scratch_ledger.admin_password(),
    )  # fmt: skip
    assert recorded.stdout.startswith("qualified nurse for Thawed, Infused from ")

    nurse = scratch_ledger.run_json("staff", "show", "nurse")
    held = {q["reference"]: q for q in nurse["qualifications"]}
    assert held["TR-E2E-1"]["state"] == "valid" and held["TR-E2E-1"]["covers"] == ["Infused", "Thawed"]
    assert held["TR-E2E-1"]["recorded_by"] == "admin"
    text = scratch_ledger.run("staff", "show", "nurse").stdout
    assert "TR-E2E-1: valid — Infused, Thawed" in text


def test_a_qualification_for_a_step_the_role_does_not_sign_is_refused_naming_the_field(
    scratch_ledger: Custody,
) -> None:
    size = scratch_ledger.ledger_size()
    refused = scratch_ledger.run(
        "staff", "qualify", "nurse", "--events", "ProductReleased", "--until", "2099-01-01", "--reference", "TR-BAD",
        expect=2, CUSTODY_PASSWORD=scratch_ledger.admin_password(),
    )  # fmt: skip
    assert "[field: payload.events[0]; rule: role_cannot_sign]" in refused.stderr
    assert scratch_ledger.ledger_size() == size
    unknown = scratch_ledger.run("staff", "show", "nobody", expect=2)
    assert "rule: unknown_user" in unknown.stderr
