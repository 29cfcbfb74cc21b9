"""No stored event can stop the read side: every follower, rebuild and check survives any stored value.

Each hostile event is signed with a real key and appended below the domain's
input checks (``tests.integration.hostile``), as an older version or an insider
could have stored it. Text a database column refuses is shown with U+FFFD while
the signed event keeps it; an event a read model cannot project becomes a
projection fault and the follower moves on; check fails while a fault exists.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from api.cli import main
from ledger.service import CustodyLedger
from ledger.settings import Settings
from projections import queries, runner
from projections.check import check
from projections.faults import recorded_faults
from projections.status_query import status_now
from tests.integration.hostile import LONE_SURROGATE, NOT_UTF8, PLACEHOLDER, forge_bytes, signed, stored_product
from tests.integration.journeys import PATIENT, Recorder, enrolled, team, verify
from tests.integration.projection_helpers import snapshot

REPLACEMENT = "\ufffd"


def faults_of(ledger: CustodyLedger) -> set[tuple[str, int, str, str, str]]:
    """Every recorded fault as (projection, position, aggregate id, event type, error class)."""
    return {
        (f["projection"], f["log_position"], f["aggregate_id"], f["event_type"], f["error_class"])
        for f in recorded_faults(ledger.store)
    }


def all_caught_up(ledger: CustodyLedger) -> bool:
    """Every follower's tracking position is the last stored event."""
    return all(lag.position == ledger.store.size() for lag in runner.lags(ledger.store))


def later_enrolment(rec: Recorder) -> uuid.UUID:
    """An ordinary product enrolled after the hostile event: proof the followers went past it."""
    return enrolled(rec, rec.ledger.clock.now() - timedelta(days=1), "PSN-TEST-LATER").product


