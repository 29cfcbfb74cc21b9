"""The site catalogue as signed events: a QP approves each change, with its true digest and reason; the ledger
signs only the first; a change must change something, keep every code, and name its bad setting."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from domain_fixtures import ADMIN, LEDGER_ACTOR, QC_QP, QP, T0, FakeLedger

from domain.catalogue import Catalogue
from domain.catalogue_diff import SettingChange, differences
from domain.catalogue_events import CATALOGUE_ID, SiteCatalogue, catalogue_digest
from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.events import Meaning

LONGER_THAW = {"ACADEMIC-CD19": {"thaw_to_infusion_min": 45}}
REASON = "protocol amendment 3 allows 45 min from thaw"


def change(mapping: dict[str, Any], reason: str = REASON, **overrides: Any) -> dict[str, Any]:
    """A CatalogueChanged payload with the mapping's true digest."""
    return {"mapping": mapping, "sha256": catalogue_digest(mapping), "reason": reason, **overrides}


def catalogue_of(ledger: FakeLedger) -> SiteCatalogue:
    found = ledger.load(CATALOGUE_ID)
    assert isinstance(found, SiteCatalogue)
    return found


def refuse_change(ledger: FakeLedger, payload: dict[str, Any], error: type, field: str | None, rule: str,
                  message: str, actor: Any = QP) -> None:  # fmt: skip
    ledger.refuse(
        error, field=field, rule=rule, message=message, event_type="CatalogueChanged", aggregate_id=CATALOGUE_ID,
        payload=payload, actor=actor, at=T0 + timedelta(days=1), meaning=Meaning.APPROVED,
    )  # fmt: skip


def test_the_digest_is_the_sha256_of_sorted_compact_utf8_json_with_whole_numbers_as_integers() -> None:
    expected = hashlib.sha256(b'{"ACADEMIC-CD19":{"bags_max":2,"thaw_to_infusion_min":45}}').hexdigest()
    assert catalogue_digest({"ACADEMIC-CD19": {"thaw_to_infusion_min": 45, "bags_max": 2}}) == expected
    assert catalogue_digest({"ACADEMIC-CD19": {"thaw_to_infusion_min": 45.0, "bags_max": 2}}) == expected
    assert catalogue_digest({"ACADEMIC-CD19": {"thaw_to_infusion_min": 46, "bags_max": 2}}) != expected
    assert catalogue_digest({}) == hashlib.sha256(b"{}").hexdigest()


def test_a_qp_signs_a_change_and_the_catalogue_keeps_who_changed_what_and_why() -> None:
    ledger = FakeLedger()
    ledger.record("CatalogueChanged", CATALOGUE_ID, change(LONGER_THAW), QP, T0, Meaning.APPROVED)
    tighter = {**LONGER_THAW, "MSC-BANK": {"release_panel": {"CD45": {"unit": "%", "maximum": 1.5}}}}
    ledger.record("CatalogueChanged", CATALOGUE_ID, change(tighter, "updated IMPD"), QC_QP, T0 + timedelta(days=1))
    signed = catalogue_of(ledger)
    assert [(c.version, c.actor.user_id, c.reason) for c in signed.changes] == [
        (1, QP.user_id, REASON), (2, QC_QP.user_id, "updated IMPD"),
    ]  # fmt: skip
    assert signed.mapping == tighter and signed.digest == catalogue_digest(tighter)
    assert signed.catalogue.get("ACADEMIC-CD19").thaw_to_infusion_min == 45
    assert signed.catalogue.get("KYMRIAH").thaw_to_infusion_min == 30
    cd45 = [c for c in signed.catalogue.get("MSC-BANK").release_panel if c.name == "CD45"]
    assert [(c.maximum, c.unit) for c in cd45] == [(1.5, "%")]


def test_the_ledger_signs_the_first_catalogue_only() -> None:
    ledger = FakeLedger()
    ledger.record("CatalogueChanged", CATALOGUE_ID, change(LONGER_THAW), LEDGER_ACTOR, T0, Meaning.RECORDED)
    later = change({"ACADEMIC-CD19": {"thaw_to_infusion_min": 50}})
    refuse_change(ledger, later, RuleViolation, "user", "catalogue_change_needs_a_person", "approved by a Qualified",
                  actor=LEDGER_ACTOR)  # fmt: skip


