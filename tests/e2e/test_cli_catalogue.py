"""`custody catalogue show | diff | apply` and the refusal to serve an unsigned catalogue file, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.service import CustodyLedger
from ledger.setup import initialise, register_staff
from tests.conftest import ADMIN_PASSWORD, make_settings
from tests.e2e.conftest import Custody

QP_PASSWORD = "qp-password"
STRICTER_MSC = {"MSC-BANK": {"release_panel": {"viability": {"unit": "%", "minimum": 80}}}}
REASON = "IMPD v4: at least 80 % viable MSC"


@pytest.fixture
def custody(empty_ledger: Custody) -> Custody:
    """A ledger initialised with an administrator and one Qualified Person."""
    ledger = CustodyLedger(make_settings(empty_ledger.backend, empty_ledger.home, empty_ledger.schema))
    try:
        initialise(ledger, ADMIN_PASSWORD)
        register_staff(ledger, "qp", "Quentin Qp", "qp", QP_PASSWORD, registrar="ledger")
    finally:
        ledger.close()
    return empty_ledger


def test_a_qp_reviews_and_signs_the_file_and_until_then_the_ledger_will_not_serve_it(
    custody: Custody, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(STRICTER_MSC))
    assert custody.run_json("catalogue", "show")["signed"] is False
    refused = custody.run("serve", "--port", "1", expect=2, CUSTODY_CATALOGUE_FILE=str(path))
    assert "rule: catalogue_file_not_applied" in refused.stderr and f"custody catalogue apply {path}" in refused.stderr
    diff = custody.run("catalogue", "diff", str(path), expect=1)
    assert "~ MSC-BANK.release_panel.viability: ≥ 70 % → ≥ 80 %" in diff.stdout
    size = custody.ledger_size()
    as_admin = custody.run(
        "catalogue", "apply", str(path), "--reason", REASON, "--user", "admin", "--password-stdin",
        stdin=ADMIN_PASSWORD, expect=2,
    )  # fmt: skip
    assert "rule: role_not_allowed" in as_admin.stderr and custody.ledger_size() == size
    applied = custody.run(
        "catalogue", "apply", str(path), "--reason", REASON, "--user", "qp", "--password-stdin", stdin=QP_PASSWORD
    )
    assert "catalogue version 1 signed by qp" in applied.stdout
    assert custody.ledger_size() == size + 1
    assert "the file is the signed catalogue" in custody.run("catalogue", "diff", str(path)).stdout
    shown = custody.run_json("catalogue", "show")
    assert shown["signed"] is True and shown["mapping"] == STRICTER_MSC
    [change] = shown["history"]
    assert (change["signed_by"]["user_id"], change["reason"]) == ("qp", REASON)
    assert json.loads(custody.run("catalogue", "show", "--mapping").stdout) == STRICTER_MSC
    assert "IMPD v4" in custody.run("catalogue", "show").stdout
