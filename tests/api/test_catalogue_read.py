"""`GET /catalogue` on both backends: every signed-in person reads the signed catalogue and its history (who
changed what, when, why); the answer is checked against what the test itself signed."""

from __future__ import annotations

from typing import Any

import pytest

from domain.catalogue_events import catalogue_digest
from ledger.catalogue_changes import sign_catalogue
from ledger.service import CustodyLedger
from tests.api.conftest import ROLES
from tests.integration.journeys import Recorder, password_of
from tests.role_table import CATALOGUE_READERS

LONGER_THAW = {"ACADEMIC-CD19": {"thaw_to_infusion_min": 45}}
TIGHTER_CD45 = {**LONGER_THAW, "MSC-BANK": {"release_panel": {"CD45": {"unit": "%", "maximum": 1.5}}}}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_the_catalogue_exactly_as_the_table_allows(sign_in: Any, role: str) -> None:
    answer = sign_in(role).get("/catalogue")
    if role in CATALOGUE_READERS:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 403 and answer.json()["rule"] == "role_not_allowed"


def test_an_unsigned_catalogue_is_the_labels_defaults_with_no_history(sign_in: Any) -> None:
    body = sign_in("nurse").get("/catalogue").json()
    assert body["signed"] is False and body["history"] == [] and body["mapping"] == {}
    kymriah = next(entry for entry in body["entries"] if entry["code"] == "KYMRIAH")
    assert (kymriah["storage_max_c"], kymriah["thaw_to_infusion_min"], kymriah["lymphodepletion_days"]) == (
        "-120", "30", "[2, 14]",
    )  # fmt: skip


def test_the_history_says_who_changed_which_setting_when_and_why(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    sign_catalogue(ledger, LONGER_THAW, "protocol amendment 3", user="qp", password=password_of("qp"))
    sign_catalogue(ledger, TIGHTER_CD45, "IMPD v4: CD45 at most 1.5 %", user="qc", password=password_of("qc"))
    body = sign_in("auditor").get("/catalogue").json()
    assert body["signed"] is True and body["version"] == 2 and body["mapping"] == TIGHTER_CD45
    assert body["sha256"] == catalogue_digest(TIGHTER_CD45)
    first, second = body["history"]
    assert (first["signed_by"]["user_id"], first["signed_by"]["role"], first["meaning"]) == ("qp", "qp", "approved")
    assert first["reason"] == "protocol amendment 3" and first["sha256"] == catalogue_digest(LONGER_THAW)
    assert first["changes"] == [{"setting": "ACADEMIC-CD19.thaw_to_infusion_min", "before": "60", "after": "45"}]
    assert second["signed_by"]["user_id"] == "qc" and second["recorded_at"] >= first["recorded_at"]
    assert second["changes"] == [{"setting": "MSC-BANK.release_panel.CD45", "before": "≤ 2 %", "after": "≤ 1.5 %"}]
    msc = next(entry for entry in body["entries"] if entry["code"] == "MSC-BANK")
    assert msc["release_panel.CD45"] == "≤ 1.5 %" and msc["release_panel.CD73"] == "≥ 95 %"