def test_the_administrator_does_not_sign_product_specification() -> None:
    refuse_change(FakeLedger(), change(LONGER_THAW), RuleViolation, "user", "role_not_allowed", "qp, system",
                  actor=ADMIN)  # fmt: skip


def test_the_digest_must_be_the_mappings_own() -> None:
    forged = change(LONGER_THAW, sha256=catalogue_digest({}))
    refuse_change(FakeLedger(), forged, InvalidInput, "payload.sha256", "catalogue_digest_mismatch", "SHA-256")


@pytest.mark.parametrize(
    ("mapping", "field", "rule"),
    [
        ({"KYMRIAH": {"thaw_to_infusion_min": 0}}, "payload.mapping.KYMRIAH.thaw_to_infusion_min",
         "catalogue_out_of_range"),
        ({"KYMRIAH": {"thaw_minutes": 30}}, "payload.mapping.KYMRIAH.thaw_minutes", "catalogue_unknown_key"),
        ({"CAR-X": {"name": "New CAR-T"}}, "payload.mapping.CAR-X.kind", "catalogue_missing_key"),
        ({"MSC-BANK": {"release_panel": {"CD45": {"minimum": 3, "maximum": 2}}}},
         "payload.mapping.MSC-BANK.release_panel.CD45", "catalogue_out_of_range"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_refused_by_its_path_in_the_payload(mapping: dict[str, Any], field: str, rule: str) -> None:
    refuse_change(FakeLedger(), change(mapping), InvalidInput, field, rule, field)


def test_a_change_that_changes_nothing_is_refused() -> None:
    refuse_change(FakeLedger(), change({}), OutOfOrder, None, "catalogue_unchanged", "changes nothing")
    ledger = FakeLedger()
    ledger.record("CatalogueChanged", CATALOGUE_ID, change(LONGER_THAW), QP, T0)
    same_figures = {"ACADEMIC-CD19": {"thaw_to_infusion_min": 45.0}}
    refuse_change(ledger, change(same_figures, "again"), OutOfOrder, None, "catalogue_unchanged", "changes nothing")


def test_a_signed_product_code_stays_in_the_catalogue() -> None:
    ledger = FakeLedger()
    new_product = {"name": "Academic CAR-X", "kind": "car_t", "storage_max_c": -150, "thaw_to_infusion_min": 60,
                   "lymphodepletion_days": [2, 10]}  # fmt: skip
    ledger.record("CatalogueChanged", CATALOGUE_ID, change({"CAR-X": new_product}), QP, T0)
    refuse_change(ledger, change(LONGER_THAW), RuleViolation, "payload.mapping.CAR-X", "catalogue_code_dropped",
                  "CAR-X")  # fmt: skip


def test_a_change_names_the_one_catalogue_and_gives_a_reason() -> None:
    ledger = FakeLedger()
    ledger.refuse(
        InvalidInput, field="aggregate_id", rule="aggregate_id_mismatch", message="one catalogue",
        event_type="CatalogueChanged", aggregate_id=uuid4(), payload=change(LONGER_THAW), actor=QP, at=T0,
    )  # fmt: skip
    without_reason = {"mapping": LONGER_THAW, "sha256": catalogue_digest(LONGER_THAW)}
    refuse_change(ledger, without_reason, InvalidInput, "payload.reason", "required", "required")


def test_the_diff_names_each_changed_setting_and_each_panel_test() -> None:
    before = Catalogue.default()
    after = Catalogue.from_mapping(
        {
            "ACADEMIC-CD19": {"thaw_to_infusion_min": 45},
            "MSC-BANK": {"release_panel": {"potency": {"expected": "conforms"}}},
        }
    )
    assert differences(before, after) == [
        SettingChange("ACADEMIC-CD19.thaw_to_infusion_min", "60", "45"),
        SettingChange("MSC-BANK.release_panel.potency", None, "conforms"),
    ]
    assert differences(after, before)[-1] == SettingChange("MSC-BANK.release_panel.potency", "conforms", None)
