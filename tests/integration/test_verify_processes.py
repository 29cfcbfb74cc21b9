"""Worker processes and the in-process check give the very same report, failures, order and wording included.

The ledger is tampered with as a DBA could (an edited byte, a deleted row, a row copied into
another aggregate, a deleted latest event after a checkpoint); each case is verified in this
process and on two workers (``processes_from=0`` forces them on a small log).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

import ledger.verify_workers as verify_workers
from ledger.merkle_log import checkpoint
from ledger.row_check import PlainRow, RowRules
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.verifier import ROWS_PER_TASK, VerificationReport, VerifyOptions, key_history, verify_store
from ledger.verify_workers import WorkerFailed, checked_chunks
from tests.integration.annotated_log import AnnotatedLog
from tests.integration.journeys import dba, failures, infused, team


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every worker process started during the test."""
    workers: list[Any] = []
    real = verify_workers._Worker

    class Counted(real):  # type: ignore[valid-type,misc]
        def __init__(self, rules: bytes) -> None:
            super().__init__(rules)
            workers.append(self)

    monkeypatch.setattr(verify_workers, "_Worker", Counted)
    return workers


def both_ways(ledger: CustodyLedger, started: list[Any]) -> VerificationReport:
    """Verify in this process and on two workers; the reports must be equal; return it."""
    base = VerifyOptions(trusted={ledger.meta.ledger_key_pair().public_key}, ledger_id=ledger.meta.ledger_id())
    in_process = verify_store(ledger.store, replace(base, workers=1))
    assert started == []
    on_workers = verify_store(ledger.store, replace(base, workers=2, processes_from=0))
    assert len(started) == 2
    assert all(worker.process.poll() is not None for worker in started)  # ended once the log was read
    assert on_workers.to_json() == in_process.to_json()
    return on_workers


@pytest.fixture
def journey_ledger(ledger: CustodyLedger) -> Any:
    rec = team(ledger)
    return infused(rec, ledger.clock.now() - timedelta(days=40))


def test_an_untampered_ledger_is_intact_both_ways(
    ledger: CustodyLedger, journey_ledger: Any, started: list[Any]
) -> None:
    checkpoint(ledger)
    report = both_ways(ledger, started)
    assert report.intact and report.checkpoints == 1
    assert report.events == ledger.store.size()


def test_an_edit_and_deletions_are_named_alike_both_ways(
    ledger: CustodyLedger, settings: Settings, journey_ledger: Any, started: list[Any]
) -> None:
    product = str(journey_ledger.product)
    history = ledger.history(journey_ledger.product)
    [edited] = [e.version for e in history if e.type == "ApheresisCollected"]
    [deleted] = [e.version for e in history if e.type == "ManufacturingStarted"]
    latest = history[-1].version
    checkpoint(ledger)
    with dba(settings) as db:
        edited_row = db.row(journey_ledger.product, edited)
        after_deleted = db.row(journey_ledger.product, deleted + 1)
        db.disable_immutability()
        db.set_state(journey_ledger.product, edited, edited_row.state.replace(b'"volume_ml":245', b'"volume_ml":345'))
        db.delete(journey_ledger.product, deleted)
        db.delete(journey_ledger.product, latest)  # the latest event: only the checkpoint can show it is gone
    report = both_ways(ledger, started)
    product_failures = {found for found in failures(report) if found[1] == product}
    # The edited row no longer hashes (the next link is not judged: its predecessor is already reported); the
    # deleted one leaves a gap named at its successor; the follower's table and the checkpoint's size locate
    # the first changed leaf: the edited row, still stored at its position.
    assert product_failures == {
        ("edited_record", product, edited, edited_row.position),
        ("missing_version", product, deleted, after_deleted.position),
        ("truncated_log", product, edited, edited_row.position),
        ("follower_mismatch", product, edited, edited_row.position),
    }
    # The ledger's own commitment of heads, stored with the checkpoint, no longer describes the rows before it.
    assert {f.reason for f in report.failures if f.aggregate_id != product} == {"heads_commitment_mismatch"}
    assert report.failures == sorted(report.failures, key=lambda f: (f.position, f.aggregate_id, f.version))


def test_versions_stored_out_of_turn_are_judged_from_all_their_rows_both_ways(
    ledger: CustodyLedger, settings: Settings, started: list[Any]
) -> None:
    log = AnnotatedLog(ledger, aggregates=2)
    log.rounds(4)
    aggregate = next(iter(log.heads))
    with dba(settings) as db:
        second = db.row(aggregate, 2)
        db.disable_immutability()
        db.delete(aggregate, 2)
        moved = db.insert(aggregate, 2, second.topic, second.state)  # the same event, now last in the log
    report = both_ways(ledger, started)
    # Every version is there and links to its predecessor: moving a row breaks no chain (its hash is unchanged).
    assert report.intact, report.failures
    assert moved > second.position


def test_a_worker_that_raises_is_reported_and_every_worker_ends(ledger: CustodyLedger, started: list[Any]) -> None:
    body = b'{"n":' + b"9" * 5000 + b"}"  # more digits than int() reads: json raises ValueError, not a decode error
    state = b'{"body":%s,"hash":"%s","signature":"%s"}' % (
        body,
        hashlib.sha256(body).hexdigest().encode(),
        b"A" * 86 + b"==",
    )
    rules = RowRules(key_history(ledger.store, None), None, "ledger")
    row = PlainRow(1, "0" * 32, 1, "AnnotationAdded", state)
    with pytest.raises(WorkerFailed, match="ValueError"):
        list(checked_chunks([[row]], rules, processes=2))
    assert len(started) == 2 and all(worker.process.poll() is not None for worker in started)


def test_a_log_of_several_chunks_comes_back_in_log_order_both_ways(
    ledger: CustodyLedger, settings: Settings, started: list[Any]
) -> None:
    log = AnnotatedLog(ledger, aggregates=3)
    log.rounds(400)  # 1 200 events: three chunks of rows for the workers
    made = checkpoint(ledger)  # its root needs every leaf in log order
    aggregate = list(log.heads)[1]
    with dba(settings) as db:
        forged = db.row(aggregate, 350)
        db.disable_immutability()
        db.set_state(aggregate, 350, forged.state.replace(b'"round note 350"', b'"round note 305"'))
    report = both_ways(ledger, started)
    assert report.events == ledger.store.size() > 2 * ROWS_PER_TASK
    assert failures(report) == {
        ("edited_record", str(aggregate), 350, forged.position),
        ("follower_mismatch", str(aggregate), 350, forged.position),
        ("checkpoint_mismatch", "checkpoint", 0, made.size),
    }
