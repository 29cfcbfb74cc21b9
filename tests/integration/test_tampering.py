"""An insider with database rights edits history: the verifier names what, where and why.

Every case records a realistic product history through ``ledger.record``, then
edits the event table directly with the immutability triggers switched off, as
a DBA could, and checks the verification report's reason, aggregate, version
and log position. The triggers themselves are checked too: left on, they refuse
the same edits on both backends.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import timedelta

import psycopg
import pytest

from domain.staff import staff_id_for
from ledger.keys import KeyPair
from ledger.service import CustodyLedger
from ledger.settings import Settings
from tests.integration.journeys import Journey, Recorder, dba, failures, infused, team, verify


@pytest.fixture
def recorded(ledger: CustodyLedger) -> tuple[CustodyLedger, Journey]:
    """A ledger holding one product's whole journey, enrolment to follow-up."""
    rec = team(ledger)
    journey = infused(rec, ledger.clock.now() - timedelta(days=40))
    return ledger, journey


def _version_of(ledger: CustodyLedger, journey: Journey, event_type: str) -> int:
    [version] = [e.version for e in ledger.history(journey.product) if e.type == event_type]
    return version


def test_an_untampered_ledger_verifies_intact_after_a_whole_journey(
    recorded: tuple[CustodyLedger, Journey],
) -> None:
    ledger, journey = recorded
    report = verify(ledger)
    assert report.intact, report.failures
    assert report.events == sum(1 for _ in ledger.store.scan()) == ledger.store.size()
    # staff: the ledger, admin, eight people (the pair's internist and a second QP who records QC among them) and
    # the three who attest the trial sites' evidence (api/demo_trial_sites.py: PUI pharmacist, research director,
    # sponsor's research associate);
    # four sites (apheresis, manufacturer, pharmacy, unit), the trial and its two activated sites (apheresis and
    # unit), the patient's pathway, one product, two shipments, its DIN and its LN2 position; each person's
    # printed name is an aggregate of its own (domain/printed_names.py), hence the staff counted twice
    assert report.aggregates == 2 * 13 + 4 + 1 + 2 + 1 + 1 + 2 + 1 + 1
    assert ledger.history(journey.product)[-1].type == "FollowUpRecorded"