def test_a_nul_in_a_deviation_is_shown_as_a_replacement_character_while_the_signed_event_keeps_it(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    product = stored_product(rec).product
    signed(
        ledger, product, "DeviationRecorded", {"severity": "minor", "description": "label\x00reprinted"}, "pharmacist"
    )

    runner.catch_up(ledger.store)

    [deviation] = queries.audit(ledger.store)["deviations"]
    assert deviation["detail"] == f"minor: label{REPLACEMENT}reprinted"
    status = status_now(ledger.store, product, ledger.clock.now())
    assert [d["description"] for d in status["open_deviations"]] == [f"label{REPLACEMENT}reprinted"]
    assert ledger.history(product)[-1].body["payload"]["description"] == "label\x00reprinted"
    assert verify(ledger).intact
    assert all_caught_up(ledger)
    assert check(ledger.store).passed


def test_a_lone_surrogate_in_an_annotation_is_shown_as_a_replacement_character_in_the_timeline(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    product = stored_product(rec).product
    forge_bytes(ledger, product, "AnnotationAdded", {"text": f"label {PLACEHOLDER} photographed"}, LONE_SURROGATE)
    assert ledger.history(product)[-1].body["payload"]["text"] == "label \ud800 photographed"
    # Verification holds the forger to I-JSON: a lone surrogate has no canonical form, so that record is flagged.
    [flagged] = verify(ledger).failures
    assert (flagged.position, flagged.aggregate_id) == (ledger.store.size(), str(product))
    assert flagged.reason == "undecodable_record" and "surrogates" in flagged.detail

    runner.catch_up(ledger.store)

    last = queries.timeline(ledger.store, PATIENT)[-1]
    assert (last["event_type"], last["payload"]) == ("AnnotationAdded", {"text": f"label {REPLACEMENT} photographed"})
    assert all_caught_up(ledger)
    assert check(ledger.store).passed


def test_a_payload_of_the_wrong_shape_is_a_fault_of_the_read_models_that_need_it_and_they_move_on(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    product = stored_product(rec).product
    version_before = ledger.history(product)[-1].version
    position = signed(ledger, product, "DeviationRecorded", {"severity": "minor"}, "pharmacist")
    later = later_enrolment(rec)

    runner.catch_up(ledger.store)

    assert faults_of(ledger) == {
        (name, position, str(product), "DeviationRecorded", "KeyError")
        for name in ("product-status", "inventory", "audit")
    }
    assert {f["message"] for f in recorded_faults(ledger.store)} == {"missing key description"}
    assert status_now(ledger.store, product, ledger.clock.now())["version"] == version_before
    assert status_now(ledger.store, later, ledger.clock.now())["state"] == "enrolled"
    audited = [row["log_position"] for row in queries.audit(ledger.store)["events"]]
    assert position not in audited and audited[-1] == ledger.store.size()
    assert all_caught_up(ledger)
    assert runner.catch_up(ledger.store) == dict.fromkeys(runner.NAMES, 0)


def test_a_value_a_column_cannot_take_is_a_fault_naming_the_column_but_never_the_value(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    product = stored_product(rec).product
    position = signed(ledger, product, "ProductQuarantined", {"reason": ["Jeanne Dupont"]}, "pharmacist")

    runner.catch_up(ledger.store)

    recorded = recorded_faults(ledger.store)
    status_fault = next(f for f in recorded if f["projection"] == "product-status")
    assert (status_fault["log_position"], status_fault["error_class"]) == (position, "UnstorableValue")
    assert "projection_product_status.quarantine_reason" in status_fault["message"]
    assert not [f for f in recorded if "Jeanne" in json.dumps(f, ensure_ascii=False)]
    assert all_caught_up(ledger)


def test_undecodable_bytes_are_a_fault_of_every_read_model_and_what_follows_is_projected(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    stranger = uuid.uuid4()
    position = forge_bytes(ledger, stranger, "AnnotationAdded", {"text": PLACEHOLDER}, NOT_UTF8)
    later = later_enrolment(rec)

    runner.catch_up(ledger.store)

    assert faults_of(ledger) == {
        (name, position, str(stranger), "AnnotationAdded", "UndecodableEvent") for name in runner.NAMES
    }
    assert status_now(ledger.store, later, ledger.clock.now())["state"] == "enrolled"
    assert all_caught_up(ledger)


def test_rebuild_records_the_same_faults_again_and_check_fails_while_there_are_faults(
    ledger: CustodyLedger,
) -> None:
    rec = team(ledger)
    product = stored_product(rec).product
    signed(ledger, product, "DeviationRecorded", {"severity": "minor"}, "pharmacist")
    forge_bytes(ledger, uuid.uuid4(), "AnnotationAdded", {"text": PLACEHOLDER}, NOT_UTF8)
    later_enrolment(rec)
    runner.catch_up(ledger.store, batch=3)
    incremental, faults = snapshot(ledger.store), faults_of(ledger)

    applied = runner.rebuild(ledger.store)

    assert applied == dict.fromkeys(runner.NAMES, ledger.store.size())
    assert (snapshot(ledger.store), faults_of(ledger)) == (incremental, faults)
    report = check(ledger.store)
    assert report.consistent and report.differences == []
    assert {(f["projection"], f["log_position"]) for f in report.faults} == {(p, n) for p, n, *_ in faults}
    assert not report.passed


def test_a_fault_recorded_in_memory_but_not_in_the_live_table_is_a_difference(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    signed(ledger, stored_product(rec).product, "DeviationRecorded", {"severity": "minor"}, "pharmacist")
    runner.catch_up(ledger.store)
    with ledger.store.side_transaction() as cursor:
        cursor.execute("DELETE FROM projection_faults WHERE projection = %s", ("audit",))

    report = check(ledger.store)

    assert [d for d in report.differences if d.startswith("projection_faults")] == [
        f"projection_faults row audit, {ledger.store.size()}: missing from the live table"
    ]


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `custody` command pointed at the test's ledger."""
    monkeypatch.setenv("CUSTODY_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("CUSTODY_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("CUSTODY_DATABASE_URL", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the command in this process; its exit code and standard output."""
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_the_commands_report_faults_rebuild_finishes_and_check_exits_1(
    ledger: CustodyLedger, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = team(ledger)
    product = stored_product(rec).product
    position = signed(ledger, product, "DeviationRecorded", {"severity": "minor"}, "pharmacist")

    code, out = run(capsys, "projections", "rebuild", "--json")
    assert code == 0
    rebuilt: dict[str, Any] = json.loads(out)
    assert rebuilt["rebuilt"] == dict.fromkeys(runner.NAMES, ledger.store.size())
    assert {(f["projection"], f["log_position"]) for f in rebuilt["faults"]} == {
        (name, position) for name in ("product-status", "inventory", "audit")
    }

    code, out = run(capsys, "projections", "check")
    assert code == 1
    assert f"FAULT audit at log position {position}: DeviationRecorded of {product}: KeyError" in out
    assert "consistent" in out.splitlines()[-1]
