"""Signed checkpoints over the whole log catch what per-product chains cannot: a deleted latest event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from ledger.keys import KeyPair
from ledger.merkle import root
from ledger.merkle_log import InconsistentLog, MerkleFollower, checkpoint, checkpoint_if_due, stored_leaves
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.signed_note import checkpoint_body, parse_checkpoint, sign_note, verify_note
from ledger.verifier import VerifyOptions, verify_store
from tests.integration.journeys import Dba, Journey, Recorder, enrolled, team


def verify(ledger: CustodyLedger, *against: str) -> set[str]:
    options = VerifyOptions(
        trusted={ledger.meta.ledger_key_pair().public_key},
        ledger_id=ledger.meta.ledger_id(),
        against=tuple(parse_checkpoint(note) for note in against),
    )
    return {failure.reason for failure in verify_store(ledger.store, options).failures}


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    """The unit's team, registered once per test."""
    return team(ledger)


def a_product(rec: Recorder) -> Journey:
    """Enrol one more product."""
    return enrolled(rec, datetime.now(UTC) - timedelta(days=3))


def test_a_checkpoint_is_a_signed_note_over_every_stored_event(ledger: CustodyLedger, rec: Recorder) -> None:
    a_product(rec)
    made = checkpoint(ledger)
    assert made.size == len(list(ledger.store.scan()))
    assert made.root == root(stored_leaves(ledger.store))
    assert verify_note(made.note, made.origin, [ledger.meta.ledger_key_pair().public_key])
    assert verify(ledger) == set()


def test_deleting_the_latest_event_of_a_product_after_a_checkpoint_is_caught(
    ledger: CustodyLedger, settings: Settings, rec: Recorder
) -> None:
    journey = a_product(rec)
    checkpoint(ledger)
    latest = ledger.history(journey.product)[-1]
    dba = Dba(settings)
    try:
        dba.disable_immutability()
        dba.delete(journey.product, latest.version)
    finally:
        dba.close()
    assert "truncated_log" in verify(ledger)


def test_an_auditors_old_checkpoint_still_verifies_after_the_log_grew(ledger: CustodyLedger, rec: Recorder) -> None:
    a_product(rec)
    kept = checkpoint(ledger).note
    a_product(rec)
    assert verify(ledger, kept) == set()


def test_a_checkpoint_the_ledger_did_not_sign_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    a_product(rec)
    made = checkpoint(ledger)
    forged = sign_note(checkpoint_body(made.origin, made.size, made.root), made.origin, KeyPair.generate())
    assert "bad_checkpoint_signature" in verify(ledger, forged)


def test_a_rewritten_history_no_longer_extends_an_auditors_checkpoint(
    ledger: CustodyLedger, settings: Settings, rec: Recorder
) -> None:
    journey = a_product(rec)
    kept = checkpoint(ledger).note
    first = ledger.history(journey.product)[0]
    dba = Dba(settings)
    try:
        dba.disable_immutability()
        dba.set_state(journey.product, 1, first.stored.replace(b"systemic_lupus", b"systemic_lupuS"))
    finally:
        dba.close()
    reasons = verify(ledger, kept)
    assert {"checkpoint_mismatch", "edited_record"} <= reasons


def test_the_ledger_refuses_to_sign_a_view_inconsistent_with_its_last_checkpoint(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    a_product(rec)
    checkpoint(ledger)
    a_product(rec)
    with ledger.store.side_transaction() as cursor:  # a DBA rewrites the first leaf and every subtree over it
        cursor.execute("UPDATE merkle_leaves SET leaf_hash = %s WHERE leaf_index = 0", (b"\x00" * 32,))
        cursor.execute("UPDATE merkle_nodes SET hash = %s WHERE node_index = 0", (b"\x00" * 32,))
    with pytest.raises(InconsistentLog, match="refusing to sign"):
        checkpoint(ledger)


def test_the_merkle_follower_adds_each_event_once_however_often_it_runs(ledger: CustodyLedger, rec: Recorder) -> None:
    a_product(rec)
    follower = MerkleFollower(ledger.store)
    follower.catch_up(batch=3)
    follower.catch_up(batch=3)
    assert len(stored_leaves(ledger.store)) == len(list(ledger.store.scan()))


def test_checkpoints_come_by_themselves_after_enough_events_or_enough_time(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    with freeze_time(datetime.now(UTC)) as clock:
        a_product(rec)
        assert checkpoint_if_due(ledger) is not None  # the first one, as soon as there is anything
        a_product(rec)
        assert checkpoint_if_due(ledger) is None  # a few events, a few seconds: not yet
        clock.tick(timedelta(minutes=ledger.settings.checkpoint_every_minutes + 1))
        made = checkpoint_if_due(ledger)
        assert made is not None and made.size == len(list(ledger.store.scan()))


def test_reordering_two_stored_events_after_a_checkpoint_is_caught(
    ledger: CustodyLedger, settings: Settings, rec: Recorder
) -> None:
    first, second = a_product(rec), a_product(rec)
    checkpoint(ledger)
    one, two = ledger.history(first.product)[0], ledger.history(second.product)[0]
    dba = Dba(settings)
    try:
        dba.disable_immutability()
        dba.set_state(first.product, 1, two.stored)
        dba.set_state(second.product, 1, one.stored)
    finally:
        dba.close()
    assert {"misplaced_event", "checkpoint_mismatch"} <= verify(ledger)