def test_one_changed_byte_in_a_payload_is_an_edited_record(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, journey = recorded
    version = _version_of(ledger, journey, "ApheresisCollected")
    with dba(settings) as db:
        row = db.row(journey.product, version)
        assert row.state.count(b'"volume_ml":245') == 1
        db.disable_immutability()
        db.set_state(journey.product, version, row.state.replace(b'"volume_ml":245', b'"volume_ml":345'))
    report = verify(ledger)
    assert failures(report) == {("edited_record", str(journey.product), version, row.position)}


def test_an_event_deleted_in_the_middle_of_a_chain_is_a_missing_version(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, journey = recorded
    version = _version_of(ledger, journey, "ManufacturingStarted")
    with dba(settings) as db:
        following = db.row(journey.product, version + 1)
        db.disable_immutability()
        db.delete(journey.product, version)
    report = verify(ledger)
    assert ("missing_version", str(journey.product), version, following.position) in failures(report)
    assert {f.aggregate_id for f in report.failures} == {str(journey.product)}
    assert {f.reason for f in report.failures} <= {"missing_version", "broken_link"}


def test_an_event_copied_from_another_aggregate_is_a_misplaced_event(ledger: CustodyLedger, settings: Settings) -> None:
    rec: Recorder = team(ledger)
    start = ledger.clock.now() - timedelta(days=40)
    first = infused(rec, start)
    second = infused(rec, start + timedelta(hours=1), pseudonym="PSN-TEST-0002")
    source_version = _version_of(ledger, first, "ApheresisCollected")
    target_version = ledger.history(second.product)[-1].version + 1
    with dba(settings) as db:
        source = db.row(first.product, source_version)
        db.disable_immutability()
        position = db.insert(second.product, target_version, source.topic, source.state)
    report = verify(ledger)
    assert ("misplaced_event", str(second.product), target_version, position) in failures(report)
    assert {(f.aggregate_id, f.version) for f in report.failures} == {(str(second.product), target_version)}
    assert {f.reason for f in report.failures} <= {"misplaced_event", "broken_link"}


def test_an_edit_with_its_hash_recomputed_fails_the_signature_and_the_next_link(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, journey = recorded
    version = _version_of(ledger, journey, "ApheresisCollected")
    with dba(settings) as db:
        row = db.row(journey.product, version)
        following = db.row(journey.product, version + 1)
        match = re.fullmatch(rb'\{"body":(.*),"hash":"([0-9a-f]{64})"(,"signature":"[^"]+"\})', row.state, re.S)
        assert match is not None
        body = match.group(1).replace(b'"volume_ml":245', b'"volume_ml":345')
        assert body != match.group(1)
        rehashed = b'{"body":' + body + b',"hash":"' + hashlib.sha256(body).hexdigest().encode() + b'"' + match.group(3)
        db.disable_immutability()
        db.set_state(journey.product, version, rehashed)
    report = verify(ledger)
    assert failures(report) == {
        ("bad_signature", str(journey.product), version, row.position),
        ("broken_link", str(journey.product), version + 1, following.position),
    }


def test_a_genesis_key_that_is_not_the_trusted_one_leaves_every_event_unverified(
    recorded: tuple[CustodyLedger, Journey],
) -> None:
    ledger, _ = recorded
    report = verify(ledger, trusted={KeyPair.generate().public_key})
    untrusted = [f for f in report.failures if f.reason == "untrusted_ledger_key"]
    assert ("untrusted_ledger_key", str(staff_id_for("ledger")), 2) in {
        (f.reason, f.aggregate_id, f.version) for f in untrusted
    }
    unknown = [f for f in report.failures if f.reason == "unknown_key"]
    assert {f.position for f in unknown} == set(range(1, ledger.store.size() + 1))
    assert not report.intact


def test_only_the_genesis_registration_is_reported_as_an_untrusted_ledger_key(
    recorded: tuple[CustodyLedger, Journey],
) -> None:
    """Later key registrations are signed by an unknown key; they are not 'the genesis key'."""
    ledger, _ = recorded
    report = verify(ledger, trusted={KeyPair.generate().public_key})
    untrusted = {(f.aggregate_id, f.version) for f in report.failures if f.reason == "untrusted_ledger_key"}
    assert untrusted == {(str(staff_id_for("ledger")), 2)}


def test_a_key_history_failure_names_the_log_position_of_its_row(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, _ = recorded
    with dba(settings) as db:
        genesis_key = db.row(staff_id_for("ledger"), 2)
    report = verify(ledger, trusted={KeyPair.generate().public_key})
    [genesis] = [
        f
        for f in report.failures
        if f.reason == "untrusted_ledger_key" and f.aggregate_id == str(staff_id_for("ledger"))
    ]
    assert genesis.position == genesis_key.position


def test_garbage_bytes_in_a_row_are_an_undecodable_record(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, journey = recorded
    version = _version_of(ledger, journey, "QcResultsRecorded")
    with dba(settings) as db:
        row = db.row(journey.product, version)
        db.disable_immutability()
        db.set_state(journey.product, version, b"\x00\xff\xfe not an envelope \x80")
    report = verify(ledger)
    assert failures(report) == {("undecodable_record", str(journey.product), version, row.position)}


# -- the immutability triggers -------------------------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_a_stored_event(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, journey = recorded
    version = _version_of(ledger, journey, "ApheresisCollected")
    with dba(settings) as db:
        before = db.row(journey.product, version)
        edited = before.state.replace(b'"volume_ml":245', b'"volume_ml":345')
        if settings.backend == "sqlite":
            refused: tuple[type[Exception], ...] = (sqlite3.IntegrityError, sqlite3.DatabaseError)
        else:
            refused = (psycopg.errors.InsufficientPrivilege,)
        with pytest.raises(refused, match="stored events are immutable"):
            db.set_state(journey.product, version, edited)
        with pytest.raises(refused, match="stored events are immutable"):
            db.delete(journey.product, version)
        assert db.row(journey.product, version) == before
        assert len(db.rows()) == ledger.store.size()
    assert verify(ledger).intact


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_refuses_to_truncate_the_event_log(
    recorded: tuple[CustodyLedger, Journey], settings: Settings
) -> None:
    ledger, _ = recorded
    size = ledger.store.size()
    with dba(settings) as db:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="stored events are immutable"):
            db.pg.execute("TRUNCATE custody_events")
        assert len(db.rows()) == size
    assert verify(ledger).intact
